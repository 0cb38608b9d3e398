#!/usr/bin/env python3
"""Builds Alpine packages, a signed APKINDEX and an installed root the way abuild and apk-tools 2 lay them out,
independently of Lading: Python's tarfile and gzip, signatures by the openssl command (as abuild-sign calls it).

Reads a JSON spec on stdin:
  {"key": "<private PEM path>", "keyname": "<name>.rsa.pub", "arch": "x86_64",
   "repo": "<dir for the repository's <arch>/ files>",
   "packages": [{"name", "version", "origin", "depends": [], "provides": [], "files": {path: content},
                 "scripts": {".post-upgrade": "..."}}],
   "root": "<dir>" (optional: install these packages' files and write lib/apk/db/installed there)}
"""
import base64
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def tar_bytes(members, cut: bool) -> bytes:
    """A PAX tar of (name, data|None for a directory, mode); `cut`: without the end-of-archive blocks (abuild-tar --cut)."""
    buf = io.BytesIO()
    tf = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
    for name, data, mode, pax in members:
        info = tarfile.TarInfo(name)
        info.mode = mode
        info.uname = info.gname = "root"
        info.mtime = 1700000000
        if pax:
            info.pax_headers = pax
        if data is None:
            info.type = tarfile.DIRTYPE
            tf.addfile(info)
        else:
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    end = tf.offset
    if not cut:
        tf.close()
        return buf.getvalue()
    return buf.getvalue()[:end]


def sign(key: str, data: bytes) -> bytes:
    return subprocess.run(["openssl", "dgst", "-sha1", "-sign", key], input=data, capture_output=True, check=True).stdout


def signature_stream(key: str, keyname: str, signed: bytes) -> bytes:
    return gz(tar_bytes([(f".SIGN.RSA.{keyname}", sign(key, signed), 0o644, None)], cut=True))


def q1(data: bytes) -> str:
    return "Q1" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def data_members(files):
    dirs = set()
    for path in files:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    members = [(d, None, 0o755, None) for d in sorted(dirs)]
    for path, content in sorted(files.items()):
        data = content.encode()
        members.append((path, data, 0o644, {"APK-TOOLS.checksum.SHA1": hashlib.sha1(data).hexdigest()}))
    return members


def build_package(spec, pkg):
    files = pkg["files"]
    data_gz = gz(tar_bytes(data_members(files), cut=False))
    size = sum(len(c.encode()) for c in files.values())
    info = [
        f"pkgname = {pkg['name']}",
        f"pkgver = {pkg['version']}",
        f"pkgdesc = {pkg['name']} for the patch tests",
        "url = https://lading.invalid",
        "builddate = 1700000000",
        f"size = {size}",
        f"arch = {spec['arch']}",
        f"origin = {pkg['origin']}",
        "license = Apache-2.0",
    ]
    info += [f"depend = {d}" for d in pkg.get("depends", [])]
    info += [f"provides = {p}" for p in pkg.get("provides", [])]
    info.append(f"datahash = {hashlib.sha256(data_gz).hexdigest()}")
    control = [(".PKGINFO", ("\n".join(info) + "\n").encode(), 0o644, None)]
    for script, body in pkg.get("scripts", {}).items():
        control.append((script, body.encode(), 0o755, None))
    control_gz = gz(tar_bytes(control, cut=True))
    apk = signature_stream(spec["key"], spec["keyname"], control_gz) + control_gz + data_gz
    index = [
        f"C:{q1(control_gz)}",
        f"P:{pkg['name']}",
        f"V:{pkg['version']}",
        f"A:{spec['arch']}",
        f"S:{len(apk)}",
        f"I:{size}",
        f"T:{pkg['name']} for the patch tests",
        "U:https://lading.invalid",
        "L:Apache-2.0",
        f"o:{pkg['origin']}",
        "m:Lading Tests <tests@lading.invalid>",
        "t:1700000000",
    ]
    if pkg.get("depends"):
        index.append("D:" + " ".join(pkg["depends"]))
    if pkg.get("provides"):
        index.append("p:" + " ".join(pkg["provides"]))
    return apk, index, files


def installed_block(index, files):
    """The record apk-tools 2 writes in lib/apk/db/installed: index fields, then F:/R:/Z: per directory."""
    lines = list(index)
    by_dir = {}
    for path in sorted(files):
        d, _, name = path.rpartition("/")
        by_dir.setdefault(d, []).append((name, files[path].encode()))
    for d in sorted(by_dir):
        lines.append(f"F:{d}")
        for name, data in by_dir[d]:
            lines.append(f"R:{name}")
            lines.append(f"Z:{q1(data)}")
    return "\n".join(lines) + "\n"


def main():
    spec = json.load(sys.stdin)
    out = os.path.join(spec["repo"], spec["arch"])
    os.makedirs(out, exist_ok=True)
    blocks = []
    installed = []
    for pkg in spec["packages"]:
        apk, index, files = build_package(spec, pkg)
        with open(os.path.join(out, f"{pkg['name']}-{pkg['version']}.apk"), "wb") as f:
            f.write(apk)
        blocks.append("\n".join(index) + "\n")
        installed.append(installed_block(index, files))
        if spec.get("root"):
            for path, content in files.items():
                full = os.path.join(spec["root"], path)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "w") as f:
                    f.write(content)
    index_gz = gz(
        tar_bytes(
            [
                ("DESCRIPTION", b"lading-test", 0o644, None),
                ("APKINDEX", "\n".join(blocks).encode(), 0o644, None),
            ],
            cut=False,
        )
    )
    with open(os.path.join(out, "APKINDEX.tar.gz"), "wb") as f:
        f.write(signature_stream(spec["key"], spec["keyname"], index_gz) + index_gz)
    if spec.get("root"):
        db = os.path.join(spec["root"], "lib", "apk", "db")
        os.makedirs(db, exist_ok=True)
        with open(os.path.join(db, "installed"), "w") as f:
            f.write("\n".join(installed) + "\n")


main()

# Describes an unpacked root filesystem (argv[1]) as JSON: per path its type, mode, owner, content, link target,
# user xattrs, and which paths share its inode (hard links), so two unpacks compare as one deepEqual.
import hashlib, json, os, stat, sys

root = sys.argv[1]
out, inodes = {}, {}
for dirpath, dirs, files in os.walk(root):
    for name in dirs + files:
        full = os.path.join(dirpath, name)
        rel = os.path.relpath(full, root)
        st = os.lstat(full)
        e = {'mode': oct(st.st_mode), 'uid': st.st_uid, 'gid': st.st_gid}
        if stat.S_ISLNK(st.st_mode):
            e['target'] = os.readlink(full)
        elif stat.S_ISREG(st.st_mode):
            e['sha256'] = hashlib.sha256(open(full, 'rb').read()).hexdigest()
            e['mtime'] = int(st.st_mtime)
            inodes.setdefault(st.st_ino, []).append(rel)
        if not stat.S_ISLNK(st.st_mode):
            e['xattrs'] = {k: os.getxattr(full, k).decode() for k in sorted(os.listxattr(full)) if k.startswith('user.')}
        out[rel] = e
for paths in inodes.values():
    if len(paths) > 1:
        for p in paths:
            out[p]['links'] = sorted(paths)
print(json.dumps(out, sort_keys=True, indent=1))

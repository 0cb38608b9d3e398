#!/usr/bin/env python3
"""Adds lockfile entries npm 11.19 leaves out for other platforms' optional packages, and the os/cpu/libc fields
it leaves out of the entries it keeps.

When the registry serves only this platform's builds, npm 11.19 writes a package-lock.json without entries for
optional dependencies built for other platforms (e.g. @biomejs/cli-darwin-arm64), and then its own `npm ci`
refuses that lockfile ("Missing: … from lock file"). Entries it does keep may lack os/cpu/libc, and then `npm ci`
installs every platform's build (740 MB of Biome binaries for other systems). This adds the missing entries and fields
(version, optional, os/cpu/libc) from `npm view`, which is all `npm ci` needs to skip them on this platform. Run after
changing dependencies:
    python3 scripts/fix-lockfile-optionals.py && npm ci --dry-run
"""
import json
import subprocess

LOCK = 'package-lock.json'
lock = json.load(open(LOCK))
packages = lock['packages']
added = 0
for key, entry in list(packages.items()):
    for name, version in (entry.get('optionalDependencies') or {}).items():
        base = key + '/node_modules/' if key else 'node_modules/'
        if 'node_modules/' + name in packages or base + name in packages:
            continue
        view = subprocess.run(['npm', 'view', f'{name}@{version}', 'version', 'os', 'cpu', 'libc', 'license', '--json'],
                              capture_output=True, text=True)
        info = json.loads(view.stdout) if view.returncode == 0 and view.stdout.strip() else {}
        if isinstance(info, list):
            info = info[-1]
        # A registry that serves only this platform's builds answers 404 for the others: the version alone is enough
        # for `npm ci`, which treats a failed optional package as skipped.
        new = {'version': info.get('version', version.lstrip('^~=')), 'optional': True}
        if info.get('license'):
            new['license'] = info['license']
        for field in ('cpu', 'os', 'libc'):
            if info.get(field):
                new[field] = info[field] if isinstance(info[field], list) else [info[field]]
        packages['node_modules/' + name] = new
        added += 1
# Optional entries present but without platform fields: npm ci cannot tell they are for another platform.
filled = 0
for key, entry in packages.items():
    if not entry.get('optional') or any(entry.get(f) for f in ('os', 'cpu')) or '/node_modules/' not in '/' + key:
        continue
    name = key.rsplit('node_modules/', 1)[1]
    view = subprocess.run(['npm', 'view', f'{name}@{entry["version"]}', 'os', 'cpu', 'libc', '--json'],
                          capture_output=True, text=True)
    info = json.loads(view.stdout) if view.returncode == 0 and view.stdout.strip() else {}
    if isinstance(info, list):
        info = info[-1]
    for field in ('cpu', 'os', 'libc'):
        if info.get(field):
            entry[field] = info[field] if isinstance(info[field], list) else [info[field]]
            filled += 1
lock['packages'] = dict(sorted(packages.items(), key=lambda kv: (kv[0] != '', kv[0])))
with open(LOCK, 'w') as f:
    json.dump(lock, f, indent=2)
    f.write('\n')
print(f'added {added} optional entries, {filled} platform fields')

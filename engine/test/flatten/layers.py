# Writes the three layer tars of the flatten test image (argv[1] = output folder): PAX tars with what the kit's
# entry lists cannot express (owners, setuid, xattrs, hard links, a fifo).
import io, os, sys, tarfile

def add(tf, name, kind='file', data=b'', mode=0o644, uid=0, gid=0, uname='', gname='', link='', xattrs=None):
    ti = tarfile.TarInfo(name)
    ti.mtime = 1700000000
    ti.mode, ti.uid, ti.gid, ti.uname, ti.gname = mode, uid, gid, uname, gname
    ti.type = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE,
               'hardlink': tarfile.LNKTYPE, 'fifo': tarfile.FIFOTYPE}[kind]
    ti.linkname = link
    if xattrs:
        ti.pax_headers = {f'SCHILY.xattr.{k}': v for k, v in xattrs.items()}
    if kind == 'file':
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)

def layer(path, fill):
    with tarfile.open(path, 'w', format=tarfile.PAX_FORMAT) as tf:
        fill(tf)

def one(tf):
    for d, m in [('bin', 0o755), ('etc', 0o755), ('tmp', 0o1777), ('opq', 0o755), ('data', 0o750), ('var', 0o755)]:
        add(tf, d, 'dir', mode=m)
    add(tf, 'bin/su', data=b'\x7fELF setuid', mode=0o4755)
    add(tf, 'bin/su-again', 'hardlink', link='bin/su', mode=0o4755)
    add(tf, 'bin/sg', data=b'setgid', mode=0o2711, gid=42)
    add(tf, 'etc/cap', data=b'capable', xattrs={'user.lading': 'hello'})
    add(tf, 'etc/cap-link', 'symlink', link='cap', mode=0o777)
    add(tf, 'etc/deleted', data=b'gone')
    add(tf, 'opq/old', data=b'old')
    add(tf, 'data/over', data=b'v1', uid=1000, gid=1000, uname='app', gname='app')
    add(tf, 'var/pipe', 'fifo', mode=0o600)

def two(tf):
    add(tf, 'etc/.wh.deleted')
    add(tf, 'data/new', data=b'new in 2', mode=0o640, uid=1000, gid=1000)

def three(tf):
    add(tf, 'opq', 'dir', mode=0o700)
    add(tf, 'opq/.wh..wh..opq')
    add(tf, 'opq/new', data=b'new in 3')
    add(tf, 'data/over', data=b'v3 overwritten', mode=0o600, uid=1000, gid=1000)

for i, fill in enumerate([one, two, three]):
    layer(os.path.join(sys.argv[1], f'layer{i + 1}.tar'), fill)

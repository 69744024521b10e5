"""Writes a `docker save` image whose rpm database grows over its layers, for the rpm
inventory benchmark: layer k holds `var/lib/rpm/rpmdb.sqlite` with the first (k+1)/L of the
packages of a real rpm database (rows removed with SQLite from a copy, as `rpm -e` would
remove them from Packages and the index tables), like an image built with one `dnf install`
per layer. Layer 0 also holds a Rocky Linux 9 os-release.

Usage: python3 gen_rpm_image.py RPMDB.sqlite OUT.tar [LAYERS]
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile

db_path, out = sys.argv[1], sys.argv[2]
n_layers = int(sys.argv[3]) if len(sys.argv) > 3 else 10
here = os.path.dirname(os.path.abspath(__file__))
os_release = open(os.path.join(here, "../../crates/sluice-container/tests/fixtures/os-release.rocky"), "rb").read()


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1_700_000_000
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def state(keep):
    """The database with only the first `keep` packages, as bytes."""
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "rpmdb.sqlite")
        shutil.copy(db_path, p)
        c = sqlite3.connect(p)
        hnums = [r[0] for r in c.execute("SELECT hnum FROM Packages ORDER BY hnum")]
        gone = hnums[keep:]
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        for t in tables:
            if t != "Packages":
                c.executemany(f'DELETE FROM "{t}" WHERE hnum = ?', [(h,) for h in gone])
        c.executemany("DELETE FROM Packages WHERE hnum = ?", [(h,) for h in gone])
        c.commit()
        c.execute("VACUUM")
        c.close()
        return open(p, "rb").read(), len(hnums)


_, total = state(10**9)
layers, diff_ids = [], []
for n in range(n_layers):
    data, _ = state(total * (n + 1) // n_layers)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        if n == 0:
            add(tar, "etc/os-release", os_release)
        add(tar, "var/lib/rpm/rpmdb.sqlite", data)
    raw = buf.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    layers.append(gzip.compress(raw, compresslevel=1))

config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as tar:
    add(tar, config_name, config)
    paths = []
    for n, blob in enumerate(layers):
        p = f"{n:03d}/layer.tar"
        paths.append(p)
        add(tar, p, blob)
    add(tar, "manifest.json", json.dumps([{"Config": config_name, "RepoTags": ["bench-rpm:1"], "Layers": paths}]).encode())
print(out, total, "packages,", os.path.getsize(db_path) // 1024, "KiB database,", os.path.getsize(out) // 1024, "KiB image")

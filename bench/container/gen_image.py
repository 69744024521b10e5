"""Writes a large `docker save` image tarball for the inventory benchmark.

Each layer holds this machine's real dpkg status (grown layer by layer: the first layer has
a third of the packages, the last all of them), Python dist-info METADATA and npm
package.json files, and incompressible filler files (many small, a few large) so the
tarball reaches the target size. Layers are gzip (level 1), every third one zstd when the
`zstandard` module is available, else gzip.

Usage: python3 gen_image.py OUT.tar [SIZE_MB] [LAYERS]
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

out = sys.argv[1]
size_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 500
n_layers = int(sys.argv[3]) if len(sys.argv) > 3 else 20
try:
    import zstandard
except ImportError:
    zstandard = None

status = open("/var/lib/dpkg/status", "rb").read().split(b"\n\n")
os_release = open("/usr/lib/os-release", "rb").read()
per_layer = size_mb * 1024 * 1024 // n_layers


def add(tar, name, data, kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mtime = 1_700_000_000
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


layers, diff_ids = [], []
for n in range(n_layers):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        if n == 0:
            add(tar, "etc/os-release", b"", tarfile.SYMTYPE, "../usr/lib/os-release")
            add(tar, "usr/lib/os-release", os_release)
        upto = len(status) * (n + 1 + n_layers // 2) // (n_layers + n_layers // 2)
        add(tar, "var/lib/dpkg/status", b"\n\n".join(status[:upto]))
        for i in range(20):
            meta = f"Metadata-Version: 2.1\nName: pkg-{n}-{i}\nVersion: 1.{i}.0\n\n".encode()
            add(tar, f"usr/lib/python3/dist-packages/pkg_{n}_{i}-1.{i}.0.dist-info/METADATA", meta)
            pj = json.dumps({"name": f"mod-{n}-{i}", "version": f"2.{i}.0"}).encode()
            add(tar, f"app/node_modules/mod-{n}-{i}/package.json", pj)
        written = 0
        i = 0
        while written < per_layer:
            # Mostly small files (entry-count cost), one large file in eight (byte cost).
            size = 4 * 1024 * 1024 if i % 8 == 7 else 16 * 1024
            add(tar, f"opt/filler/l{n}/f{i}.bin", os.urandom(size))
            written += size
            i += 1
    raw = buf.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    if zstandard and n % 3 == 2:
        layers.append(zstandard.ZstdCompressor(level=1).compress(raw))
    else:
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
    add(tar, "manifest.json", json.dumps([{"Config": config_name, "RepoTags": ["bench:1"], "Layers": paths}]).encode())
print(out, os.path.getsize(out) // (1024 * 1024), "MiB")

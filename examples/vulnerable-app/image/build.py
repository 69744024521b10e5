#!/usr/bin/env python3
"""Builds app.tar, the example's container image, as `docker save` would write it.

No Docker engine is needed (nor run): the layers are written from real package databases —
the dpkg status files of a Debian 12 system in crates/sluice-container/tests/fixtures — with
the glibc and openssl versions an image built in September 2023 would have had (before
DSA-5514-1 and DSA-5532-1), plus a Python package installed by pip. The output is
byte-for-byte reproducible (fixed mtimes, no gzip timestamp), so it is committed.

    python3 examples/vulnerable-app/image/build.py
"""
import gzip
import hashlib
import io
import json
import pathlib
import tarfile

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parents[2] / "crates/sluice-container/tests/fixtures"
MTIME = 1_695_168_000  # 2023-09-20


def tar_bytes(files, compress=False):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), MTIME, 0o644
            tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw


def september_2023(text):
    return text.replace("Version: 2.36-9+deb12u14", "Version: 2.36-9+deb12u1").replace(
        "3.0.19-1~deb12u2", "3.0.11-1~deb12u1"
    )


base = september_2023((FIXTURES / "dpkg-status.base").read_text())
installed = september_2023((FIXTURES / "dpkg-status.layer2").read_text())
requests_metadata = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\nSummary: Python HTTP for Humans.\n"
layers = [
    tar_bytes(
        [("etc/os-release", (FIXTURES / "os-release.debian").read_bytes()), ("var/lib/dpkg/status", base.encode())],
        compress=True,
    ),
    tar_bytes([("var/lib/dpkg/status", installed.encode())], compress=True),
    tar_bytes(
        [("usr/local/lib/python3.11/site-packages/requests-2.25.0.dist-info/METADATA", requests_metadata)],
        compress=True,
    ),
]
diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest() for layer in layers]
config = json.dumps(
    {
        "architecture": "amd64",
        "os": "linux",
        "created": "2023-09-20T00:00:00Z",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD file:6fef7a4ab2de57c438dad76949e7eb87 in / "},
            {"created_by": '/bin/sh -c #(nop)  CMD ["bash"]', "empty_layer": True},
            {"created_by": "RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit"},
            {"created_by": "RUN /bin/sh -c pip install requests==2.25.0 # buildkit"},
        ],
    },
    sort_keys=True,
).encode()
members = [("config.json", config)]
paths = []
for i, layer in enumerate(layers):
    path = "blobs/sha256/" + hashlib.sha256(layer).hexdigest()
    paths.append(path)
    members.append((path, layer))
manifest = json.dumps([{"Config": "config.json", "RepoTags": ["vulnerable-app:2023-09"], "Layers": paths}]).encode()
members.append(("manifest.json", manifest))
(HERE / "app.tar").write_bytes(tar_bytes(members))
print(f"wrote {HERE / 'app.tar'} ({len(layers)} layers)")

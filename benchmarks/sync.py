"""Sync workload: push, clone and lazy restore of a model (default 256 MiB of 64 float32
tensors), each against its floor, in one run:

- to a local bare repository (payloads through git): push and clone against ``cp -r``
  of the store's objects, restore against reading the bytes back;
- through ``git daemon`` (git://, the real git server, set up as docs/remotes.md
  recommends: ``receive.unpackLimit 1``, ``pack.compression 0``,
  ``core.bigFileThreshold 1m``);
- with an S3 payload remote (moto's server in its own process on 127.0.0.1): push
  against a raw upload of the same bytes with the same client (s3fs), the lazy restore
  of a metadata-only clone against a raw download.

Peak extra memory (RSS of this process) is shown for the pushes: pack generation and
uploads stream part by part.

    python benchmarks/sync.py [--mib 256] [--no-daemon] [--no-s3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import PeakRSS, dir_bytes

import mlvc_server as mlvc
from mlvc_server import service

GIT_DAEMON = "/usr/lib/git-core/git-daemon"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int) -> None:
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def line(name: str, value: float, floor: float, extra: str = "") -> None:
    ratio = value / floor if floor else float("inf")
    print(f"{name:<34} {value:8.3f} s  floor {floor:8.3f} s  ratio {ratio:6.2f}x  {extra}")


def timed(fn: Any) -> tuple[float, Any, int]:
    with PeakRSS() as mem:
        t = time.perf_counter()
        out = fn()
        elapsed = time.perf_counter() - t
    return elapsed, out, mem.extra


def model(mib: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 64
    per = (mib << 20) // n // 4
    return {f"layer{i:02d}": rng.standard_normal(per, dtype=np.float32) for i in range(n)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--no-daemon", action="store_true", help="skip git://")
    ap.add_argument("--no-s3", action="store_true", help="skip the S3 payload remote")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        os.environ["MLVC_CONFIG_DIR"] = str(root / "cfg")
        a = root / "a"
        a.mkdir()
        mlvc.init(a)
        weights = model(args.mib)
        mlvc.commit("model", variables={"model": weights}, repo=a)
        objects = a / ".mlvc" / "objects"
        size = dir_bytes(objects)
        print(f"sync workload: {args.mib} MiB model, 64 float32 tensors; {size / 2**20:.0f} MiB")

        # floors on this disk
        t = time.perf_counter()
        shutil.copytree(objects, root / "cp-floor")
        cp_floor = time.perf_counter() - t
        shutil.rmtree(root / "cp-floor")
        t = time.perf_counter()
        for p in objects.rglob("*"):
            if p.is_file():
                with open(p, "rb", buffering=0) as f:
                    while f.read(1 << 24):
                        pass
        read_floor = time.perf_counter() - t

        el, got, _ = timed(lambda: mlvc.load("HEAD", "model", repo=a))
        line("restore in the original store", el, read_floor, "(read the bytes)")
        del got

        # 1. a local bare repository, payloads through git
        remote = root / "team.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        service.remote_add("origin", str(remote), repo=a)
        el, _, mem = timed(lambda: service.push(repo=a))
        line("push, local bare repo", el, cp_floor, f"(cp -r)  peak +{mem / 2**20:.0f} MiB")
        el, _, mem = timed(lambda: service.clone(str(remote), root / "b"))
        line("clone, local bare repo", el, cp_floor, f"(cp -r)  peak +{mem / 2**20:.0f} MiB")
        el, got, _ = timed(lambda: mlvc.load("HEAD", "model", repo=root / "b"))
        assert all(np.array_equal(got[k], v) for k, v in weights.items())
        line("restore in the clone", el, read_floor, "(read the bytes)")
        del got

        # 2. git daemon (git://)
        if not args.no_daemon and os.path.exists(GIT_DAEMON):
            base = root / "daemon"
            base.mkdir()
            served = base / "exp.git"
            subprocess.run(["git", "init", "-q", "--bare", str(served)], check=True)
            # the server set up as docs/remotes.md recommends for payloads through git
            for key, value in (("receive.unpackLimit", "1"), ("pack.compression", "0"),
                               ("core.bigFileThreshold", "1m")):  # fmt: skip
                subprocess.run(["git", "--git-dir", str(served), "config", key, value], check=True)
            port = free_port()
            daemon = subprocess.Popen(
                [GIT_DAEMON, "--reuseaddr", "--export-all", "--enable=receive-pack",
                 f"--base-path={base}", "--listen=127.0.0.1", f"--port={port}", str(base)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                wait_port(port)
                url = f"git://127.0.0.1:{port}/exp.git"
                service.remote_add("daemon", url, repo=a)
                el, _, mem = timed(lambda: service.push("daemon", repo=a))
                line("push, git://", el, cp_floor, f"(cp -r)  peak +{mem / 2**20:.0f} MiB")
                # a peer: the git client pushing the same objects to the same server
                peer = base / "peer.git"
                subprocess.run(["git", "init", "-q", "--bare", str(peer)], check=True)
                cfg = ["git", "--git-dir", str(peer), "config", "receive.unpackLimit", "1"]
                subprocess.run(cfg, check=True)
                t = time.perf_counter()
                subprocess.run(
                    ["git", "--git-dir", str(a / ".mlvc"), "-c", "pack.compression=0",
                     "-c", "core.bigFileThreshold=1m", "push", "-q",
                     f"git://127.0.0.1:{port}/peer.git", "refs/heads/*:refs/heads/*",
                     "refs/mlvc/payloads:refs/mlvc/payloads"],
                    check=True,
                )  # fmt: skip
                line("  peer: git push, git://", time.perf_counter() - t, cp_floor, "(cp -r)")
                el, _, mem = timed(lambda: service.clone(url, root / "c"))
                line("clone, git://", el, cp_floor,
                     f"(cp -r)  peak +{mem / 2**20:.0f} MiB")  # fmt: skip
            finally:
                daemon.terminate()
                daemon.wait()

        # 3. an S3 payload remote (moto, own process)
        if not args.no_s3:
            try:
                import boto3
                import fsspec
            except ImportError:
                print("S3: skipped (pip install 'moto[server]' s3fs)")
                return 0
            port = free_port()
            moto = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                wait_port(port)
                endpoint = f"http://127.0.0.1:{port}"
                for k, v in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x"),
                             ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
                    os.environ[k] = v
                s3 = boto3.client("s3", endpoint_url=endpoint)
                s3.create_bucket(Bucket="floor")
                s3.create_bucket(Bucket="team")
                opts = {"endpoint_url": endpoint}
                fs = fsspec.filesystem("s3", **opts)
                files = [p for p in objects.rglob("*") if p.is_file()]
                # floor: the same bytes, the same client, the same batches of 64 MiB
                t = time.perf_counter()
                batch: dict[str, bytes] = {}
                for p in files:
                    batch[f"floor/{p.parent.name}{p.name}"] = p.read_bytes()
                    if sum(map(len, batch.values())) >= 64 << 20:
                        fs.pipe(batch)
                        batch = {}
                if batch:
                    fs.pipe(batch)
                up_floor = time.perf_counter() - t
                t = time.perf_counter()
                for k in fs.find("floor"):
                    fs.cat_file(k)
                down_floor = time.perf_counter() - t
                remote2 = root / "team2.git"
                subprocess.run(["git", "init", "-q", "--bare", str(remote2)], check=True)
                service.remote_add("s3", str(remote2), repo=a, payloads="s3://team/exp",
                                   payload_options=opts)  # fmt: skip
                el, _, mem = timed(lambda: service.push("s3", repo=a))
                line("push, payloads to S3", el, up_floor,
                     f"(raw upload)  peak +{mem / 2**20:.0f} MiB; "
                     f"git remote {dir_bytes(remote2) / 2**20:.2f} MiB")  # fmt: skip
                el, _, _ = timed(lambda: service.push("s3", repo=a))
                line("push again (nothing new)", el, up_floor, "(raw upload)")
                el, _, _ = timed(
                    lambda: service.clone(str(remote2), root / "d", payload_options=opts)
                )
                print(f"{'clone, metadata only':<34} {el:8.3f} s  "
                      f"store {dir_bytes(root / 'd' / '.mlvc') / 2**20:.2f} MiB")  # fmt: skip
                el, got, mem = timed(lambda: mlvc.load("HEAD", "model", repo=root / "d"))
                assert all(np.array_equal(got[k], v) for k, v in weights.items())
                line("restore, fetched lazily from S3", el, down_floor,
                     f"(raw download)  peak +{mem / 2**20:.0f} MiB")  # fmt: skip
            finally:
                moto.terminate()
                moto.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

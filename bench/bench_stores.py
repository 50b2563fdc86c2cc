"""Upload and download speed through glance-api into Swift and S3, next to the backends' own clients.

Starts a Swift all-in-one (tempauth + s3api), ``rclone serve s3``, a
glance-registry and one glance-api per store, then for one image of
--size-mib (default 1 GiB):

* glance-api -> Swift store, -> S3 store on Swift's s3api, -> S3 store on rclone:
  POST with Content-Length (body sent with sendfile), GET to nowhere;
* the same transfer made directly with the ``swift`` CLI and with boto3.

    python bench/bench_stores.py [--size-mib 1024] [--runs 1] [--workdir DIR]

Needs tests/tools/setup-backends.sh to have run.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, os.path.join(REPO, "app"))

from integration.store.backends import SWIFT_VENV, Rclone, Saio, s3_client  # noqa: E402
from servers import Server  # noqa: E402

MiB = 1024 * 1024
SWIFT = dict(large=200, chunk=100)      # MiB
S3 = dict(large=100, chunk=16)          # MiB


def make_source(path, size):
    block = os.urandom(8 * MiB)
    with open(path, "wb") as handle:
        for offset in range(0, size, len(block)):
            handle.write(block[:min(len(block), size - offset)])


def http_exchange(port, head, path=None):
    """Send ``head`` (+ the file at ``path``), read the answer; returns (status, body, seconds)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        began = time.perf_counter()
        sock.sendall(head.encode())
        if path:
            with open(path, "rb") as handle:
                sock.sendfile(handle)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        header, _, rest = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in header.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        got, buffer = len(rest), bytearray(4 * MiB)
        body = bytes(rest) if length < MiB else b""
        while got < length:
            count = sock.recv_into(buffer)
            if not count:
                raise RuntimeError(f"answer ended after {got} of {length} bytes")
            if length < MiB:
                body += buffer[:count]
            got += count
        return header.split(b" ")[1].decode(), body, time.perf_counter() - began


def through_api(api, path, size):
    status, body, up = http_exchange(api.port, (
        f"POST /v1/images HTTP/1.1\r\nHost: bench\r\nContent-Length: {size}\r\n"
        "Content-Type: application/octet-stream\r\nx-image-meta-name: bench\r\n"
        f"x-image-meta-size: {size}\r\nx-image-meta-disk_format: raw\r\n"
        "x-image-meta-container_format: bare\r\nConnection: close\r\n\r\n"), path)
    if status != "201":
        raise RuntimeError(f"upload answered {status}: {body[:300]!r}")
    image_id = json.loads(body)["image"]["id"]
    status, _, down = http_exchange(api.port, f"GET /v1/images/{image_id} HTTP/1.1\r\n"
                                              "Host: bench\r\nConnection: close\r\n\r\n")
    http_exchange(api.port, f"DELETE /v1/images/{image_id} HTTP/1.1\r\nHost: bench\r\n"
                            "Connection: close\r\n\r\n")
    return up, down


def swift_cli(saio, path, size):
    base = [os.path.join(SWIFT_VENV, "bin", "swift"), "-A", saio.auth_url, "-U", saio.user,
            "-K", saio.key]
    began = time.perf_counter()
    subprocess.run(base + ["upload", "bench-direct", path, "--object-name", "image",
                           "--segment-size", str(SWIFT["chunk"] * MiB), "--use-slo"],
                   check=True, capture_output=True)
    up = time.perf_counter() - began
    began = time.perf_counter()
    subprocess.run(base + ["download", "bench-direct", "image", "-o", os.devnull],
                   check=True, capture_output=True)
    down = time.perf_counter() - began
    subprocess.run(base + ["delete", "bench-direct"], check=True, capture_output=True)
    return up, down


def boto3_direct(url, access, secret, path, size):
    from boto3.s3.transfer import TransferConfig
    client = s3_client(url, access, secret)
    try:
        client.create_bucket(Bucket="bench-direct")
    except client.exceptions.ClientError:
        pass
    config = TransferConfig(multipart_threshold=S3["large"] * MiB,
                            multipart_chunksize=S3["chunk"] * MiB)
    began = time.perf_counter()
    client.upload_file(path, "bench-direct", "image", Config=config)
    up = time.perf_counter() - began

    class Null:
        def write(self, data):
            return len(data)

    began = time.perf_counter()
    client.download_fileobj("bench-direct", "image", Null(), Config=config)
    down = time.perf_counter() - began
    client.delete_object(Bucket="bench-direct", Key="image")
    return up, down


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workdir", help="where the backends keep data (default: a temp dir)")
    args = parser.parse_args()
    size = args.size_mib * MiB
    work = tempfile.mkdtemp(prefix="bench-stores-", dir=args.workdir)
    started = []
    try:
        saio = Saio(os.path.join(work, "saio")).start()
        started.append(saio)
        rclone = Rclone(os.path.join(work, "rclone")).start()
        started.append(rclone)
        registry = Server("glance-registry", _dir(work, "registry"),
                          {"sql_connection": f"sqlite:///{work}/registry.sqlite"}).start()
        started.append(registry)
        common = {"registry_host": "127.0.0.1", "registry_port": registry.port}
        swift_api = Server("glance-api", _dir(work, "api-swift"), {
            **common, "default_store": "swift", "swift_store_auth_address": saio.auth_url,
            "swift_store_user": saio.user, "swift_store_key": saio.key,
            "swift_store_create_container_on_put": "true",
            "swift_store_large_object_size": SWIFT["large"],
            "swift_store_large_object_chunk_size": SWIFT["chunk"]}).start()
        started.append(swift_api)
        s3_apis = {}
        for name, (server, access, secret) in {
                "s3api": (saio, saio.user, saio.key),
                "rclone": (rclone, rclone.access, rclone.secret)}.items():
            s3_apis[name] = Server("glance-api", _dir(work, f"api-{name}"), {
                **common, "default_store": "s3", "s3_store_host": server.url,
                "s3_store_access_key": access, "s3_store_secret_key": secret,
                "s3_store_bucket": "glance", "s3_store_create_bucket_on_put": "true",
                "s3_store_large_object_size": S3["large"],
                "s3_store_large_object_chunk_size": S3["chunk"]}).start()
            started.append(s3_apis[name])
        source = os.path.join(work, "image.bin")
        make_source(source, size)
        cases = [
            ("glance-api -> Swift store", lambda: through_api(swift_api, source, size)),
            ("swift CLI -> Swift (direct)", lambda: swift_cli(saio, source, size)),
            ("glance-api -> S3 store (Swift s3api)", lambda: through_api(s3_apis["s3api"], source, size)),
            ("boto3 -> Swift s3api (direct)",
             lambda: boto3_direct(saio.url, saio.user, saio.key, source, size)),
            ("glance-api -> S3 store (rclone)", lambda: through_api(s3_apis["rclone"], source, size)),
            ("boto3 -> rclone (direct)",
             lambda: boto3_direct(rclone.url, rclone.access, rclone.secret, source, size)),
        ]
        print(f"image {args.size_mib} MiB, {args.runs} run(s), median MiB/s; Swift segments "
              f"{SWIFT['chunk']} MiB from {SWIFT['large']} MiB (SLO); S3 parts {S3['chunk']} MiB "
              f"from {S3['large']} MiB")
        print(f"{'path':40} {'upload':>8} {'download':>9}")
        for label, run in cases:
            ups, downs = zip(*(run() for _ in range(args.runs)))
            mib = size / MiB
            print(f"{label:40} {mib / statistics.median(ups):8.0f} {mib / statistics.median(downs):9.0f}",
                  flush=True)
    finally:
        for server in reversed(started):
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def _dir(work, name):
    path = os.path.join(work, name)
    os.makedirs(path, exist_ok=True)
    return path


if __name__ == "__main__":
    main()

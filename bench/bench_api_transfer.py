"""Upload and download speed of glance-api with the filesystem store, and its memory.

Starts a real glance-registry and glance-api, then:

* times a plain MD5 loop over the image data (the CPU ceiling of a
  checksumming upload on this machine), measured in the same run;
* uploads the image N times (POST with Content-Length, body sent with
  sendfile so the client costs little CPU) and downloads it N times;
* repeats one upload and download of --rss-size bytes and reports the
  largest peak RSS (VmHWM) of glance-api's processes.

    python bench/bench_api_transfer.py [--size-mib 1024] [--runs 5] [--datadir DIR]

Targets: upload >= 0.7 x the MD5 loop; download >= 1800 MiB/s median;
peak RSS <= 60 MiB per glance-api process (parent or worker) during a
2 GiB upload and download (issue 20).
"""
import argparse
import hashlib
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from servers import Server  # noqa: E402

MiB = 1024 * 1024


def make_source(path, size):
    block = os.urandom(8 * MiB)
    with open(path, "wb") as handle:
        left = size
        while left > 0:
            handle.write(block[:min(left, len(block))])
            left -= len(block)


def md5_loop(path):
    """Seconds for a plain read + MD5 loop over ``path`` in 1 MiB pieces."""
    digest = hashlib.md5()
    began = time.perf_counter()
    with open(path, "rb", buffering=0) as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return time.perf_counter() - began, digest.hexdigest()


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed before the response")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        rest += sock.recv(65536)
    return head.split(b" ")[1].decode(), rest


def upload(port, path, size):
    with socket.create_connection(("127.0.0.1", port)) as sock, open(path, "rb") as handle:
        began = time.perf_counter()
        sock.sendall((f"POST /v1/images HTTP/1.1\r\nHost: bench\r\nContent-Length: {size}\r\n"
                      "Content-Type: application/octet-stream\r\nx-image-meta-name: bench\r\n"
                      "Connection: close\r\n\r\n").encode())
        sock.sendfile(handle)
        status, body = read_response(sock)
        elapsed = time.perf_counter() - began
    if status != "201":
        raise RuntimeError(f"upload failed: {status} {body[:300]!r}")
    image_id = body.split(b'"id":"')[1].split(b'"')[0].decode()
    checksum = body.split(b'"checksum":"')[1].split(b'"')[0].decode()
    return elapsed, image_id, checksum


def download(port, image_id, size, path=None):
    buf = bytearray(MiB)
    view = memoryview(buf)
    path = path or f"/v1/images/{image_id}"
    with socket.create_connection(("127.0.0.1", port)) as sock:
        began = time.perf_counter()
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n"
                     "Connection: close\r\n\r\n".encode())
        got = 0
        while True:
            n = sock.recv_into(view)
            if not n:
                break
            got += n
        elapsed = time.perf_counter() - began
    if got < size:
        raise RuntimeError(f"download ended after {got} bytes")
    return elapsed


def delete(port, image_id):
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"DELETE /v1/images/{image_id} HTTP/1.1\r\nHost: bench\r\n"
                     "Connection: close\r\n\r\n".encode())
        read_response(sock)


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rate(size, seconds):
    return size / MiB / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rss-size-mib", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source-dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    parser.add_argument("--datadir", default=None,
                        help="filesystem_store_datadir (default: a temp dir on the data disk)")
    args = parser.parse_args()
    size, rss_size = args.size_mib * MiB, args.rss_size_mib * MiB

    work = tempfile.mkdtemp(prefix="bench-api-")
    source = tempfile.mkdtemp(prefix="bench-src-", dir=args.source_dir)
    datadir = args.datadir or os.path.join(work, "images")
    registry = api = None
    try:
        src = os.path.join(source, "image.bin")
        make_source(src, size)
        registry = Server("glance-registry", work,
                          {"sql_connection": f"sqlite:///{work}/registry.sqlite"}).start()
        api = Server("glance-api", work, {"registry_host": "127.0.0.1",
                                          "registry_port": registry.port,
                                          "filesystem_store_datadir": datadir}).start()
        md5s, ups, downs = [], [], []
        for _ in range(args.runs):
            seconds, expected = md5_loop(src)
            md5s.append(rate(size, seconds))
            seconds, image_id, checksum = upload(api.port, src, size)
            assert checksum == expected, "checksum differs"
            ups.append(rate(size, seconds))
            downs.append(rate(size, download(api.port, image_id, size)))
            delete(api.port, image_id)
        os.unlink(src)
        make_source(src, rss_size)
        _, image_id, _ = upload(api.port, src, rss_size)
        download(api.port, image_id, rss_size)
        delete(api.port, image_id)
        # The parent only listens; the workers serve: the figure is the largest of them.
        rss = max(peak_rss_mib(pid) for pid in api.pids())

        md5_med, up_med, down_med = map(statistics.median, (md5s, ups, downs))
        print(f"glance-api transfer, {args.size_mib} MiB image, {args.runs} runs "
              f"(MiB/s: min / median / max)")
        print(f"{'measure':34} {'min':>8} {'median':>8} {'max':>8}")
        for label, values in (("plain MD5 loop (1 MiB reads)", md5s),
                              ("upload POST -> filesystem", ups),
                              ("download GET", downs)):
            print(f"{label:34} {min(values):8.0f} {statistics.median(values):8.0f} "
                  f"{max(values):8.0f}")
        ratios = [u / m for u, m in zip(ups, md5s)]
        print(f"upload / MD5 loop (median/median)  {up_med / md5_med:8.2f}   target >= 0.70")
        print(f"upload / MD5 loop (per-run median) {statistics.median(ratios):8.2f}   "
              f"runs: {' '.join(f'{r:.2f}' for r in ratios)}")
        print(f"download median                    {down_med:8.0f}   target >= 1800 MiB/s")
        print(f"api peak RSS per process, {args.rss_size_mib} MiB up+down {rss:8.1f}   "
              "target <= 60 MiB")
    finally:
        for server in (api, registry):
            if server is not None:
                server.stop()
        shutil.rmtree(source, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

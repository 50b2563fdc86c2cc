"""Issue 20's transfer targets, each a ratio against a reference taken in the same run.

Starts glance-registry and two glance-api processes on one filesystem data
directory (one with the defaults, one with ``verify_download_hashes = true``)
and a plain Python server that sends a file in 1 MiB blocks (read + sendall,
nothing else).  Each run, interleaved so background load hits all alike:

* the two-hash loop: MD5 and SHA-512 of the source file on two threads at once
  (each thread reads the file itself, 1 MiB reads; wall time of both);
* v1 POST and v2 PUT /file uploads of the image (body sent with sendfile);
* the first download of the stored image (uploads bypass the page cache, so it
  reads the disk; printed, no target), then downloads from the plain server
  (the same file in the data directory), from glance-api (default: the fast
  checksum is verified), and from the glance-api that verifies MD5 + SHA-512.

    python bench/bench_transfer_ratios.py [--size-mib 1024] [--runs 5]

Targets: download >= 0.8 x the plain server; download with
verify_download_hashes >= 0.85 x the two-hash loop; uploads >= 0.85 x it.
"""
import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from bench_api_transfer import MiB, download, make_source, rate, upload  # noqa: E402
from bench_v2 import v2_json, v2_upload  # noqa: E402
from servers import Server, free_port, wait_for_port  # noqa: E402

PLAIN_SERVER = r"""
import os, socket, sys
root, port = sys.argv[1], int(sys.argv[2])
listener = socket.create_server(("127.0.0.1", port))
while True:
    conn, _ = listener.accept()
    with conn:
        request = b""
        while b"\r\n\r\n" not in request:
            data = conn.recv(65536)
            if not data:
                break
            request += data
        if b"\r\n\r\n" not in request:
            continue                # a port probe
        name = request.split(b" ")[1].decode().lstrip("/")
        with open(os.path.join(root, name), "rb", buffering=0) as handle:
            size = os.fstat(handle.fileno()).st_size
            conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n"
                         "Connection: close\r\n\r\n".encode())
            while chunk := handle.read(1048576):
                conn.sendall(chunk)
"""


def two_hash_loop(path):
    """Seconds for MD5 and SHA-512 of ``path`` on two threads at once."""
    digests = {}

    def run(name):
        digest = hashlib.new(name)
        with open(path, "rb", buffering=0) as handle:
            while chunk := handle.read(MiB):
                digest.update(chunk)
        digests[name] = digest.hexdigest()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("md5", "sha512")]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, digests


def plain_download(port, name, size):
    """The same client as glance-api's downloads, against the plain server."""
    return download(port, name, size, path=f"/{name}")


def line(label, values, unit="MiB/s"):
    print(f"{label:44} {min(values):8.2f} {statistics.median(values):8.2f} "
          f"{max(values):8.2f}  {unit}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source-dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    args = parser.parse_args()
    size = args.size_mib * MiB

    work = tempfile.mkdtemp(prefix="bench-ratio-")
    source = tempfile.mkdtemp(prefix="bench-src-", dir=args.source_dir)
    datadir = os.path.join(work, "images")
    servers, plain = [], None
    try:
        src = os.path.join(source, "image.bin")
        make_source(src, size)
        registry = Server("glance-registry", work,
                          {"sql_connection": f"sqlite:///{work}/registry.sqlite"}).start()
        servers.append(registry)
        common = {"registry_host": "127.0.0.1", "registry_port": registry.port,
                  "filesystem_store_datadir": datadir}
        for sub in ("a", "b"):
            os.makedirs(os.path.join(work, sub))
        api = Server("glance-api", os.path.join(work, "a"), common).start()
        servers.append(api)
        hashes = Server("glance-api", os.path.join(work, "b"),
                        {**common, "verify_download_hashes": "true"}).start()
        servers.append(hashes)
        plain_port = free_port()
        os.makedirs(datadir, exist_ok=True)
        plain = subprocess.Popen([sys.executable, "-c", PLAIN_SERVER, datadir, str(plain_port)])
        wait_for_port(plain_port, plain)

        _, expected = two_hash_loop(src)          # warms the page cache
        loops, v1s, v2s, refs, downs, hashed, colds = [], [], [], [], [], [], []
        for run in range(args.runs):
            seconds, digests = two_hash_loop(src)
            assert digests == expected
            loops.append(rate(size, seconds))
            # Alternate which upload goes first: the second meets the first's
            # dirty pages being written back.
            for kind in (("v1", "v2") if run % 2 == 0 else ("v2", "v1")):
                if kind == "v1":
                    seconds, image_id, checksum = upload(api.port, src, size)
                    assert checksum == expected["md5"], "checksum differs"
                    v1s.append(rate(size, seconds))
                else:
                    v2_seconds, v2_id = v2_upload(api.port, src, size)
                    v2s.append(rate(size, v2_seconds))
            shown = v2_json(api.port, "GET", f"/v2/images/{v2_id}")
            assert shown["os_hash_value"] == expected["sha512"], "os_hash_value differs"
            v2_json(api.port, "DELETE", f"/v2/images/{v2_id}", expect=204)
            # Uploads bypass the page cache (filesystem_store_direct_io): the first
            # download of a new image reads the disk; the ratios compare the hot case.
            colds.append(rate(size, download(api.port, image_id, size)))
            refs.append(rate(size, plain_download(plain_port, image_id, size)))
            downs.append(rate(size, download(api.port, image_id, size)))
            hashed.append(rate(size, download(hashes.port, image_id, size)))
            v2_json(api.port, "DELETE", f"/v2/images/{image_id}", expect=204)

        def ratios(values, refs_):
            return [v / r for v, r in zip(values, refs_)]

        print(f"transfer ratios, {args.size_mib} MiB image, {args.runs} runs interleaved; "
              f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
              f"{os.getloadavg()[2]:.2f}")
        print(f"{'measure':44} {'min':>8} {'median':>8} {'max':>8}")
        line("reference: MD5 + SHA-512 on two threads", loops)
        line("reference: plain server, 1 MiB blocks", refs)
        line("upload v1 POST", v1s)
        line("upload v2 PUT /file", v2s)
        line("download (fast checksum verified)", downs)
        line("download, verify_download_hashes", hashed)
        line("first download of a new image (disk)", colds)
        print("per-run ratios (min / median / max):")
        line("download / plain server (>= 0.80)", ratios(downs, refs), "x")
        line("download hashes / two-hash loop (>= 0.85)", ratios(hashed, loops), "x")
        line("upload v1 / two-hash loop (>= 0.85)", ratios(v1s, loops), "x")
        line("upload v2 / two-hash loop (>= 0.85)", ratios(v2s, loops), "x")
    finally:
        if plain is not None:
            plain.kill()
            plain.wait()
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(source, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The v2 image API against v1 in the same run: upload with multihash, show and list-1000.

Starts a real glance-registry and glance-api (filesystem store), then:

* transfer: per run, a plain MD5 loop over the image data (the CPU ceiling of one
  checksum on this machine), then a v2 upload of the same data (POST /v2/images,
  then PUT /v2/images/<id>/file, body sent with sendfile) that computes MD5 and
  sha512 (os_hash_algo) on the server, each on its own thread; the checksum and
  os_hash_value are checked against the source. A sha512 loop and a v1 upload are
  measured too, for reference;
* metadata: --images public images with two properties and a tag inserted into the
  registry database, then, one request at a time on keep-alive connections and
  interleaved, v1 show (HEAD /v1/images/<id>) against v2 show (GET /v2/images/<id>)
  and v1 GET /v1/images/detail?limit=1000 against v2 GET /v2/images?limit=1000.

    python bench/bench_v2.py [--size-mib 1024] [--runs 3] [--images 2000] [--shows 300]
                             [--lists 20] [--skip-transfer] [--skip-metadata]

Targets: v2 upload >= 0.6 x the MD5 loop; v2 show and list-1000 medians <= 1.5 x v1's.
Prints figures; not a test.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from bench_api_metadata import fill, summary, timed  # noqa: E402
from bench_api_transfer import (MiB, delete, make_source, md5_loop, rate,  # noqa: E402
                                read_response, upload)
from servers import Server  # noqa: E402


def sha512_loop(path):
    """Seconds for a plain read + sha512 loop over ``path``, and the digest."""
    digest = hashlib.sha512()
    began = time.perf_counter()
    with open(path, "rb", buffering=0) as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return time.perf_counter() - began, digest.hexdigest()


def v2_json(port, method, path, body=None, expect=200):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    if response.status != expect:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
    return json.loads(data) if data else None


def v2_upload(port, path, size):
    """Create an image through v2 and PUT its data; seconds of the PUT, and the image id."""
    image = v2_json(port, "POST", "/v2/images", {
        "name": "bench-v2", "disk_format": "raw", "container_format": "bare"}, expect=201)
    with socket.create_connection(("127.0.0.1", port)) as sock, open(path, "rb") as handle:
        began = time.perf_counter()
        sock.sendall((f"PUT /v2/images/{image['id']}/file HTTP/1.1\r\nHost: bench\r\n"
                      f"Content-Length: {size}\r\nContent-Type: application/octet-stream\r\n"
                      "Connection: close\r\n\r\n").encode())
        sock.sendfile(handle)
        status, body = read_response(sock)
        elapsed = time.perf_counter() - began
    if status != "204":
        raise RuntimeError(f"v2 upload failed: {status} {body[:300]!r}")
    return elapsed, image["id"]


def transfer(api, src, size, runs):
    md5_s, expected_md5 = md5_loop(src)            # warms the page cache too
    sha_s, expected_sha = sha512_loop(src)
    md5s, v2s, v1s, shas = [], [], [], [rate(size, sha_s)]
    for _ in range(runs):
        md5s.append(rate(size, md5_loop(src)[0]))
        seconds, image_id = v2_upload(api.port, src, size)
        v2s.append(rate(size, seconds))
        shown = v2_json(api.port, "GET", f"/v2/images/{image_id}")
        assert shown["status"] == "active", shown
        assert shown["checksum"] == expected_md5, "checksum differs"
        assert shown["os_hash_algo"] == "sha512", shown["os_hash_algo"]
        assert shown["os_hash_value"] == expected_sha, "os_hash_value differs"
        v2_json(api.port, "DELETE", f"/v2/images/{image_id}", expect=204)
        seconds, image_id, checksum = upload(api.port, src, size)
        assert checksum == expected_md5
        v1s.append(rate(size, seconds))
        delete(api.port, image_id)
        shas.append(rate(size, sha512_loop(src)[0]))
    print(f"transfer, {size // MiB} MiB image, {runs} runs, filesystem store "
          "(MiB/s: min / median / max)")
    print(f"{'measure':44} {'min':>7} {'median':>7} {'max':>7}")
    for label, values in (("plain MD5 loop (1 MiB reads)", md5s),
                          ("plain sha512 loop (1 MiB reads)", shas),
                          ("v2 PUT /file, MD5 + sha512 on the server", v2s),
                          ("v1 POST with data (same upload path)", v1s)):
        print(f"{label:44} {min(values):7.0f} {statistics.median(values):7.0f} "
              f"{max(values):7.0f}")
    ratios = [u / m for u, m in zip(v2s, md5s)]
    print(f"v2 upload / MD5 loop (per-run median)        {statistics.median(ratios):7.2f}"
          f"  target >= 0.60   runs: {' '.join(f'{r:.2f}' for r in ratios)}")
    print(f"v2 upload / MD5 loop (median / median)       "
          f"{statistics.median(v2s) / statistics.median(md5s):7.2f}")
    print()


def metadata(api, ids, shows, lists):
    conn = http.client.HTTPConnection("127.0.0.1", api.port)
    for _ in range(20):                                   # warm up both APIs
        image_id = random.choice(ids)
        timed(conn, "HEAD", f"/v1/images/{image_id}", 200)
        timed(conn, "GET", f"/v2/images/{image_id}", 200)
    timed(conn, "GET", "/v1/images/detail?limit=1000", 200)
    timed(conn, "GET", "/v2/images?limit=1000", 200)
    v1_show, v2_show = [], []
    for _ in range(shows):                                # interleaved: same noise for both
        image_id = random.choice(ids)
        v1_show.append(timed(conn, "HEAD", f"/v1/images/{image_id}", 200)[0])
        v2_show.append(timed(conn, "GET", f"/v2/images/{image_id}", 200)[0])
    v1_list, v2_list, sizes = [], [], {}
    for _ in range(lists):
        elapsed, body = timed(conn, "GET", "/v1/images/detail?limit=1000", 200)
        v1_list.append(elapsed)
        sizes["v1"] = len(body)
        assert len(json.loads(body)["images"]) == 1000
        elapsed, body = timed(conn, "GET", "/v2/images?limit=1000", 200)
        v2_list.append(elapsed)
        sizes["v2"] = len(body)
        page = json.loads(body)
        assert len(page["images"]) == 1000 and "next" in page
    conn.close()
    print(f"metadata, {len(ids)} public images (2 properties + 1 tag each), one client, "
          "keep-alive, interleaved; ms")
    print(f"{'request':52} {'min':>7} {'median':>7} {'p99':>7}")
    for label, values in ((f"v1 show HEAD /v1/images/<id> (n={shows})", v1_show),
                          (f"v2 show GET /v2/images/<id> (n={shows})", v2_show),
                          (f"v1 GET /v1/images/detail?limit=1000 ({sizes['v1'] // 1024} KiB)",
                           v1_list),
                          (f"v2 GET /v2/images?limit=1000 ({sizes['v2'] // 1024} KiB)", v2_list)):
        print(summary(label.ljust(52), values))
    show_ratio = statistics.median(v2_show) / statistics.median(v1_show)
    list_ratio = statistics.median(v2_list) / statistics.median(v1_list)
    print(f"v2 / v1 show (median / median)               {show_ratio:7.2f}  target <= 1.50")
    print(f"v2 / v1 list-1000 (median / median)          {list_ratio:7.2f}  target <= 1.50")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--shows", type=int, default=300)
    parser.add_argument("--lists", type=int, default=20)
    parser.add_argument("--source-dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    parser.add_argument("--skip-transfer", action="store_true")
    parser.add_argument("--skip-metadata", action="store_true")
    args = parser.parse_args()
    size = args.size_mib * MiB

    work = tempfile.mkdtemp(prefix="bench-v2-")
    source = tempfile.mkdtemp(prefix="bench-v2-src-", dir=args.source_dir)
    registry = api = None
    try:
        url = f"sqlite:///{work}/registry.sqlite"
        ids = [] if args.skip_metadata else fill(url, args.images, tags=("bench",))
        registry = Server("glance-registry", work, {"sql_connection": url}).start()
        api = Server("glance-api", work, {"registry_host": "127.0.0.1",
                                          "registry_port": registry.port,
                                          "filesystem_store_datadir": f"{work}/images"}).start()
        if not args.skip_transfer:
            src = os.path.join(source, "image.bin")
            make_source(src, size)
            transfer(api, src, size, args.runs)
            os.unlink(src)
        if not args.skip_metadata:
            metadata(api, ids, args.shows, args.lists)
    finally:
        for server in (api, registry):
            if server is not None:
                server.stop()
        shutil.rmtree(source, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

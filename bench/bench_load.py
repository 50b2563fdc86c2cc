"""glance-api under mixed load: uploads, checked downloads and HEADs at once.

Starts a real glance-registry (SQLite) and glance-api (filesystem store),
then for --duration seconds runs, in one client process:

* --uploaders threads each POSTing random images of mixed sizes (a pool of
  distinct random bodies whose MD5s are known) and checking the checksum
  glance-api answers; each deletes what it uploaded --keep uploads ago, so
  the disk use stays bounded;
* --downloaders threads each GETting a random live image and MD5ing it
  against the MD5 of the body that was uploaded;
* --headers threads sending HEAD requests, timed one by one.

It prints requests served, MiB/s each way, HEAD p50/p99, errors, checksum
mismatches, glance-api's peak RSS (VmHWM) and open fds before and after,
and a plain MD5 loop's MiB/s over the same pool of bodies, measured in the
same run.  --runs N repeats the load against the same processes, back to
back, to show RSS or fd growth.

    python bench/bench_load.py [--duration 60] [--runs 2]

Targets (issue 11): 0 errors, 0 checksum mismatches, HEAD p99 < 50 ms,
no RSS/fd growth between runs, aggregate upload >= 0.8 x the MD5 loop.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import deque

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from servers import Server  # noqa: E402

MiB = 1024 * 1024
SIZES_KIB = (64, 256, 1024, 4096, 16384)   # the mix of image sizes, cycled through the pool


def make_pool(count, max_size):
    """``count`` distinct random bodies of mixed sizes, with their MD5s."""
    sizes = [min(kib * 1024, max_size) for kib in SIZES_KIB]
    bodies = [os.urandom(sizes[n % len(sizes)]) for n in range(count)]
    return [(body, hashlib.md5(body).hexdigest()) for body in bodies]


def md5_loop(pool, seconds=2.0):
    """MiB/s of a plain MD5 over the pool's bodies, repeated for ``seconds``."""
    done, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        for body, _ in pool:
            hashlib.md5(body).hexdigest()
            done += len(body)
    return done / MiB / (time.perf_counter() - began)


def proc_status(pid):
    """``(VmRSS MiB, VmHWM MiB, open fds)`` of process ``pid``."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    kib = lambda name: int(fields[name].split()[0]) / 1024  # noqa: E731
    return kib("VmRSS"), kib("VmHWM"), len(os.listdir(f"/proc/{pid}/fd"))


class Load:
    """The client side of one run: counters shared by every thread."""

    def __init__(self, port, pool, keep, seed):
        self.port = port
        self.pool = pool
        self.keep = keep
        self.live = list(seed)          # [(image id, md5)] GETs may pick
        self.deleted = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.counts = {"POST": 0, "GET": 0, "HEAD": 0, "DELETE": 0}
        self.bytes_up = self.bytes_down = 0
        self.errors = []
        self.mismatches = 0
        self.head_ms = []

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def error(self, what, detail):
        with self.lock:
            self.errors.append(f"{what}: {detail}"[:300])

    def run_thread(self, target):
        conn = self.connection()
        rng = random.Random()
        while not self.stop.is_set():
            try:
                target(conn, rng)
            except (OSError, http.client.HTTPException) as exc:
                self.error(target.__name__, f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = self.connection()
        conn.close()

    def uploader(self, conn, rng):
        body, checksum = rng.choice(self.pool)
        conn.request("POST", "/v1/images", body=body, headers={
            "Content-Type": "application/octet-stream", "x-image-meta-name": "load",
            "x-image-meta-disk_format": "raw", "x-image-meta-container_format": "bare"})
        resp = conn.getresponse()
        answer = resp.read()
        if resp.status != 201:
            return self.error("POST", f"{resp.status} {answer[:200]!r}")
        image = json.loads(answer)["image"]
        with self.lock:
            self.counts["POST"] += 1
            self.bytes_up += len(body)
            if image["checksum"] != checksum:
                self.mismatches += 1
            self.live.append((image["id"], checksum))
            doomed = self.live.pop(0) if len(self.live) > self.keep else None
            if doomed:
                self.deleted.add(doomed[0])
        if doomed:
            conn.request("DELETE", f"/v1/images/{doomed[0]}")
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                return self.error("DELETE", resp.status)
            with self.lock:
                self.counts["DELETE"] += 1

    def downloader(self, conn, rng):
        with self.lock:
            image_id, checksum = rng.choice(self.live)
        conn.request("GET", f"/v1/images/{image_id}")
        resp = conn.getresponse()
        digest, got = hashlib.md5(), 0
        buffer = memoryview(bytearray(MiB))
        while True:
            count = resp.readinto(buffer)
            if not count:
                break
            digest.update(buffer[:count])
            got += count
        if resp.status == 404 and image_id in self.deleted:
            return          # deleted by an uploader meanwhile: not an error
        if resp.status != 200:
            return self.error("GET", resp.status)
        with self.lock:
            self.counts["GET"] += 1
            self.bytes_down += got
            if digest.hexdigest() != checksum or resp.getheader("x-image-meta-checksum") != checksum:
                self.mismatches += 1

    def header(self, conn, rng):
        with self.lock:
            image_id, _ = rng.choice(self.live)
        began = time.perf_counter()
        conn.request("HEAD", f"/v1/images/{image_id}")
        resp = conn.getresponse()
        resp.read()
        elapsed = (time.perf_counter() - began) * 1000
        if resp.status == 404 and image_id in self.deleted:
            return
        if resp.status != 200:
            return self.error("HEAD", resp.status)
        with self.lock:
            self.counts["HEAD"] += 1
            self.head_ms.append(elapsed)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def upload_seed(port, pool):
    """One image per pool body, before the clock starts: what GETs read at first."""
    load = Load(port, pool, keep=len(pool) * 2, seed=[])
    conn = load.connection()
    for n in range(len(pool)):
        load.pool = [pool[n]]
        load.uploader(conn, random.Random())
    conn.close()
    if load.errors:
        raise RuntimeError(f"seed upload failed: {load.errors[0]}")
    return load.live


def one_run(api, pool, seed, args):
    """Run the load once: ``(figures, images still live)``."""
    load = Load(api.port, pool, keep=args.keep + len(seed), seed=seed)
    rss_before, _, fds_before = proc_status(api.proc.pid)
    md5_mibs = md5_loop(pool)
    roles = ([load.uploader] * args.uploaders + [load.downloader] * args.downloaders
             + [load.header] * args.headers)
    threads = [threading.Thread(target=load.run_thread, args=(role,), daemon=True)
               for role in roles]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(args.duration)
    load.stop.set()
    for thread in threads:
        thread.join(300)
    elapsed = time.perf_counter() - began
    time.sleep(1)      # let glance-api close what the clients left
    rss_after, hwm, fds_after = proc_status(api.proc.pid)
    return {
        "seconds": round(elapsed, 1),
        "requests": dict(load.counts, total=sum(load.counts.values())),
        "upload_mibs": round(load.bytes_up / MiB / elapsed, 1),
        "download_mibs": round(load.bytes_down / MiB / elapsed, 1),
        "md5_loop_mibs": round(md5_mibs, 1),
        "upload_vs_md5": round(load.bytes_up / MiB / elapsed / md5_mibs, 2),
        "head_p50_ms": round(percentile(load.head_ms, 0.50), 1),
        "head_p99_ms": round(percentile(load.head_ms, 0.99), 1),
        "errors": len(load.errors),
        "first_errors": load.errors[:5],
        "checksum_mismatches": load.mismatches,
        "api_rss_mib_before": round(rss_before, 1),
        "api_rss_mib_after": round(rss_after, 1),
        "api_peak_rss_mib": round(hwm, 1),
        "api_fds_before": fds_before,
        "api_fds_after": fds_after,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }, load.live


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds per run")
    parser.add_argument("--runs", type=int, default=2, help="runs, back to back")
    parser.add_argument("--uploaders", type=int, default=16)
    parser.add_argument("--downloaders", type=int, default=32)
    parser.add_argument("--headers", type=int, default=4, help="HEAD client threads")
    parser.add_argument("--pool", type=int, default=20, help="distinct random bodies")
    parser.add_argument("--max-size-mib", type=float, default=16, help="largest image")
    parser.add_argument("--keep", type=int, default=48, help="uploaded images kept live")
    parser.add_argument("--threads", type=int, default=64, help="glance-api server_threads")
    parser.add_argument("--workdir", help="where the servers and images live (default: a temp dir)")
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmark; returns the list of per-run figures (also printed)."""
    args = parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="bench-load-")
    os.makedirs(workdir, exist_ok=True)
    registry = Server("glance-registry", workdir, {
        "sql_connection": f"sqlite:///{workdir}/registry.sqlite", "server_threads": 16})
    api = None
    try:
        registry.start()
        api = Server("glance-api", workdir, {
            "registry_host": "127.0.0.1", "registry_port": registry.port,
            "filesystem_store_datadir": os.path.join(workdir, "images"),
            "server_threads": args.threads}).start()
        pool = make_pool(args.pool, int(args.max_size_mib * MiB))
        seed = upload_seed(api.port, pool)
        results = []
        for number in range(1, args.runs + 1):
            figures, seed = one_run(api, pool, seed, args)
            results.append(figures)
            print(f"run {number}: " + json.dumps(figures), flush=True)
        return results
    finally:
        if api:
            api.stop()
        registry.stop()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def summary(results):
    """One line per figure across runs, for the closing note."""
    keys = [k for k in results[0] if k not in ("first_errors", "requests")]
    lines = [f"{k:22s} " + "  ".join(str(r[k]) for r in results) for k in keys]
    lines.append(f"{'requests':22s} " + "  ".join(json.dumps(r["requests"]) for r in results))
    return "\n".join(lines)


if __name__ == "__main__":
    figures = main()
    print(summary(figures))
    print(f"HEAD p99 target < 50 ms; upload target >= 0.8 x MD5 loop; "
          f"median HEAD over runs {statistics.median(r['head_p50_ms'] for r in figures)} ms")

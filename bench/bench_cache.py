"""Download speed through the image cache of glance-api, against the same image uncached.

Starts a real glance-registry and two glance-api processes on the same store
(one with image_cache_enabled, one without), uploads one image, then per run:

* an uncached download from the node without a cache (the store's speed);
* a filling download from the cached node after its entry was removed
  (the store's data, written into the cache as it is sent);
* a cached download from the cached node (the entry filled just before).

    python bench/bench_cache.py [--size-mib 512] [--runs 5] [--store file|swift] [--buffered]
                                [--settle SECONDS]

Each run waits --settle seconds (5) after emptying the cache: a VM with free
page reporting hands freed memory back to its host within about 2 s, and a
real node's fills meet memory in that state, not the pages the previous run
freed a moment ago (--settle 0 measures those).  --buffered compares cache
files written and read through the page cache (image_cache_direct_io = false).

Targets: cached >= 0.9 x the file-store download of the same image;
filling >= 0.9 x the uncached download from the same store.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))
sys.path.insert(0, HERE)

from bench_api_transfer import download, make_source, rate, upload  # noqa: E402
from servers import Server  # noqa: E402

MiB = 1024 * 1024


def request(port, method, path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    with urllib.request.urlopen(req, timeout=60) as answer:
        return answer.status, answer.read()


def cpu_seconds(pid):
    """User + system CPU seconds of process ``pid`` (all its threads) so far."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(server, image_id, size, cpu):
    """Download through ``server``: MiB/s, and the server's CPU seconds added to ``cpu``.

    Dirty pages (the last fill's) are written out first, so each download meets
    files at rest, as a cache entry is long after its fill, and no writeback
    of one measurement runs during the next.
    """
    os.sync()
    time.sleep(0.2)
    before = cpu_seconds(server.proc.pid)
    speed = rate(size, download(server.port, image_id, size))
    cpu.append(cpu_seconds(server.proc.pid) - before)
    return speed


def wait_cached(cachedir, image_id, size, timeout=30):
    path = os.path.join(cachedir, image_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.isfile(path) and os.path.getsize(path) == size:
            return
        time.sleep(0.01)
    raise RuntimeError("the filling download left no cache entry")


def swift_options(work):
    from integration.store.backends import Saio
    reason = Saio.available()
    if reason:
        raise SystemExit(f"{reason}: run tests/tools/setup-backends.sh")
    os.makedirs(os.path.join(work, "swift"))
    saio = Saio(os.path.join(work, "swift"))
    saio.start()
    return saio, {"default_store": "swift", "swift_store_auth_address": saio.auth_url,
                  "swift_store_user": saio.user, "swift_store_key": saio.key,
                  "swift_store_container": "bench-cache",
                  "swift_store_create_container_on_put": "true"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--store", choices=("file", "swift"), default="file",
                        help="store of the filling/uncached comparison (the cached/file-store "
                             "comparison always uses the file store's image too)")
    parser.add_argument("--settle", type=float, default=5,
                        help="seconds to wait after emptying the cache, so a VM hands the freed "
                             "memory back to its host as it does between a node's real fills")
    parser.add_argument("--buffered", action="store_true",
                        help="image_cache_direct_io = false: cache files through the page cache")
    parser.add_argument("--source-dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    args = parser.parse_args()
    size = args.size_mib * MiB

    work = tempfile.mkdtemp(prefix="bench-cache-")
    source = tempfile.mkdtemp(prefix="bench-src-", dir=args.source_dir)
    servers, saio = [], None
    try:
        src = os.path.join(source, "image.bin")
        make_source(src, size)
        registry = Server("glance-registry", work,
                          {"sql_connection": f"sqlite:///{work}/registry.sqlite"}).start()
        servers.append(registry)
        common = {"registry_host": "127.0.0.1", "registry_port": registry.port,
                  "filesystem_store_datadir": os.path.join(work, "images")}
        if args.store == "swift":
            saio, extra = swift_options(work)
            common.update(extra)
        cachedir = os.path.join(work, "image-cache")
        plain_dir, cached_dir = (os.path.join(work, name) for name in ("plain", "cached"))
        os.makedirs(plain_dir)
        os.makedirs(cached_dir)
        plain = Server("glance-api", plain_dir, common).start()
        servers.append(plain)
        cached = Server("glance-api", cached_dir, {
            **common, "image_cache_enabled": "true", "image_cache_datadir": cachedir,
            "image_cache_max_size_bytes": 2 * size,
            "image_cache_direct_io": str(not args.buffered).lower()}).start()
        servers.append(cached)
        _, image_id, _ = upload(plain.port, src, size)
        os.unlink(src)

        uncached, filling, hits = [], [], []
        download(plain.port, image_id, size)          # warm the page cache
        cpu = {"uncached": [], "filling": [], "cached": []}
        for run in range(args.runs):
            status, _ = request(cached.port, "DELETE", "/v1/cached_images")
            assert status == 200
            time.sleep(args.settle)
            # Alternate which goes first, so neither always meets a warmer machine.
            if run % 2:
                filling.append(timed(cached, image_id, size, cpu["filling"]))
                uncached.append(timed(plain, image_id, size, cpu["uncached"]))
            else:
                uncached.append(timed(plain, image_id, size, cpu["uncached"]))
                filling.append(timed(cached, image_id, size, cpu["filling"]))
            wait_cached(cachedir, image_id, size)
            hits.append(timed(cached, image_id, size, cpu["cached"]))
        store_name = "file store" if args.store == "file" else "Swift"
        print(f"glance-api image cache, {args.size_mib} MiB image on the {store_name}, "
              f"{args.runs} runs, cache I/O {'buffered' if args.buffered else 'O_DIRECT'} "
              "(MiB/s: min / median / max)")
        print(f"{'measure':40} {'min':>8} {'median':>8} {'max':>8}")
        for label, values in ((f"uncached download ({store_name})", uncached),
                              ("first download, filling the cache", filling),
                              ("cached download", hits)):
            print(f"{label:40} {min(values):8.0f} {statistics.median(values):8.0f} "
                  f"{max(values):8.0f}")
        print("glance-api CPU seconds per download (median): " + ", ".join(
            f"{name} {statistics.median(values):.2f}" for name, values in cpu.items()))
        fill_ratio = statistics.median(f / u for f, u in zip(filling, uncached))
        print(f"filling / uncached (per-run median)      {fill_ratio:8.2f}   target >= 0.90   runs: "
              + " ".join(f"{f / u:.2f}" for f, u in zip(filling, uncached)))
        if args.store == "file":
            hit_ratio = statistics.median(h / u for h, u in zip(hits, uncached))
            print(f"cached / file-store (per-run median)     {hit_ratio:8.2f}   target >= 0.90   "
                  "runs: " + " ".join(f"{h / u:.2f}" for h, u in zip(hits, uncached)))
        else:
            print("(cached / file-store: run with --store file)")
    finally:
        for server in reversed(servers):
            server.stop()
        if saio is not None:
            saio.stop()
        shutil.rmtree(source, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Normal requests while 64 slow clients hold connections (slowloris).

Starts real glance-registry and glance-api processes with their default
options (16 and 8 worker threads, header_timeout 20 s), then for each server:

* times --requests normal requests (a new connection each) with no attack;
* opens 64 connections, half trickling a header byte every 0.5 s, half idle,
  waits a second, and times the same requests again;
* waits until the server has closed every slow connection and prints how
  long they lived.

    python bench/bench_slowloris.py [--requests 20] [--header-timeout 20]

A normal request under attack answers in milliseconds; each slow connection
is closed (408) about header_timeout seconds after it connected.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from servers import Server  # noqa: E402
from slowloris import SlowClients  # noqa: E402


def latencies(url, count, timeout):
    """Seconds each of ``count`` fresh GETs took (``timeout`` for one that failed)."""
    out = []
    for _ in range(count):
        began = time.perf_counter()
        try:
            ok = requests.get(url, timeout=timeout).status_code == 200
        except requests.RequestException:
            ok = False
        out.append(time.perf_counter() - began if ok else timeout)
    return out


def ms(values):
    return (f"p50 {statistics.median(values) * 1000:8.1f} ms   "
            f"max {max(values) * 1000:8.1f} ms")


def measure(name, server, path, args):
    url = server.url + path
    quiet = latencies(url, args.requests, args.timeout)
    with SlowClients(server.port, count=64) as slow:
        time.sleep(1)
        attacked = latencies(url, args.requests, args.timeout)
        slow.wait_closed(args.header_timeout + 30)
        lived = sorted(slow.closed_after.values())
    print(f"{name:16} no attack:           {ms(quiet)}")
    print(f"{name:16} 64 slow connections: {ms(attacked)}   "
          f"(failed or > {args.timeout:.0f} s: {sum(v >= args.timeout for v in attacked)})")
    if lived:
        print(f"{name:16} slow connections closed by the server: {len(lived)}/64 after "
              f"{lived[0]:.1f} s (first) / {statistics.median(lived):.1f} s (median) / "
              f"{lived[-1]:.1f} s (last)")
    else:
        print(f"{name:16} slow connections closed by the server: 0/64 within "
              f"{args.header_timeout + 30} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--header-timeout", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds a normal request may take before it counts as failed")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-slowloris-")
    options = {"header_timeout": str(args.header_timeout)}
    registry = Server("glance-registry", tmp, {"sql_connection": f"sqlite:///{tmp}/r.sqlite",
                                               **options}).start()
    api = Server("glance-api", tmp, {"registry_host": "127.0.0.1",
                                     "registry_port": registry.port,
                                     "filesystem_store_datadir": f"{tmp}/images",
                                     **options}).start()
    try:
        measure("glance-api", api, "/v1/images", args)
        measure("glance-registry", registry, "/images", args)
    finally:
        api.stop()
        registry.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

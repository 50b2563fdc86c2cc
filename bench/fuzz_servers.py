"""Long-form fuzzing: --requests generated requests (default 10,000) against
real glance-api and glance-registry processes (see tests/fuzzing.py), then
--v2-requests (default 5,000) against the v2 API.

    python bench/fuzz_servers.py [--requests 10000] [--v2-requests 5000]

Prints the requests sent per server, the answers by status class, every kind
of problem (5xx, error without a message, traceback) with an example, and
whether both servers are still up with clean logs.  Exits 1 on any problem.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from fuzzing import (Fuzzer, seed_images, servers_healthy, start_servers,  # noqa: E402
                     v2_requests)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--v2-requests", type=int, default=5000)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="fuzz-servers-")
    api, registry = start_servers(workdir)
    try:
        fuzzer = Fuzzer({"api": api.port, "registry": registry.port}, seed_images(api.url))
        began = time.monotonic()
        fuzzer.run(args.requests)
        if args.v2_requests:
            fuzzer.run(args.v2_requests, v2_requests)
        elapsed = time.monotonic() - began
        print(fuzzer.summary())
        print(f"elapsed: {elapsed:.0f} s ({sum(fuzzer.sent.values()) / elapsed:.0f} requests/s)")
        health = servers_healthy(api, registry)
        print("servers after the run: " + ("up, logs clean" if not health else "; ".join(health)))
    finally:
        api.stop()
        registry.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if fuzzer.problems or health else 0


if __name__ == "__main__":
    sys.exit(main())

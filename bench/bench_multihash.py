"""Hashing speed of the upload path: MD5 alone against MD5 + multihash.

For a stream of --size-mib (default 1 GiB) in 1 MiB chunks, in the same run:

* ``md5 loop``: one hashlib MD5 over the data in this thread (the baseline);
* ``md5+sha512 in one thread``: both hashes one after the other per chunk;
* ``md5+sha512 threaded``: glance's upload path (``MultihashReader`` inside
  ``HashingReader``), each hash on its own thread behind a bounded queue.

Rounds are interleaved and the best of --runs is kept, since the machine
may be shared.  Issue 12's target: threaded >= 0.6 x the MD5 loop.

    python bench/bench_multihash.py [--size-mib 1024] [--runs 3] [--algorithm sha512]
"""
import argparse
import hashlib
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from glance.store.base import HashingReader  # noqa: E402
from glance.store.hashing import MultihashReader  # noqa: E402

MiB = 1024 * 1024


class Stream:
    """``count`` chunks of one buffer: a body that costs nothing to produce."""

    def __init__(self, chunk, count):
        self.chunk, self.left = chunk, count

    def read(self, size=-1):
        if self.left == 0:
            return b""
        self.left -= 1
        return self.chunk


def md5_loop(chunk, count, algorithm):
    md5 = hashlib.md5(usedforsecurity=False)
    for _ in range(count):
        md5.update(chunk)
    return md5.hexdigest()


def one_thread(chunk, count, algorithm):
    md5, other = hashlib.md5(usedforsecurity=False), hashlib.new(algorithm)
    for _ in range(count):
        md5.update(chunk)
        other.update(chunk)
    return md5.hexdigest(), other.hexdigest()


def threaded(chunk, count, algorithm):
    multihash = MultihashReader(Stream(chunk, count), algorithm)
    reader = HashingReader(multihash)
    while reader.read(MiB):
        pass
    return reader.checksum, multihash.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--algorithm", default="sha512")
    args = parser.parse_args()
    chunk = os.urandom(MiB)
    cases = {"md5 loop": md5_loop, f"md5+{args.algorithm} in one thread": one_thread,
             f"md5+{args.algorithm} threaded": threaded}
    best = {name: 0.0 for name in cases}
    for _ in range(args.runs):
        for name, case in cases.items():
            start = time.perf_counter()
            case(chunk, args.size_mib, args.algorithm)
            best[name] = max(best[name], args.size_mib / (time.perf_counter() - start))
    base = best["md5 loop"]
    for name, speed in best.items():
        print(f"{name:32s} {speed:8.0f} MiB/s  {speed / base:5.2f} x md5 loop")
    print(json.dumps({"size_mib": args.size_mib, "cpus": os.cpu_count(),
                      "load": os.getloadavg()[0],
                      "mib_per_s": {k: round(v) for k, v in best.items()}}))


if __name__ == "__main__":
    main()

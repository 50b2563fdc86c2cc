"""Short form of bench/bench_load.py: mixed load, nothing fails, nothing is corrupted.

No timing is asserted (the bench prints the figures); only that every
request succeeds and every checksum matches, twice against the same servers.
"""
import os
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "bench")
sys.path.insert(0, BENCH)

import bench_load  # noqa: E402


def test_short_mixed_load_has_no_errors_and_no_mismatches(tmp_path):
    runs = bench_load.main(["--duration", "5", "--runs", "2", "--uploaders", "3",
                            "--downloaders", "6", "--headers", "2", "--pool", "8",
                            "--max-size-mib", "2", "--keep", "8", "--threads", "16",
                            "--alone-seconds", "0", "--workdir", str(tmp_path)])
    for figures in runs:
        assert figures["errors"] == 0, figures["first_errors"]
        assert figures["checksum_mismatches"] == 0
        served = figures["requests"]
        assert served["POST"] > 0 and served["GET"] > 0 and served["HEAD"] > 0
        assert served["DELETE"] > 0

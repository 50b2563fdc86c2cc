"""glance-api under mixed load: uploads, checked downloads and HEADs at once.

Starts a real glance-registry (SQLite) and glance-api (filesystem store),
uploads one seed image per pool body, then for --duration seconds runs:

* --uploaders threads each POSTing random images of mixed sizes (a pool of
  distinct random bodies whose MD5s are known) and checking the checksum
  glance-api answers; each client process deletes what it uploaded --keep
  uploads ago, so the disk use stays bounded;
* --downloaders threads each GETting a random seed image and MD5ing it
  against the MD5 of the body that was uploaded;
* --headers threads sending HEAD requests, timed one by one.

Each role runs in client processes of its own (--processes per role), so a
HEAD is never timed while waiting for the GIL of the client's own download
threads.  The CPU seconds glance-api, glance-registry and the clients used
are printed too: on a small machine they show who had the cores.

First (--alone-seconds) it measures how uploads and downloads scale: the
aggregate MiB/s of --uploaders upload streams, then of --downloaders download
streams, each against one stream of the same kind, alone on the server.

Then it prints requests served, MiB/s each way, HEAD p50/p99, errors, checksum
mismatches, glance-api's RSS and open fds (parent and workers together) before
and after and the largest peak RSS (VmHWM) of one of its processes,
and a plain MD5 loop's MiB/s over the same pool of bodies, measured in the
same run.  --runs N repeats the load against the same processes, back to
back, to show RSS or fd growth.

    python bench/bench_load.py [--duration 60] [--runs 2]

Targets (issue 20): 0 errors, 0 checksum mismatches, HEAD p99 <= 100 ms under the
mixed load, RSS and fds flat between runs; 16 upload streams >= 0.8 x one, 32
download streams >= 0.8 x one.
"""
import argparse
import hashlib
import http.client
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from servers import glance_pair  # noqa: E402

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
    """``{"rss_mib", "peak_rss_mib", "fds", "threads"}`` of process ``pid`` (None: gone)."""
    fields = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                name, _, value = line.partition(":")
                fields[name] = value.strip()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    mib = lambda name: round(int(fields[name].split()[0]) / 1024, 1)  # noqa: E731
    return {"rss_mib": mib("VmRSS"), "peak_rss_mib": mib("VmHWM"), "fds": fds,
            "threads": int(fields["Threads"])}


def server_status(server):
    """``(RSS MiB of all its processes, largest peak RSS of one, open fds of all)``:
    a server is its parent and its worker processes."""
    found = [s for s in map(proc_status, server.pids()) if s]
    return (sum(s["rss_mib"] for s in found), max(s["peak_rss_mib"] for s in found),
            sum(s["fds"] for s in found))


class Load:
    """One client process's side of a run: counters shared by its threads."""

    def __init__(self, port, pool, keep, live):
        self.port = port
        self.pool = pool
        self.keep = keep
        self.live = list(live)          # [(image id, md5)] GETs and HEADs pick from
        self.mine = []                  # what this process's uploaders still keep
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

    def post(self, conn, body, checksum):
        conn.request("POST", "/v1/images", body=body, headers={
            "Content-Type": "application/octet-stream", "x-image-meta-name": "load",
            "x-image-meta-disk_format": "raw", "x-image-meta-container_format": "bare"})
        resp = conn.getresponse()
        answer = resp.read()
        if resp.status != 201:
            self.error("POST", f"{resp.status} {answer[:200]!r}")
            return None
        image = json.loads(answer)["image"]
        with self.lock:
            self.counts["POST"] += 1
            self.bytes_up += len(body)
            if image["checksum"] != checksum:
                self.mismatches += 1
        return image["id"]

    def delete(self, conn, image_id):
        conn.request("DELETE", f"/v1/images/{image_id}")
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            return self.error("DELETE", resp.status)
        with self.lock:
            self.counts["DELETE"] += 1

    def uploader(self, conn, rng):
        body, checksum = rng.choice(self.pool)
        image_id = self.post(conn, body, checksum)
        if image_id is None:
            return
        with self.lock:
            self.mine.append(image_id)
            doomed = self.mine.pop(0) if len(self.mine) > self.keep else None
        if doomed:
            self.delete(conn, doomed)

    def downloader(self, conn, rng):
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
        if resp.status != 200:
            return self.error("GET", resp.status)
        with self.lock:
            self.counts["GET"] += 1
            self.bytes_down += got
            if digest.hexdigest() != checksum or resp.getheader("x-image-meta-checksum") != checksum:
                self.mismatches += 1

    def header(self, conn, rng):
        image_id, _ = rng.choice(self.live)
        began = time.perf_counter()
        conn.request("HEAD", f"/v1/images/{image_id}")
        resp = conn.getresponse()
        resp.read()
        elapsed = (time.perf_counter() - began) * 1000
        if resp.status != 200:
            return self.error("HEAD", resp.status)
        with self.lock:
            self.counts["HEAD"] += 1
            self.head_ms.append(elapsed)

    def figures(self):
        return {"counts": self.counts, "bytes_up": self.bytes_up,
                "bytes_down": self.bytes_down, "errors": self.errors,
                "mismatches": self.mismatches, "head_ms": self.head_ms}


def client_process(role, threads, port, pool, keep, live, start, duration, results,
                   policy="other"):
    """One client process running ``threads`` threads of one role.

    Each role has processes of its own so that no client thread waits for
    another's GIL: HEAD latency is then the server's, not the load client's.
    Downloads and HEADs read the seed images, which nobody deletes during a
    run; uploaders delete only their own uploads, and the rest after the clock.
    ``policy`` is the Linux scheduling policy of upload and download clients
    (see ``--client-sched``).
    """
    if role != "header" and policy != "other":
        os.sched_setscheduler(0, getattr(os, f"SCHED_{policy.upper()}"), os.sched_param(0))
    load = Load(port, pool, keep, live)
    target = getattr(load, role)
    workers = [threading.Thread(target=load.run_thread, args=(target,), daemon=True)
               for _ in range(threads)]
    start.wait()
    for worker in workers:
        worker.start()
    time.sleep(duration)
    load.stop.set()
    for worker in workers:
        worker.join(300)
    results.put(load.figures())
    conn = load.connection()
    for image_id in load.mine:
        load.delete(conn, image_id)
    conn.close()


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def upload_seed(port, pool):
    """One image per pool body, before the clock starts: what GETs and HEADs read."""
    load = Load(port, pool, keep=0, live=[])
    conn = load.connection()
    live = [(load.post(conn, body, checksum), checksum) for body, checksum in pool]
    conn.close()
    if load.errors:
        raise RuntimeError(f"seed upload failed: {load.errors[0]}")
    return live


def cpu_seconds(server):
    """User + system CPU seconds the processes of ``server`` have used so far."""
    total = 0
    for pid in server.pids():
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def split(total, parts):
    """``total`` threads over ``parts`` processes, none empty."""
    parts = max(1, min(parts, total))
    return [total // parts + (1 if n < total % parts else 0) for n in range(parts)]


class Clients:
    """Client processes running ``plan`` ([(role, threads)]) for ``duration`` seconds."""

    def __init__(self, api, pool, seed, args, plan, duration):
        context = multiprocessing.get_context("fork")
        self.start, self.results, self.duration = context.Event(), context.Queue(), duration
        self.procs = [context.Process(target=client_process, daemon=True, args=(
            role, n, api.port, pool, args.keep, seed, self.start, duration, self.results,
            args.client_sched))
            for role, n in plan if n]
        for proc in self.procs:
            proc.start()

    def run(self):
        """Start them together; ``(their figures, seconds taken)``."""
        began = time.perf_counter()
        self.start.set()
        parts = [self.results.get(timeout=self.duration + 600) for _ in self.procs]
        elapsed = time.perf_counter() - began
        for proc in self.procs:
            proc.join(300)
        return parts, elapsed


def alone(api, pool, seed, args, role, threads):
    """``(MiB/s, errors)`` of ``threads`` clients of one role with nothing else running."""
    plan = [(role, n) for n in split(threads, args.processes)]
    parts, elapsed = Clients(api, pool, seed, args, plan, args.alone_seconds).run()
    moved = sum(p["bytes_up"] + p["bytes_down"] for p in parts)
    return moved / MiB / elapsed, sum(len(p["errors"]) + p["mismatches"] for p in parts)


def scaling(api, pool, seed, args):
    """Aggregate MiB/s of many streams of one kind against one stream, same run (issue 20:
    >= 0.8 for 16 uploads and for 32 downloads)."""
    figures = {}
    for role, many in (("uploader", args.uploaders), ("downloader", args.downloaders)):
        one, errors_one = alone(api, pool, seed, args, role, 1)
        more, errors_more = alone(api, pool, seed, args, role, many)
        figures[role] = {"one_stream_mibs": round(one, 1), f"{many}_streams_mibs": round(more, 1),
                         "ratio": round(more / one, 2), "errors": errors_one + errors_more}
    return figures


def one_run(api, registry, pool, seed, args):
    """Run the load once; returns its figures."""
    rss_before, _, fds_before = server_status(api)
    md5_mibs = md5_loop(pool)
    plan = ([("uploader", n) for n in split(args.uploaders, args.processes)]
            + [("downloader", n) for n in split(args.downloaders, args.processes)]
            + [("header", args.headers)])
    clients = Clients(api, pool, seed, args, plan, args.duration)
    cpu_before = {name: cpu_seconds(s) for name, s in (("api", api), ("registry", registry))}
    clients_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    parts, elapsed = clients.run()
    clients = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {name: round(cpu_seconds(s) - cpu_before[name], 1)
           for name, s in (("api", api), ("registry", registry))}
    cpu["clients"] = round(clients.ru_utime + clients.ru_stime - clients_before.ru_utime
                           - clients_before.ru_stime, 1)
    time.sleep(1)      # let glance-api close what the clients left
    rss_after, hwm, fds_after = server_status(api)
    counts = {key: sum(p["counts"][key] for p in parts) for key in parts[0]["counts"]}
    bytes_up = sum(p["bytes_up"] for p in parts)
    bytes_down = sum(p["bytes_down"] for p in parts)
    errors = [e for p in parts for e in p["errors"]]
    head_ms = [ms for p in parts for ms in p["head_ms"]]
    return {
        "seconds": round(elapsed, 1),
        "requests": dict(counts, total=sum(counts.values())),
        "upload_mibs": round(bytes_up / MiB / elapsed, 1),
        "download_mibs": round(bytes_down / MiB / elapsed, 1),
        "md5_loop_mibs": round(md5_mibs, 1),
        "upload_vs_md5": round(bytes_up / MiB / elapsed / md5_mibs, 2),
        "head_p50_ms": round(percentile(head_ms, 0.50), 1),
        "head_p99_ms": round(percentile(head_ms, 0.99), 1),
        "errors": len(errors),
        "first_errors": errors[:5],
        "checksum_mismatches": sum(p["mismatches"] for p in parts),
        "cpu_seconds": cpu,
        "api_rss_mib_before": round(rss_before, 1),     # parent and workers together
        "api_rss_mib_after": round(rss_after, 1),
        "api_peak_rss_mib_per_process": round(hwm, 1),
        "api_fds_before": fds_before,
        "api_fds_after": fds_after,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds per run")
    parser.add_argument("--runs", type=int, default=2, help="runs, back to back")
    parser.add_argument("--uploaders", type=int, default=16)
    parser.add_argument("--downloaders", type=int, default=32)
    parser.add_argument("--headers", type=int, default=4, help="HEAD client threads")
    parser.add_argument("--pool", type=int, default=20, help="distinct random bodies")
    parser.add_argument("--max-size-mib", type=float, default=16, help="largest image")
    parser.add_argument("--keep", type=int, default=3,
                        help="uploads each client process keeps before deleting its oldest")
    parser.add_argument("--processes", type=int, default=2,
                        help="client processes per role (uploads, downloads)")
    parser.add_argument("--client-sched", choices=("other", "batch", "idle"), default="other",
                        help="scheduling policy of the upload and download clients: 'idle' "
                             "lets them use only CPU the servers leave, as clients on other "
                             "machines would (the HEAD client always runs normally)")
    parser.add_argument("--threads", type=int, default=64, help="glance-api server_threads")
    parser.add_argument("--workers", help="glance-api and glance-registry workers (default: "
                                          "theirs, the number of CPUs)")
    parser.add_argument("--alone-seconds", type=float, default=15,
                        help="seconds of each phase of the scaling check (0: skip it): one "
                             "upload stream, --uploaders streams, one download stream, "
                             "--downloaders streams, each with nothing else running")
    parser.add_argument("--workdir", help="where the servers and images live (default: a temp dir)")
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmark; returns the list of per-run figures (also printed)."""
    args = parse_args(argv)
    workers = {"workers": args.workers} if args.workers else {}
    with glance_pair(args.workdir, {"server_threads": 16, **workers},
                     {"server_threads": args.threads, **workers}) as (api, registry):
        pool = make_pool(args.pool, int(args.max_size_mib * MiB))
        seed = upload_seed(api.port, pool)
        if args.alone_seconds:
            print("scaling: " + json.dumps(scaling(api, pool, seed, args)), flush=True)
        results = []
        for number in range(1, args.runs + 1):
            figures = one_run(api, registry, pool, seed, args)
            results.append(figures)
            print(f"run {number}: " + json.dumps(figures), flush=True)
        return results


def summary(results):
    """One line per figure across runs, for the closing note."""
    keys = [k for k in results[0] if k not in ("first_errors", "requests")]
    lines = [f"{k:22s} " + "  ".join(str(r[k]) for r in results) for k in keys]
    lines.append(f"{'requests':22s} " + "  ".join(json.dumps(r["requests"]) for r in results))
    return "\n".join(lines)


if __name__ == "__main__":
    figures = main()
    print(summary(figures))
    print(f"HEAD p99 target <= 100 ms; scaling ratios target >= 0.8; "
          f"median HEAD over runs {statistics.median(r['head_p50_ms'] for r in figures)} ms")

"""A boot storm on one glance-api node: 512 slow downloads held open, HEAD timed meanwhile.

Starts a real glance-registry (SQLite) and glance-api (filesystem store) with their
default options (``workers``: the CPUs; ``server_threads`` 16; ``max_connections`` 512
per worker), uploads --images images of --size-mib, then:

1. times --heads HEAD requests with no other load (the reference of this run);
2. opens --downloads GETs from client processes that read slowly (--rate KiB/s each,
   with a small receive buffer, as clients far away would), and waits until every one
   has its 200 and first bytes;
3. while all of them stay open, times HEAD requests from --head-clients threads for
   --seconds, then checks every download is still streaming;
4. prints HEAD p50/p99/max (quiet and under load), errors, the downloads started, still
   open and failed, RSS, peak RSS, open fds and threads of every glance process, and the
   CPU seconds glance-api, glance-registry and the clients used while HEAD was timed.

    python bench/bench_slow_downloads.py [--downloads 512] [--seconds 20]

Target (issue 20): 512 slow downloads open while HEAD p99 <= 100 ms, no errors.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from bench_load import cpu_seconds, percentile, proc_status  # noqa: E402
from servers import glance_pair  # noqa: E402

MiB = 1024 * 1024
TICK = 0.25                 # seconds between two reads of one slow client


def slow_clients(port, image_ids, count, rate_kib, started, stop, results):
    """``count`` slow downloads in one process (no thread per client): every ``TICK``
    each reads at most its share of ``rate_kib``."""
    per_tick = max(1, int(rate_kib * 1024 * TICK))
    clients = []
    for n in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.settimeout(60)
        sock.connect(("127.0.0.1", port))
        image_id = image_ids[n % len(image_ids)]
        sock.sendall(f"GET /v1/images/{image_id} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        sock.setblocking(False)
        clients.append({"sock": sock, "head": b"", "status": None, "bytes": 0, "error": None})
    reported = False
    while not stop.is_set():
        began = time.monotonic()
        for client in clients:
            if client["error"] or client["status"] not in (None, 200):
                continue
            try:
                data = client["sock"].recv(per_tick)
            except BlockingIOError:
                continue
            except OSError as exc:
                client["error"] = f"{type(exc).__name__}: {exc}"
                continue
            if not data:
                client["error"] = "closed by the server"
                continue
            if client["status"] is None:
                client["head"] += data
                if b"\r\n\r\n" in client["head"]:
                    head, _, rest = client["head"].partition(b"\r\n\r\n")
                    client["status"] = int(head.split()[1])
                    client["bytes"] += len(rest)
            else:
                client["bytes"] += len(data)
        if not reported and all(c["bytes"] or c["error"] or c["status"] not in (None, 200)
                                for c in clients):
            started.put(sum(c["status"] == 200 and c["bytes"] > 0 for c in clients))
            reported = True
        time.sleep(max(0.0, TICK - (time.monotonic() - began)))
    results.put({"open": sum(c["status"] == 200 and not c["error"] for c in clients),
                 "errors": [c["error"] or f"status {c['status']}" for c in clients
                            if c["error"] or c["status"] != 200][:5],
                 "failed": sum(bool(c["error"]) or c["status"] != 200 for c in clients),
                 "bytes": sum(c["bytes"] for c in clients)})
    for client in clients:
        client["sock"].close()


def time_heads(port, image_id, seconds=None, count=None):
    """HEAD latencies in ms (one keep-alive connection), for ``seconds`` or ``count`` requests."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out, errors = [], []
    deadline = time.monotonic() + (seconds or 1e9)
    while time.monotonic() < deadline and (count is None or len(out) + len(errors) < count):
        began = time.perf_counter()
        try:
            conn.request("HEAD", f"/v1/images/{image_id}")
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors.append(f"status {resp.status}")
                continue
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        out.append((time.perf_counter() - began) * 1000)
    conn.close()
    return out, errors


def processes(server):
    """``{pid: {"role", "rss_mib", "peak_rss_mib", "fds", "threads"}}``: the parent and
    each worker of ``server``."""
    out = {}
    for pid in server.pids():
        status = proc_status(pid)
        if status:
            out[pid] = {"role": "parent" if pid == server.proc.pid else "worker", **status}
    return out


def upload(port, count, size):
    ids = []
    for n in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.request("POST", "/v1/images", body=os.urandom(size), headers={
            "Content-Type": "application/octet-stream", "x-image-meta-name": f"storm-{n}",
            "x-image-meta-disk_format": "raw", "x-image-meta-container_format": "bare",
            "x-image-meta-is_public": "true"})
        resp = conn.getresponse()
        answer = resp.read()
        if resp.status != 201:
            raise RuntimeError(f"upload failed: {resp.status} {answer[:200]!r}")
        ids.append(json.loads(answer)["image"]["id"])
        conn.close()
    return ids


def machine_busy():
    """``(busy, total)`` CPU jiffies of the whole machine so far (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def pid_cpu(pid):
    """User + system CPU seconds of process ``pid`` (0 when gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_during(api, registry, clients):
    """CPU seconds per party from now on: call the result to read them."""
    parties = {"glance_api": lambda: cpu_seconds(api),
               "glance_registry": lambda: cpu_seconds(registry),
               "slow_clients": lambda: sum(pid_cpu(p.pid) for p in clients),
               "this_process (HEAD clients)": lambda: pid_cpu(os.getpid())}
    before = {name: read() for name, read in parties.items()}
    machine = machine_busy()

    def read():
        busy, total = machine_busy()
        used = {name: round(read() - before[name], 1) for name, read in parties.items()}
        used["machine_busy_share"] = round((busy - machine[0]) / max(1, total - machine[1]), 2)
        return used
    return read


def storm(api, registry, image_ids, args):
    context = multiprocessing.get_context("fork")
    started, results, stop = context.Queue(), context.Queue(), context.Event()
    shares = [args.downloads // args.client_processes
              + (1 if n < args.downloads % args.client_processes else 0)
              for n in range(args.client_processes)]
    began = time.monotonic()
    procs = [context.Process(target=slow_clients, daemon=True,
                             args=(api.port, image_ids, n, args.rate, started, stop, results))
             for n in shares if n]
    for proc in procs:
        proc.start()
    streaming = sum(started.get(timeout=300) for _ in procs)
    ramp = time.monotonic() - began
    heads, errors = [], []
    lock = threading.Lock()

    def head_client():
        got, failed = time_heads(api.port, image_ids[0], seconds=args.seconds)
        with lock:
            heads.extend(got)
            errors.extend(failed)
    threads = [threading.Thread(target=head_client) for _ in range(args.head_clients)]
    cpu = cpu_during(api, registry, procs)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = cpu()
    during = processes(api)
    stop.set()
    parts = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(60)
    return {
        "downloads": args.downloads, "streaming_before_heads": streaming,
        "seconds_to_start_all": round(ramp, 1),
        "still_open_after_heads": sum(p["open"] for p in parts),
        "download_failures": sum(p["failed"] for p in parts),
        "first_download_errors": [e for p in parts for e in p["errors"]][:5],
        "downloaded_mib": round(sum(p["bytes"] for p in parts) / MiB, 1),
        "head_requests": len(heads), "head_errors": len(errors),
        "first_head_errors": errors[:5],
        "head_p50_ms": ms(percentile(heads, 0.50)), "head_p99_ms": ms(percentile(heads, 0.99)),
        "head_max_ms": round(max(heads), 1) if heads else None,
        "cpu_seconds_while_timing_heads": cpu,
        "glance_api_processes": during,
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--downloads", type=int, default=512)
    parser.add_argument("--rate", type=float, default=64, help="KiB/s each download reads")
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--size-mib", type=int, default=32,
                        help="image size: more than a download reads in the whole run")
    parser.add_argument("--seconds", type=float, default=20, help="HEAD timing under load")
    parser.add_argument("--head-clients", type=int, default=2)
    parser.add_argument("--heads", type=int, default=200, help="HEADs timed with no load")
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--workers", help="glance-api workers (default: its own default)")
    parser.add_argument("--workdir", help="where the servers and images live (default: temp)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    extra = {"workers": args.workers} if args.workers is not None else {}
    with glance_pair(args.workdir, api_options=extra) as (api, registry):
        image_ids = upload(api.port, args.images, args.size_mib * MiB)
        quiet, quiet_errors = time_heads(api.port, image_ids[0], count=args.heads)
        figures = {"quiet_head_p50_ms": ms(percentile(quiet, 0.50)),
                   "quiet_head_p99_ms": ms(percentile(quiet, 0.99)),
                   "quiet_head_errors": len(quiet_errors),
                   "idle_processes": processes(api),
                   **storm(api, registry, image_ids, args),
                   "registry_processes": processes(registry),
                   "load_average": [round(x, 2) for x in os.getloadavg()],
                   "cpus": len(os.sched_getaffinity(0))}
    print(json.dumps(figures, indent=1))
    print(f"HEAD p99 under {figures['streaming_before_heads']} open slow downloads: "
          f"{figures['head_p99_ms']} ms (target <= 100 ms; quiet: "
          f"{figures['quiet_head_p99_ms']} ms); errors: {figures['head_errors']} HEAD, "
          f"{figures['download_failures']} downloads")
    return figures


def ms(value):
    return round(value, 1) if value == value else None     # NaN: nothing was timed


if __name__ == "__main__":
    main()

"""A client of glance-api through the load balancer, for the multinode scenario's verify.

    lb-client.py run URL IMAGE_ID SECONDS OUT   (token in $OS_AUTH_TOKEN)
        HEAD and GET the image in turn, each on a new connection, for SECONDS; one JSON
        line per request in OUT: time, method, status (0: no answer), serving node, bytes.
    lb-client.py check OUT STOPPED_AT WINDOW
        Prints the requests per node and the failures; fails when a request failed more
        than WINDOW seconds after STOPPED_AT (when one node was stopped), or when the
        requests after that window were not all served by the other nodes.
"""
import http.client
import json
import os
import sys
import time
from urllib.parse import urlsplit


def run(url, image_id, seconds, out):
    parts = urlsplit(url)
    headers = {"X-Auth-Token": os.environ["OS_AUTH_TOKEN"], "Connection": "close"}
    deadline = time.time() + float(seconds)
    with open(out, "w", encoding="utf-8") as handle:
        n = 0
        while time.time() < deadline:
            method = ("HEAD", "GET")[n % 2]
            n += 1
            began = time.time()
            record = {"t": began, "method": method, "status": 0, "node": None, "bytes": 0}
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                conn.request(method, f"/v1/images/{image_id}", headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                record.update(status=resp.status, node=resp.getheader("X-Served-By"),
                              bytes=len(body))
            except (OSError, http.client.HTTPException) as exc:
                record["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                conn.close()
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            time.sleep(0.05)


def check(out, stopped_at, window):
    stopped_at, window = float(stopped_at), float(window)
    with open(out, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    failed = [r for r in records if r["status"] != 200]
    late = [r for r in failed if r["t"] > stopped_at + window]
    before = {r["node"] for r in records if r["t"] < stopped_at and r["status"] == 200}
    after = {r["node"] for r in records if r["t"] > stopped_at + window}
    summary = {"requests": len(records), "failed": len(failed),
               "failed_after_the_check_interval": len(late),
               "failed_within_it": len(failed) - len(late),
               "nodes_before_the_stop": sorted(n for n in before if n),
               "nodes_after_the_check_interval": sorted(n for n in after if n),
               "first_failures": failed[:3]}
    print(json.dumps(summary))
    ok = (not late and len(before) > 1 and len(after) == 1 and None not in after
          and len([r for r in records if r["t"] > stopped_at + window]) > 10)
    return 0 if ok else 1


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    sys.exit({"run": run, "check": check}[command](*rest) or 0)

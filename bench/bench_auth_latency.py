"""The latency cost of Keystone token validation: HEAD /v1/images/<id>, keystone vs noauth.

Starts a real Keystone (``tests/tools/keystone.sh``, which installs it on first
use), then two glance pairs (glance-registry +
glance-api) in the same run: one with ``auth_strategy = noauth``, one with
``auth_strategy = keystone``.  Each serves one private image.  Then, on one
keep-alive connection per pair, alternating the pairs round by round:

* noauth HEAD (no token);
* keystone HEAD with a token both servers have validated before
  (keystonemiddleware's token cache; the usual case);
* keystone HEAD with a token never seen before (each one validated by
  glance-api and by glance-registry against Keystone): ``--fresh`` tokens.

    python bench/bench_auth_latency.py [--heads 500] [--fresh 30]
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

import keystone_tools  # noqa: E402
from servers import Server  # noqa: E402


def timed(conn, path, headers):
    began = time.perf_counter()
    conn.request("HEAD", path, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - began) * 1000
    if response.status != 200:
        raise RuntimeError(f"HEAD {path}: {response.status}")
    return elapsed


def summary(label, values):
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return f"{label:52} {len(values):5} {values[0]:7.2f} {statistics.median(values):7.2f} {p99:7.2f}"


def create(url, headers):
    conn = http.client.HTTPConnection(url.split("//")[1])
    conn.request("POST", "/v1/images", body=b"x" * 1024, headers={
        **headers, "Content-Type": "application/octet-stream", "x-image-meta-name": "bench",
        "x-image-meta-disk_format": "raw", "x-image-meta-container_format": "bare"})
    response = conn.getresponse()
    body = response.read()
    if response.status != 201:
        raise RuntimeError(f"create: {response.status} {body[:200]!r}")
    return json.loads(body)["image"]["id"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", type=int, default=500)
    parser.add_argument("--fresh", type=int, default=30)
    args = parser.parse_args()
    if not keystone_tools.Keystone.available():
        subprocess.run([keystone_tools.SCRIPT, "install"], check=True)
    work = tempfile.mkdtemp(prefix="bench-auth-")
    started = []
    try:
        began = time.perf_counter()
        ks = keystone_tools.Keystone(f"{work}/keystone").start()
        started.append(ks)
        ks.accounts = keystone_tools.accounts(ks)
        ks_s = time.perf_counter() - began
        os.makedirs(f"{work}/noauth")
        registry = Server("glance-registry", f"{work}/noauth",
                          {"sql_connection": f"sqlite:///{work}/noauth/r.sqlite"}).start()
        started.append(registry)
        api = Server("glance-api", f"{work}/noauth", {
            "registry_host": "127.0.0.1", "registry_port": registry.port,
            "filesystem_store_datadir": f"{work}/noauth/images"}).start()
        started.append(api)
        os.makedirs(f"{work}/keystone-glance")
        glance = keystone_tools.KeystoneGlance(ks, f"{work}/keystone-glance").start()
        started.append(glance)

        token = glance.token("owner")
        plain_id = create(api.url, {"X-Identity-Status": "Confirmed", "X-Roles": "member",
                                    "X-Project-Id": "p1"})
        ks_id = create(glance.api.url, {"X-Auth-Token": token})
        plain = http.client.HTTPConnection("127.0.0.1", api.port)
        keyed = http.client.HTTPConnection("127.0.0.1", glance.api.port)
        plain_path, ks_path = f"/v1/images/{plain_id}", f"/v1/images/{ks_id}"
        for _ in range(30):                                   # warm up every process
            timed(plain, plain_path, {})
            timed(keyed, ks_path, {"X-Auth-Token": token})
        noauth, cached = [], []
        for _ in range(args.heads):                           # alternate: same conditions
            noauth.append(timed(plain, plain_path, {}))
            cached.append(timed(keyed, ks_path, {"X-Auth-Token": token}))
        fresh = []
        for _ in range(args.fresh):
            new = ks.token("owner", "owner-secret", "owner")[0]
            fresh.append(timed(keyed, ks_path, {"X-Auth-Token": new}))

        print(f"HEAD /v1/images/<id> latency, keystone vs noauth, same run "
              f"(Keystone started in {ks_s:.1f} s); one client, keep-alive; ms")
        print(f"{'request':52} {'n':>5} {'min':>7} {'p50':>7} {'p99':>7}")
        print(summary("noauth", noauth))
        print(summary("keystone, token already validated (cached)", cached))
        print(summary("keystone, new token (validated by api and registry)", fresh))
        cost = statistics.median(cached) - statistics.median(noauth)
        print(f"cost of token validation at p50: {cost:+.2f} ms with the cache, "
              f"{statistics.median(fresh) - statistics.median(noauth):+.2f} ms for a new token")
    finally:
        for server in reversed(started):
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

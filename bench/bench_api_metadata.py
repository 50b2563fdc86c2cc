"""Metadata latency of glance-api with 10,000 images registered.

Fills a fresh registry database with --images images (two properties each)
through the registry's own models, starts real glance-registry and glance-api
processes, then times requests one at a time on a keep-alive connection:

* HEAD /v1/images/<id> (glance-api -> glance-registry GET)
* GET /v1/images/detail?limit=1000
* GET /v1/images?limit=1000, and the registry's own detail list for reference
* v2: GET /v2/images/<id> and GET /v2/images?limit=1000, against the v1 figures

    python bench/bench_api_metadata.py [--images 10000] [--heads 300] [--lists 30]

Targets: HEAD median < 3 ms; detail?limit=1000 median < 100 ms; v2 show and
list-1000 medians within 1.5 x v1's HEAD and detail of the same run.
"""
import argparse
import http.client
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from servers import Server  # noqa: E402


def fill(url, count, tags=()):
    """Insert ``count`` active public images straight into the registry database.

    ``tags`` are given to every image.
    """
    from glance.registry import db, models
    engine = db.make_engine(url)
    db.db_sync(engine)   # as glance-manage db_sync does before glance-registry starts
    now = models.utcnow()
    ids = [str(uuid.uuid4()) for _ in range(count)]
    images = [{"id": image_id, "name": f"image-{n:05d}", "disk_format": "qcow2",
               "container_format": "bare", "size": 1024 * n, "status": "active",
               "visibility": "public", "location": f"file:///var/lib/glance/images/{image_id}",
               "checksum": f"{n:032x}", "min_disk": 0, "min_ram": 0, "owner": None,
               "protected": False, "created_at": now, "deleted": False}
              for n, image_id in enumerate(ids)]
    properties = [{"image_id": image_id, "name": name, "value": value, "created_at": now,
                   "deleted": False}
                  for image_id in ids for name, value in (("distro", "debian"), ("arch", "amd64"))]
    with engine.begin() as conn:
        conn.execute(models.Image.__table__.insert(), images)
        conn.execute(models.ImageProperty.__table__.insert(), properties)
        if tags:
            conn.execute(models.ImageTag.__table__.insert(), [
                {"image_id": image_id, "value": tag, "created_at": now, "deleted": False}
                for image_id in ids for tag in tags])
    engine.dispose()
    return ids


def timed(conn, method, path, expect):
    began = time.perf_counter()
    conn.request(method, path)
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - began) * 1000
    if response.status != expect:
        raise RuntimeError(f"{method} {path}: {response.status} {body[:200]!r}")
    return elapsed, body


def summary(label, values, target=""):
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return (f"{label:44} {values[0]:7.2f} {statistics.median(values):7.2f} {p99:7.2f}"
            f"  {target}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--heads", type=int, default=300)
    parser.add_argument("--lists", type=int, default=30)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-meta-")
    registry = api = None
    try:
        url = f"sqlite:///{work}/registry.sqlite"
        began = time.perf_counter()
        ids = fill(url, args.images)
        fill_s = time.perf_counter() - began
        registry = Server("glance-registry", work, {"sql_connection": url}).start()
        api = Server("glance-api", work, {"registry_host": "127.0.0.1",
                                          "registry_port": registry.port,
                                          "filesystem_store_datadir": f"{work}/images"}).start()
        conn = http.client.HTTPConnection("127.0.0.1", api.port)
        rconn = http.client.HTTPConnection("127.0.0.1", registry.port)
        for _ in range(20):                                   # warm up both processes
            timed(conn, "HEAD", f"/v1/images/{random.choice(ids)}", 200)
        timed(conn, "GET", "/v1/images/detail?limit=1000", 200)
        heads = [timed(conn, "HEAD", f"/v1/images/{random.choice(ids)}", 200)[0]
                 for _ in range(args.heads)]
        details, size = [], 0
        for _ in range(args.lists):
            elapsed, body = timed(conn, "GET", "/v1/images/detail?limit=1000", 200)
            details.append(elapsed)
            size = len(body)
        assert body.count(b'"id"') == 1000 and b"location" not in body
        briefs = [timed(conn, "GET", "/v1/images?limit=1000", 200)[0] for _ in range(args.lists)]
        direct = [timed(rconn, "GET", "/images/detail?limit=1000", 200)[0]
                  for _ in range(args.lists)]
        timed(conn, "GET", "/v2/images?limit=1000", 200)
        shows = [timed(conn, "GET", f"/v2/images/{random.choice(ids)}", 200)[0]
                 for _ in range(args.heads)]
        v2_lists = []
        for _ in range(args.lists):
            elapsed, body = timed(conn, "GET", "/v2/images?limit=1000", 200)
            v2_lists.append(elapsed)
        assert body.count(b'"self"') == 1000 and b"location" not in body
        direct_v2 = [timed(rconn, "GET", "/v2/images?limit=1000", 200)[0]
                     for _ in range(args.lists)]
        print(f"glance-api metadata, {args.images} images (inserted in {fill_s:.1f} s), "
              "one client, keep-alive; ms")
        print(f"{'request':44} {'min':>7} {'median':>7} {'p99':>7}")
        print(summary(f"HEAD /v1/images/<id> (n={args.heads})", heads, "target median < 3"))
        print(summary(f"GET /v1/images/detail?limit=1000 ({size // 1024} KiB)", details,
                      "target median < 100"))
        print(summary("GET /v1/images?limit=1000", briefs))
        print(summary("registry GET /images/detail?limit=1000", direct))
        show_ratio = statistics.median(shows) / statistics.median(heads)
        list_ratio = statistics.median(v2_lists) / statistics.median(details)
        print(summary(f"GET /v2/images/<id> (n={args.heads})", shows,
                      f"{show_ratio:.2f} x v1 HEAD (target <= 1.5)"))
        print(summary("GET /v2/images?limit=1000", v2_lists,
                      f"{list_ratio:.2f} x v1 detail (target <= 1.5)"))
        print(summary("registry GET /v2/images?limit=1000", direct_v2))
    finally:
        for server in (api, registry):
            if server is not None:
                server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""How fast glance-registry lists images with 100,000 of them in the table.

Fills a database with bulk inserts, starts a real glance-registry process on
it and times GET /images?limit=25, the detail list, and deep pages reached
with a marker (keyset paging).  Prints median and p95 in milliseconds.

    python bench/bench_registry_list.py [--url SQLALCHEMY_URL] [--count N] [--requests N]

Without --url a temporary SQLite file is used.  A --url database must be
empty or already migrated; the bench adds its images and leaves them there.
"""
import argparse
import datetime
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import requests
import sqlalchemy as sa

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from glance.registry import db  # noqa: E402
from glance.registry.models import Image, ImageProperty  # noqa: E402


def fill(engine, count, chunk=10000):
    """Insert ``count`` images (10% private, 5% deleted) and two properties each."""
    start = datetime.datetime(2011, 9, 22)
    formats = ["raw", "qcow2", "vhd", "vmdk", "iso"]
    made = 0
    with engine.begin() as conn:
        while made < count:
            images, props = [], []
            for n in range(made, min(count, made + chunk)):
                image_id = str(uuid.uuid4())
                images.append({
                    "id": image_id, "name": f"image-{n:06d}", "status": "active",
                    "disk_format": formats[n % 5], "container_format": "bare",
                    "size": random.randint(1, 20 * 2 ** 30),
                    "visibility": "private" if n % 10 == 0 else "public",
                    "location": f"file:///var/lib/glance/images/{image_id}",
                    "checksum": uuid.uuid4().hex, "min_disk": 0, "min_ram": 0,
                    "owner": f"tenant-{n % 50}", "protected": False,
                    "created_at": start + datetime.timedelta(seconds=n),
                    "deleted": n % 20 == 0,
                })
                props += [{"image_id": image_id, "name": "arch", "value": "x86_64",
                           "created_at": start, "deleted": False},
                          {"image_id": image_id, "name": "distro", "value": f"d{n % 7}",
                           "created_at": start, "deleted": False}]
            conn.execute(sa.insert(Image.__table__), images)
            conn.execute(sa.insert(ImageProperty.__table__), props)
            made += len(images)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_registry(url, workdir):
    port = free_port()
    conf = os.path.join(workdir, "glance-registry.conf")
    with open(conf, "w", encoding="utf-8") as handle:
        handle.write(f"[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {port}\n"
                     f"sql_connection = {url}\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(HERE), "app"))
    proc = subprocess.Popen([sys.executable, "-m", "glance.cmd.registry", "--config-file", conf],
                            cwd=workdir, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("glance-registry did not start")


def timed(session, url, runs):
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        response = session.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.text
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    return statistics.median(times), p95, len(response.json()["images"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--count", type=int, default=100000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="glance-bench-")
    url = args.url or f"sqlite:///{workdir}/registry.sqlite"
    engine = db.make_engine(url)
    db.db_sync(engine)
    began = time.monotonic()
    fill(engine, args.count)
    with engine.connect() as conn:   # the statistics a live server's autovacuum would keep
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE"))
        elif engine.dialect.name == "mysql":
            conn.execute(sa.text("ANALYZE TABLE images, image_properties"))
        conn.commit()
    print(f"inserted {args.count} images in {time.monotonic() - began:.1f}s "
          f"({engine.dialect.name})")
    with engine.connect() as conn:   # a marker 90% of the way down the default order
        deep = conn.execute(sa.select(Image.id).where(Image.deleted == sa.false(),
                                                      Image.visibility == "public")
                            .order_by(Image.created_at.desc(), Image.id.desc())
                            .offset(int(args.count * 0.8)).limit(1)).scalar()
    engine.dispose()
    proc, base = start_registry(url, workdir)
    try:
        session = requests.Session()
        cases = [
            ("index  limit=25", "/images?limit=25"),
            ("detail limit=25", "/images/detail?limit=25"),
            ("index  deep marker", f"/images?limit=25&marker={deep}"),
            ("detail deep marker", f"/images/detail?limit=25&marker={deep}"),
            ("index  sort name asc, deep marker",
             f"/images?limit=25&sort_key=name&sort_dir=asc&marker={deep}"),
            ("index  filter property-distro=d3", "/images?limit=25&property-distro=d3"),
            ("index  filter disk_format=vhd", "/images?limit=25&disk_format=vhd"),
        ]
        session.get(base + "/images")   # warm up
        for label, path in cases:
            median, p95, got = timed(session, base + path, args.requests)
            print(f"{label:40s} median {median:7.2f} ms   p95 {p95:7.2f} ms   ({got} images)")
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Request latency of glance-api with notifications: noop, RabbitMQ up, RabbitMQ down.

Starts real glance-registry and glance-api processes (one glance-api per
case) and times, one at a time on a keep-alive connection, PUT
/v1/images/<id> (an image.update event each) and GET of a 4 KiB image
(image.send).  "down" points rabbit_port at a closed port; "hanging" at a
relay that accepts connections and never answers.

    python bench/bench_api_notifications.py [--requests 200]

Target: with the broker down or hanging, latency as with noop (requests never
wait for the broker; notifier_send_timeout bounds only the sender thread).
"""
import argparse
import http.client
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "app"))

from servers import Server, free_port  # noqa: E402


def hanging_listener():
    """A port that accepts connections and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held = []

    def accept():
        while True:
            held.append(sock.accept()[0])
    threading.Thread(target=accept, daemon=True).start()
    return sock.getsockname()[1]


def timed(conn, method, path, headers=None, body=None):
    start = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    response.read()
    assert response.status in (200, 201), response.status
    return time.perf_counter() - start


def run_case(name, options, registry, workdir, count):
    server = Server("glance-api", os.path.join(workdir, name), {
        "registry_host": "127.0.0.1", "registry_port": registry.port,
        "filesystem_store_datadir": os.path.join(workdir, name, "images"), **options})
    os.makedirs(server.workdir, exist_ok=True)
    server.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port)
        conn.request("POST", "/v1/images", body=b"z" * 4096,
                     headers={"Content-Type": "application/octet-stream",
                              "x-image-meta-name": "bench"})
        response = conn.getresponse()
        image_id = __import__("json").loads(response.read())["image"]["id"]
        puts = [timed(conn, "PUT", f"/v1/images/{image_id}",
                      {"x-image-meta-name": f"n{i}", "Content-Length": "0"}, b"")
                for i in range(count)]
        gets = [timed(conn, "GET", f"/v1/images/{image_id}") for _ in range(count)]
        for label, values in (("PUT", puts), ("GET", gets)):
            values = sorted(values)
            p99 = values[int(len(values) * 0.99) - 1]
            print(f"{name:<10} {label:<4} median {statistics.median(values) * 1000:6.2f} ms  "
                  f"p99 {p99 * 1000:6.2f} ms  max {values[-1] * 1000:6.2f} ms")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "Cannot send" not in server.logtext():
            time.sleep(0.1)
        log = server.logtext()
        if "Cannot send notifications" in log:
            line = [x for x in log.splitlines() if "Cannot send notifications" in x][0]
            print(f"{'':<10} log: {line.split('] ', 1)[1][:150]}")
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    topic = f"glance_bench_{uuid.uuid4().hex[:8]}"
    rabbit = {"notifier_strategy": "rabbit", "rabbit_host": "127.0.0.1",
              "rabbit_notification_topic": topic, "notifier_send_timeout": 1.0}
    with tempfile.TemporaryDirectory() as workdir:
        registry = Server("glance-registry", workdir,
                          {"sql_connection": f"sqlite:///{workdir}/r.sqlite"}).start()
        try:
            run_case("noop", {}, registry, workdir, args.requests)
            run_case("rabbit-up", {**rabbit, "rabbit_port": 5672}, registry, workdir,
                     args.requests)
            run_case("down", {**rabbit, "rabbit_port": free_port()}, registry, workdir,
                     args.requests)
            run_case("hanging", {**rabbit, "rabbit_port": hanging_listener()}, registry,
                     workdir, args.requests)
        finally:
            registry.stop()
    try:        # the queues this run created on the real broker
        import kombu
        with kombu.Connection("amqp://guest:guest@127.0.0.1:5672//") as conn:
            channel = conn.channel()
            for priority in ("INFO", "ERROR"):
                kombu.Queue(f"{topic}.{priority}").bind(channel).delete()
                kombu.Exchange(f"{topic}.{priority}").bind(channel).delete()
    except Exception as exc:
        print(f"could not remove the bench queues {topic}.*: {exc}")


if __name__ == "__main__":
    main()

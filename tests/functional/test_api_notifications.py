"""Notifications through a real glance-api process to the machine's real RabbitMQ.

A consumer reads ``<topic>.INFO`` and ``<topic>.ERROR`` (a topic unique to the
run, so parallel runs do not collide) as a Diablo consumer would.  Outages are
made with a TCP relay the test controls in front of RabbitMQ: closed (nothing
listening on its port), open, and cut mid-run; RabbitMQ itself is never touched.
"""
import json
import os
import socket
import threading
import time
import uuid

import pytest

from glance import notifier
from glance.config import load_config
from servers import free_port, wait_for

kombu = pytest.importorskip("kombu")

RABBIT = ("127.0.0.1", int(os.environ.get("GLANCE_TEST_RABBIT_PORT", "5672")))
TIMEOUT = 1.0        # notifier_send_timeout of the glance-api under test
OCTET = {"Content-Type": "application/octet-stream"}


def _rabbit_up():
    try:
        with socket.create_connection(RABBIT, timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _needs_rabbit():
    if not _rabbit_up():
        reason = f"no RabbitMQ at {RABBIT[0]}:{RABBIT[1]} (tools/setup-test-deps.sh starts one)"
        if os.environ.get("GLANCE_TEST_REQUIRE_ALL") == "1":
            pytest.fail(f"{reason} (GLANCE_TEST_REQUIRE_ALL=1)")
        pytest.skip(reason)


class Consumer:
    """Reads the notification queues of one topic, as a Diablo consumer did."""

    def __init__(self, topic):
        self.topic = topic
        self.conn = kombu.Connection(hostname=RABBIT[0], port=RABBIT[1], userid="guest",
                                     password="guest", virtual_host="/")
        self.queues = {p: self.conn.SimpleQueue(f"{topic}.{p}") for p in ("INFO", "ERROR")}

    def take(self, priority, count, timeout=10.0):
        """The next ``count`` messages of ``<topic>.<priority>``, decoded (fewer on timeout)."""
        out, deadline = [], time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            try:
                msg = self.queues[priority].get(timeout=0.2)
            except self.queues[priority].Empty:
                continue
            assert msg.content_type == "application/json"
            out.append(json.loads(msg.body) if isinstance(msg.body, (str, bytes)) else msg.body)
            msg.ack()
        return out

    def rest(self, priority, wait=1.0):
        """Whatever else arrives on the queue within ``wait`` seconds."""
        return self.take(priority, 1000, timeout=wait)

    def close(self):
        for queue in self.queues.values():
            queue.close()       # cancels the consumer before the queue goes
        channel = self.conn.channel()
        for priority in self.queues:
            name = f"{self.topic}.{priority}"
            kombu.Queue(name).bind(channel).delete()
            kombu.Exchange(name).bind(channel).delete()
        channel.close()
        self.conn.release()


class Relay:
    """A TCP relay to RabbitMQ on ``port``: ``open()``, ``cut()`` (closes every connection
    and stops listening, so new connections are refused), ``stall()`` (connections stay
    up and new ones are accepted, but nothing is forwarded: a broker that hangs)."""

    def __init__(self, port):
        self.port = port
        self.listener = None
        self.sockets = []
        self.lock = threading.Lock()
        self.stalled = False

    def stall(self):
        self.stalled = True

    def open(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self.stalled:
                with self.lock:
                    self.sockets.append(client)
                continue
            upstream = socket.create_connection(RABBIT)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while data := src.recv(65536):
                if not self.stalled:
                    dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.stalled = False
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)    # wakes accept(): port released
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


@pytest.fixture
def topic():
    return f"glance_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def consumer(topic):
    consumer = Consumer(topic)
    yield consumer
    consumer.close()


@pytest.fixture
def start_notifying_api(start_api, topic):
    def start(port=RABBIT[1]):
        return start_api(notifier_strategy="rabbit", rabbit_host="127.0.0.1", rabbit_port=port,
                         rabbit_notification_topic=topic, notifier_send_timeout=TIMEOUT,
                         notifier_retry_interval=0.2)
    return start


def _check_envelope(msg, event_type, priority):
    assert set(msg) == {"message_id", "publisher_id", "event_type", "priority", "payload",
                        "timestamp"}
    assert (msg["event_type"], msg["priority"]) == (event_type, priority)
    assert msg["publisher_id"] == socket.gethostname()


def _no_secrets(messages, server):
    text = json.dumps(messages)
    assert "location" not in text and "file://" not in text
    assert server.datadir not in text and "guest" not in text


def test_create_upload_update_download_delete_events(start_notifying_api, consumer, api_for):
    server = start_notifying_api()
    api = api_for(server)
    data = os.urandom(300_000)
    created = api.create(data=data, name="notified", disk_format="raw",
                         container_format="bare", properties={"distro": "debian"})
    assert created.status_code == 201, created.text
    image = created.json()["image"]
    image_id = image["id"]
    assert api.request("PUT", f"/v1/images/{image_id}",
                       headers={"x-image-meta-name": "renamed",
                                "x-image-meta-property-distro": "debian"}).status_code == 200
    got = api.request("GET", f"/v1/images/{image_id}",
                      headers={"X-Identity-Status": "Confirmed", "X-Tenant-Id": "reader-t",
                               "X-User-Id": "reader-u", "X-Roles": "admin"})
    assert got.content == data
    assert api.request("DELETE", f"/v1/images/{image_id}").status_code == 200

    info = consumer.take("INFO", 4)
    assert [m["event_type"] for m in info] == ["image.upload", "image.update", "image.send",
                                               "image.delete"]
    for msg in info:
        _check_envelope(msg, msg["event_type"], "INFO")
    upload, update, send, delete = (m["payload"] for m in info)
    assert upload["id"] == image_id and upload["status"] == "active"
    assert upload["size"] == len(data) and upload["checksum"] == image["checksum"]
    assert upload["properties"] == {"distro": "debian"} and upload["name"] == "notified"
    assert update["id"] == image_id and update["name"] == "renamed"
    assert send == {"bytes_sent": len(data), "image_id": image_id, "owner_id": None,
                    "receiver_tenant_id": "reader-t", "receiver_user_id": "reader-u",
                    "destination_ip": "127.0.0.1"}
    assert delete["id"] == image_id
    assert len({m["message_id"] for m in info}) == 4
    _no_secrets(info, server)
    assert consumer.rest("INFO") == [] and consumer.rest("ERROR", wait=0.2) == []


def test_failed_upload_sends_an_error_event(start_notifying_api, consumer, api_for):
    server = start_notifying_api()
    api = api_for(server)
    bad = api.create(data=b"x" * 5000, name="bad", checksum="0" * 32)
    assert bad.status_code == 400
    errors = consumer.take("ERROR", 1)
    assert len(errors) == 1
    _check_envelope(errors[0], "image.upload", "ERROR")
    assert isinstance(errors[0]["payload"], str) and "failed" in errors[0]["payload"]
    _no_secrets(errors, server)
    assert consumer.rest("INFO") == []


def _timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def _cycle(api):
    """create+upload, update, download, delete; each request's latency."""
    times = []
    created, t = _timed(lambda: api.create(data=b"y" * 4096, name="outage"))
    assert created.status_code == 201, created.text
    times.append(t)
    image_id = created.json()["image"]["id"]
    for method, headers in (("PUT", {"x-image-meta-name": "outage2"}), ("GET", {}),
                            ("DELETE", {})):
        response, t = _timed(lambda: api.request(method, f"/v1/images/{image_id}",
                                                 headers=headers))
        assert response.status_code == 200
        times.append(t)
    return image_id, times


def _cycles_while_down(api, server, count):
    """``count`` cycles, each request faster than the send timeout; the image ids and
    latencies.  Then waits for the log to name the outage."""
    kept, latencies = [], []
    for _ in range(count):
        image_id, times = _cycle(api)
        kept.append(image_id)
        latencies += times
    assert max(latencies) < TIMEOUT, latencies
    assert wait_for(lambda: "Cannot send notifications" in server.logtext(), TIMEOUT + 5)
    return kept, latencies


def test_broker_unreachable_then_cut_mid_run(start_notifying_api, consumer, api_for):
    port = free_port()
    relay = Relay(port)
    server = start_notifying_api(port)          # nothing listens on port: unreachable
    api = api_for(server)
    try:
        # 1. Unreachable from the start: requests are as fast as ever, the log says why, once.
        kept, latencies = _cycles_while_down(api, server, 3)
        log = server.logtext()
        assert log.count("Cannot send notifications to RabbitMQ") == 1, log
        assert f"127.0.0.1:{port}" in log and "Connection refused" in log
        assert "guest" not in log
        assert consumer.rest("INFO", wait=0.5) == []

        # 2. The broker comes back: what was kept is delivered, in order.
        relay.open()
        info = consumer.take("INFO", 12)
        assert [m["event_type"] for m in info] == \
            ["image.upload", "image.update", "image.send", "image.delete"] * 3
        assert [m["payload"]["id"] for m in info if m["event_type"] == "image.upload"] == kept
        assert wait_for(lambda: "takes notifications again" in server.logtext(), 5)
        # Also lets the last confirm come back before the cut: a message the broker took
        # but did not confirm is sent again (at least once), which would be a duplicate.
        assert consumer.rest("INFO", wait=1.0) == []

        # 3. Cut mid-run (open connection dropped, reconnects refused).
        relay.cut()
        image_id, times = _cycle(api)
        assert max(times) < TIMEOUT, times
        assert wait_for(lambda: server.logtext().count("Cannot send notifications") == 2, 10)
        image_id2, times2 = _cycle(api)
        assert max(times2) < TIMEOUT, times2
        assert server.logtext().count("Cannot send notifications") == 2

        # 4. Back again: both cycles arrive, nothing lost, nothing twice.
        relay.open()
        info = consumer.take("INFO", 8)
        assert [m["payload"].get("id") or m["payload"].get("image_id") for m in info] == \
            [image_id] * 4 + [image_id2] * 4
        assert consumer.rest("INFO") == []
        assert consumer.rest("ERROR", wait=0.2) == []
        print(f"\nrequest latency, broker unreachable: max {max(latencies) * 1000:.1f} ms "
              f"over {len(latencies)} requests; cut mid-run: max "
              f"{max(times + times2) * 1000:.1f} ms (notifier_send_timeout {TIMEOUT}s)")
    finally:
        relay.cut()


def test_broker_that_hangs(start_notifying_api, consumer, api_for):
    """A broker that accepts but never answers costs requests nothing; the sender gives up
    after notifier_send_timeout, says so, and delivers once the broker answers again."""
    port = free_port()
    relay = Relay(port)
    relay.open()
    server = start_notifying_api(port)
    api = api_for(server)
    try:
        _cycle(api)
        assert len(consumer.take("INFO", 4)) == 4
        assert consumer.rest("INFO", wait=1.0) == []
        relay.stall()
        kept, latencies = _cycles_while_down(api, server, 2)
        log = server.logtext()
        assert log.count("Cannot send notifications") == 1, log
        assert f"no answer within notifier_send_timeout ({TIMEOUT:g}s)" in log, log
        relay.cut()
        relay.open()
        info = consumer.take("INFO", 8)
        ids = [m["payload"].get("id") or m["payload"].get("image_id") for m in info]
        assert ids == [kept[0]] * 4 + [kept[1]] * 4
        assert consumer.rest("INFO") == []
        print(f"\nrequest latency, broker hanging: max {max(latencies) * 1000:.1f} ms over "
              f"{len(latencies)} requests (notifier_send_timeout {TIMEOUT}s)")
    finally:
        relay.cut()


def test_full_queue_drops_the_oldest_and_counts_them(topic, consumer, tmp_path, caplog):
    """In process: a queue of 3 while the broker is away keeps the newest 3 and says 2 went."""
    port = free_port()
    relay = Relay(port)
    conf = load_config("glance-api", overrides={
        "filesystem_store_datadir": str(tmp_path), "notifier_strategy": "rabbit",
        "rabbit_host": "127.0.0.1", "rabbit_port": port, "rabbit_notification_topic": topic,
        "notifier_send_timeout": TIMEOUT, "notifier_retry_interval": 0.2,
        "notifier_queue_size": 3})
    note = notifier.build_notifier(conf)
    try:
        for n in range(5):
            note.info("image.update", {"n": n})
        assert wait_for(lambda: "Cannot send notifications" in caplog.text, 5)
        relay.open()
        assert [m["payload"]["n"] for m in consumer.take("INFO", 3)] == [2, 3, 4]
        assert consumer.rest("INFO") == []
        assert wait_for(lambda: "2 were dropped meanwhile" in caplog.text, 5), caplog.text
        assert caplog.text.count("Notification queue full (3)") == 1
    finally:
        note.close()
        relay.cut()


def _as(tenant):
    return {"X-Identity-Status": "Confirmed", "X-Tenant-Id": tenant, "X-User-Id": f"{tenant}-u",
            "X-Roles": "member"}


def test_refused_callers_and_cut_downloads_send_nothing(start_notifying_api, consumer, api_for):
    """Another tenant's PUT, DELETE and GET, an anonymous PUT, and a download the client
    abandons: no event, and the image is unchanged."""
    server = start_notifying_api()
    api = api_for(server)
    data = os.urandom(8 * 1024 * 1024)
    created = api.request("POST", "/v1/images", data=data,
                          headers={**OCTET, **_as("alice"), "x-image-meta-name": "mine"})
    assert created.status_code == 201, created.text
    image_id = created.json()["image"]["id"]
    assert [m["event_type"] for m in consumer.take("INFO", 1)] == ["image.upload"]
    path = f"/v1/images/{image_id}"
    assert api.request("PUT", path, headers={**_as("mallory"),
                                             "x-image-meta-name": "stolen"}).status_code == 404
    assert api.request("DELETE", path, headers=_as("mallory")).status_code == 404
    assert api.request("GET", path, headers=_as("mallory")).status_code == 404
    assert api.request("PUT", path, headers={"X-Identity-Status": "Invalid",
                                             "x-image-meta-name": "anon"}).status_code == 401
    # A client that reads the headers and the first bytes, then goes away.
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Identity-Status: Confirmed\r\n"
                     f"X-Tenant-Id: alice\r\nX-Roles: member\r\n\r\n".encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    assert consumer.rest("INFO", wait=2.0) == []
    assert consumer.rest("ERROR", wait=0.2) == []
    head = api.request("HEAD", path, headers=_as("alice"))
    assert head.headers["x-image-meta-name"] == "mine"
    assert head.headers["x-image-meta-status"] == "active"
    assert api.request("GET", path, headers=_as("alice")).content == data
    assert [m["event_type"] for m in consumer.take("INFO", 1)] == ["image.send"]


def test_sigterm_with_the_broker_down_exits_promptly(start_notifying_api, api_for):
    """Events still queued at SIGTERM: glance-api tries for at most the send timeout,
    says how many it could not send, and exits 0."""
    server = start_notifying_api(free_port())
    _cycles_while_down(api_for(server), server, 1)
    start = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - start < TIMEOUT + 5
    assert "Stopping with 4 notifications not sent" in server.logtext()

"""Notifications: Diablo's message format, the logging strategy, and the events
each glance-api route sends (through the Flask app, strategy ``logging``).

What reaches a real RabbitMQ is in tests/functional/test_api_notifications.py.
"""
import datetime
import json
import logging
import socket
import uuid

import pytest

from glance import notifier
from glance.api import create_app
from glance.config import load_config
from glance.store import StoreMap
from glance.store.filesystem import FilesystemStore

from contract.registry_support import InProcessRegistry

FIELDS = {"message_id", "publisher_id", "event_type", "priority", "payload", "timestamp"}


def test_message_has_diablos_fields():
    msg = notifier.message("image.update", notifier.INFO, {"id": "1"})
    assert set(msg) == FIELDS
    assert uuid.UUID(msg["message_id"])
    assert msg["publisher_id"] == socket.gethostname()
    assert (msg["event_type"], msg["priority"], msg["payload"]) == \
        ("image.update", "INFO", {"id": "1"})
    # naive UTC, as Diablo's str(datetime.utcnow()) sent it
    stamp = datetime.datetime.fromisoformat(msg["timestamp"])
    assert stamp.tzinfo is None
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert abs(now - stamp) < datetime.timedelta(seconds=5)
    assert json.loads(json.dumps(msg)) == msg


def test_message_ids_are_unique():
    assert notifier.message("e", "INFO", 1)["message_id"] != \
        notifier.message("e", "INFO", 1)["message_id"]


def test_logging_strategy_logs_json_at_the_priority_level(caplog):
    caplog.set_level(logging.DEBUG, logger="glance.notifier")
    note = notifier.Notifier(notifier.LoggingStrategy())
    note.info("image.update", {"id": "a"})
    note.warn("image.update", {"id": "b"})
    note.error("image.upload", "it broke")
    records = [r for r in caplog.records if r.name == "glance.notifier.logging_notifier"]
    assert [r.levelno for r in records] == [logging.INFO, logging.WARNING, logging.ERROR]
    sent = [json.loads(r.getMessage()) for r in records]
    assert [(m["priority"], m["payload"]) for m in sent] == \
        [("INFO", {"id": "a"}), ("WARN", {"id": "b"}), ("ERROR", "it broke")]
    assert all(set(m) == FIELDS for m in sent)


def test_noop_is_the_default(tmp_path):
    conf = load_config("glance-api", overrides={"filesystem_store_datadir": str(tmp_path)})
    note = notifier.build_notifier(conf)
    assert isinstance(note.strategy, notifier.NoopStrategy)
    note.info("image.update", {})      # nothing happens, nothing raises
    note.close()


def test_a_failing_strategy_never_fails_the_caller(caplog):
    class Broken:
        def send(self, msg):
            raise RuntimeError("boom")
    notifier.Notifier(Broken()).info("image.update", {})
    assert "Could not send notification image.update" in caplog.text


def test_sending_counts_bytes_and_reports_only_complete_downloads():
    events = []

    class Capture:
        def send(self, msg):
            events.append(msg)

    class Ctx:
        tenant, user = "t1", "u1"

    note = notifier.Notifier(Capture())
    closed = []

    def chunks():
        try:
            yield b"abc"
            yield b"de"
        finally:
            closed.append(True)

    image = {"id": "i1", "owner": "o1", "location": "file:///secret"}
    assert b"".join(note.sending(chunks(), image, Ctx())) == b"abcde"
    assert [e["payload"] for e in events] == [{
        "bytes_sent": 5, "image_id": "i1", "owner_id": "o1", "receiver_tenant_id": "t1",
        "receiver_user_id": "u1", "destination_ip": None}]
    # A client that goes away after the first chunk: no event, store iterator closed.
    partial = note.sending(chunks(), image, Ctx())
    next(partial)
    partial.close()
    assert len(events) == 1 and closed == [True, True]


class Events(logging.Handler):
    """The notifications the logging strategy emits, decoded."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(json.loads(record.getMessage()))


@pytest.fixture
def events():
    handler = Events()
    logger = logging.getLogger("glance.notifier.logging_notifier")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.messages
    logger.removeHandler(handler)


@pytest.fixture
def registry():
    registry = InProcessRegistry.in_memory()
    yield registry
    registry.engine.dispose()


@pytest.fixture
def client(tmp_path, registry):
    conf = load_config("glance-api", overrides={"filesystem_store_datadir": str(tmp_path / "d"),
                                                "notifier_strategy": "logging"})
    store = FilesystemStore.from_config(conf)
    stores = StoreMap({"file": store}, "file", {"file": "file", "filesystem": "file"})
    return create_app(conf, registry=registry, stores=stores).test_client()


OCTET = {"Content-Type": "application/octet-stream"}


def test_routes_send_their_events_without_location(client, events):
    created = client.post("/v1/images", data=b"x" * 1000,
                          headers={**OCTET, "x-image-meta-name": "one"})
    assert created.status_code == 201
    image_id = created.get_json()["image"]["id"]
    assert client.put(f"/v1/images/{image_id}", headers={"x-image-meta-name": "two"}) \
        .status_code == 200
    got = client.get(f"/v1/images/{image_id}",
                     headers={"X-Identity-Status": "Confirmed", "X-Tenant-Id": "ten",
                              "X-User-Id": "usr", "X-Roles": "admin"})
    assert got.data == b"x" * 1000
    assert client.delete(f"/v1/images/{image_id}").status_code == 200
    assert [(m["event_type"], m["priority"]) for m in events] == [
        ("image.upload", "INFO"), ("image.update", "INFO"), ("image.send", "INFO"),
        ("image.delete", "INFO")]
    upload, update, send, delete = (m["payload"] for m in events)
    assert upload["status"] == "active" and upload["size"] == 1000 and upload["name"] == "one"
    assert update["name"] == "two"
    assert send == {"bytes_sent": 1000, "image_id": image_id, "owner_id": None,
                    "receiver_tenant_id": "ten", "receiver_user_id": "usr",
                    "destination_ip": "127.0.0.1"}
    assert delete["id"] == image_id
    assert "location" not in json.dumps(events)
    assert "file://" not in json.dumps(events)


def test_failed_upload_sends_an_error(client, events):
    bad = client.post("/v1/images", data=b"x" * 10,
                      headers={**OCTET, "x-image-meta-checksum": "0" * 32})
    assert bad.status_code == 400
    assert [(m["event_type"], m["priority"]) for m in events] == [("image.upload", "ERROR")]
    assert "failed" in events[0]["payload"] and "file://" not in events[0]["payload"]


def test_refused_requests_send_nothing(client, events):
    anonymous = {"X-Identity-Status": "Invalid"}
    created = client.post("/v1/images", headers={"x-image-meta-name": "q"})
    image_id = created.get_json()["image"]["id"]
    events.clear()
    assert client.put(f"/v1/images/{image_id}", headers=anonymous).status_code == 401
    assert client.delete(f"/v1/images/{image_id}", headers=anonymous).status_code == 401
    assert client.get(f"/v1/images/{image_id}").status_code == 404     # queued: no data
    assert events == []


def test_unexpected_store_failure_sends_no_path(tmp_path, registry, events):
    class Failing:
        def add(self, image_id, body, size=None, checksum=None):
            body.read(10)
            raise OSError(28, "No space left on device", "/srv/secret-dir/" + image_id)

    conf = load_config("glance-api", overrides={"filesystem_store_datadir": str(tmp_path),
                                                "notifier_strategy": "logging"})
    stores = StoreMap({"file": Failing()}, "file", {"file": "file", "filesystem": "file"})
    client = create_app(conf, registry=registry, stores=stores).test_client()
    assert client.post("/v1/images", data=b"x" * 100, headers=OCTET).status_code == 502
    assert [(m["event_type"], m["priority"]) for m in events] == [("image.upload", "ERROR")]
    assert "OSError" in events[0]["payload"] and "secret-dir" not in events[0]["payload"]

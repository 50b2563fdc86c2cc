"""Uploads whose heartbeat stopped: one rule (glance.stale) for glance-api's start, through
the registry, and for glance-scrubber, in the database; on the real registry (SQLite)."""
import datetime
import os
import time

import pytest
import sqlalchemy as sa

from contract.registry_support import InProcessRegistry, migrated_engine
from glance import config, stale
from glance.api.heartbeat import touch
from glance.api.recovery import RegistryImages
from glance.registry import create_app
from glance.registry.models import Image
from glance.scrubber import DatabaseImages, Scrubber
from glance.store import build_stores

STALE = 600


@pytest.fixture(scope="module")
def app():
    conf = config.load_config("glance-registry").replace(sql_connection="sqlite://")
    engine = migrated_engine()
    yield create_app(conf, engine=engine)
    engine.dispose()


@pytest.fixture
def registry(app):
    client = InProcessRegistry(app, app.extensions["glance_registry"].engine)
    client.wipe()
    return client


@pytest.fixture(params=["api-start", "scrubber"])
def images(request, registry):
    """The images as glance-api's start (registry) or glance-scrubber (database) sees them."""
    if request.param == "api-start":
        return RegistryImages(registry, {})
    return DatabaseImages(registry.engine)


def make(registry, status, age, location=None):
    """An image in ``status``, last touched ``age`` seconds ago."""
    image_id = registry.create({"name": status, "disk_format": "raw",
                                "container_format": "bare"})["id"]
    touched = stale.utcnow() - datetime.timedelta(seconds=age)
    with registry.engine.begin() as conn:
        conn.execute(sa.update(Image).where(Image.id == image_id).values(
            status=status, location=location, updated_at=touched))
    return image_id


def status(registry, image_id):
    return registry.get(image_id)["status"]


def test_busy_images_without_heartbeat_are_killed_and_no_others(images, registry):
    old, fresh = STALE + 60, 10
    dead = [make(registry, "saving", old), make(registry, "uploading", old),
            make(registry, "importing", old)]
    alive = {make(registry, "saving", fresh): "saving",
             make(registry, "uploading", fresh): "uploading",
             make(registry, "importing", fresh): "importing",
             # staged, waiting for its import: not an upload
             make(registry, "uploading", old, "file:///var/lib/glance/images/x"): "uploading",
             make(registry, "queued", old): "queued",
             make(registry, "active", old, "file:///var/lib/glance/images/y"): "active"}
    killed = list(stale.kill_stale_uploads(images, STALE))
    assert sorted(image_id for image_id, _, _ in killed) == sorted(dead)
    assert {status for _, status, _ in killed} == {"saving", "uploading", "importing"}
    assert [status(registry, image_id) for image_id in dead] == ["killed"] * 3
    assert {image_id: status(registry, image_id) for image_id in alive} == alive


@pytest.mark.parametrize("busy", stale.BUSY)
def test_a_heartbeat_between_listing_and_kill_keeps_the_upload(images, registry, busy):
    image_id = make(registry, busy, STALE + 60)
    cutoff = stale.utcnow() - datetime.timedelta(seconds=STALE)
    assert [row[0] for row in images.untouched(busy, cutoff)] == [image_id]
    assert touch(registry, image_id, dict, busy) is True      # the upload's heartbeat
    assert images.kill(image_id, busy, cutoff) is False
    assert status(registry, image_id) == busy


def test_registry_refuses_a_malformed_untouched_since(registry):
    image_id = make(registry, "saving", STALE + 60)
    code, _ = registry.raw("PUT", f"/images/{image_id}", {"image": {"status": "killed"}},
                           {"X-Glance-Registry-Expect-Status": "saving",
                            "X-Glance-Registry-Expect-Untouched-Since": "yesterday"})
    assert code == 400
    assert status(registry, image_id) == "saving"


def test_scrubber_kills_a_dead_stage_first_then_removes_its_part_file(registry, tmp_path):
    """A busy image's data is never touched, however old; a stale one is killed, and only
    then its partial data goes, in the same run."""
    conf = config.load_config("glance-scrubber", overrides={
        "filesystem_store_datadir": str(tmp_path), "saving_stale_time": STALE})
    live = make(registry, "uploading", 10)         # a long stage, heartbeat fresh
    dead = make(registry, "uploading", STALE + 60)
    long_ago = time.time() - 2 * STALE
    for image_id in (live, dead):
        part = tmp_path / f".{image_id}.1234.part"
        part.write_bytes(b"partial")
        os.utime(part, (long_ago, long_ago))
    lines = []
    scrubber = Scrubber(conf, engine=registry.engine, stores=build_stores(conf),
                        report=lines.append)
    assert scrubber.run() == (2, 0)
    assert os.listdir(tmp_path) == [f".{live}.1234.part"]
    assert (status(registry, live), status(registry, dead)) == ("uploading", "killed")
    assert lines[0].startswith(f"Killed image {dead}: uploading and untouched since ")
    assert lines[1] == f"Removed file {tmp_path}/.{dead}.1234.part (image {dead})"

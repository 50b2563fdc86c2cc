"""Real storage faults: a full disk (tiny tmpfs) and a read-only mount.

Each needs root to mount a tmpfs; without it the tests are skipped (or fail
when GLANCE_TEST_REQUIRE_ALL=1, as in CI).
"""
import os
import subprocess
import uuid

import pytest

OCTET = {"Content-Type": "application/octet-stream"}


def _unavailable(reason):
    if os.environ.get("GLANCE_TEST_REQUIRE_ALL") == "1":
        pytest.fail(f"{reason} (GLANCE_TEST_REQUIRE_ALL=1)")
    pytest.skip(reason)


def _mount(path, *options):
    path.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(("size=1m",) + options),
                           "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        _unavailable(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    return path


def _umount(path):
    subprocess.run(["umount", "-l", str(path)], check=False)


def _remount(path, mode):
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        _unavailable("needs root to mount a tmpfs")
    path = _mount(tmp_path / "disk")
    yield path
    _umount(path)


def test_full_disk_is_413_kills_the_image_and_leaves_no_partial_file(small_disk, start_api,
                                                                       api_for):
    api = api_for(start_api(filesystem_store_datadir=str(small_disk)))
    image_id = str(uuid.uuid4())
    response = api.request("POST", "/v1/images", data=b"f" * (2 * 1024 * 1024),
                           headers={**OCTET, "x-image-meta-id": image_id})
    assert response.status_code == 413
    assert "full" in response.text.lower()
    assert api.status(image_id) == "killed"
    assert os.listdir(small_disk) == []
    # The space is free again: a small image fits.
    small = api.create(b"s" * 10000, name="fits")
    assert small.status_code == 201


def test_read_only_store_is_503_and_kills_the_image(small_disk, start_api, api_for):
    api = api_for(start_api(filesystem_store_datadir=str(small_disk)))
    _remount(small_disk, "ro")
    image_id = str(uuid.uuid4())
    response = api.create(b"r" * 1000, id=image_id, name="denied")
    assert response.status_code == 503
    assert "permission" in response.text.lower()
    assert api.status(image_id) == "killed"
    assert os.listdir(small_disk) == []


def test_delete_that_cannot_remove_data_leaves_pending_delete(small_disk, start_api, api_for):
    api = api_for(start_api(filesystem_store_datadir=str(small_disk)))
    image_id = api.create(b"keep" * 100, name="stuck").json()["image"]["id"]
    _remount(small_disk, "ro")
    response = api.request("DELETE", f"/v1/images/{image_id}")
    assert response.status_code == 200
    assert image_id in os.listdir(small_disk)
    assert api.status(image_id) == "pending_delete"


def test_existing_data_file_is_409_and_is_left_alone(api):
    image_id = str(uuid.uuid4())
    path = os.path.join(api.server.datadir, image_id)
    with open(path, "wb") as handle:
        handle.write(b"older data")
    response = api.create(b"new data", id=image_id, name="clash")
    assert response.status_code == 409
    assert api.status(image_id) == "killed"
    with open(path, "rb") as handle:
        assert handle.read() == b"older data"
    os.unlink(path)

"""The filesystem store on a real 4 MiB tmpfs: full, then remounted read-only."""
import os

from faults.deployment import MiB, RawUpload, md5, new_id


def test_store_fills_up_mid_upload(deploy, small_disk):
    glance = deploy("file", datadir=small_disk.path)
    kept = os.urandom(MiB)
    first = glance.upload(kept, name="fits")
    assert first.status_code == 201, first.text
    kept_id = first.json()["image"]["id"]

    image_id = new_id()
    upload = RawUpload(glance.api.port, image_id, os.urandom(6 * MiB))
    status = upload.finish()
    assert status == 413
    assert glance.status(image_id) == "killed"
    glance.scrub_once()
    assert [name for name, _ in glance.stored()] == [kept_id]
    # The image stored before the disk filled up is untouched; space is free again.
    assert glance.download(kept_id) == (200, md5(kept))
    glance.round_trip()


def test_store_remounted_read_only(deploy, small_disk):
    glance = deploy("file", datadir=small_disk.path)
    kept, doomed = os.urandom(MiB), os.urandom(MiB // 2)
    kept_id = glance.upload(kept, name="kept").json()["image"]["id"]
    doomed_id = glance.upload(doomed, name="doomed").json()["image"]["id"]
    small_disk.remount("ro")

    refused_id = new_id()
    refused = glance.upload(os.urandom(MiB), name="refused", id=refused_id)
    assert refused.status_code == 503
    assert "permission" in refused.text.lower()
    # Reading still works; deleting cannot remove the data, so the scrubber will.
    assert glance.download(kept_id) == (200, md5(kept))
    deleted = glance.delete(doomed_id)
    assert deleted.status_code == 200
    assert glance.status(doomed_id) == "pending_delete"
    stuck = glance.scrub()
    assert glance.status(doomed_id) == "pending_delete", stuck.stderr

    small_disk.remount("rw")
    glance.scrub_once()
    assert glance.status(doomed_id) == "deleted"
    assert sorted(name for name, _ in glance.stored()) == [kept_id]
    assert glance.download(kept_id) == (200, md5(kept))
    assert glance.status(refused_id) == "killed"
    glance.round_trip()

"""Which leftovers glance-scrubber may remove, and what the file store reports."""
import os
import time

import pytest

from glance.scrubber import _removable
from glance.store.base import Leftover
from glance.store.filesystem import FilesystemStore
from glance.store.swift import image_of, segment_name

IMAGE = "8a3c6d1e-2f4b-4c5d-9e6f-7a8b9c0d1e2f"


def _item(partial):
    return Leftover(IMAGE, "x", partial, lambda: None)


@pytest.mark.parametrize("status, partial, removable", [
    ("saving", True, False),          # a live upload's .part or multipart upload
    ("uploading", True, False),       # a long v2 stage's multipart upload
    ("importing", True, False),       # a long web-download's multipart upload
    ("uploading", False, False),      # staged data waiting for its import
    ("killed", True, True),
    ("active", True, True),           # a stray .part next to a complete image
    ("deleted", True, True),
    ("active", False, False),         # an image's data
    ("pending_delete", False, False),  # the scrubber's own job, after scrub_time
    ("queued", False, False),
    ("saving", False, False),
    ("killed", False, True),
    ("deleted", False, True),
    (None, False, False),             # no such image: the store may be shared
    (None, True, False),
])
def test_removable(status, partial, removable):
    assert _removable(_item(partial), status) is removable


def test_file_store_lists_old_part_files_and_images(tmp_path):
    store = FilesystemStore(str(tmp_path), direct_io=True)
    old = time.time() - 3600
    for name in (f".{IMAGE}.140234.part", IMAGE, ".hidden", "fresh"):
        (tmp_path / name).write_bytes(b"x")
        if name != "fresh":
            os.utime(tmp_path / name, (old, old))
    found = {(item.image_id, item.partial) for item in store.leftovers(time.time() - 60)}
    assert found == {(IMAGE, True), (IMAGE, False)}
    for item in store.leftovers(time.time() - 60):
        item.remove()
    assert sorted(os.listdir(tmp_path)) == [".hidden", "fresh"]


def test_segments_belong_to_their_image():
    assert image_of(segment_name(IMAGE, 3)) == IMAGE
    assert image_of(IMAGE) == IMAGE
    assert image_of(f"{IMAGE}-1") == f"{IMAGE}-1"

"""The image cache's files: fill, commit, discard, invalidate, prune and reap (no servers)."""
import hashlib
import os
import time

import pytest

from glance.cache import ImageCache, from_config
from glance.cache import jobs, stream
from glance.config import ConfigError, load_config
from glance.store.base import Corrupt

MiB = 1024 * 1024


@pytest.fixture
def cache(tmp_path):
    return ImageCache(str(tmp_path / "cache"), max_size=10 * MiB, extra_to_free=0.2,
                      stall_timeout=60)


def image(image_id, data):
    return {"id": image_id, "size": len(data), "checksum": hashlib.md5(data).hexdigest()}


def fill(cache, image_id, data):
    assert list(stream.filling(iter([data]), image(image_id, data), cache)) == [data]
    assert cache.is_cached(image_id)


def test_disabled_by_default_and_a_bad_percentage_is_refused(tmp_path):
    assert from_config(load_config("glance-api")) is None
    conf = load_config("glance-api", overrides={
        "image_cache_enabled": "true", "image_cache_datadir": str(tmp_path / "c"),
        "image_cache_percent_extra_to_free": "1.5"})
    with pytest.raises(ConfigError, match="between 0 and 1"):
        from_config(conf)


def test_a_finished_stream_is_kept_and_read_back(cache):
    data = os.urandom(3 * MiB + 1)
    fill(cache, "img-1", data)
    chunks, size = cache.open("img-1", len(data))
    assert size == len(data) and b"".join(chunks) == data
    assert os.listdir(os.path.join(cache.datadir, "incomplete")) == []


def test_a_stream_closed_early_leaves_nothing(cache):
    data = [b"a" * MiB, b"b" * MiB]
    gen = stream.filling(iter(data), image("img-2", b"".join(data)), cache)
    next(gen)
    assert os.path.exists(cache.path("img-2", "incomplete"))
    gen.close()
    assert not os.path.exists(cache.path("img-2", "incomplete"))
    assert not cache.is_cached("img-2")


def test_the_copy_is_kept_before_the_client_has_the_last_chunk(cache):
    data = [os.urandom(MiB) for _ in range(3)]
    gen = stream.filling(iter(data), image("img-last", b"".join(data)), cache)
    assert [next(gen) for _ in data] == data
    assert cache.is_cached("img-last")      # a finished download means a cached image
    gen.close()
    assert cache.is_cached("img-last")


def test_a_short_stream_is_not_kept(cache):
    data = b"x" * 1000
    assert list(stream.filling(iter([data[:10]]), image("img-3", data), cache)) == [data[:10]]
    assert not cache.is_cached("img-3")


def test_one_filler_at_a_time_unless_it_stalled(cache):
    first = cache.begin("img-4")
    assert first is not None and cache.begin("img-4") is None
    old = time.time() - 120
    os.utime(cache.path("img-4", "incomplete"), (old, old))
    second = cache.begin("img-4")
    assert second is not None
    second.discard()
    first.discard()


def test_unsafe_ids_and_oversized_images_are_never_cached(cache):
    for bad in ("../etc", ".hidden", "a/b", ""):
        assert cache.begin(bad) is None and cache.open(bad, 1) is None
    assert cache.begin("big", size=11 * MiB) is None


def test_a_wrong_size_is_invalidated_before_reading(cache):
    fill(cache, "img-5", b"y" * 100)
    assert cache.open("img-5", 101) is None
    assert not cache.is_cached("img-5")
    assert os.path.exists(cache.path("img-5", "invalid"))


def test_a_wrong_md5_is_invalidated_while_served(cache):
    from glance.api.images import _verified
    data = b"z" * 100
    fill(cache, "img-6", data)
    with open(cache.path("img-6"), "r+b") as handle:
        handle.write(b"Z")
    chunks, _ = cache.open("img-6", len(data))
    with pytest.raises(Corrupt):
        list(stream.served(chunks, image("img-6", data), cache, _verified))
    assert not cache.is_cached("img-6")


def test_prune_removes_the_least_recently_used_down_to_the_cap(cache):
    for n in range(6):                       # 12 MiB, cap 10 MiB
        fill(cache, f"p{n}", bytes([n]) * 2 * MiB)
        os.utime(cache.path(f"p{n}"), (1000 + n, 1000 + n))
    os.utime(cache.path("p0"), (2000, 2000))  # p0 read last
    removed, freed = jobs.prune(cache)
    # 12 - 10 + 2 (20 % of the cap) = 4 MiB: p1 and p2 go.
    assert (removed, freed) == (2, 4 * MiB)
    assert {e["image_id"] for e in cache.entries()} == {"p0", "p3", "p4", "p5"}
    assert jobs.prune(cache) == (0, 0)


def test_reap_removes_invalid_and_stalled_entries_only(cache):
    for name, sub in (("s", "incomplete"), ("f", "incomplete"), ("i", "invalid")):
        with open(cache.path(name, sub), "wb") as handle:
            handle.write(b"-")
    old = time.time() - 61
    os.utime(cache.path("s", "incomplete"), (old, old))
    assert jobs.reap(cache) == (2, 0)
    assert [e["image_id"] for e in cache.entries("incomplete")] == ["f"]
    assert cache.entries("invalid") == []


def test_queue(cache):
    assert cache.queue("q1") and cache.queued() == ["q1"]
    fill(cache, "q1", b"data")
    assert cache.queued() == []             # a commit takes it off the queue
    assert not cache.queue("q1")

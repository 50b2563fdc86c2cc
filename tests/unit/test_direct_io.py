"""Files through O_DIRECT (cache entries, file store images): odd sizes round-trip, faults surface, threads end."""
import os
import threading

import pytest

from glance.cache import ImageCache, stream
from glance.store import direct
from test_image_cache import image

BLOCK, STAGE = direct.BLOCK, direct.STAGE
SIZES = [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, STAGE - 1, STAGE, STAGE + 1, 2 * STAGE + 12345]


def o_direct_on(fd):
    with open(f"/proc/self/fdinfo/{fd}") as info:
        flags = int(next(line for line in info if line.startswith("flags:")).split()[1], 8)
    return bool(flags & os.O_DIRECT)


def write_file(path, data, chunk, use_direct):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        writer = direct.Writer(fd, use_direct, "test")
        for start in range(0, len(data), chunk):
            assert writer.write(data[start:start + chunk])
        writer.close()
        return writer
    finally:
        os.close(fd)


@pytest.mark.parametrize("use_direct", [True, False])
@pytest.mark.parametrize("size", SIZES)
def test_any_size_round_trips(tmp_path, size, use_direct):
    data = os.urandom(size)
    path = tmp_path / "entry"
    writer = write_file(path, data, 65536 + 7, use_direct)      # chunks never block-aligned
    assert writer.direct is use_direct
    assert path.read_bytes() == data
    with open(path, "rb", buffering=0) as handle:
        assert b"".join(direct.read_chunks(handle, size, STAGE, use_direct)) == data


def test_the_fill_really_bypasses_the_page_cache(tmp_path):
    fd = os.open(tmp_path / "entry", os.O_WRONLY | os.O_CREAT, 0o640)
    writer = direct.Writer(fd, True, "test")
    assert o_direct_on(fd)
    writer.write(b"x" * (BLOCK + 3))
    writer.close()
    assert not o_direct_on(fd)      # switched off for the last partial block only
    os.close(fd)


def test_a_file_that_shrank_ends_short(tmp_path):
    path = tmp_path / "entry"
    data = os.urandom(STAGE + BLOCK)
    path.write_bytes(data[:BLOCK + 10])
    with open(path, "rb", buffering=0) as handle:
        got = b"".join(direct.read_chunks(handle, len(data), STAGE, True))
    assert got == data[:BLOCK + 10]


def test_a_reader_closed_early_closes_its_file_and_thread(tmp_path):
    path = tmp_path / "entry"
    path.write_bytes(os.urandom(8 * STAGE))
    handle = open(path, "rb", buffering=0)
    chunks = direct.read_chunks(handle, 8 * STAGE, STAGE, True)
    assert len(next(chunks)) == STAGE
    chunks.close()
    assert handle.closed
    assert not [t for t in threading.enumerate() if t.name == "cache-read"]


def test_a_disk_that_fails_stops_the_writer_and_says_why():
    fd = os.open("/dev/full", os.O_WRONLY)      # every write: ENOSPC
    try:
        writer = direct.Writer(fd, True, "test")
        assert writer.direct is False           # /dev/full refuses O_DIRECT
        writer.write(b"x" * 1000)
        with pytest.raises(OSError) as failed:
            writer.close()
        assert "No space left" in str(failed.value)
    finally:
        os.close(fd)


def test_a_failed_direct_write_is_reported(tmp_path):
    path = tmp_path / "entry"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)             # writes fail with EBADF
    try:
        writer = direct.Writer(fd, True, "test")
        writer.write(b"x" * STAGE)
        with pytest.raises(OSError):
            writer.close()
        assert writer.write(b"more") is False
    finally:
        os.close(fd)


def test_a_fill_whose_disk_fails_is_discarded_and_the_download_goes_on(tmp_path, monkeypatch):
    cache = ImageCache(str(tmp_path / "cache"), max_size=1 << 30)
    data = [os.urandom(STAGE)] * 4
    real_writer = direct.Writer

    def onto_full_disk(fd, use_direct, name):
        full = os.open("/dev/full", os.O_WRONLY)    # the entry's disk fills up
        os.dup2(full, fd)
        os.close(full)
        return real_writer(fd, use_direct, name)

    monkeypatch.setattr(direct, "Writer", onto_full_disk)
    got = list(stream.filling(iter(data), image("img-full", b"".join(data)), cache))
    assert got == data
    assert not cache.is_cached("img-full")
    assert os.listdir(os.path.join(cache.datadir, "incomplete")) == []


def test_direct_io_off_fills_through_the_page_cache(tmp_path):
    cache = ImageCache(str(tmp_path / "cache"), max_size=1 << 30, direct_io=False)
    data = os.urandom(STAGE + 5)
    assert list(stream.filling(iter([data]), image("img-b", data), cache)) == [data]
    chunks, size = cache.open("img-b", len(data))
    assert size == len(data) and b"".join(chunks) == data


@pytest.mark.parametrize("chunk_size", [1000, 1 << 20, 3 * STAGE])
def test_reads_come_in_the_pieces_asked_for(tmp_path, chunk_size):
    data = os.urandom(2 * STAGE + 12345)
    path = tmp_path / "entry"
    path.write_bytes(data)
    with open(path, "rb", buffering=0) as handle:
        pieces = list(direct.read_chunks(handle, len(data), chunk_size, True))
    assert b"".join(pieces) == data
    assert max(map(len, pieces)) <= chunk_size


def test_a_filesystem_wanting_larger_alignment_gets_buffered_io(tmp_path, monkeypatch):
    # A stage of BLOCK + 100 bytes makes the kernel refuse the direct I/O for real
    # (EINVAL), as a filesystem with a larger block than BLOCK would.
    monkeypatch.setattr(direct, "STAGE", BLOCK + 100)
    data = os.urandom(3 * (BLOCK + 100))        # whole stages: no buffered tail
    path = tmp_path / "entry"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        writer = direct.Writer(fd, True, "test")
        writer.write(data)
        writer.close()
        assert not o_direct_on(fd)
    finally:
        os.close(fd)
    assert path.read_bytes() == data
    with open(path, "rb", buffering=0) as handle:
        assert b"".join(direct.read_chunks(handle, len(data), 1000, True)) == data

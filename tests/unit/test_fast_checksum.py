"""The fast checksum an upload records and a download checks (glance.store.hashing)."""
import os
import zlib

import pytest
import xxhash

from glance.store.hashing import fast_check, fast_value, new_fast


def test_an_upload_records_xxh3_of_its_bytes():
    data = os.urandom(3 * 1024 * 1024 + 1)
    hasher = new_fast()
    for start in range(0, len(data), 1024 * 1024):
        hasher.update(data[start:start + 1024 * 1024])
    assert fast_value(hasher) == f"xxh3:{xxhash.xxh3_64_hexdigest(data)}"


@pytest.mark.parametrize("recorded, data", [
    (f"xxh3:{xxhash.xxh3_64_hexdigest(b'abc')}", b"abc"),
    (f"crc32:{zlib.crc32(b'abc'):08x}", b"abc"),
    ("xxh3:" + xxhash.xxh3_64_hexdigest(b"abc").upper(), b"abc"),     # hex in capitals
])
def test_a_recorded_checksum_is_checked_with_its_algorithm(recorded, data):
    hasher, expected = fast_check(recorded)
    hasher.update(data)
    assert hasher.hexdigest() == expected
    other, _ = fast_check(recorded)
    other.update(data + b"!")
    assert other.hexdigest() != expected


@pytest.mark.parametrize("recorded", [
    None, "", "crc32", "crc32:", "crc32:123", "crc32:0000000g", "xxh3:00",
    "md5:" + "0" * 32, "xxh3:" + "0" * 15 + "-", "adler32:00000000"])
def test_what_cannot_be_checked_falls_back_to_the_md5(recorded):
    assert fast_check(recorded) is None

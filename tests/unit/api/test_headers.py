"""Reading x-image-meta-* request headers and writing response headers."""
import pytest

from glance.api import headers
from glance.api.errors import BadRequest


def test_dash_and_underscore_spellings_are_one_field():
    fields, _ = headers.meta_from_headers({"X-Image-Meta-Disk-Format": "raw",
                                           "x-image-meta-container_format": "bare",
                                           "X-IMAGE-META-MIN-RAM": "128"})
    assert fields == {"disk_format": "raw", "container_format": "bare", "min_ram": 128}


def test_property_keys_are_lower_cased_with_punctuation_as_underscore():
    _, props = headers.meta_from_headers({"X-Image-Meta-Property-Kernel-ID": "k",
                                          "x-image-meta-property-os.version": "12",
                                          "x-image-meta-property-Distro": "Debian"})
    assert props == {"kernel_id": "k", "os_version": "12", "distro": "Debian"}


def test_no_property_headers_means_none():
    assert headers.meta_from_headers({"x-image-meta-name": "x"})[1] is None


@pytest.mark.parametrize("raw, expected", [("true", True), ("True", True), ("TRUE", True),
                                           ("false", False), ("yes", False), ("1", False)])
def test_booleans_are_true_only_for_the_word_true(raw, expected):
    fields, _ = headers.meta_from_headers({"x-image-meta-is_public": raw})
    assert fields["is_public"] is expected


def test_empty_values_become_none_and_unknown_fields_are_dropped():
    fields, _ = headers.meta_from_headers({"x-image-meta-name": "", "x-image-meta-bogus": "1",
                                           "x-image-meta-status": "active"})
    assert fields == {"name": None}


@pytest.mark.parametrize("name, value", [("size", "big"), ("size", "-1"), ("min_ram", "x"),
                                         ("size", str(2 ** 51))])
def test_bad_integers_are_400(name, value):
    with pytest.raises(BadRequest) as info:
        headers.meta_from_headers({f"x-image-meta-{name}": value})
    assert info.value.status == 400


def test_utf8_values_survive_the_latin1_round_trip():
    wire = "Ünïcode".encode("utf-8").decode("latin-1")
    fields, props = headers.meta_from_headers({"x-image-meta-name": wire,
                                               "x-image-meta-property-note": wire})
    assert fields["name"] == "Ünïcode" and props["note"] == "Ünïcode"


def test_response_headers_use_attribute_names_and_hide_location():
    image = {"id": "abc", "name": "n", "disk_format": "raw", "is_public": True, "size": 5,
             "checksum": "c" * 32, "owner": None, "location": "swift://user:key@host/c/abc",
             "properties": {"distro": "x"}}
    out = dict(headers.image_headers(image))
    assert out["x-image-meta-disk_format"] == "raw"
    assert out["x-image-meta-is_public"] == "True"
    assert out["x-image-meta-owner"] == ""
    assert out["x-image-meta-size"] == "5"
    assert out["x-image-meta-property-distro"] == "x"
    assert out["ETag"] == "c" * 32
    assert out["Location"] == "/v1/images/abc"
    assert not any("location" == k[len("x-image-meta-"):] for k in out)
    assert "key" not in " ".join(out.values())
    assert "location" not in headers.public(image)

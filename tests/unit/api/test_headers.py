"""Reading x-image-meta-* request headers and writing response headers."""
import pytest

from glance.api import headers
from glance.errors import StatusError
from glance.config import load_config


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
                                           ("false", False), ("False", False), ("1", True),
                                           ("0", False)])
def test_booleans_are_true_or_false(raw, expected):
    fields, _ = headers.meta_from_headers({"x-image-meta-is_public": raw})
    assert fields["is_public"] is expected


@pytest.mark.parametrize("raw", ["yes", "no", "tru", "2", "public", "truefalse"])
@pytest.mark.parametrize("field", ["is_public", "protected"])
def test_anything_else_is_not_a_boolean_400(field, raw):
    # Diablo read anything but "true" as false: a typo made a public image private.
    with pytest.raises(StatusError) as info:
        headers.meta_from_headers({f"x-image-meta-{field}": raw})
    assert info.value.status == 400 and field in info.value.message


def test_empty_values_become_none_and_unknown_fields_are_dropped():
    fields, _ = headers.meta_from_headers({"x-image-meta-name": "", "x-image-meta-bogus": "1",
                                           "x-image-meta-status": "active"})
    assert fields == {"name": None}


@pytest.mark.parametrize("name, value", [
    ("size", "big"), ("size", "-1"), ("min_ram", "x"), ("size", str(2 ** 51)),
    # int() takes all of these; none is a plain number.
    ("size", "\u0661\u0662"), ("min_ram", "+5"), ("min_disk", "5_0"), ("size", "1e3"),
    ("min_ram", "\u00b2"), ("min_disk", "0x10"), ("min_ram", "5 "), ("min_ram", " 5"),
    ("min_ram", str(2 ** 63)), ("min_disk", "9" * 5000)])
def test_bad_integers_are_400(name, value):
    with pytest.raises(StatusError) as info:
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


def test_largest_counts_pass():
    fields, _ = headers.meta_from_headers({"x-image-meta-min_ram": str(2 ** 63 - 1),
                                           "x-image-meta-size": str(2 ** 50)})
    assert fields == {"min_ram": 2 ** 63 - 1, "size": 2 ** 50}


LIMITS = load_config("glance-api", overrides={"image_property_quota": "3",
                                              "image_name_max_length": "10",
                                              "property_key_max_length": "5",
                                              "property_value_max_length": "6"})


def props(count, key="k", value="v"):
    return {f"x-image-meta-property-{key}{n}": value for n in range(count)}


@pytest.mark.parametrize("sent, status, words", [
    ({"x-image-meta-name": "n" * 11}, 400, "Image name is too long: 11"),
    (props(4), 413, "at most 3 properties"),
    (props(1, key="k" * 5), 400, "Property name 'kkkkk0' is too long"),
    (props(1, value="v" * 7), 400, "Value of property 'k0' is too long: 7"),
])
def test_limits_of_names_and_properties(sent, status, words):
    with pytest.raises(StatusError) as info:
        headers.meta_from_headers(sent, LIMITS)
    assert info.value.status == status and words in info.value.message


def test_values_at_the_limits_pass():
    sent = {"x-image-meta-name": "n" * 10, **props(3, key="kk", value="v" * 6)}
    fields, properties = headers.meta_from_headers(sent, LIMITS)
    assert fields["name"] == "n" * 10 and len(properties) == 3


def test_glanceclients_none_for_an_unset_flag_is_no_value():
    fields, _ = headers.meta_from_headers({"x-image-meta-is_public": "None",
                                           "x-image-meta-protected": "",
                                           "x-image-meta-min_ram": "None"})
    assert fields == {}

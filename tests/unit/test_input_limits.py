"""The checks glance-api and glance-registry share (glance.rules)."""
import pytest

from glance import errors, rules
from glance.config import load_config

CONF = load_config("glance-api", overrides={"max_header_count": "3", "max_list_filters": "2"})


@pytest.mark.parametrize("text, value", [("0", 0), ("007", 7), (str(2 ** 63 - 1), 2 ** 63 - 1)])
def test_plain_digits_are_counts(text, value):
    assert rules.parse_count("size", text) == value


@pytest.mark.parametrize("text", ["", " 5", "5 ", "+5", "-5", "5_0", "\u0661\u0662", "\u00b2",
                                  "0x10", "1e3", "5.0", str(2 ** 63), "9" * 5000, None, 5])
def test_anything_else_is_refused(text):
    with pytest.raises(errors.StatusError) as info:
        rules.parse_count("size", text)
    assert info.value.status == 400 and "size" in info.value.message


def test_counts_have_a_maximum():
    assert rules.parse_count("min_ram", "10", maximum=10) == 10
    with pytest.raises(errors.StatusError):
        rules.parse_count("min_ram", "11", maximum=10)


@pytest.mark.parametrize("text, value", [("true", True), ("TRUE", True), ("1", True),
                                         ("false", False), ("False", False), ("0", False)])
def test_booleans(text, value):
    assert rules.parse_bool("is_public", text) is value


@pytest.mark.parametrize("text", ["yes", "no", "", "2", "t", None])
def test_not_booleans(text):
    with pytest.raises(errors.StatusError):
        rules.parse_bool("is_public", text)


def test_header_count_and_control_characters():
    rules.check_headers({"HTTP_A": "1", "HTTP_B": "2", "CONTENT_TYPE": "x"}, CONF)
    with pytest.raises(errors.StatusError, match="Too many request headers: 4"):
        rules.check_headers({"HTTP_A": "1", "HTTP_B": "2", "HTTP_C": "3", "CONTENT_LENGTH": "5"},
                             CONF)
    rules.check_headers({"HTTP_X_TAB": "a\tb"}, CONF)
    with pytest.raises(errors.StatusError, match="header X-Roles"):
        rules.check_headers({"HTTP_X_ROLES": "admin\x00"}, CONF)


def test_filter_count_leaves_out_paging_and_sorting():
    rules.check_filter_count([("name", "a"), ("limit", "1"), ("marker", "m"),
                               ("sort_key", "name"), ("property-a", "b")], CONF)
    with pytest.raises(errors.StatusError, match="Too many filters in the query: 3"):
        rules.check_filter_count([("name", "a"), ("property-a", "b"), ("size_min", "1")], CONF)


@pytest.mark.parametrize("data", [b"[" * 100000 + b"]" * 100000, b'{"a": "\\ud800"}',
                                  b'{"\\udc00": 1}', b"{", b"\xff"])
def test_json_that_cannot_be_stored_is_not_json(data):
    with pytest.raises(ValueError):
        rules.parse_json(data)


def test_json_unicode_is_kept():
    assert rules.parse_json('{"name": "\\u00e9\\ud83d\\ude00"}'.encode()) == {"name": "é😀"}

"""Input limits shared by glance-api and glance-registry.

No Flask or SQLAlchemy here: both servers (and their tests) import it.  Every
check raises :class:`~glance.errors.BadRequest` (or, over a quota,
:class:`~glance.errors.TooLarge`), which both servers answer as they are.
"""
import json
import re

from glance.errors import BadRequest, TooLarge

BIGINT_MAX = 2 ** 63 - 1
DIGITS = re.compile(r"[0-9]{1,19}")     # 19 digits hold any value up to BIGINT_MAX
TRUE, FALSE = ("true", "1"), ("false", "0")
CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")     # all but HTAB
# Query parameters that steer a list rather than filter it.
LIST_CONTROLS = ("limit", "marker", "sort_key", "sort_dir", "sort")


def parse_count(name, text, maximum=BIGINT_MAX):
    """A count given as text: plain ASCII digits only, at most ``maximum``.

    ``int()`` alone would take ``' 5'``, ``'+5'``, ``'5_0'`` and ``'١٢'``.

    :raises BadRequest: not digits, or too large.
    """
    if not isinstance(text, str) or not DIGITS.fullmatch(text):
        shown = text if not isinstance(text, str) or len(text) <= 40 else text[:40] + "..."
        raise BadRequest(f"Invalid value {shown!r} for {name}: it must be a whole number "
                         f"from 0 to {maximum}, in ASCII digits")
    value = int(text)
    if value > maximum:
        raise BadRequest(f"Invalid value {value} for {name}: it must be at most {maximum}")
    return value


def parse_bool(name, text):
    """``true``/``false`` (any case) or ``1``/``0``.

    :raises BadRequest: anything else.
    """
    lowered = text.strip().lower() if isinstance(text, str) else None
    if lowered in TRUE or lowered in FALSE:
        return lowered in TRUE
    shown = text if not isinstance(text, str) or len(text) <= 40 else text[:40] + "..."
    raise BadRequest(f"Invalid value {shown!r} for {name}: it must be true or false")


def check_headers(environ, conf):
    """Refuse a request with more headers than ``max_header_count``, or with a
    control character (RFC 9110 5.5) in a header value.

    The servers limit the bytes of the headers themselves (cheroot's
    ``max_request_header_size``, waitress's ``max_request_header_size``);
    neither counts them.

    :raises BadRequest: 400 with the count and the limit.
    """
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str) and CONTROL.search(value):
            name = key[5:].replace("_", "-").title()
            raise BadRequest(f"Invalid value in header {name}: control characters are not "
                             "allowed in HTTP header values")
    count = sum(1 for key in environ if key.startswith("HTTP_"))
    count += sum(1 for key in ("CONTENT_TYPE", "CONTENT_LENGTH") if environ.get(key))
    if count > conf.max_header_count:
        raise BadRequest(f"Too many request headers: {count}; at most "
                         f"{conf.max_header_count} are accepted")


def check_filter_count(params, conf):
    """Refuse a list query with more than ``max_list_filters`` filters.

    :param params: the query parameters as ``(name, value)`` pairs.
    :raises BadRequest:
    """
    count = sum(1 for name, _ in params if name not in LIST_CONTROLS)
    if count > conf.max_list_filters:
        raise BadRequest(f"Too many filters in the query: {count}; at most "
                         f"{conf.max_list_filters} are accepted")


def check_property_count(count, conf):
    """:raises TooLarge: when an image would have more properties than the quota."""
    if count > conf.image_property_quota:
        raise TooLarge(f"An image may have at most {conf.image_property_quota} properties; "
                       f"this request would give it {count}")


def check_tag_count(count, conf):
    """:raises TooLarge: when an image would have more tags than ``image_tag_quota``."""
    if count > conf.image_tag_quota:
        raise TooLarge(f"An image may have at most {conf.image_tag_quota} tags; "
                       f"this request would give it {count}")


def check_length(what, text, limit):
    """:raises BadRequest: ``text`` is longer than ``limit`` characters."""
    if text is not None and len(text) > limit:
        raise BadRequest(f"{what} is too long: {len(text)} characters; at most {limit} "
                         "are accepted")


def parse_json(data):
    """The JSON document in a request body.

    :param data: bytes or text.
    :raises ValueError: not JSON, nested deeper than the parser can go (it
        would raise RecursionError), or holding text that is not Unicode
        (``"\\ud800"``: the database could not store it).
    """
    try:
        value = json.loads(data)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except UnicodeEncodeError:
        raise ValueError("JSON text holds a lone surrogate (\\ud800-\\udfff)") from None
    return value

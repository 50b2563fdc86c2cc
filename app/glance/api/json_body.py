"""The JSON document of a request: one reader for v1 (members) and v2.

The body is read through ``request.body`` (:mod:`glance.api.body`) and never
beyond ``max_json_body`` bytes: a larger one is 413.  It must arrive within
``json_body_timeout`` seconds in all (408 otherwise), so clients that trickle a
body hold a request thread no longer than that.  Routes authorise the caller
before they read it.
"""
from flask import request

from glance import rules
from glance.api import context
from glance.errors import BadRequest, TooLarge, UnsupportedMediaType


def json_body(kinds=("application/json",), required=True):
    """The request's JSON document, read up to ``max_json_body`` bytes.

    :param kinds: accepted media types, anything else is 415; None accepts any
        (v1's member calls never had to say).
    :param required: an empty body is a 400; otherwise it is None.
    :raises UnsupportedMediaType: :raises TooLarge: :raises BadRequest:
    """
    kind = (request.mimetype or "").lower()
    raw_len = request.content_length
    if kinds is not None and kind not in kinds and (kind or raw_len):
        raise UnsupportedMediaType(f"Unsupported Content-Type {kind or '(none)'}; "
                                   f"expected {' or '.join(kinds)}")
    limit = context.conf().max_json_body
    if raw_len is not None and raw_len > limit:       # refused before reading it
        raise TooLarge(f"Request body is larger than {limit} bytes",
                       headers=[("Connection", "close")])
    raw = request.body.read_all(limit, timeout=context.conf().json_body_timeout)
    if len(raw) > limit:
        raise TooLarge(f"Request body is larger than {limit} bytes")
    if not raw.strip():
        if required:
            raise BadRequest("Request body is required")
        return None
    try:
        return rules.parse_json(raw)
    except ValueError as exc:
        raise BadRequest(f"Malformed JSON in request body: {exc}") from None

"""The v2 shapes of images and members, and JSON requests and answers.

The registry keeps v1's record (core fields plus a ``properties`` dict);
v2 shows the properties as flat top-level keys beside the base ones.
"""
import json

from flask import Response, request

from glance import rules
from glance.api import context
from glance.api.errors import status_line
from glance.errors import BadRequest, TooLarge, UnsupportedMediaType
from glance.context import visibility_of
from glance.rules import QUEUED

# Always present in an image (null when unset), in Glance's order.
BASE = ("id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
        "os_hash_algo", "os_hash_value", "owner", "size", "virtual_size", "container_format",
        "disk_format", "created_at", "updated_at", "tags", "min_ram", "min_disk",
        "self", "file", "schema")


def timestamp(value):
    """The registry's naive UTC ``isoformat()`` as v2 shows it (``...Z``)."""
    if not value:
        return value
    return value if value.endswith("Z") or "+" in value[10:] else value + "Z"


def visibility(image):
    """The v2 visibility: the registry's, or (a v1-shaped record) derived from is_public."""
    return visibility_of(image)


def image_view(image):
    """A registry record as the v2 image document (never its location)."""
    image_id = image["id"]
    view = {
        "id": image_id, "name": image.get("name"), "status": image.get("status"),
        "visibility": visibility(image), "protected": bool(image.get("protected")),
        "os_hidden": bool(image.get("os_hidden")), "checksum": image.get("checksum"),
        "os_hash_algo": image.get("os_hash_algo"), "os_hash_value": image.get("os_hash_value"),
        "owner": image.get("owner"),
        "size": image.get("size") if image.get("status") not in (QUEUED,) else None,
        "virtual_size": image.get("virtual_size"),
        "container_format": image.get("container_format"),
        "disk_format": image.get("disk_format"),
        "created_at": timestamp(image.get("created_at")),
        "updated_at": timestamp(image.get("updated_at") or image.get("created_at")),
        "tags": sorted(image.get("tags") or []),
        "min_ram": image.get("min_ram") or 0, "min_disk": image.get("min_disk") or 0,
        "self": f"/v2/images/{image_id}", "file": f"/v2/images/{image_id}/file",
        "schema": "/v2/schemas/image",
    }
    for key, value in (image.get("properties") or {}).items():
        if key not in view:            # a v1 property never hides a base field
            view[key] = "" if value is None else value
    return view


def member_view(member, image_id):
    return {
        "image_id": image_id, "member_id": member.get("member_id"),
        "status": member.get("status") or "accepted",
        "created_at": timestamp(member.get("created_at")),
        "updated_at": timestamp(member.get("updated_at")),
        "schema": "/v2/schemas/member",
    }


def json_response(document, status=200, headers=()):
    body = json.dumps(document, ensure_ascii=False)
    return Response(body, status=status_line(status), mimetype="application/json",
                    headers=list(headers))


def empty(status=204, headers=()):
    return Response(status=status_line(status), headers=list(headers))


def json_body(kinds=("application/json",), required=True):
    """The request's JSON document, read up to ``max_json_body`` bytes.

    :param kinds: accepted media types; anything else is 415.
    :raises UnsupportedMediaType: :raises TooLarge: :raises BadRequest:
    """
    kind = (request.mimetype or "").lower()
    raw_len = request.content_length
    if kind not in kinds and (kind or raw_len):
        raise UnsupportedMediaType(f"Unsupported Content-Type {kind or '(none)'}; "
                                   f"expected {' or '.join(kinds)}")
    limit = context.conf().max_json_body
    if raw_len is not None and raw_len > limit:       # refused before reading it
        raise TooLarge(f"Request body is larger than {limit} bytes",
                       headers=[("Connection", "close")])
    raw = request.body.read_all(limit)
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

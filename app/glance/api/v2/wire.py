"""The v2 shapes of images and members, and JSON answers.

The registry keeps v1's record (core fields plus a ``properties`` dict);
v2 shows the properties as flat top-level keys beside the base ones.
"""
import functools
import json

from flask import Response

from glance.api.errors import status_line
from glance.context import visibility_of
from glance.rules import IMPORT_STATE, QUEUED, READABLE, is_reserved

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


@functools.lru_cache(maxsize=4096)      # a list repeats the same few property names
def _shown(name):
    """A property never passes for glance's own (``direct_url`` stored by an older
    glance, before reserved names were refused)."""
    return not is_reserved(name) or name in IMPORT_STATE


def image_view(image, stores=None):
    """A registry record as the v2 image document (never its location).

    :param stores: the :class:`glance.store.StoreMap`; with multiple stores the
        document names the stores holding the data (``stores``), as Glance's does.
    """
    get = image.get
    image_id, status, created = image["id"], get("status"), get("created_at")
    view = {
        "id": image_id, "name": get("name"), "status": status,
        "visibility": visibility_of(image), "protected": bool(get("protected")),
        "os_hidden": bool(get("os_hidden")), "checksum": get("checksum"),
        "os_hash_algo": get("os_hash_algo"), "os_hash_value": get("os_hash_value"),
        "owner": get("owner"),
        "size": get("size") if status != QUEUED else None,
        "virtual_size": get("virtual_size"),
        "container_format": get("container_format"),
        "disk_format": get("disk_format"),
        "created_at": timestamp(created),
        "updated_at": timestamp(get("updated_at") or created),
        "tags": sorted(get("tags") or []),
        "min_ram": get("min_ram") or 0, "min_disk": get("min_disk") or 0,
        "self": f"/v2/images/{image_id}", "file": f"/v2/images/{image_id}/file",
        "schema": "/v2/schemas/image",
    }
    for key, value in (get("properties") or {}).items():
        if key not in view and _shown(key):
            view[key] = "" if value is None else value
    if stores is not None and stores.multiple:
        view.pop("stores", None)
        # a queued image keeps the web location whose hash did not match (as Glance)
        if image.get("status") in READABLE or (
                image.get("status") == QUEUED
                and (image.get("location") or "").startswith(("http://", "https://"))):
            uris = ([image["location"]] if image.get("location") else []) + list(
                image.get("copies") or ())
            held = {stores.name_of(uri) for uri in uris} - {None, *stores.hidden}
            if held:            # as Glance lists them: by weight, then name
                view["stores"] = ",".join(stores.ordered(held))
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

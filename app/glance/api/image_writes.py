"""v1 POST /images and PUT /images/<id>: metadata from headers, then the data.

POST creates the image ``queued`` in the registry; a body is then uploaded
(:class:`glance.api.upload.Upload`: reserve -> write -> activate), or an
admin's ``x-image-meta-location`` registered.  PUT changes the metadata and
uploads a body to a queued image the same way.
"""
import logging

from flask import Blueprint, request

from glance.api import context
from glance.api.headers import location_headers, meta_from_headers, public
from glance.api.images import json_response
from glance.api.upload import Upload
from glance.errors import BadRequest, Conflict, Forbidden
from glance.context import visibility_of
from glance.rules import (ACTIVE, PUBLIC, QUEUED, check_format_change, check_image_size,
                          check_location_count)
from glance.store.base import StoreError

LOG = logging.getLogger("glance.api")
bp = Blueprint("image_writes", __name__)

# Fields the registry keeps; the rest of what the headers carry steers the upload.
RECORD_FIELDS = ("id", "name", "disk_format", "container_format", "min_ram", "min_disk",
                 "is_public", "protected", "owner")


def _record(fields, properties):
    image = {k: v for k, v in fields.items() if k in RECORD_FIELDS}
    if properties is not None:
        image["properties"] = properties
    return image


def _check_location(location):
    """The store of the location's scheme decides whether a client may register it
    (file:// never, http(s) only on public addresses...): BadLocation -> 400."""
    context.stores().for_uri(location).check_location(location)


def _register_location(image, location, fields):
    """Point ``image`` at external data and make it active (no upload, no busy status)."""
    size = fields.get("size")
    if size is None:
        try:
            size = context.stores().for_uri(location).get_size(location)
        except StoreError as exc:
            LOG.info("Size of external image %s unknown: %s", image["id"], exc)
            size = 0
    changes = {"location": location, "status": ACTIVE, "size": size}
    if fields.get("checksum"):
        changes["checksum"] = fields["checksum"]
    return context.registry().update(image["id"], changes, headers=context.service_headers())


def _authorise_fields(fields, image=None):
    """Only admins set an owner, point an image at existing data or (by default) publish it.

    :param image: the image changed; None on create.
    :raises Forbidden: and nothing has been changed.
    """
    ctx = context.request_context()
    if "owner" in fields:
        ctx.check_owner(fields["owner"], image["owner"] if image else None)
    if fields.get("location"):
        ctx.check_location()
    if fields.get("is_public"):
        ctx.check_visibility(PUBLIC, visibility_of(image) if image else None)


def _target(fields, with_body):
    """The store a request body goes to (None without one), after the checks."""
    location = fields.get("location")
    if with_body:
        if request.mimetype != "application/octet-stream":
            raise BadRequest("Content-Type must be application/octet-stream")
        if location:
            raise BadRequest("An image takes either data or x-image-meta-location, not both")
        cap = context.conf().image_size_cap
        check_image_size(request.body.length, cap)
        check_image_size(fields.get("size"), cap)
        return context.stores().by_name(fields.get("store"))
    if location:
        check_location_count(1, context.conf())
        _check_location(location)
    return None


def _finish(image, store, fields):
    """Upload the body or register the location, if either came.

    :returns: the image as it is now.
    """
    if store is not None:
        upload = Upload.to(image["id"], store)
        upload.reserve()
        stored = upload.write(request.body, fields.get("size"), fields.get("checksum"))
        return upload.activate(stored)
    if fields.get("location"):
        return _register_location(image, fields["location"], fields)
    return image


def _answer(image, status):
    return json_response({"image": public(image)}, status,
                         location_headers(image, request.host_url.rstrip("/")))


@bp.route("/v1/images", methods=["POST"])
def create():
    """Create an image queued; upload its data or register its location if given."""
    with_body = request.body.has_data()
    context.request_context().check_identity()
    fields, properties = meta_from_headers(request.headers, context.conf())
    _authorise_fields(fields)
    store = _target(fields, with_body)
    record = _record(fields, properties)
    record.setdefault("properties", {})
    record.update(status=QUEUED, size=fields.get("size") or 0)
    image = context.registry().create(record, headers=context.auth_headers())
    return _answer(_finish(image, store, fields), 201)


def _purge(with_body):
    """Honour x-glance-registry-purge-props (default true); never purge on upload."""
    if with_body:
        return False
    value = request.headers.get("x-glance-registry-purge-props")
    return True if value is None else value.strip().lower() == "true"


@bp.route("/v1/images/<image_id>", methods=["PUT"])
def update(image_id):
    """Change metadata; upload data if the image is queued."""
    with_body = request.body.has_data()
    registry, auth, ctx = context.registry(), context.auth_headers(), context.request_context()
    ctx.check_identity()
    fields, properties = meta_from_headers(request.headers, context.conf())
    image = registry.get(image_id, headers=auth)
    if image.get("deleted"):
        raise Forbidden("Forbidden to update deleted image.")
    ctx.check_modify(image)
    _authorise_fields(fields, image)
    check_format_change(image, fields)
    if image["status"] != QUEUED:
        if with_body:
            raise Conflict("Cannot upload to an unqueued image")
        if fields.get("location"):
            raise BadRequest("Location can only be set on a queued image")
    store = _target(fields, with_body)
    changes = _record(fields, properties)
    changes.pop("id", None)
    if image["status"] == QUEUED and fields.get("size") is not None and not with_body:
        changes["size"] = fields["size"]
    purge = _purge(with_body)
    if purge and "properties" not in changes:
        changes["properties"] = {}
    if changes or purge:
        image = registry.update(image_id, changes, purge_props=purge, headers=auth)
    image = _finish(image, store, fields)
    context.notifier().info("image.update", public(image))
    return _answer(image, 200)

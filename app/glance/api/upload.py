"""POST /images and PUT /images/<id>: metadata, and the path from request body to store.

An upload moves the image queued -> saving -> active.  Any failure on the way
(bad checksum or size, client gone, store full or refusing) kills the image,
and the store has already removed what it wrote, so no image is ever active
with data other than what the client sent.
"""
import logging
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import Blueprint, request

from glance.api import body as request_body
from glance.api import context
from glance.api.errors import BadRequest, Conflict, Forbidden
from glance.api.headers import location_headers, meta_from_headers, public
from glance.api.images import json_response
from glance.registry.client import RegistryError
from glance.store.base import BackendError, Duplicate, NotFound, StoreError

LOG = logging.getLogger("glance.api")
bp = Blueprint("upload", __name__)

# Fields the registry keeps; the rest of what the headers carry steers the upload.
RECORD_FIELDS = ("id", "name", "disk_format", "container_format", "min_ram", "min_disk",
                 "is_public", "protected", "owner")
EXTERNAL_SCHEMES = ("http", "https", "swift", "swift+http", "swift+https",
                    "s3", "s3+http", "s3+https")


def _record(fields, properties):
    image = {k: v for k, v in fields.items() if k in RECORD_FIELDS}
    if properties is not None:
        image["properties"] = properties
    return image


def _check_body(environ):
    kind = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if kind != "application/octet-stream":
        raise BadRequest("Content-Type must be application/octet-stream")


def _check_location(location):
    """Only remote locations may be registered: file:// would expose the API host's files."""
    scheme = urlsplit(location).scheme.lower()
    if scheme not in EXTERNAL_SCHEMES:
        raise BadRequest(f"External sources are not supported: '{scheme or location}'")
    store = context.stores().for_uri(location)      # UnknownScheme -> 400
    check = getattr(store, "check_location", None)
    if check is not None:
        check(location)     # e.g. the HTTP store refuses private addresses: BadLocation -> 400


def _kill(image_id, reason):
    """Set the image killed; never raises (the original error matters more).

    :returns: True if the image is now killed.
    """
    LOG.warning("Setting image %s to status 'killed': %s", image_id, reason)
    try:
        context.registry().update(image_id, {"status": "killed"},
                                  headers=context.service_headers())
        return True
    except Exception as exc:     # registry down: the original error is reported
        LOG.error("Could not kill image %s: %s", image_id, exc)
        return False


def upload_and_activate(image, store, environ, size=None, checksum=None):
    """Stream the request body into ``store`` and activate the image.

    :param size: size the client announced (x-image-meta-size), if any.
    :param checksum: MD5 the client announced (x-image-meta-checksum), if any.
    :returns: the active image record.
    :raises StoreError: the upload failed; the image is killed.
    """
    # Status, size, checksum and location are glance's to write: its own identity.
    registry, auth = context.registry(), context.service_headers()
    image_id = image["id"]
    body = request_body.Body(environ)
    try:
        registry.update(image_id, {"status": "saving"}, headers=auth)
        stored = store.add(image_id, body, size=size, checksum=checksum)
    except Exception as exc:
        closed = not request_body.discard(environ, body)
        if isinstance(exc, Duplicate) and _status(image_id) == "active":
            pass    # a concurrent upload won; its data stays
        else:
            _kill(image_id, f"{type(exc).__name__}: {exc}")
        if not isinstance(exc, (StoreError, RegistryError)):
            LOG.exception("Upload of image %s failed", image_id)
            exc = BackendError(f"Error uploading image: ({type(exc).__name__}): {exc}")
        if closed:
            exc.headers = [("Connection", "close")]
        raise exc from None
    finally:
        body.close()
    try:
        return registry.update(image_id, {"status": "active", "size": stored.size,
                                          "checksum": stored.checksum,
                                          "location": stored.uri}, headers=auth)
    except Exception as exc:
        # The registry may have committed 'active' and failed only afterwards (its
        # database went away mid-answer): remove the data only once the image is
        # known killed.  Otherwise it stays saving with its data, for
        # glance-scrubber to kill when stale and then remove.
        if _kill(image_id, f"could not activate: {exc}"):
            _remove_data(store, stored.uri)
        raise


def _status(image_id):
    try:
        return context.registry().get(image_id, headers=context.service_headers())["status"]
    except Exception:
        return None


def _remove_data(store, uri):
    try:
        store.delete(uri)
    except NotFound:
        pass
    except StoreError as exc:
        LOG.error("Could not remove data at the image's location: %s", type(exc).__name__)


def _register_location(image, location, fields):
    """Point ``image`` at external data and make it active (no 'saving' step)."""
    size = fields.get("size")
    if size is None:
        try:
            size = context.stores().for_uri(location).get_size(location)
        except StoreError as exc:
            LOG.info("Size of external image %s unknown: %s", image["id"], exc)
            size = 0
    changes = {"location": location, "status": "active", "size": size}
    if fields.get("checksum"):
        changes["checksum"] = fields["checksum"]
    return context.registry().update(image["id"], changes, headers=context.service_headers())


def _authorise_fields(fields):
    """Only admins set an owner or point an image at existing data.

    :raises Forbidden: and nothing has been changed.
    """
    ctx = context.request_context()
    if "owner" in fields and not ctx.may_set_owner:
        raise Forbidden("Only an admin may set the owner of an image")
    if fields.get("location") and not ctx.may_set_location:
        raise Forbidden("Only an admin may set the location of an image")


def _target(environ, fields, with_body):
    """The store a request body goes to (None without one), after the checks."""
    location = fields.get("location")
    if with_body:
        _check_body(environ)
        if location:
            raise BadRequest("An image takes either data or x-image-meta-location, not both")
        return context.stores().by_name(fields.get("store"))
    if location:
        _check_location(location)
    return None


@contextmanager
def _refused_with_body(environ, with_body):
    """An error before the upload starts: drain the body, or close the connection."""
    try:
        yield
    except Exception as exc:
        if with_body and not request_body.discard(environ):
            exc.headers = list(getattr(exc, "headers", [])) + [("Connection", "close")]
        raise


def _finish(image, store, environ, fields, status):
    """Upload the body or register the location, if either came; answer ``status``."""
    if store is not None:
        image = upload_and_activate(image, store, environ, fields.get("size"),
                                    fields.get("checksum"))
    elif fields.get("location"):
        image = _register_location(image, fields["location"], fields)
    return json_response({"image": public(image)}, status, location_headers(image))


@bp.route("/v1/images", methods=["POST"])
def create():
    """Reserve an image; upload its data or register its location if given."""
    environ = request.environ
    with_body = request_body.has_body(environ)
    with _refused_with_body(environ, with_body):
        context.require_identity()
        fields, properties = meta_from_headers(request.headers)
        _authorise_fields(fields)
        store = _target(environ, fields, with_body)
        record = _record(fields, properties)
        record.setdefault("properties", {})
        record.update(status="queued", size=fields.get("size") or 0)
        image = context.registry().create(record, headers=context.auth_headers())
    return _finish(image, store, environ, fields, 201)


def _purge(with_body):
    """Honour x-glance-registry-purge-props (default true); never purge on upload."""
    if with_body:
        return False
    value = request.headers.get("x-glance-registry-purge-props")
    return True if value is None else value.strip().lower() == "true"


@bp.route("/v1/images/<image_id>", methods=["PUT"])
def update(image_id):
    """Change metadata; upload data if the image is queued."""
    environ = request.environ
    with_body = request_body.has_body(environ)
    registry, auth = context.registry(), context.auth_headers()
    with _refused_with_body(environ, with_body):
        context.require_identity()
        fields, properties = meta_from_headers(request.headers)
        image = registry.get(image_id, headers=auth)
        if image.get("deleted"):
            raise Forbidden("Forbidden to update deleted image.")
        if not context.request_context().can_modify(image):
            raise Forbidden("Forbidden to modify an image you do not own")
        _authorise_fields(fields)
        if image["status"] != "queued":
            if with_body:
                raise Conflict("Cannot upload to an unqueued image")
            if fields.get("location"):
                raise BadRequest("Location can only be set on a queued image")
        store = _target(environ, fields, with_body)
        changes = _record(fields, properties)
        changes.pop("id", None)
        if image["status"] == "queued" and fields.get("size") is not None and not with_body:
            changes["size"] = fields["size"]
        purge = _purge(with_body)
        if purge and "properties" not in changes:
            changes["properties"] = {}
        if changes or purge:
            image = registry.update(image_id, changes, purge_props=purge, headers=auth)
    return _finish(image, store, environ, fields, 200)

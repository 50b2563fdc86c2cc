"""POST /images and PUT /images/<id>: metadata, and the path from request body to store.

An upload moves the image queued -> saving -> active.  Any failure on the way
(bad checksum or size, client gone, store full or refusing) kills the image,
and the store has already removed what it wrote, so no image is ever active
with data other than what the client sent.
"""
import dataclasses
import logging
from contextlib import contextmanager

from flask import Blueprint, request

from glance.api import body as request_body
from glance.api import context
from glance.api.errors import BadRequest, Conflict, Forbidden
from glance.api.headers import location_headers, meta_from_headers, public
from glance.api.images import json_response
from glance.api.heartbeat import heartbeat
from glance.registry.client import Duplicate as RegistryDuplicate
from glance.registry.client import RegistryError
from glance.store.base import BackendError, NotFound, StoreError
from glance.store.hashing import MultihashReader

LOG = logging.getLogger("glance.api")
bp = Blueprint("upload", __name__)

# Fields the registry keeps; the rest of what the headers carry steers the upload.
RECORD_FIELDS = ("id", "name", "disk_format", "container_format", "min_ram", "min_disk",
                 "is_public", "protected", "owner")


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
    """The store of the location's scheme decides whether a client may register it
    (file:// never, http(s) only on public addresses…): BadLocation -> 400."""
    context.stores().for_uri(location).check_location(location)


def _kill(image_id, reason, busy="saving"):
    """Set a ``busy`` (saving) image killed and send image.upload ERROR; never raises.

    Conditional: an image another request deleted or activated meanwhile stays as it is.

    :returns: whether the image is now killed (its data may then go).
    """
    LOG.warning("Setting image %s to status 'killed': %s", image_id, reason)
    context.notifier().error("image.upload", f"Upload of image {image_id} failed: {reason}")
    try:
        context.registry().update(image_id, {"status": "killed"},
                                  headers=context.service_headers(), expect_status=busy)
    except Exception as exc:     # registry down: the original error is reported
        LOG.error("Could not kill image %s: %s", image_id, exc)
        return False
    return True


def _reserve(image_id, busy="saving"):
    """queued -> ``busy`` (saving), as one compare-and-set: only one upload gets the image.

    :raises Conflict: another upload (or a delete) got there first; nothing was written.
    """
    try:
        context.registry().update(image_id, {"status": busy},
                                  headers=context.service_headers(), expect_status="queued")
    except RegistryDuplicate:
        raise Conflict(f"Image {image_id} is not queued: another upload to it is in "
                       "progress or done") from None


def _upload(image_id, store, environ, size, checksum, busy="saving"):
    """Stream the request body into ``store``; on failure kill the image and re-raise."""
    body = request_body.Body(environ)
    try:
        return write(image_id, store, body, size, checksum, busy,
                     drain=lambda: request_body.discard(environ, body))
    finally:
        body.close()


def write(image_id, store, reader, size, checksum, busy="saving", drain=None):
    """Stream ``reader`` into ``store`` while the image is ``busy``, with the heartbeat.

    The multihash (``hashing_algorithm``) of the bytes the store reads is
    computed on its own thread, beside the store's MD5 on another.

    :param drain: called first on failure; False means the connection must close.
    :returns: the store's ``Stored`` record, with ``hash_algo`` and ``hash_value``.
    :raises StoreError: (or RegistryError) the image is killed and the store
        has removed what it wrote.
    """
    hashed = MultihashReader(reader, context.conf().hashing_algorithm)
    try:
        with heartbeat(context.registry(), image_id, context.service_headers(),
                       context.conf().upload_heartbeat_interval, busy):
            stored = store.add(image_id, hashed, size=size, checksum=checksum)
        return dataclasses.replace(stored, hash_algo=hashed.algorithm,
                                   hash_value=hashed.hexdigest())
    except Exception as exc:
        hashed.abandon()
        closed = drain is not None and not drain()
        _kill(image_id, _reason(exc), busy)
        if not isinstance(exc, (StoreError, RegistryError)):
            LOG.exception("Upload of image %s failed", image_id)
            exc = BackendError(f"Error uploading image: {_reason(exc)}")
        if closed:
            exc.headers = [("Connection", "close")]
        raise exc from None


def data_fields(stored):
    """What the registry records of data a store holds (the multihash when computed)."""
    fields = {"size": stored.size, "checksum": stored.checksum, "location": stored.uri}
    if stored.hash_value:
        fields.update(os_hash_algo=stored.hash_algo, os_hash_value=stored.hash_value)
    return fields


def _activate(image_id, store, stored, busy="saving", changes=None):
    """``busy`` (saving) -> active, conditional: an image deleted or killed meanwhile stays so.

    :param changes: what to record; default: active with the data's fields.
    :raises Conflict: the image left ``busy`` during the upload; its data is removed.
    """
    if changes is None:
        changes = {"status": "active", **data_fields(stored)}
    try:
        image = context.registry().update(image_id, changes, headers=context.service_headers(),
                                          expect_status=busy)
    except RegistryDuplicate:
        _remove_data(store, stored.uri)
        raise Conflict(f"Image {image_id} was deleted or killed during the upload; "
                       "its data has been removed") from None
    except Exception as exc:
        # The registry may have committed 'active' and then failed to answer:
        # remove the data only once the image is surely killed. Otherwise it
        # stays 'saving' with its data, and glance-scrubber settles it when stale.
        if _kill(image_id, f"could not activate: {exc}", busy):
            _remove_data(store, stored.uri)
        raise
    context.notifier().info("image.upload", public(image))
    return image


def _reason(exc):
    """Why an upload failed, fit for the image.upload ERROR event.

    Store and registry errors are written for clients; anything else may
    carry a file path or URL, so only its type goes out (the log has the rest).
    """
    if isinstance(exc, (StoreError, RegistryError)):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__} (see the glance-api log)"


def upload_and_activate(image, store, environ, size=None, checksum=None, busy="saving",
                        activate=True):
    """Reserve the image, stream the request body into ``store``, activate the image.

    Both APIs upload through here: v1 POST/PUT and v2 PUT /file with
    ``busy="saving"``; v2 PUT /stage with ``busy="uploading", activate=False``
    (the data is recorded and the image stays ``uploading`` until its import).

    :param size: size the client announced (x-image-meta-size), if any.
    :param checksum: MD5 the client announced (x-image-meta-checksum), if any.
    :returns: the active image record.
    :raises Conflict: the image was not queued (another upload won), or it was
        deleted during the upload.
    :raises StoreError: the upload failed; the image is killed.
    """
    image_id = image["id"]
    with _refused_with_body(environ, True):
        _reserve(image_id, busy)
    stored = _upload(image_id, store, environ, size, checksum, busy)
    changes = None if activate else data_fields(stored)
    return _activate(image_id, store, stored, busy, changes)


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


def _finish(image, store, environ, fields):
    """Upload the body or register the location, if either came.

    :returns: the image as it is now.
    """
    if store is not None:
        image = upload_and_activate(image, store, environ, fields.get("size"),
                                    fields.get("checksum"))
    elif fields.get("location"):
        image = _register_location(image, fields["location"], fields)
    return image


def _answer(image, status):
    return json_response({"image": public(image)}, status,
                         location_headers(image, request.host_url.rstrip("/")))


@bp.route("/v1/images", methods=["POST"])
def create():
    """Reserve an image; upload its data or register its location if given."""
    environ = request.environ
    with_body = request_body.has_body(environ)
    with _refused_with_body(environ, with_body):
        context.require_identity()
        fields, properties = meta_from_headers(request.headers, context.conf())
        _authorise_fields(fields)
        store = _target(environ, fields, with_body)
        record = _record(fields, properties)
        record.setdefault("properties", {})
        record.update(status="queued", size=fields.get("size") or 0)
        image = context.registry().create(record, headers=context.auth_headers())
    return _answer(_finish(image, store, environ, fields), 201)


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
        fields, properties = meta_from_headers(request.headers, context.conf())
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
    image = _finish(image, store, environ, fields)
    context.notifier().info("image.update", public(image))
    return _answer(image, 200)

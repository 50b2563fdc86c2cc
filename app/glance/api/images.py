"""Reading and deleting images: lists, HEAD, GET (data), DELETE.

Creating and updating live in :mod:`glance.api.upload`.
"""
import hashlib
import json
import logging

from flask import Blueprint, Response, request
from werkzeug.exceptions import MethodNotAllowed

from glance.api import cached, context
from glance.api.errors import Forbidden, NotFound, status_line
from glance.api.headers import HIDDEN, image_headers, public
from glance.registry.client import NotFound as RegistryNotFound
from glance.store.base import NotFound as DataNotFound
from glance.store.base import Corrupt, StoreError

LOG = logging.getLogger("glance.api")
bp = Blueprint("images", __name__)


def json_response(document, status=200, headers=()):
    body = json.dumps(document, separators=(",", ":"))
    return Response(body, status=status_line(status), mimetype="application/json",
                    headers=list(headers))


def _list(detail):
    # Filters, sorting and paging go to the registry unchanged; it validates them.
    params = list(request.args.items(multi=True))
    images = context.registry().list(detail=detail, params=params,
                                     headers=context.auth_headers())
    if detail:
        for image in images:
            for hidden in HIDDEN:
                image.pop(hidden, None)
    return json_response({"images": images})


@bp.route("/v1/images", methods=["GET"])
def index():
    """Brief list: id, name, formats, checksum, size."""
    return _list(detail=False)


@bp.route("/v1/images/detail", methods=["GET"])
def detail():
    """Full list, with properties (never the location)."""
    return _list(detail=True)


@bp.route("/v1/images/detail", methods=["POST", "PUT", "DELETE"])
def detail_not_allowed():
    """``detail`` is the list, not an image: without this route DELETE and PUT would
    treat it as the id of an image."""
    raise MethodNotAllowed(["GET", "HEAD"], f"{request.method} is not allowed on "
                           "/images/detail: it lists images (GET or HEAD)")


@bp.route("/v1/images/<image_id>", methods=["GET", "HEAD"])
def show(image_id):
    """HEAD: metadata as headers.  GET: the same headers and the data.

    GET serves the node's cached copy when there is one, and otherwise fills
    the cache as it streams from the store (:mod:`glance.api.cached`).
    """
    try:
        image = context.registry().get(image_id, headers=context.auth_headers())
    except RegistryNotFound:
        cached.forget_if_gone(image_id)     # deleted, maybe through another node
        raise
    headers = image_headers(image, request.host_url.rstrip("/"))
    if request.method == "HEAD":
        headers.append(("Content-Length", str(image.get("size") or 0)))
        return Response(status=status_line(200), headers=headers,
                        content_type="application/octet-stream")
    if image["status"] != "active":
        cached.forget(image_id)
        raise NotFound(f"Image {image_id} is not active")
    location = image.get("location")
    if not location:
        raise NotFound(f"Image {image_id} has no data")
    hit = cached.lookup(image, _verified)
    if hit is not None:
        chunks, size = hit
    else:
        try:
            chunks, size = context.stores().for_uri(location).get(location)
        except DataNotFound:
            LOG.error("Data of image %s is missing from its store", image_id)
            raise NotFound(f"Image {image_id} not found: its data is missing from the store") \
                from None
        chunks = cached.filling(_guarded(chunks, image), image)
    headers.append(("Content-Length", str(size)))
    # Verified first: image.send goes out only for a download that was whole and right.
    chunks = context.notifier().sending(chunks, image, context.request_context(), request)
    return Response(chunks, status=status_line(200), headers=headers,
                    content_type="application/octet-stream", direct_passthrough=True)


def _guarded(chunks, image):
    """Stream the data, verified; log (rather than hide) a download that fails.

    An error after the headers makes the server drop the connection, so the
    client sees a short body, never a complete wrong one.
    """
    try:
        yield from _verified(chunks, image)
    except StoreError as exc:
        LOG.error("Download of image %s failed: %s", image["id"], exc)
        raise
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()


def _verified(chunks, image):
    """Yield ``chunks``, holding the last one back until the MD5 matches the registry's.

    :raises Corrupt: the data's MD5 (or size) differs from what the registry
        recorded; the last chunk is then never sent.
    """
    expected = image.get("checksum")
    if not expected:        # e.g. an external location registered without a checksum
        yield from chunks
        return
    md5, got, held = hashlib.md5(usedforsecurity=False), 0, None
    for chunk in chunks:
        md5.update(chunk)
        got += len(chunk)
        if held is not None:
            yield held
        held = chunk
    if md5.hexdigest() != expected or got != (image.get("size") or got):
        LOG.error("Image %s is corrupt: its store holds %d bytes with MD5 %s, the registry "
                  "recorded %s bytes with MD5 %s", image["id"], got, md5.hexdigest(),
                  image.get("size"), expected)
        raise Corrupt(f"Image {image['id']} is corrupt in its store")
    if held is not None:
        yield held


@bp.route("/v1/images/<image_id>", methods=["DELETE"])
def delete(image_id):
    """Authorise, mark the record deleted, and only then remove the data.

    In that order a refused caller can never cost the owner their data, and
    a crash after the mark leaves a pending_delete image for glance-scrubber.
    """
    registry, ctx = context.registry(), context.request_context()
    context.require_identity()
    image = registry.get(image_id, headers=context.auth_headers())
    if image.get("status") == "pending_delete":
        raise Forbidden("Forbidden to delete a pending_delete image.")
    if image.get("deleted"):
        raise NotFound(f"Image {image_id} not found")
    if not ctx.can_modify(image):
        raise Forbidden("Forbidden to delete an image you do not own")
    if image.get("protected"):
        raise Forbidden("Image is protected")
    # The record as deleted: an upload that activated the image since it was
    # read above brought its location, whose data must go too.
    marked = registry.delete(image_id, headers=context.auth_headers()) or image
    cached.forget(image_id)
    context.notifier().info("image.delete", public(image))
    location = marked.get("location") or image.get("location")
    if location and not context.conf().delayed_delete:
        if _delete_data(image_id, location) == "deleted":
            registry.update(image_id, {"status": "deleted"}, headers=context.service_headers())
    return Response(status=status_line(200))


def _delete_data(image_id, location):
    """Remove the data the image stored; on failure leave it to the scrubber (pending_delete).

    Data the image did not store itself (a location registered with
    x-image-meta-location) stays where it is.
    """
    stores = context.stores()
    try:
        if stores.owns(location, image_id):
            stores.for_uri(location).delete(location)
        else:
            LOG.info("Image %s did not store the data at its location: left in place", image_id)
    except DataNotFound:
        pass
    except StoreError as exc:
        LOG.warning("Could not delete data of image %s (%s): %s; leaving it pending_delete",
                    image_id, type(exc).__name__, exc)
        return "pending_delete"
    return "deleted"

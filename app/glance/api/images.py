"""Reading and deleting images: lists, HEAD, GET (data), DELETE.

Creating and updating live in :mod:`glance.api.image_writes`.
"""
import functools
import json
import logging

from flask import Blueprint, Response, request
from werkzeug.exceptions import MethodNotAllowed

from glance.api import cached, context
from glance.api.errors import status_line
from glance.errors import Forbidden, NotFound
from glance.api.headers import HIDDEN, V2_FIELDS, image_headers, image_uri, public
from glance.rules import ACTIVE, DELETED, PENDING_DELETE, corrupt_mark
from glance.store.base import NotFound as DataNotFound
from glance.store.base import Corrupt, StoreError
from glance.store.hashing import HashThread, available, fast_check

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
    base = request.host_url.rstrip("/")
    for image in images:
        if detail:
            for hidden in HIDDEN + V2_FIELDS:
                image.pop(hidden, None)
        image["uri"] = image_uri(image, base)
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
    except NotFound:
        cached.forget_if_gone(image_id)     # deleted, maybe through another node
        raise
    headers = image_headers(image, request.host_url.rstrip("/"))
    if request.method == "HEAD":
        headers.append(("Content-Length", str(image.get("size") or 0)))
        return Response(status=status_line(200), headers=headers,
                        content_type="application/octet-stream")
    if image["status"] != ACTIVE:
        cached.forget(image_id)
        raise NotFound(f"Image {image_id} is not active")
    body, size = whole_download(image)
    headers.append(("Content-Length", str(size)))
    return Response(body, status=status_line(200), headers=headers,
                    content_type="application/octet-stream", direct_passthrough=True)


def with_location(image):
    """``image`` with its ``location`` and ``copies``: the registry shows them to admins only, so
    glance-api asks again as itself for a caller that may read the image but not see it.

    :param image: the record as the caller sees it (already authorised).
    """
    if image.get("location") or context.request_context().is_admin:
        return image
    own = context.registry().get(image["id"], headers=context.service_headers())
    return {**image, "location": own.get("location"), "copies": own.get("copies") or [],
            "location_metadata": own.get("location_metadata") or {}}


def open_data(image, offset=0, length=None):
    """The data of ``image`` from its store: ``(chunks, size)`` (v1 and v2 downloads).
    The primary location first; when its store fails, the image's other locations.

    :raises NotFound: the store no longer holds it.
    """
    located = with_location(image)
    location = located["location"]
    others = [uri for uri in located.get("copies") or () if uri != location]
    for uri in [location] + others:
        try:
            return context.stores().for_uri(uri).get(uri, offset=offset, length=length)
        except StoreError as exc:
            if uri == (others or [location])[-1]:
                if isinstance(exc, DataNotFound):
                    LOG.error("Data of image %s is missing from its store", image["id"])
                    raise NotFound(f"Image {image['id']} not found: its data is missing "
                                   "from the store") from None
                raise
            LOG.warning("Image %s: reading a location failed (%s); trying the next one",
                        image["id"], type(exc).__name__)


def whole_download(image):
    """``(stream, size)`` of a whole download: this node's cached copy (verified as it
    goes), or the store's data, copied into the cache as it is sent."""
    mark = corrupt_mark(image)
    if mark:
        LOG.error("Download of image %s refused: it is marked corrupt (%s)", image["id"], mark)
        raise Corrupt(f"Image {image['id']} is corrupt in its store ({mark}); "
                      "its data is not served")
    verify = functools.partial(_verified, hashes=context.conf().verify_download_hashes)
    hit = cached.lookup(image, verify)
    if hit is not None:
        chunks, size = hit
        return sending(chunks, image, verify=None), size
    image = with_location(image)        # only a read from the store needs it
    if not image.get("location"):
        raise NotFound(f"Image {image['id']} has no data")
    chunks, size = open_data(image)
    return sending(chunks, image, verify=verify, fill=True), size


def sending(chunks, image, verify=None, fill=False):
    """The download stream: verified (whole downloads), logged, and notified.

    Verified first: image.send goes out only for a download that was whole and right.
    :param verify: ``verify(chunks, image)``, the check of a whole download
        (:func:`_verified`); None for a part, or data checked already.
    :param fill: copy the verified stream into this node's image cache.
    """
    stream = _guarded(chunks, image, verify)
    if fill:
        stream = cached.filling(stream, image)
    return context.notifier().sending(stream, image, context.request_context(), request)


def _guarded(chunks, image, verify=None):
    """Stream the data, verified; log (rather than hide) a download that fails.

    An error after the headers makes the server drop the connection, so the
    client sees a short body, never a complete wrong one.
    """
    try:
        yield from (verify(chunks, image) if verify else chunks)
    except StoreError as exc:
        LOG.error("Download of image %s failed: %s", image["id"], exc)
        raise
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()


def _hashes(image, multihash):
    """``{name: (HashThread, expected)}`` for the MD5 and (with ``multihash``) the
    multihash the registry holds."""
    wanted = {}
    if image.get("checksum"):
        wanted["MD5"] = ("md5", image["checksum"])
    algorithm, value = image.get("os_hash_algo"), image.get("os_hash_value")
    if multihash and algorithm and value:
        if available(algorithm):
            wanted[algorithm] = (algorithm, value)
        else:
            LOG.warning("Image %s: cannot verify its %s hash here", image["id"], algorithm)
    return {name: (HashThread(algorithm), expected.lower())
            for name, (algorithm, expected) in wanted.items()}


def _verified(chunks, image, hashes=False):
    """Yield ``chunks``, holding the last one back until the data matches what the
    registry recorded.

    What is checked: the fast checksum (``fast_checksum``: XXH3-64, or CRC-32 for
    images stored without python3-xxhash, computed inline) when the image has
    one, otherwise the MD5 (images stored before it existed, external
    locations).  With ``hashes`` (``verify_download_hashes``) the MD5 and the
    multihash instead, each on its own thread (the fast checksum would add
    nothing to them); clients such as glanceclient and Nova check those end to end.

    :raises Corrupt: the data's checksum, a hash (or the size) differs from what
        the registry recorded; the last chunk is then never sent.
    """
    fast, expected_fast = (None if hashes else fast_check(image.get("fast_checksum"))) \
        or (None, None)
    threads = _hashes(image, multihash=hashes) if hashes or fast is None else {}
    if fast is None and not threads:   # e.g. an external location registered without a checksum
        yield from chunks
        return
    got, held = 0, None
    try:
        for chunk in chunks:
            if fast is not None:
                fast.update(chunk)
            for hasher, _ in threads.values():
                hasher.update(chunk)
            got += len(chunk)
            if held is not None:
                yield held
            held = chunk
        wrong = [name for name, (hasher, expected) in threads.items()
                 if hasher.hexdigest() != expected]
    finally:
        for hasher, _ in threads.values():
            hasher.abandon()
    if fast is not None and fast.hexdigest() != expected_fast:
        wrong.insert(0, fast.label)
    if wrong or got != (image.get("size") or got):
        LOG.error("Image %s is corrupt: its store holds %d bytes, the registry recorded %s "
                  "bytes; mismatched: %s", image["id"], got, image.get("size"),
                  ", ".join(wrong) or "none")
        raise Corrupt(f"Image {image['id']} is corrupt in its store")
    if held is not None:
        yield held


@bp.route("/v1/images/<image_id>", methods=["DELETE"])
def delete(image_id):
    """Authorise, mark the record deleted, and only then remove the data.

    In that order a refused caller can never cost the owner their data, and
    a crash after the mark leaves a pending_delete image for glance-scrubber.
    """
    context.request_context().check_identity()
    image = context.registry().get(image_id, headers=context.auth_headers())
    if image.get("status") == PENDING_DELETE:
        raise Forbidden("Forbidden to delete a pending_delete image.")
    if image.get("deleted"):
        raise NotFound(f"Image {image_id} not found")
    delete_image(image)
    return Response(status=status_line(200))


def delete_image(image):
    """DELETE for v1 and v2: the checks, the mark, then the data (see :func:`delete`).

    :param image: the record as the caller sees it.
    """
    image_id, registry = image["id"], context.registry()
    context.request_context().check_delete(image)
    # The record as deleted: an upload that activated the image since it was
    # read above brought its location, whose data must go too.
    marked = registry.delete(image_id, headers=context.auth_headers()) or image
    cached.forget(image_id)
    context.notifier().info("image.delete", public(image))
    located = with_location(marked)
    location = located.get("location")
    # with multiple stores, the data's copies in other stores go too
    uris = ([location] if location else []) + [
        uri for uri in located.get("copies") or () if uri != location]
    if uris and not context.conf().delayed_delete:
        results = [delete_data(image_id, uri) for uri in uris]
        if all(result == DELETED for result in results):
            registry.update(image_id, {"status": DELETED}, headers=context.service_headers())


def delete_data(image_id, location):
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
        return PENDING_DELETE
    return DELETED

"""Image data under v2: PUT/GET /file, and interoperable import (PUT /stage, POST /import).

Uploads go through :class:`glance.api.upload.Upload`, as v1's do: a
compare-and-set reserves the image, the body streams into the store with
the heartbeat running, and any failure kills the image with nothing active.

* PUT /file: queued -> saving -> active.
* PUT /stage: queued -> uploading; the data is written to the default store
  and recorded, the image stays ``uploading``.
* POST /import glance-direct: uploading (with staged data) -> active.
* POST /import web-download: queued -> importing -> active, the data read from
  the URL by the HTTP store (its address guard applies) in a background thread.
"""
import logging
import re
import threading

from flask import Blueprint, Response, request

from glance.api import context
from glance.api.errors import status_line
from glance.api.images import open_data, sending, whole_download, with_location
from glance.api.upload import Upload, reading
from glance.api.v2.images import get_image, modifiable
from glance.api.json_body import json_body
from glance.api.v2 import glance_download
from glance.api.v2.copies import IMPORTING_TO, Copier, held_by
from glance.api.v2.import_tasks import ImportTask, web_source
from glance.api.v2.wire import empty
from glance.errors import BadRequest, Conflict, Forbidden, NotFound, RangeNotSatisfiable, \
    StatusError, UnsupportedMediaType
from glance.rules import ACTIVE, DEACTIVATED, IMPORTING, QUEUED, READABLE, SAVING, UPLOADING, \
    check_image_size
from glance.store.base import StoreError

LOG = logging.getLogger("glance.api")
bp = Blueprint("v2_image_data", __name__)
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _check_octet_stream():
    kind = (request.mimetype or "").lower()
    if kind != "application/octet-stream":
        raise UnsupportedMediaType("Content-Type must be application/octet-stream")


def _target_store(name):
    """The store an upload writes to: with multiple stores the one named (400 for
    an unknown one), else (and by default) the default store; one store ignores names."""
    stores = context.stores()
    return stores.by_name(name if stores.multiple else None)


def _receive(image_id, busy, store_name=None):
    """Reserve a queued image and write the request body into a store.

    :param store_name: the store asked for (X-Image-Meta-Store), or the default.
    :returns: the :class:`Upload` and the store's record of the data.
    """
    _check_octet_stream()
    image = modifiable(image_id)
    check_image_size(request.body.length, context.conf().image_size_cap)
    store = _target_store(store_name)
    if image["status"] != QUEUED:
        raise Conflict(f"Image {image_id} is {image['status']}: data can only be "
                       "uploaded to a queued image")
    upload = Upload.to(image_id, store, busy)
    upload.reserve()
    return upload, upload.write(request.body, size=request.body.length)


@bp.route("/v2/images/<image_id>/file", methods=["PUT"])
def put_file(image_id):
    """queued -> saving -> active, into the store X-Image-Meta-Store names (multiple
    stores) or the default one."""
    upload, stored = _receive(image_id, SAVING, request.headers.get("X-Image-Meta-Store"))
    upload.activate(stored)
    return empty(204)


@bp.route("/v2/images/<image_id>/stage", methods=["PUT"])
def stage(image_id):
    """queued -> uploading, with the data recorded; the import makes it active."""
    _require_method("glance-direct")
    upload, stored = _receive(image_id, UPLOADING)
    upload.record_staged(stored)
    return empty(204)


def _byte_range(header, size):
    """``Range: bytes=a-b`` -> ``(offset, length)``; None for no (or an ignored) range.

    :raises RangeNotSatisfiable: the range starts past the end.
    """
    match = RANGE.match(header.strip()) if header else None
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":                       # the last N bytes
        length = min(int(last), size)
        return size - length, length
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable("Requested range not satisfiable",
                                  headers=[("Content-Range", f"bytes */{size}")])
    return start, end - start + 1


@bp.route("/v2/images/<image_id>/file", methods=["GET"])
def get_file(image_id):
    image = get_image(image_id)
    ctx = context.request_context()
    if image["status"] == DEACTIVATED and not ctx.is_admin:
        raise Forbidden("The requested image has been deactivated. "
                        "Image data download is forbidden.")
    if image["status"] in READABLE:
        image = with_location(image)
    if image["status"] not in READABLE or not image.get("location"):
        return empty(204)                 # no data (yet): Glance answers 204
    size = image.get("size") or 0
    wanted = _byte_range(request.headers.get("Range"), size)
    headers = []
    if image.get("checksum"):
        headers.append(("Content-MD5", image["checksum"]))
    if wanted is None:
        body, length = whole_download(image)     # this node's image cache, or the store
        status = 200
    else:
        offset, length = wanted
        chunks, length = open_data(image, offset, length)
        headers.append(("Content-Range", f"bytes {offset}-{offset + length - 1}/{size}"))
        # a part cannot be checked against the whole's MD5
        body, status = sending(chunks, image, verify=None), 206
    headers.append(("Content-Length", str(length)))
    return Response(body, status=status_line(status),
                    headers=headers, content_type="application/octet-stream",
                    direct_passthrough=True)


def import_methods():
    return [m.strip() for m in context.conf().enabled_import_methods.split(",") if m.strip()]


def _require_method(name):
    if name not in import_methods():
        raise NotFound(f"Import method {name} is not enabled")


@bp.route("/v2/images/<image_id>/import", methods=["POST"])
def import_image(image_id):
    image = modifiable(image_id)          # the caller first: its body is read only then
    document = json_body()
    method = document.get("method") if isinstance(document, dict) else None
    if not isinstance(method, dict) or not isinstance(method.get("name"), str):
        raise BadRequest('Import body needs {"method": {"name": ...}}')
    name = method["name"]
    if name not in import_methods():
        raise BadRequest(f"Import method {name} is not supported")
    if name == "copy-image":
        return _copy_image(image, document)
    names = _import_targets(document)
    target = context.stores().by_name(names[0])
    # with multiple stores every import shows its progress (os_glance_importing_to_stores,
    # os_glance_failed_import), and copies into the stores after the first
    copier = (Copier(image["id"], names[1:], first=names[0])
              if context.multiple_stores() else None)
    task = ImportTask.for_image_import(image, document)
    try:
        if name == "glance-direct":
            _import_staged(image, target)
            if copier:
                copier.first_done()
                copier.run()
            task.finish()
        elif name == "glance-download":
            glance_download.start(image, method, task, target, copier)
        else:
            web_download(image, method.get("uri"), task, target, copier)
    except Exception:
        task.discard()           # refused before it started: no task, as in Glance
        raise
    return empty(202)


def _import_targets(document, skip=()):
    """The names of the stores an import writes to, the first one first.

    With a single store, Glance ignores ``stores`` and ``all_stores`` (clients send
    all_stores=true by default): the data goes to the one store.  With multiple
    stores the stores ``stores`` names, every writable store (``all_stores``), or
    the default one.

    :param skip: stores left out (those already holding the data).
    :raises Conflict: an unknown store.  :raises BadRequest: ``stores`` is not a list
        of names.
    """
    stores = context.stores()
    if not stores.multiple:
        return [stores.default_name]
    names = document.get("stores")
    if names is not None and (not isinstance(names, list)
                              or not all(isinstance(n, str) for n in names)):
        raise BadRequest("stores must be a list of store names")
    writable = stores.ordered(n for n, s in stores.listed().items() if not s.read_only)
    if document.get("all_stores") is True:
        names = writable
    names = list(dict.fromkeys(names or [stores.default_name]))
    for name in names:
        if name not in stores.listed():
            raise Conflict(f"Unknown store {name}")
        if name not in writable:
            raise Conflict(f"Store {name} is read-only")
    if stores.default_name in names:        # the default store first: it has the stage
        names.remove(stores.default_name)
        names.insert(0, stores.default_name)
    return [n for n in names if n not in skip]


def _copy_image(image, document):
    """copy-image: an active image's data into more stores, in the background (202).

    Glance's default policy: admins only.  Stores already holding it are skipped.
    """
    context.request_context().check_stores()
    stores = context.stores()
    if not stores.multiple:
        raise Conflict("copy-image needs multiple stores (enabled_backends)")
    if image["status"] != ACTIVE:
        raise Conflict(f"Image {image['id']} is {image['status']}: only an active image "
                       "is copied")
    if (image.get("properties") or {}).get(IMPORTING_TO):
        raise Conflict(f"Image {image['id']} is being copied already")
    names = _import_targets(document, skip=held_by(image, stores))
    task = ImportTask.for_image_import(image, document)
    copier = Copier(image["id"], names, task)
    copier.begin()
    copier.start()
    return empty(202)


def _import_staged(image, target):
    """uploading, with its staged data recorded -> active; the staged data is
    copied first when the import names another store than the stage's."""
    if image["status"] == UPLOADING:
        image = with_location(image)
    if image["status"] != UPLOADING or not image.get("location"):
        raise Conflict(f"Image {image['id']} has no staged data to import "
                       f"(status {image['status']})")
    staged = image["location"]
    source = context.stores().for_uri(staged)
    if source is target:
        Upload.to(image["id"], None, UPLOADING).activate_staged()
        return
    upload = Upload.to(image["id"], target, UPLOADING)
    chunks, size = source.get(staged)
    with reading(chunks) as reader:
        stored = upload.write(reader, size)
    upload.activate(stored)
    try:
        source.delete(staged)
    except StoreError as exc:
        LOG.warning("Could not remove the staged data of image %s: %s", image["id"], exc)


def web_download(image, uri, task, target=None, copier=None):
    """Check ``uri``, reserve the image and start the download into ``target`` (default:
    the default store), then copies into more stores (``copier``); ``task`` records its
    end."""
    if not isinstance(uri, str) or not uri:
        raise BadRequest("web-download needs a 'uri'")
    if image["status"] != QUEUED:
        raise Conflict(f"Image {image['id']} is {image['status']}: only a queued image "
                       "can be imported")
    # Only a web server: a store's own location (s3+http://…) would be read with
    # glance's credentials, whoever's image it holds.
    source = web_source(uri)                    # http(s) behind the address guard, or 400
    upload = Upload.to(image["id"], target or context.stores().by_name(None), IMPORTING)
    upload.reserve()
    if copier:
        copier.begin()
    thread = threading.Thread(target=_download, args=(upload, source, uri, task, copier),
                              daemon=True,
                              name=f"web-download-{image['id'][:8]}")
    thread.start()


def _download(upload, source, uri, task, copier=None):
    """Background: stream ``uri`` into the store; importing -> active, or killed."""
    error = None
    try:
        try:
            chunks, size = source.get(uri)
        except Exception as exc:
            error = exc
            upload.kill(f"web-download failed: {type(exc).__name__}: {exc}")
            return
        with reading(chunks) as reader:
            stored = upload.write(reader, size)
        upload.activate(stored)
        if copier:
            copier.first_done()
            copier.run()
    except StatusError as exc:
        error = exc
        LOG.warning("web-download of image %s failed: %s", upload.image_id, exc)
    except Exception as exc:
        error = exc
        LOG.exception("web-download of image %s failed", upload.image_id)
    finally:
        if error is not None and copier:
            copier.abandon()
        task.finish(error)

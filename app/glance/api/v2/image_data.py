"""Image data under v2: PUT/GET /file, and interoperable import (PUT /stage, POST /import).

Uploads go through :func:`glance.api.upload.upload_and_activate`, v1's path:
a compare-and-set reserves the image, the body streams into the store with
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

from flask import Blueprint, Response, current_app, request

from glance.api import body as request_body
from glance.api import context, upload
from glance.api.errors import APIError, BadRequest, Conflict, Forbidden, NotFound, \
    UnsupportedMediaType, status_line
from glance.api.images import open_data, sending, whole_download
from glance.api.v2.images import get_image, modifiable
from glance.api.v2.import_tasks import ImportTask, web_source
from glance.api.v2.wire import empty, json_body
from glance.registry.client import Duplicate as RegistryDuplicate
from glance.store.base import StoreError

LOG = logging.getLogger("glance.api")
bp = Blueprint("v2_image_data", __name__)
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(APIError):
    status = 416


def _check_octet_stream():
    kind = (request.mimetype or "").lower()
    if kind != "application/octet-stream":
        raise UnsupportedMediaType("Content-Type must be application/octet-stream")


def _upload(image_id, busy, activate):
    environ = request.environ
    with upload._refused_with_body(environ, True):
        _check_octet_stream()
        image = modifiable(image_id)
        if image["status"] != "queued":
            raise Conflict(f"Image {image_id} is {image['status']}: data can only be "
                           "uploaded to a queued image")
        store = context.stores().by_name(None)
    size = request_body.content_length(environ)
    return upload.upload_and_activate(image, store, environ, size=size, busy=busy,
                                      activate=activate)


@bp.route("/v2/images/<image_id>/file", methods=["PUT"])
def put_file(image_id):
    _upload(image_id, "saving", activate=True)
    return empty(204)


@bp.route("/v2/images/<image_id>/stage", methods=["PUT"])
def stage(image_id):
    _require_method("glance-direct")
    _upload(image_id, "uploading", activate=False)
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
    if image["status"] == "deactivated" and not ctx.is_admin:
        raise Forbidden("The requested image has been deactivated. "
                        "Image data download is forbidden.")
    if image["status"] not in ("active", "deactivated") or not image.get("location"):
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
        body, status = sending(chunks, image, verify=False), 206
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
    document = json_body()
    method = document.get("method") if isinstance(document, dict) else None
    if not isinstance(method, dict) or not isinstance(method.get("name"), str):
        raise BadRequest('Import body needs {"method": {"name": ...}}')
    name = method["name"]
    if name not in import_methods():
        raise BadRequest(f"Import method {name} is not supported")
    if document.get("stores") or document.get("all_stores"):
        raise Conflict("Multiple stores are not enabled on this server")
    image = modifiable(image_id)
    task = ImportTask.for_image_import(image, document)
    try:
        if name == "glance-direct":
            _import_staged(image)
            task.finish()
        else:
            web_download(image, method.get("uri"), task)
    except Exception:
        task.discard()           # refused before it started: no task, as in Glance
        raise
    return empty(202)


def _import_staged(image):
    """uploading, with its staged data recorded -> active."""
    if image["status"] != "uploading" or not image.get("location"):
        raise Conflict(f"Image {image['id']} has no staged data to import "
                       f"(status {image['status']})")
    try:
        context.registry().update(image["id"], {"status": "active"},
                                  headers=context.service_headers(), expect_status="uploading")
    except RegistryDuplicate:
        raise Conflict(f"Image {image['id']} changed status during the import") from None


class _ChunkReader:
    """``read()`` over an iterator of chunks, for a store's ``add``."""

    def __init__(self, chunks):
        self.chunks = iter(chunks)
        self.pending = b""

    def read(self, size=-1):
        if not self.pending:
            self.pending = next(self.chunks, b"")
        if size is None or size < 0 or size >= len(self.pending):
            out, self.pending = self.pending, b""
        else:
            out, self.pending = self.pending[:size], self.pending[size:]
        return out


def web_download(image, uri, task):
    """Check ``uri``, reserve the image and start the download; ``task`` records its end."""
    if not isinstance(uri, str) or not uri:
        raise BadRequest("web-download needs a 'uri'")
    if image["status"] != "queued":
        raise Conflict(f"Image {image['id']} is {image['status']}: only a queued image "
                       "can be imported")
    # Only a web server: a store's own location (s3+http://…) would be read with
    # glance's credentials, whoever's image it holds.
    source = web_source(uri)                    # http(s) behind the address guard, or 400
    target = context.stores().by_name(None)
    upload._reserve(image["id"], "importing")
    app = current_app._get_current_object()
    thread = threading.Thread(target=_download, args=(app, image["id"], source, target, uri, task),
                              daemon=True, name=f"web-download-{image['id'][:8]}")
    thread.start()


def _download(app, image_id, source, target, uri, task):
    """Background: stream ``uri`` into the store; importing -> active, or killed."""
    error = None
    with app.app_context():
        try:
            try:
                chunks, size = source.get(uri)
            except Exception as exc:
                error = exc
                upload._kill(image_id, f"web-download failed: {type(exc).__name__}: {exc}",
                             "importing")
                return
            reader = _ChunkReader(chunks)
            try:
                stored = upload.write(image_id, target, reader, size, None, "importing")
            finally:
                close = getattr(chunks, "close", None)
                if close:
                    close()
            upload._activate(image_id, target, stored, "importing")
        except (StoreError, APIError) as exc:
            error = exc
            LOG.warning("web-download of image %s failed: %s", image_id, exc)
        except Exception as exc:
            error = exc
            LOG.exception("web-download of image %s failed", image_id)
        finally:
            task.finish(error)

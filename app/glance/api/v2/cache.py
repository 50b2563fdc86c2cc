"""/v2/cache (v2.14): this node's image cache, as Glance's v2 cache API manages it.

* ``GET /v2/cache``: ``cached_images`` and ``queued_images``;
* ``PUT /v2/cache/<id>``: queue an active image (202); this node caches it now;
* ``DELETE /v2/cache/<id>``: drop it from the cache and the queue (204);
* ``DELETE /v2/cache``: empty both, or what ``x-image-cache-clear-target``
  names (``cache`` or ``queue``; empty: both).

The same calls as v1's ``/v1/cached_images`` (:mod:`glance.api.cached_images`):
admins only (anonymous 401, others 403), 404 when the cache is not enabled.
``hits`` is null: this cache keeps no counts (no database, no xattrs).
"""
from flask import Blueprint, current_app, request

from glance.api import context
from glance.api.cached_images import admin_cache, queue_active
from glance.api.images import _verified
from glance.api.v2.images import get_image
from glance.api.v2.wire import empty, json_response
from glance.cache import jobs
from glance.errors import BadRequest

bp = Blueprint("v2_cache", __name__)
CLEAR_TARGET = "x-image-cache-clear-target"


@bp.route("/v2/cache", methods=["GET"])
def show():
    node = admin_cache()
    return json_response({"cached_images": [{**entry, "hits": None} for entry in node.entries()],
                          "queued_images": node.queued()})


@bp.route("/v2/cache/<image_id>", methods=["PUT"])
def queue(image_id):
    node = admin_cache()
    if queue_active(node, image_id):
        _prefetch_now(node, image_id)
    return empty(202)


def _prefetch_now(node, image_id):
    """Hand the image to this glance-api's prefetch thread (made on first use)."""
    glance = current_app.extensions["glance"]
    worker = glance.setdefault("prefetcher", jobs.Prefetcher())
    registry, stores, auth = context.registry(), context.stores(), context.service_auth()
    worker.submit(lambda: jobs.prefetch_one(node, registry, stores, _verified, auth.headers,
                                            image_id))


@bp.route("/v2/cache/<image_id>", methods=["DELETE"])
def delete(image_id):
    """204 when the image was cached or queued here, or exists; 404 otherwise."""
    node = admin_cache()
    if not (node.is_cached(image_id) or image_id in node.queued()):
        get_image(image_id)
    node.remove(image_id)
    return empty(204)


@bp.route("/v2/cache", methods=["DELETE"])
def clear():
    target = request.headers.get(CLEAR_TARGET, "").strip().lower()
    node = admin_cache()
    if target not in ("", "cache", "queue"):
        raise BadRequest(f"If provided '{CLEAR_TARGET}' must be 'cache', 'queue' or empty "
                         "string.")
    if target in ("", "cache"):
        node.remove_all()
    if target in ("", "queue"):
        node.dequeue_all()
    return empty(204)

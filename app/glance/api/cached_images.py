"""Admin API of this node's image cache (Diablo's cache management API).

* ``GET /v1/cached_images``: the cached images; ``GET /v1/cached_images/<id>``: one.
* ``DELETE /v1/cached_images[/<id>]``: remove every cached image, or one.
* ``PUT /v1/cached_images/<id>``: queue an image for glance-cache-prefetcher.
* ``GET /v1/queued_images``: the queue.

Admins only: anonymous callers get 401, others 403, before anything is read.
Each API node answers for its own cache.  The v2 cache API
(:mod:`glance.api.v2.cache`) is the same calls under Glance's v2 routes.
"""
from flask import Blueprint

from glance.api import context
from glance.errors import BadRequest, NotFound
from glance.api.images import json_response
from glance.cache.entries import cacheable_id
from glance.rules import ACTIVE

bp = Blueprint("cached_images", __name__)


def admin_cache():
    """This node's cache, for an admin.

    :raises Unauthorized: anonymous. :raises Forbidden: not an admin.
    :raises NotFound: the cache is not enabled here.
    """
    context.request_context().check_admin()
    node = context.cache()
    if node is None:
        raise NotFound("The image cache is not enabled on this node (image_cache_enabled)")
    return node


@bp.route("/v1/cached_images", methods=["GET"])
def index():
    return json_response({"cached_images": admin_cache().entries()})


@bp.route("/v1/cached_images/<image_id>", methods=["GET"])
def show(image_id):
    entry = admin_cache().entry(image_id) if cacheable_id(image_id) else None
    if entry is None:
        raise NotFound(f"Image {image_id} is not in this node's cache")
    return json_response({"cached_image": entry})


@bp.route("/v1/cached_images", methods=["DELETE"])
def delete_all():
    return json_response({"num_deleted": admin_cache().remove_all()})


@bp.route("/v1/cached_images/<image_id>", methods=["DELETE"])
def delete(image_id):
    node = admin_cache()
    if not (cacheable_id(image_id) and node.remove(image_id)):
        raise NotFound(f"Image {image_id} is not in this node's cache")
    return json_response({"num_deleted": 1})


def queue_active(node, image_id):
    """Queue an active image with data for ``node``'s cache.

    :returns: False when it is cached already (nothing queued).
    :raises NotFound: no such image (or deleted).  :raises BadRequest: not
        active, or an id that cannot be a cache file name.
    """
    image = context.registry().get(image_id, headers=context.auth_headers())
    if image.get("deleted"):
        raise NotFound(f"Image {image_id} not found")
    if image.get("status") != ACTIVE or not image.get("location"):
        raise BadRequest(f"Image {image_id} is not active: only active images are cached")
    if not cacheable_id(image_id):
        raise BadRequest(f"Image id {image_id!r} cannot be a cache file name")
    return node.queue(image_id)


@bp.route("/v1/cached_images/<image_id>", methods=["PUT"])
def queue(image_id):
    """Queue an active image with data; glance-cache-prefetcher fetches it."""
    queued = queue_active(admin_cache(), image_id)
    return json_response({"image_id": image_id, "queued": queued})


@bp.route("/v1/queued_images", methods=["GET"])
def queued():
    return json_response({"queued_images": admin_cache().queued()})

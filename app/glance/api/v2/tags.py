"""PUT and DELETE /v2/images/<id>/tags/<tag>."""
from flask import Blueprint

from glance.api import context
from glance.errors import BadRequest, NotFound
from glance.api.v2.images import modifiable
from glance.api.v2.wire import empty

bp = Blueprint("v2_tags", __name__)


@bp.route("/v2/images/<image_id>/tags/<path:tag>", methods=["PUT"])
def add(image_id, tag):
    if not 0 < len(tag) <= 255:
        raise BadRequest("A tag is 1 to 255 characters long")
    image = modifiable(image_id)
    if tag not in (image.get("tags") or []):
        context.registry().add_tag(image_id, tag, headers=context.auth_headers())
    return empty(204)


@bp.route("/v2/images/<image_id>/tags/<path:tag>", methods=["DELETE"])
def delete(image_id, tag):
    image = modifiable(image_id)
    if tag not in (image.get("tags") or []):
        raise NotFound(f"Tag {tag} not found")
    context.registry().delete_tag(image_id, tag, headers=context.auth_headers())
    return empty(204)

"""/v2/images/<id>/members: the owner adds and removes members; a member
accepts, rejects (or sets back to pending) its own membership; an admin may
do both (Glance's default policy).

Only ``shared`` images have members (Glance since 2.5).  A member sees its
own membership only; the owner and admins see them all.
"""
from flask import Blueprint

from glance.api import context
from glance.errors import BadRequest, Conflict, Forbidden, NotFound
from glance.api.v2.images import get_image, modifiable
from glance.api.json_body import json_body
from glance.api.v2.wire import empty, json_response, member_view, visibility
from glance.rules import MEMBER_STATUSES

bp = Blueprint("v2_members", __name__)


def _members(image_id):
    """All memberships of an image, read with glance's own identity (filtered by the caller)."""
    return context.registry().get_members(image_id, headers=context.service_headers())


def _visible_members(image):
    ctx = context.request_context()
    found = _members(image["id"])
    if ctx.can_see_members(image):
        return found
    return [m for m in found if ctx.owner is not None and m.get("member_id") == ctx.owner]


def _write_headers(image):
    """The identity member writes reach the registry with.

    The caller's own, except for noauth's identity-less admin (every request
    without identity headers, e.g. the ``glance`` CLI): the registry keeps
    Diablo's rule that sharing needs an identity, so this admin, already
    authorised here, writes as an admin of the image's owner.
    """
    ctx = context.request_context()
    if ctx.is_admin and ctx.owner is None and not ctx.anonymous:
        owner = image.get("owner") or "admin"
        role = context.conf().get("admin_role", "admin")
        return {"X-Tenant-Id": owner, "X-User-Id": owner, "X-Roles": role}
    return context.auth_headers()


@bp.route("/v2/images/<image_id>/members", methods=["POST"])
def create(image_id):
    document = json_body()
    member = document.get("member") if isinstance(document, dict) else None
    if not isinstance(member, str) or not member.strip() or len(member) > 255:
        raise BadRequest('Member body must be {"member": "<project id>"}')
    image = modifiable(image_id, "Only the image owner may change its members.")
    if visibility(image) != "shared":
        raise Forbidden(f"Only shared images have members; image {image_id} is "
                        f"{visibility(image)}.")
    if any(m.get("member_id") == member for m in _members(image_id)):
        raise Conflict(f"Member {member} already has access to image {image_id}.")
    context.registry().add_member(image_id, member, headers=_write_headers(image),
                                  status="pending")
    return json_response(member_view(_find(image_id, member), image_id))


def _find(image_id, member):
    for item in _members(image_id):
        if item.get("member_id") == member:
            return item
    raise NotFound(f"{member} is not a member of image {image_id}")


@bp.route("/v2/images/<image_id>/members", methods=["GET"])
def index(image_id):
    image = get_image(image_id)
    return json_response({"members": [member_view(m, image_id) for m in _visible_members(image)],
                          "schema": "/v2/schemas/members"})


@bp.route("/v2/images/<image_id>/members/<member>", methods=["GET"])
def show(image_id, member):
    image = get_image(image_id)
    for item in _visible_members(image):
        if item.get("member_id") == member:
            return json_response(member_view(item, image_id))
    raise NotFound(f"{member} is not a member of image {image_id}")


@bp.route("/v2/images/<image_id>/members/<member>", methods=["PUT"])
def update(image_id, member):
    document = json_body()
    status = document.get("status") if isinstance(document, dict) else None
    if status not in MEMBER_STATUSES:
        raise BadRequest(f"Invalid member status {status!r}: one of "
                         f"{', '.join(MEMBER_STATUSES)}")
    context.require_identity()
    image = get_image(image_id)
    ctx = context.request_context()
    if not ctx.can_set_member_status(member):
        raise Forbidden("Only the member itself may change its membership status.")
    _find(image_id, member)
    context.registry().update_member_status(image_id, member, status,
                                            headers=_write_headers(image))
    return json_response(member_view(_find(image["id"], member), image_id))


@bp.route("/v2/images/<image_id>/members/<member>", methods=["DELETE"])
def delete(image_id, member):
    image = modifiable(image_id, "Only the image owner may change its members.")
    _find(image_id, member)
    context.registry().delete_member(image_id, member, headers=_write_headers(image))
    return empty(204)

"""/v2/images/<id>/members: the owner adds and removes members; a member
accepts, rejects (or sets back to pending) its own membership; an admin may
do both (Glance's default policy).

Only ``shared`` images have members (Glance since 2.5).  A member sees its
own membership only; the owner and admins see them all.
"""
from flask import Blueprint

from glance.api import context
from glance.api.json_body import json_body
from glance.api.v2.images import get_image, modifiable
from glance.api.v2.wire import empty, json_response, member_view, visibility
from glance.errors import BadRequest, Conflict, Forbidden, NotFound
from glance.rules import MEMBER_STATUSES, NAME_MAX_LENGTH, PENDING, SHARED

bp = Blueprint("v2_members", __name__)


def _member(image_id, member):
    """One membership, read with the caller's identity.  :raises NotFound:"""
    try:
        return context.registry().get_member(image_id, member, headers=context.auth_headers())
    except NotFound:
        raise NotFound(f"{member} is not a member of image {image_id}") from None


def _visible_members(image):
    """The memberships the caller sees: all of them (the owner, admins), else its own."""
    ctx = context.request_context()
    if ctx.can_see_members(image):
        return context.registry().get_members(image["id"], headers=context.auth_headers())
    if ctx.owner is None:
        return []
    try:
        return [_member(image["id"], ctx.owner)]
    except NotFound:
        return []


def writer_headers():
    """The identity a membership write reaches the registry with, once glance-api
    has authorised the caller.

    The caller's own; but a caller without identity (noauth's admin: every
    request without identity headers, the ``glance`` CLI's for one) writes as
    glance-api itself, a deliberate service call: the registry keeps Diablo's
    rule that sharing needs an identity, and glance's own is one
    (:class:`glance.api.context.NoAuthService`).
    """
    ctx = context.request_context()
    if ctx.is_admin and ctx.owner is None:
        return context.service_headers()
    return context.auth_headers()


@bp.route("/v2/images/<image_id>/members", methods=["POST"])
def create(image_id):
    image = modifiable(image_id)          # the caller first: its body is read only then
    document = json_body()
    member = document.get("member") if isinstance(document, dict) else None
    if not isinstance(member, str) or not member.strip() or len(member) > NAME_MAX_LENGTH:
        raise BadRequest('Member body must be {"member": "<project id>"}')
    if visibility(image) != SHARED:
        raise Forbidden(f"Only shared images have members; image {image_id} is "
                        f"{visibility(image)}.")
    try:
        _member(image_id, member)
    except NotFound:
        pass
    else:
        raise Conflict(f"Member {member} already has access to image {image_id}.")
    context.registry().add_member(image_id, member, headers=writer_headers(), status=PENDING)
    return json_response(member_view(_member(image_id, member), image_id))


@bp.route("/v2/images/<image_id>/members", methods=["GET"])
def index(image_id):
    image = get_image(image_id)
    return json_response({"members": [member_view(m, image_id) for m in _visible_members(image)],
                          "schema": "/v2/schemas/members"})


@bp.route("/v2/images/<image_id>/members/<member>", methods=["GET"])
def show(image_id, member):
    """The owner and admins see every membership; a member its own (else 404)."""
    image = get_image(image_id)
    ctx = context.request_context()
    if not (ctx.can_see_members(image) or (ctx.owner is not None and ctx.owner == member)):
        raise NotFound(f"{member} is not a member of image {image_id}")
    return json_response(member_view(_member(image_id, member), image_id))


@bp.route("/v2/images/<image_id>/members/<member>", methods=["PUT"])
def update(image_id, member):
    ctx = context.request_context()
    ctx.check_identity()
    get_image(image_id)
    ctx.check_member_status(member)
    document = json_body()
    status = document.get("status") if isinstance(document, dict) else None
    if status not in MEMBER_STATUSES:
        raise BadRequest(f"Invalid member status {status!r}: one of "
                         f"{', '.join(MEMBER_STATUSES)}")
    _member(image_id, member)
    context.registry().update_member_status(image_id, member, status, headers=writer_headers())
    return json_response(member_view(_member(image_id, member), image_id))


@bp.route("/v2/images/<image_id>/members/<member>", methods=["DELETE"])
def delete(image_id, member):
    modifiable(image_id)
    _member(image_id, member)
    context.registry().delete_member(image_id, member, headers=writer_headers())
    return empty(204)

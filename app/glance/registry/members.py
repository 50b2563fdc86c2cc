"""Image sharing: /images/<id>/members and /shared-images/<member>.

Writes need an identity: in noauth mode the caller has no owner, so every
write is 401 "No authenticated user", as in Glance 2011.

v2 adds a status to each membership.  Every membership made (or made again
after its removal) starts ``pending``, through v1 or v2: only the member itself
changes its status, so an owner cannot undo a member's rejection by removing
and re-adding it.  v1 readers see shared images whatever the status; the
memberships v1 made before the v2 migration were set ``accepted`` by it.  Adding a member to a ``private`` image makes it
``shared`` (what a v1 image that was private meant); v2 refuses members on a
private image before it gets here.
"""
from flask import Blueprint, Response, g, jsonify, request

from glance import rules
from glance.errors import BadRequest, Forbidden, NotFound
from glance.registry import queries
from glance.registry.images import load_undeleted, state
from glance.registry.models import ImageMember, utcnow
from glance.registry.serialize import member as member_dict

bp = Blueprint("members", __name__)


def _no_content():
    return Response(status=204)


def _sharable_image(session, image_id):
    """The image, if the caller may change its members.

    :raises Unauthorized: no authenticated user. :raises NotFound:
    :raises Forbidden: not the owner, an admin, or a member with can_share.
    """
    g.ctx.check_sharer()
    image = load_undeleted(session, image_id)
    g.ctx.check_share(image, queries.get_membership(session, image.id, g.ctx.owner))
    return image


def _can_share(value, default):
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BadRequest("can_share must be true or false")
    return value


def _status(value):
    """The status a writer of members may give: ``pending`` only (or none).

    :raises Forbidden: any other; only the member changes its own status.
    """
    if value is None or rules.member_status(value) == rules.PENDING:
        return rules.PENDING
    raise Forbidden("Only the member itself may change its membership status")


def _set_member(session, image, member, can_share, status=rules.PENDING):
    """Create or undelete a membership; ``can_share`` None keeps the current value.

    A new (or undeleted) membership is ``pending``; an existing one keeps its status.
    """
    if image.visibility == "private":
        image.visibility, image.updated_at = "shared", utcnow()
    row = queries.get_membership(session, image.id, member, include_deleted=True)
    if row is None:
        session.add(ImageMember(image_id=image.id, member=member,
                                can_share=bool(can_share), status=status))
        return
    if row.deleted:
        row.deleted, row.deleted_at = False, None
        row.can_share, row.status = bool(can_share), status
    elif can_share is not None:
        row.can_share = can_share
    row.updated_at = utcnow()


@bp.get("/images/<image_id>/members")
def list_members(image_id):
    with state().Session() as session:
        image = load_undeleted(session, image_id)
        g.ctx.check_see_members(image)
        rows = queries.memberships(session, image.id)
        return jsonify({"members": [member_dict(r) for r in rows]})


def _membership(session, image_id, member):
    """The undeleted membership, shown to the owner, admins and the member itself.

    :raises NotFound: no such image or membership, or not the caller's to see.
    """
    image = load_undeleted(session, image_id)
    row = queries.get_membership(session, image.id, member)
    if row is None or not (g.ctx.can_see_members(image) or g.ctx.can_set_member_status(member)):
        raise NotFound(f"Member {member[:255]!r} not found on image {image.id}")
    return row


@bp.get("/images/<image_id>/members/<member>")
def show_member(image_id, member):
    with state().Session() as session:
        return jsonify({"member": member_dict(_membership(session, image_id, member))})


@bp.put("/images/<image_id>/members/<member>/status")
def set_member_status(image_id, member):
    """The member accepts, rejects (or resets to pending) an image shared with it.

    :raises Unauthorized: no identity. :raises Forbidden: not that member.
    """
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or "status" not in body:
        raise BadRequest("Expected {\"status\": \"pending|accepted|rejected\"}")
    status = rules.member_status(body["status"])
    if g.ctx.owner is None and not g.ctx.is_admin:
        g.ctx.check_member_status(member)       # 401 before any lookup
    with state().Session() as session:
        row = _membership(session, image_id, member)
        g.ctx.check_member_status(member)
        if row.status != status:
            row.status, row.updated_at = status, utcnow()
            session.commit()
        return jsonify({"member": member_dict(row)})


@bp.put("/images/<image_id>/members")
def replace_members(image_id):
    body = request.get_json(force=True, silent=True)
    wanted = body.get("memberships") if isinstance(body, dict) else None
    if not isinstance(wanted, list):
        raise BadRequest("Invalid membership association: expected {\"memberships\": [...]}")
    requested = {}
    for item in wanted:
        member = item.get("member_id") if isinstance(item, dict) else None
        if not isinstance(member, str) or not member or len(member) > 255:
            raise BadRequest(f"Invalid membership association: {item!r}")
        requested[member] = (_can_share(item.get("can_share"), None),
                             _status(item.get("status")))
    rules.check_member_count(len(requested), state().conf)
    with state().Session() as session:
        image = _sharable_image(session, image_id)
        now = utcnow()
        for row in queries.memberships(session, image.id):
            if row.member not in requested:
                row.deleted, row.deleted_at = True, now
        for member, (can_share, status) in requested.items():
            _set_member(session, image, member, can_share, status)
        session.commit()
    return _no_content()


@bp.put("/images/<image_id>/members/<member>")
def add_member(image_id, member):
    can_share, status = None, rules.PENDING
    if request.get_data():
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("member"), dict):
            raise BadRequest("Invalid membership association: expected {\"member\": {...}}")
        can_share = _can_share(body["member"].get("can_share"), None)
        status = _status(body["member"].get("status"))
    if len(member) > 255:
        raise BadRequest("Member names are at most 255 characters")
    with state().Session() as session:
        image = _sharable_image(session, image_id)
        members = {row.member for row in queries.memberships(session, image.id)}
        rules.check_member_count(len(members | {member}), state().conf)
        _set_member(session, image, member, can_share, status)
        session.commit()
    return _no_content()


@bp.delete("/images/<image_id>/members/<member>")
def delete_member(image_id, member):
    with state().Session() as session:
        image = _sharable_image(session, image_id)
        row = queries.get_membership(session, image.id, member)
        if row is not None:
            row.deleted, row.deleted_at = True, utcnow()
            session.commit()
    return _no_content()


@bp.get("/shared-images/<member>")
def shared_images(member):
    g.ctx.check_see_shared_with(member)
    with state().Session() as session:
        rows = queries.shared_with(session, member)
        return jsonify({"shared_images": [{"image_id": image_id, "can_share": can_share}
                                          for image_id, can_share in rows]})

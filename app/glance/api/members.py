"""Image sharing: members of an image, and the images shared with a member.

Who may share is the registry's decision (it sees the same auth headers);
this module checks the shape of request bodies and passes the calls on.
"""
from flask import Blueprint, Response

from glance import rules
from glance.api import context
from glance.api.errors import status_line
from glance.api.images import json_response
from glance.api.json_body import json_body
from glance.errors import BadRequest, NotFound

bp = Blueprint("members", __name__)


def _can_share(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRequest("can_share must be true or false")


def _v1(item):
    """A membership as v1 shows it (the registry adds v2's status and times)."""
    return {"member_id": item["member_id"], "can_share": item["can_share"]}


@bp.route("/v1/images/<image_id>/members", methods=["GET"])
def members(image_id):
    found = context.registry().get_members(image_id, headers=context.auth_headers())
    return json_response({"members": [_v1(item) for item in found]})


@bp.route("/v1/images/<image_id>/members/<member>", methods=["GET"])
def member(image_id, member):
    found = context.registry().get_members(image_id, headers=context.auth_headers())
    for item in found:
        if item.get("member_id") == member:
            return json_response({"member": _v1(item)})
    raise NotFound(f"{member} is not a member of image {image_id}")


@bp.route("/v1/images/<image_id>/members", methods=["PUT"])
def replace_members(image_id):
    """Replace the member list with ``{"memberships": [{"member_id", "can_share"?}]}``."""
    context.request_context().check_sharer()    # before the body is read
    document = json_body(kinds=None)
    try:
        given = document["memberships"]
        memberships = []
        for entry in given:
            item = {"member_id": str(entry["member_id"])}
            if "can_share" in entry:
                item["can_share"] = _can_share(entry["can_share"])
            memberships.append(item)
    except (KeyError, TypeError):
        raise BadRequest('Invalid membership body: expected {"memberships": '
                         '[{"member_id": ..., "can_share": ...}]}') from None
    rules.check_member_count(len({item["member_id"] for item in memberships}), context.conf())
    context.registry().replace_members(image_id, memberships, headers=context.auth_headers())
    return Response(status=status_line(204))


@bp.route("/v1/images/<image_id>/members/<member>", methods=["PUT"])
def add_member(image_id, member):
    """Add ``member``; an optional ``{"member": {"can_share": bool}}`` sets sharing."""
    context.request_context().check_sharer()    # before the body is read
    document = json_body(kinds=None, required=False)
    can_share = None
    if document is not None:
        try:
            can_share = _can_share(document["member"]["can_share"])
        except (KeyError, TypeError):
            raise BadRequest('Invalid membership body: expected '
                             '{"member": {"can_share": true|false}}') from None
    context.registry().add_member(image_id, member, can_share=can_share,
                                  headers=context.auth_headers())
    return Response(status=status_line(204))


@bp.route("/v1/images/<image_id>/members/<member>", methods=["DELETE"])
def delete_member(image_id, member):
    context.registry().delete_member(image_id, member, headers=context.auth_headers())
    return Response(status=status_line(204))


@bp.route("/v1/shared-images/<member>", methods=["GET"])
def shared_images(member):
    found = context.registry().get_shared_images(member, headers=context.auth_headers())
    return json_response({"shared_images": found})

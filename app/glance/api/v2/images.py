"""/v2/images: create, list, show, PATCH, delete, and the deactivate/reactivate actions."""
import logging
from urllib.parse import urlencode

from flask import Blueprint, request

from glance.api import context
from glance.api import images as v1_images
from glance.api.headers import public
from glance.api.json_body import json_body
from glance.api.v2 import fields as checks
from glance.api.v2 import locations
from glance.api.v2 import patch as json_patch
from glance.api.v2.wire import empty, image_view, json_response, visibility
from glance.errors import BadRequest, Conflict, Forbidden, NotFound
from glance.rules import ACTIVE, DEACTIVATED, DELETED, QUEUED, READABLE, SHARED, check_format_change

LOG = logging.getLogger("glance.api")
bp = Blueprint("v2_images", __name__)

PATCH_TYPES = ("application/openstack-images-v2.1-json-patch",
               "application/openstack-images-v2.0-json-patch")
OLD_PATCH_TYPE = PATCH_TYPES[1]      # its body has the operation as the key
# List parameters passed to the registry as they are.
FILTERS = ("name", "status", "owner", "container_format", "disk_format", "visibility",
           "member_status", "protected", "os_hidden", "size", "size_min", "size_max", "id",
           "created_at", "updated_at", "checksum", "os_hash_value")
PAGING = ("limit", "marker", "sort_key", "sort_dir", "sort")


def _viewer():
    """The caller's view of one registry record, as a function; what is the same for
    every image of a list is looked up once."""
    stores, listing = context.stores(), locations.enabled()

    def view_of(image):
        # show_multiple_locations: the owner's and admins' views list the locations
        listed = listing and locations.may_see(image)
        if listed or (stores.multiple and image.get("status") in READABLE):
            # ``stores`` is named from the location, which the registry shows to admins
            # only.  Asked again as glance: one more registry call, with multiple stores.
            image = v1_images.with_location(image)
        view = image_view(image, stores)
        if listing:
            view["locations"] = locations.shown(image) if listed else []
        return view
    return view_of


def _view(image):
    return _viewer()(image)


def get_image(image_id):
    """The caller's view of an image record; 404 when it may not see it."""
    try:
        image = context.registry().get(image_id, headers=context.auth_headers())
    except NotFound:
        raise NotFound(f"No image found with ID {image_id}") from None
    if image.get("deleted") or image.get("status") == DELETED:
        raise NotFound(f"No image found with ID {image_id}")
    return image


def modifiable(image_id):
    """The image, if the caller may change it. :raises Forbidden: :raises NotFound:"""
    ctx = context.request_context()
    ctx.check_identity()
    image = get_image(image_id)
    ctx.check_modify(image)
    return image


def image_record(document):
    """The registry record of the queued image a v2 create body describes.

    :raises BadRequest: :raises Forbidden: a read-only or reserved attribute, or
        an owner set by a non-admin.
    """
    if not isinstance(document, dict):
        raise BadRequest("Image body must be a JSON object")
    document = dict(document)
    image_id = document.pop("id", None)
    values = {}
    for key, value in document.items():
        checks.check_name_allowed(key)
        values[key] = checks.check_value(key, value)
    fields, properties, tags = checks.split(values)
    if "owner" in fields:
        context.request_context().check_owner(fields["owner"])
    context.request_context().check_visibility(fields.get("visibility"))
    record = {**fields, "properties": properties, "status": QUEUED, "tags": tags or []}
    record.setdefault("visibility", SHARED)
    if image_id is not None:
        record["id"] = image_id
    return record


def create_image(record):
    """Create the image of :func:`image_record` for the caller.

    :raises Conflict: the id is taken.
    """
    try:
        image = context.registry().create(record, headers=context.auth_headers(), api="v2")
    except Conflict:
        raise Conflict(f"Image with identifier {record.get('id')} already exists!") from None
    context.notifier().info("image.create", public(image))
    return image


@bp.route("/v2/images", methods=["POST"])
def create():
    context.request_context().check_identity()
    image = create_image(image_record(json_body()))
    methods = context.conf().enabled_import_methods
    headers = [("Location", f"{request.host_url.rstrip('/')}/v2/images/{image['id']}")]
    if methods:
        headers.append(("OpenStack-image-import-methods", methods))
    return json_response(_view(image), 201, headers)


def _registry_params():
    """The v2 query as registry list parameters."""
    params = []
    if request.args.get("sort") and ("sort_key" in request.args or "sort_dir" in request.args):
        raise BadRequest("sort may not be combined with sort_key or sort_dir")
    for key, value in request.args.items(multi=True):
        if key in FILTERS or key in PAGING or key == "tag":
            params.append((key, value))
        else:                              # an extra property, as v1 filters them
            params.append((f"property-{key}", value))
    if not any(k == "limit" for k, _ in params):
        params.append(("limit", str(context.conf().limit_param_default)))
    return params


def _page_size():
    """The most items one list answer holds: a full page means there may be a next one."""
    conf = context.conf()
    raw = request.args.get("limit")
    limit = int(raw) if raw and raw.isdigit() else conf.limit_param_default
    return min(limit, conf.api_limit_max)


def page_links(path, found):
    """``first`` (the query without its marker) and, after a full page of ``found``
    (records with an ``id``), ``next``: a v2 list's links."""
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "marker"]
    links = {"first": path + (f"?{urlencode(query)}" if query else "")}
    if found and len(found) == _page_size():
        links["next"] = f"{path}?" + urlencode(query + [("marker", found[-1]["id"])])
    return links


@bp.route("/v2/images", methods=["GET"])
def index():
    params = _registry_params()
    images = context.registry().list_v2(params=params, headers=context.auth_headers())
    view_of = _viewer()
    return json_response({"images": [view_of(image) for image in images],
                          **page_links("/v2/images", images), "schema": "/v2/schemas/images"})


@bp.route("/v2/images/<image_id>", methods=["GET"])
def show(image_id):
    return json_response(_view(get_image(image_id)))


@bp.route("/v2/images/<image_id>", methods=["PATCH"])
def update(image_id):
    image = modifiable(image_id)          # the caller first: its body is read only then
    document = json_body(PATCH_TYPES)
    old_form = (request.mimetype or "").lower() == OLD_PATCH_TYPE
    ops = json_patch.parse(document, old_form)
    location_ops = [op for op in ops if locations.is_location_op(op[1])]
    changes = json_patch.apply(image, [op for op in ops if op not in location_ops])
    registry, auth = context.registry(), context.auth_headers()
    planned = None
    if location_ops:        # checked in full before anything is written
        planned = locations.plan_patch(v1_images.with_location(image), location_ops)
    fields, properties, tags, purge = changes
    if "owner" in fields:
        context.request_context().check_owner(fields["owner"], image.get("owner"))
    context.request_context().check_visibility(fields.get("visibility"),
                                               visibility(image))
    check_format_change(image, fields)
    update_body = dict(fields)
    if purge or properties != (image.get("properties") or {}):
        update_body["properties"] = properties
    if tags is not None:
        update_body["tags"] = tags
    if update_body:
        image = registry.update(image_id, update_body, purge_props=purge, headers=auth,
                                api="v2")
    if planned and planned[0]:
        image = locations.apply_patch(image, *planned)
    context.notifier().info("image.update", public(image))
    return json_response(_view(image))


@bp.route("/v2/images/<image_id>", methods=["DELETE"])
def delete(image_id):
    context.request_context().check_identity()
    v1_images.delete_image(get_image(image_id))
    return empty(204)


def _change_status(image_id, wanted, allowed_from):
    """deactivate/reactivate: the owner or an admin, a compare-and-set on the status."""
    context.request_context().check_identity()
    image = get_image(image_id)
    context.request_context().check_deactivate(image)
    status = image["status"]
    if status == wanted:
        return empty(204)
    if status not in allowed_from:
        raise Forbidden(f"Not allowed to change image {image_id} to {wanted} "
                        f"from status '{status}'")
    try:
        context.registry().update(image_id, {"status": wanted},
                                  headers=context.service_headers(), expect_status=status)
    except Conflict:
        raise Conflict(f"Image {image_id} changed status meanwhile; try again") from None
    return empty(204)


@bp.route("/v2/images/<image_id>/actions/deactivate", methods=["POST"])
def deactivate(image_id):
    return _change_status(image_id, DEACTIVATED, (ACTIVE,))


@bp.route("/v2/images/<image_id>/actions/reactivate", methods=["POST"])
def reactivate(image_id):
    return _change_status(image_id, ACTIVE, (DEACTIVATED,))

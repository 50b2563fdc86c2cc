"""/v2/metadefs/namespaces/<namespace>/objects, /properties and /tags."""
from flask import Blueprint, request

from glance.api.v2.metadefs import (NAMESPACES, auth, json_object, no_body, object_view,
                                    present, registry)
from glance.api.v2.wire import empty, json_response

bp = Blueprint("v2_metadef_items", __name__)
ITEMS = f"{NAMESPACES}/<namespace>/<any(objects, properties, tags):kind>"
ITEM = ITEMS + "/<name>"
TAG_PARAMS = ("limit", "marker", "sort_key", "sort_dir")
# X-Openstack-Append: what oslo's bool_from_string takes for true; anything else is false.
TRUE = ("1", "t", "true", "on", "y", "yes")


def view(namespace, kind, record):
    """An object (with its links), a property (as defined) or a tag (name and times)."""
    if kind == "objects":
        return object_view(namespace, record)
    return record if kind == "properties" else present(record)


@bp.route(ITEMS, methods=["GET"])
def index(namespace, kind):
    """All objects or properties of the namespace, or a page of its tags (names only)."""
    headers = auth()
    params = None
    if kind == "tags":
        params = [(k, v) for k, v in request.args.items(multi=True) if k in TAG_PARAMS]
    found = registry().list_items(namespace, kind, params=params, headers=headers)
    if kind == "objects":
        return json_response({"objects": [object_view(namespace, obj) for obj in found],
                              "schema": "/v2/schemas/metadefs/objects"})
    if kind == "tags":
        return json_response({"tags": [{"name": tag["name"]} for tag in found]})
    return json_response({"properties": found})


@bp.route(ITEMS, methods=["POST"])
def create(namespace, kind):
    """An object or a property; for tags, the namespace's new tag list (``X-Openstack-Append``
    true adds to it)."""
    headers = auth()
    body = json_object()
    if kind == "tags":
        append = request.headers.get("X-Openstack-Append", "").strip().lower() in TRUE
        tags = registry().create_tags(namespace, body, append=append, headers=headers)
        return json_response({"tags": [{"name": tag["name"]} for tag in tags]}, 201)
    created = registry().create_item(namespace, kind, body, headers=headers)
    return json_response(view(namespace, kind, created), 201)


@bp.route(ITEMS, methods=["DELETE"])
def delete_all(namespace, kind):
    """Delete every object, property or tag of the namespace."""
    headers = auth()
    registry().delete_namespace_items(namespace, kind, headers=headers)
    return empty(204)


@bp.route(ITEM, methods=["GET"])
def show(namespace, kind, name):
    """One object, tag or property (``?resource_type=``: ``name`` carries that prefix)."""
    headers = auth()
    no_body()
    params = None
    if kind == "properties" and request.args.get("resource_type"):
        params = {"resource_type": request.args["resource_type"]}
    found = registry().get_item(namespace, kind, name, params=params, headers=headers)
    return json_response(view(namespace, kind, found))


@bp.route(f"{NAMESPACES}/<namespace>/tags/<name>", methods=["POST"])
def create_tag(namespace, name):
    headers = auth()
    no_body()
    return json_response(present(registry().create_tag(namespace, name, headers=headers)), 201)


@bp.route(ITEM, methods=["PUT"])
def update(namespace, kind, name):
    headers = auth()
    updated = registry().update_item(namespace, kind, name, json_object(), headers=headers)
    return json_response(view(namespace, kind, updated))


@bp.route(ITEM, methods=["DELETE"])
def delete(namespace, kind, name):
    headers = auth()
    no_body()
    registry().delete_item(namespace, kind, name, headers=headers)
    return empty(204)

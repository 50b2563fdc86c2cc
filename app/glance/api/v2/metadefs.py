"""/v2/metadefs/namespaces and /v2/metadefs/resource_types: the metadata definitions catalog.

glance-registry keeps the catalog and applies the rules (who reads and who
writes, protected namespaces, quotas, names taken): it answers with records
that this module shapes as Glance does.  As wsme did, attributes without a
value are left out, times are ``...Z`` to the second, and ``self`` and
``schema`` links are added.
"""
from urllib.parse import quote, urlencode

from flask import Blueprint, request

from glance.api import context
from glance.api.json_body import json_body
from glance.api.v2.wire import empty, json_response
from glance.errors import BadRequest

bp = Blueprint("v2_metadefs", __name__)
NAMESPACES = "/v2/metadefs/namespaces"
NAMESPACE_FIELDS = ("namespace", "display_name", "description", "visibility", "protected",
                    "owner", "created_at", "updated_at")
LIST_PARAMS = ("limit", "marker", "sort_key", "sort_dir", "visibility", "resource_types")


def isotime(value):
    """The registry's naive UTC time (to the second) as Glance shows it."""
    return value + "Z" if value and not value.endswith("Z") else value


def present(record, fields=None):
    """``record`` without attributes that have no value, its times in Glance's form."""
    shown = {}
    for key in fields or record:
        value = record.get(key)
        if value is not None:
            shown[key] = isotime(value) if key.endswith("_at") else value
    return shown


def association_view(record):
    return present(record, ("name", "prefix", "properties_target", "created_at", "updated_at"))


def object_view(namespace, record):
    return {**present(record), "self": f"{NAMESPACES}/{namespace}/objects/{record['name']}",
            "schema": "/v2/schemas/metadefs/object"}


def namespace_view(record):
    """A namespace; with what it holds when the record carries it (detail, creation)."""
    name = record["namespace"]
    view = present(record, NAMESPACE_FIELDS)
    associations = record.get("resource_type_associations")
    if associations:
        view["resource_type_associations"] = [association_view(a) for a in associations]
    if record.get("properties"):
        view["properties"] = record["properties"]
    if record.get("objects"):
        view["objects"] = [object_view(name, obj) for obj in record["objects"]]
    if record.get("tags"):
        view["tags"] = [{"name": tag["name"]} for tag in record["tags"]]
    view["self"] = f"{NAMESPACES}/{name}"
    view["schema"] = "/v2/schemas/metadefs/namespace"
    return view


def no_body():
    """:raises BadRequest: the request has a body where Glance takes none."""
    if request.content_length or request.headers.get("Transfer-Encoding"):
        raise BadRequest("This request takes no body")


def json_object():
    """The request's JSON object (``max_json_body`` at most).  :raises BadRequest:"""
    document = json_body()
    if not isinstance(document, dict):
        raise BadRequest("Request body must be a JSON object")
    return document


def registry():
    return context.registry()


def auth():
    """The caller's identity for the registry; anonymous callers are refused first (401)."""
    context.request_context().check_identity()
    return context.auth_headers()


@bp.route(NAMESPACES, methods=["GET"])
def index():
    """A page of the namespaces the caller may read; ``next`` while more follow."""
    headers = auth()
    params = [(k, v) for k, v in request.args.items(multi=True) if k in LIST_PARAMS]
    page = registry().list_namespaces(params=params, headers=headers)
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "marker"]
    body = {"namespaces": [namespace_view(ns) for ns in page["namespaces"]],
            "first": NAMESPACES + (f"?{urlencode(query)}" if query else ""),
            "schema": "/v2/schemas/metadefs/namespaces"}
    if page.get("next"):
        body["next"] = f"{NAMESPACES}?{urlencode(query + [('marker', page['next'])])}"
    return json_response(body)


@bp.route(NAMESPACES, methods=["POST"])
def create():
    headers = auth()
    namespace = registry().create_namespace(json_object(), headers=headers)
    location = f"{request.host_url.rstrip('/')}{NAMESPACES}/{quote(namespace['namespace'])}"
    return json_response(namespace_view(namespace), 201, [("Location", location)])


@bp.route(f"{NAMESPACES}/<namespace>", methods=["GET"])
def show(namespace):
    """The namespace and all it holds; ``?resource_type=`` prefixes property names."""
    headers = auth()
    no_body()
    found = registry().get_namespace(namespace, request.args.get("resource_type"),
                                     headers=headers)
    return json_response(namespace_view(found))


@bp.route(f"{NAMESPACES}/<namespace>", methods=["PUT"])
def update(namespace):
    headers = auth()
    updated = registry().update_namespace(namespace, json_object(), headers=headers)
    return json_response(namespace_view(updated))


@bp.route(f"{NAMESPACES}/<namespace>", methods=["DELETE"])
def delete(namespace):
    headers = auth()
    no_body()
    registry().delete_namespace(namespace, headers=headers)
    return empty(204)


# --- resource types -----------------------------------------------------------------

@bp.route("/v2/metadefs/resource_types", methods=["GET"])
def resource_types():
    headers = auth()
    no_body()
    found = registry().list_resource_types(headers=headers)
    return json_response({"resource_types": [present(rt) for rt in found]})


@bp.route(f"{NAMESPACES}/<namespace>/resource_types", methods=["GET"])
def associations(namespace):
    headers = auth()
    no_body()
    found = registry().list_associations(namespace, headers=headers)
    return json_response({"resource_type_associations": [association_view(a) for a in found]})


@bp.route(f"{NAMESPACES}/<namespace>/resource_types", methods=["POST"])
def associate(namespace):
    headers = auth()
    created = registry().create_association(namespace, json_object(), headers=headers)
    return json_response(association_view(created), 201)


@bp.route(f"{NAMESPACES}/<namespace>/resource_types/<resource_type>", methods=["DELETE"])
def dissociate(namespace, resource_type):
    headers = auth()
    no_body()
    registry().delete_association(namespace, resource_type, headers=headers)
    return empty(204)

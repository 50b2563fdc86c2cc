"""/v2/info/import, /v2/info/stores and /v2/info/usage: what a client may ask of this server."""
from flask import Blueprint

from glance.api import context
from glance.api.v2.image_data import import_methods
from glance.api.v2.wire import json_response
from glance.errors import NotFound

bp = Blueprint("v2_discovery", __name__)


@bp.route("/v2/info/import", methods=["GET"])
def import_info():
    return json_response({"import-methods": {
        "description": "Import methods available.", "type": "array",
        "value": import_methods()}})


@bp.route("/v2/info/stores", methods=["GET"])
def stores():
    """The stores configured here; the default one flagged, the HTTP store read-only.

    Only with multiple stores: a client that finds this list imports into stores
    and waits for the image's ``stores`` field.
    """
    if not context.multiple_stores():
        raise NotFound("Multi backend is not supported at this site.")
    stores = context.stores()
    found = []
    for name, store in sorted(stores.listed().items()):
        entry = {"id": name, "description": stores.description(name)}
        if name == stores.default_name:
            entry["default"] = "true"
        if store.read_only:
            entry["read-only"] = "true"
        if name in stores.weights:
            entry["weight"] = stores.weights[name]
        found.append(entry)
    return json_response({"stores": found})


# Quotas of Keystone's unified limits; none is enforced here, so each limit is -1 (no limit).
USAGE = ("image_size_total", "image_count_total", "image_stage_total", "image_count_uploading")
IN_MIB = ("image_size_total", "image_stage_total")
MIB = 1024 * 1024


@bp.route("/v2/info/usage", methods=["GET"])
def usage():
    """The caller's project's usage (sizes in MiB, rounded down, as Glance counts them)."""
    context.request_context().check_identity()
    counted = context.registry().usage(headers=context.auth_headers())
    return json_response({"usage": {
        name: {"limit": -1, "usage": counted[name] // MIB if name in IN_MIB else counted[name]}
        for name in USAGE}})

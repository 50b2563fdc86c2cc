"""/v2/info/import and /v2/info/stores: what a client may ask of this server."""
from flask import Blueprint

from glance.api import context
from glance.api.v2.image_data import import_methods
from glance.api.v2.wire import json_response

bp = Blueprint("v2_discovery", __name__)


@bp.route("/v2/info/import", methods=["GET"])
def import_info():
    return json_response({"import-methods": {
        "description": "Import methods available.", "type": "array",
        "value": import_methods()}})


@bp.route("/v2/info/stores", methods=["GET"])
def stores():
    """The stores configured here; the default one flagged, the HTTP store read-only."""
    stores = context.stores()
    found = []
    for name, store in sorted(stores.configured().items()):
        entry = {"id": name, "description": store.description}
        if name == stores.default_name:
            entry["default"] = "true"
        if store.read_only:
            entry["read-only"] = "true"
        found.append(entry)
    return json_response({"stores": found})

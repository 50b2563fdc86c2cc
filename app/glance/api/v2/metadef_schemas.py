"""/v2/schemas/metadefs/...: the JSON-Schema documents of the metadata definitions catalog.

Same names, structure and limits as Glance's, so that clients (Horizon's
metadata editor, python-glanceclient) build the same forms.  The limits
and choices come from :mod:`glance.registry.metadef_validation`, which
checks every body against them.
"""
from flask import Blueprint

from glance.api.v2.schemas import collection
from glance.api.v2.wire import json_response
from glance.registry.metadef_validation import (DESCRIPTION_MAX, NAME_MAX, OWNER_MAX,
                                                PROPERTY_TYPES, VISIBILITIES)

bp = Blueprint("v2_metadef_schemas", __name__)
TYPES = [*PROPERTY_TYPES, None]


def _text(description=None, **extra):
    return {"type": "string", **({"description": description} if description else {}), **extra}


def _read_only(description=None, **extra):
    return _text(description, readOnly=True, **extra)


def _times(what):
    return {"created_at": _read_only(f"When the {what} was created", format="date-time"),
            "updated_at": _read_only(f"When the {what} was last changed", format="date-time")}


def property_attributes():
    """What a property definition may say (a subset of JSON Schema)."""
    return {
        "name": _text(maxLength=NAME_MAX), "title": _text(), "description": _text(),
        "operators": {"type": "array", "items": {"type": "string"}},
        "type": {"type": "string", "enum": TYPES},
        "required": {"$ref": "#/definitions/stringArray"},
        "minimum": {"type": "number"}, "maximum": {"type": "number"},
        "maxLength": {"$ref": "#/definitions/positiveInteger"},
        "minLength": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "pattern": _text(format="regex"), "enum": {"type": "array"},
        "readonly": {"type": "boolean"}, "default": {},
        "items": {"type": "object", "properties": {"type": {"type": "string", "enum": TYPES},
                                                   "enum": {"type": "array"}}},
        "maxItems": {"$ref": "#/definitions/positiveInteger"},
        "minItems": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "uniqueItems": {"type": "boolean", "default": False},
        "additionalItems": {"type": "boolean"},
    }


def definitions():
    return {
        "positiveInteger": {"type": "integer", "minimum": 0},
        "positiveIntegerDefault0": {"allOf": [{"$ref": "#/definitions/positiveInteger"},
                                              {"default": 0}]},
        "stringArray": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "property": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["title", "type"],
            "properties": property_attributes()}},
    }


def _schema(name, properties, required, with_definitions=True):
    schema = {"name": name, "properties": properties, "additionalProperties": False,
              "required": required}
    if with_definitions:
        schema["definitions"] = definitions()
    return schema


def _collection(name, item):
    """Glance's collection document: the item's definitions move to the top."""
    shared = item.pop("definitions", None)
    document = collection(name, item)
    if shared:
        document["definitions"] = shared
    return document


def namespace_schema():
    properties = {
        "namespace": _text("The unique name of the namespace", maxLength=NAME_MAX),
        "display_name": _text("The name a user interface shows", maxLength=NAME_MAX),
        "description": _text("What the namespace is about", maxLength=DESCRIPTION_MAX),
        "visibility": _text("Who may read the namespace", enum=list(VISIBILITIES)),
        "protected": {"type": "boolean", "description": "If true, the namespace and what "
                      "it holds cannot be deleted"},
        "owner": _text("The project that owns the namespace", maxLength=OWNER_MAX),
        **_times("namespace"), "schema": _read_only(), "self": _read_only(),
        "resource_type_associations": {"type": "array", "items": {
            "type": "object", "properties": {"name": _text(), "prefix": _text(),
                                             "properties_target": _text()}}},
        "properties": {"$ref": "#/definitions/property"},
        "objects": {"type": "array", "items": {"type": "object", "properties": {
            "name": _text(), "description": _text(),
            "required": {"$ref": "#/definitions/stringArray"},
            "properties": {"$ref": "#/definitions/property"}}}},
        "tags": {"type": "array", "items": {"type": "object", "properties": {"name": _text()}}},
    }
    return _schema("namespace", properties, ["namespace"])


def object_schema():
    properties = {"name": _text(maxLength=NAME_MAX), "description": _text(),
                  "required": {"$ref": "#/definitions/stringArray"},
                  "properties": {"$ref": "#/definitions/property"},
                  "schema": _read_only(), "self": _read_only(), **_times("object")}
    return _schema("object", properties, ["name"])


def property_schema(required=("type", "title", "name")):
    schema = _schema("property", property_attributes(), list(required))
    schema["definitions"] = {key: value for key, value in definitions().items()
                             if key != "property"}
    return schema


def properties_schema():
    """Properties are a dictionary by name, so an item needs no name of its own."""
    item = property_schema(("type", "title"))
    shared = item.pop("definitions")
    document = collection("properties", item)
    document["properties"]["properties"] = {"type": "object", "additionalProperties": item}
    document["definitions"] = shared
    return document


def tag_schema():
    return _schema("tag", {"name": _text(maxLength=NAME_MAX), **_times("tag")}, ["name"],
                   with_definitions=False)


def association_schema():
    properties = {
        "name": _text("The resource type, named as in Heat where one exists (OS::Nova::Server)",
                      maxLength=NAME_MAX),
        "prefix": _text("Put before each property name of the namespace when it is applied "
                        "to this resource type; ends with a separator such as ':'",
                        maxLength=NAME_MAX),
        "properties_target": _text("Which of the resource's key/value sets the properties "
                                   "go to, where it has several (a volume's image metadata)",
                                   maxLength=NAME_MAX),
        **_times("association"),
    }
    return _schema("resource_type_association", properties, ["name"], with_definitions=False)


DOCUMENTS = {
    "namespace": namespace_schema,
    "namespaces": lambda: _collection("namespaces", namespace_schema()),
    "object": object_schema,
    "objects": lambda: _collection("objects", object_schema()),
    "property": property_schema,
    "properties": properties_schema,
    "tag": tag_schema,
    "tags": lambda: _collection("tags", tag_schema()),
    "resource_type": association_schema,
    "resource_types": lambda: _collection("resource_type_associations", association_schema()),
}


@bp.route("/v2/schemas/metadefs/<any(" + ", ".join(DOCUMENTS) + "):name>", methods=["GET"])
def show(name):
    return json_response(DOCUMENTS[name]())

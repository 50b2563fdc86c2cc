"""/v2/schemas/image(s) and member(s): the JSON-Schema documents clients build on.

python-glanceclient builds its image model from ``/v2/schemas/image``
(warlock) and Nova reads the ``disk_format`` enum from it, so the documents
follow Glance's: base properties, ``additionalProperties`` strings, and links.
The format enums are the registry's, so the schema never offers what it refuses.
"""
from flask import Blueprint

from glance.api.v2.wire import json_response
from glance.rules import CONTAINER_FORMATS, DISK_FORMATS, MEMBER_STATUSES, STATUSES, VISIBILITIES

bp = Blueprint("v2_schemas", __name__)

UUID_PATTERN = ("^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
                "-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$")


def _prop(kind, description, **extra):
    return {"type": kind, "description": description, **extra}


def _ro(kind, description, **extra):
    return _prop(kind, description, readOnly=True, **extra)


def image_properties():
    nullable_text = ["null", "string"]
    return {
        "id": _prop("string", "An identifier for the image", pattern=UUID_PATTERN),
        "name": _prop(nullable_text, "Descriptive name for the image", maxLength=255),
        "status": _ro("string", "Status of the image", enum=list(STATUSES)),
        "visibility": _prop("string", "Scope of image accessibility", enum=list(VISIBILITIES)),
        "protected": _prop("boolean", "If true, image will not be deletable."),
        "os_hidden": _prop("boolean", "If true, image will not appear in default image list "
                           "response."),
        "checksum": _ro(nullable_text, "md5 hash of image contents.", maxLength=32),
        "os_hash_algo": _ro(nullable_text, "Algorithm to calculate the os_hash_value",
                            maxLength=64),
        "os_hash_value": _ro(nullable_text, "Hexdigest of the image contents using the "
                             "algorithm specified by the os_hash_algo", maxLength=128),
        "owner": _prop(nullable_text, "Owner of the image", maxLength=255),
        "size": _ro(["null", "integer"], "Size of image file in bytes"),
        "virtual_size": _ro(["null", "integer"], "Virtual size of image in bytes"),
        "container_format": _prop(nullable_text, "Format of the container",
                                  enum=[None, *CONTAINER_FORMATS]),
        "disk_format": _prop(nullable_text, "Format of the disk",
                             enum=[None, *DISK_FORMATS]),
        "created_at": _ro("string", "Date and time of image registration"),
        "updated_at": _ro("string", "Date and time of the last image modification"),
        "tags": _prop("array", "List of strings related to the image",
                      items={"type": "string", "maxLength": 255}),
        "direct_url": _ro("string", "URL to access the image file kept in external store"),
        "min_ram": _prop("integer", "Amount of ram (in MB) required to boot image."),
        "min_disk": _prop("integer", "Amount of disk space (in GB) required to boot image."),
        "self": _ro("string", "An image self url"),
        "file": _ro("string", "An image file url"),
        "stores": _ro("string", "Store in which image data resides."),
        "schema": _ro("string", "An image schema url"),
        "locations": _prop("array", "A set of URLs to access the image file kept in "
                           "external store", items={
                               "type": "object",
                               "properties": {"url": {"type": "string", "maxLength": 255},
                                              "metadata": {"type": "object"}},
                               "required": ["url", "metadata"]}),
    }


def image_schema():
    return {
        "name": "image",
        "properties": image_properties(),
        "additionalProperties": {"type": "string"},
        "links": [{"rel": "self", "href": "{self}"},
                  {"rel": "enclosure", "href": "{file}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


def member_schema():
    return {
        "name": "member",
        "properties": {
            "member_id": _prop("string", "An identifier for the image member (tenantId)"),
            "image_id": _prop("string", "An identifier for the image", pattern=UUID_PATTERN),
            "created_at": _prop("string", "Date and time of image member creation"),
            "updated_at": _prop("string", "Date and time of last modification of image "
                                "member"),
            "status": _prop("string", "The status of this image member",
                            enum=list(MEMBER_STATUSES)),
            "schema": {"readOnly": True, "type": "string"},
        },
        "additionalProperties": False,
    }


def collection(name, item):
    return {
        "name": name,
        "properties": {name: {"type": "array", "items": item},
                       "first": {"type": "string"}, "next": {"type": "string"},
                       "schema": {"type": "string"}},
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


@bp.route("/v2/schemas/image", methods=["GET"])
def image():
    return json_response(image_schema())


@bp.route("/v2/schemas/images", methods=["GET"])
def images():
    return json_response(collection("images", image_schema()))


@bp.route("/v2/schemas/member", methods=["GET"])
def member():
    return json_response(member_schema())


@bp.route("/v2/schemas/members", methods=["GET"])
def members():
    return json_response(collection("members", member_schema()))

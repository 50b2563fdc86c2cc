"""Checking metadata definition request bodies against Glance's metadefs schemas.

Every failure is a :class:`glance.errors.BadRequest` (400) with a message
naming the attribute, 403 for an attribute that only the server sets
(``created_at``...), as Glance answers.  Like Glance's schemas, no
attribute outside them is accepted.  No Flask or SQLAlchemy here.
"""
from glance.errors import BadRequest, Forbidden
from glance.rules import CONTROL

NAME_MAX = 80
DESCRIPTION_MAX = 500
OWNER_MAX = 255
VISIBILITIES = ("public", "private")
PROPERTY_TYPES = ("array", "boolean", "integer", "number", "object", "string")
SCALARS = (str, int, float, bool, type(None))
# Attributes only the server sets.
SERVER_SET = ("self", "schema", "created_at", "updated_at")


def _shown(value):
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "..."


def name(value, what="name"):
    """A name that is also a path segment: 1 to 80 characters, no '/', no control character,
    not '.' or '..' (clients resolve those away before they send the path)."""
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{what} must be a non-empty string")
    if len(value) > NAME_MAX:
        raise BadRequest(f"{what} is too long: {len(value)} characters; at most {NAME_MAX}")
    if "/" in value or CONTROL.search(value) or value in (".", ".."):
        raise BadRequest(f"{what} {_shown(value)!r} may not be '.' or '..', nor contain '/' "
                         "or control characters")
    return value


def _string(limit=None):
    def check(value, key):
        if not isinstance(value, str):
            raise BadRequest(f"{key} must be a string")
        if limit is not None and len(value) > limit:
            raise BadRequest(f"{key} is too long: {len(value)} characters; at most {limit}")
        return value
    return check


def _boolean(value, key):
    if not isinstance(value, bool):
        raise BadRequest(f"{key} must be true or false")
    return value


def _count(value, key):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequest(f"{key} must be a whole number of at least 0")
    return value


def _number(value, key):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{key} must be a number")
    return value


def _one_of(choices):
    def check(value, key):
        if value not in choices:
            raise BadRequest(f"Invalid {key} {_shown(value)!r}: one of {', '.join(choices)}")
        return value
    return check


def _strings(unique):
    def check(value, key):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BadRequest(f"{key} must be a list of strings")
        if unique and len(set(value)) != len(value):
            raise BadRequest(f"{key} must not repeat a value")
        return value
    return check


def _scalars(value, key):
    if not isinstance(value, list) or not all(isinstance(v, SCALARS) for v in value):
        raise BadRequest(f"{key} must be a list of strings, numbers or booleans")
    return value


def _anything(value, key):
    return value


def _list_of(check):
    def check_list(value, key):
        if not isinstance(value, list):
            raise BadRequest(f"{key} must be a list")
        return [check(item) for item in value]
    return check_list


def fields(body, spec, what, required=(), read_only=()):
    """The attributes of ``body`` checked one by one by ``spec`` ({key: check}).

    :raises Forbidden: a ``read_only`` attribute. :raises BadRequest: a body that
        is not an object, an unknown or missing attribute, or a bad value.
    """
    if not isinstance(body, dict):
        raise BadRequest(f"{what} must be a JSON object")
    for key in read_only:
        if key in body:
            raise Forbidden(f"Attribute '{key}' is read-only.")
    for key in body:
        if key not in spec:
            raise BadRequest(f"Unknown attribute {_shown(key)!r} in {what}")
    for key in required:
        if key not in body:
            raise BadRequest(f"{what} needs '{key}'")
    return {key: spec[key](value, key) for key, value in body.items()}


ITEMS = {"type": _one_of(PROPERTY_TYPES), "enum": _scalars}

PROPERTY = {
    "name": name, "title": _string(), "description": _string(),
    "operators": _strings(unique=False), "type": _one_of(PROPERTY_TYPES),
    "required": _strings(unique=True), "minimum": _number, "maximum": _number,
    "maxLength": _count, "minLength": _count, "pattern": _string(), "enum": _scalars,
    "readonly": _boolean, "default": _anything,
    "items": lambda value, key: fields(value, ITEMS, key),
    "maxItems": _count, "minItems": _count, "uniqueItems": _boolean, "additionalItems": _boolean,
}


def property_definition(body, require_name=True):
    """``(name, definition)`` of a property; the definition keeps every attribute but the name.

    :param require_name: a property on its own names itself; in a
        ``{name: definition}`` collection the key names it.
    """
    required = ("name", "title", "type") if require_name else ("title", "type")
    checked = fields(body, PROPERTY, "property", required, ("created_at", "updated_at"))
    return checked.pop("name", None), checked


def property_map(value, key="properties"):
    """A ``{name: definition}`` collection (a namespace's or an object's properties)."""
    if not isinstance(value, dict):
        raise BadRequest(f"{key} must be a JSON object of property definitions")
    return {name(prop, "property name"): property_definition(definition, False)[1]
            for prop, definition in value.items()}


OBJECT = {"name": name, "description": _string(), "required": _strings(unique=True),
          "properties": property_map}


def metadef_object(body):
    """An object: name, description, required (property names) and properties."""
    return fields(body, OBJECT, "object", ("name",), SERVER_SET)


def tag(body):
    return fields(body, {"name": name}, "tag", ("name",), ("created_at", "updated_at"))


def tags(body):
    """The names of ``{"tags": [{"name": ...}, ...]}``, in order."""
    checked = fields(body, {"tags": _list_of(tag)}, "tags", ("tags",))
    return [item["name"] for item in checked["tags"]]


ASSOCIATION = {"name": name, "prefix": _string(NAME_MAX),
               "properties_target": _string(NAME_MAX)}


def association(body):
    """A resource type association: the type's name, a prefix, a properties target."""
    return fields(body, ASSOCIATION, "resource type association", ("name",),
                  ("created_at", "updated_at"))


def _given_back(check):
    """What a namespace holds, as a client sends back the detail it read
    (python-glanceclient does, on update): what the server set is ignored."""
    def strip(item):
        if isinstance(item, dict):
            item = {k: v for k, v in item.items() if k not in SERVER_SET}
        return check(item)
    return strip


NAMESPACE = {
    "namespace": lambda value, key: name(value, "namespace"),
    "display_name": _string(NAME_MAX), "description": _string(DESCRIPTION_MAX),
    "visibility": _one_of(VISIBILITIES), "protected": _boolean, "owner": _string(OWNER_MAX),
    "resource_type_associations": _list_of(_given_back(association)),
    "properties": property_map, "objects": _list_of(_given_back(metadef_object)),
    "tags": _list_of(_given_back(tag)),
}


def namespace(body):
    """A namespace; on creation also the associations, properties, objects and tags it starts
    with (on update they are checked and left alone)."""
    return fields(body, NAMESPACE, "namespace", ("namespace",), SERVER_SET)

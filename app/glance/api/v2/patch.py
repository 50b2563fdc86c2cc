"""PATCH /v2/images/<id>: the subset of RFC 6902 Glance accepts.

Operations ``add``, ``replace`` and ``remove`` on ``/<base field>``,
``/tags`` and ``/<extra property>`` (one level); ``/locations`` and
``/locations/<n>`` are :mod:`glance.api.v2.locations`' (``show_multiple_locations``).  Glance's rules: replacing
or removing a property that does not exist is 409, removing a base field 403,
read-only and reserved names 403.

Two media types carry them: ``application/openstack-images-v2.1-json-patch``
is RFC 6902 (``{"op": "replace", "path": "/name", "value": …}``), while
``…-v2.0-json-patch`` keeps the body of the JSON Patch draft that Glance
started with, the operation as the key (``{"replace": "/name", "value": …}``),
which Tempest and old clients still send.
"""
from glance.errors import BadRequest, Conflict, Forbidden
from glance.api.v2 import fields as checks

OPS = ("add", "replace", "remove")


def _pointer(path):
    """``/name`` -> ``name`` (JSON pointer unescaping); one level only."""
    if not isinstance(path, str) or not path.startswith("/") or path == "/":
        raise BadRequest(f"Invalid JSON pointer for this resource: {path!r}")
    parts = path[1:].split("/")
    if parts[0] == "locations" and len(parts) == 2:
        return f"locations/{parts[1]}"     # a position: glance.api.v2.locations
    if len(parts) != 1:
        raise BadRequest(f"Nested paths are not allowed: {path!r}")
    key = parts[0]
    if "~" in key and not all(key[i + 1:i + 2] in ("0", "1") for i, c in enumerate(key)
                              if c == "~"):
        raise BadRequest(f"Invalid JSON pointer for this resource: {path!r}")
    return key.replace("~1", "/").replace("~0", "~")


def _rfc6902(item):
    """``(op, path)`` of ``{"op": …, "path": …}``."""
    op = item.get("op")
    if op not in OPS:
        raise BadRequest(f"Invalid operation: {op!r}; one of {', '.join(OPS)} expected")
    if "path" not in item:
        raise BadRequest("Unable to find 'path' in JSON Schema change")
    return op, item["path"]


def _draft(item):
    """``(op, path)`` of the older ``{"<op>": path}``: exactly one operation key."""
    named = [op for op in OPS if op in item]
    if len(named) != 1:
        raise BadRequest("Operation objects must contain exactly one member named "
                         f"{', '.join(repr(op) for op in OPS)}")
    return named[0], item[named[0]]


def parse(document, old_form=False):
    """The operations of a patch document: ``[(op, key, value)]``.

    :param old_form: the v2.0 media type's body (the operation as the key).
    :raises BadRequest: not a list of objects with a known op, a path and (add,
        replace) a value.
    """
    if not isinstance(document, list):
        raise BadRequest("A JSON patch is a list of operations")
    ops = []
    for item in document:
        if not isinstance(item, dict):
            raise BadRequest("Operations must be JSON objects.")
        op, path = (_draft if old_form else _rfc6902)(item)
        if op != "remove" and "value" not in item:
            raise BadRequest(f"Operation '{op}' needs a 'value'")
        ops.append((op, _pointer(path), item.get("value")))
    return ops


def apply(image, ops):
    """Apply ``ops`` to a copy of ``image``.

    :returns: ``(fields, properties, tags, purge)``: changed base fields, the
        whole new property dict, the new tag list (None: unchanged), and
        whether a property was removed (the registry then drops the others).
    :raises Forbidden: :raises Conflict: :raises BadRequest:
    """
    properties = dict(image.get("properties") or {})
    fields, tags, purge = {}, None, False
    for op, key, value in ops:
        checks.check_name_allowed(key)
        if op == "remove":
            if key == "tags":
                tags = []
            elif checks.is_base(key):
                raise Forbidden(f"Properties {key} must not be removed: it is a base property.")
            elif key not in properties:
                raise Conflict(f"Property {key} does not exist.")
            else:
                del properties[key]
                purge = True
            continue
        value = checks.check_value(key, value)
        if key == "tags":
            tags = list(dict.fromkeys(value))
        elif checks.is_base(key):
            fields[key] = value
        elif op == "replace" and key not in properties:
            raise Conflict(f"Property {key} does not exist.")
        else:
            properties[key] = value
    return fields, properties, tags, purge

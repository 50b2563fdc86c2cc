"""Checking what a v2 client writes, and turning it into registry changes.

Base fields go to registry columns; every other key is an extra property
(a v1 property).  Read-only and reserved names are refused with 403 as Glance does.
"""
from glance.api import context
from glance.api.v2.wire import BASE
from glance.errors import BadRequest
from glance.rules import CONTAINER_FORMATS, DISK_FORMATS, INT_MAX, NAME_MAX_LENGTH, READ_ONLY, \
    TAG_MAX_LENGTH, VISIBILITIES, WRITABLE_FIELDS, check_not_reserved, check_property_name


def check_name_allowed(key):
    """:raises Forbidden: ``key`` is read-only or reserved, and no field a client sets."""
    if key not in WRITABLE_FIELDS:
        check_not_reserved(key)


def check_value(key, value):
    """One value a client sets, checked against the image schema.

    :returns: the value to store.
    :raises BadRequest: wrong type or not in the enum.
    """
    conf = context.conf()
    if key == "name":
        if value is not None and not isinstance(value, str):
            raise BadRequest("Invalid value for 'name': it must be a string or null")
        if value is not None and len(value) > min(NAME_MAX_LENGTH, conf.image_name_max_length):
            raise BadRequest("Invalid value for 'name': it is too long")
    elif key == "visibility":
        if value not in VISIBILITIES:
            raise BadRequest(f"Invalid visibility value: {value!r}")
    elif key in ("protected", "os_hidden"):
        if not isinstance(value, bool):
            raise BadRequest(f"Invalid value for '{key}': it must be a boolean")
    elif key in ("min_ram", "min_disk"):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT_MAX:
            raise BadRequest(f"Invalid value for '{key}': it must be a non-negative integer")
    elif key == "disk_format":
        if value is not None and value not in DISK_FORMATS:
            raise BadRequest(f"Invalid value for 'disk_format': {value!r}")
    elif key == "container_format":
        if value is not None and value not in CONTAINER_FORMATS:
            raise BadRequest(f"Invalid value for 'container_format': {value!r}")
    elif key == "owner":
        if value is not None and (not isinstance(value, str) or len(value) > NAME_MAX_LENGTH):
            raise BadRequest("Invalid value for 'owner'")
    elif key == "tags":
        if not isinstance(value, list) or not all(
                isinstance(t, str) and 0 < len(t) <= TAG_MAX_LENGTH for t in value):
            raise BadRequest("Invalid value for 'tags': a list of strings (1-255 characters)")
    else:
        if not isinstance(value, str):
            raise BadRequest(f"Invalid value for '{key}': additional properties are strings")
        check_property_name(key)
        if len(key) > conf.property_key_max_length:
            raise BadRequest(f"Invalid property name {key[:40]!r}")
        if len(value) > conf.property_value_max_length:
            raise BadRequest(f"Value of property {key[:40]!r} is too long")
    return value


def is_base(key):
    return key in BASE or key in READ_ONLY


def split(values):
    """``{key: value}`` a client set -> ``(fields, properties, tags)`` for the registry.

    :param values: already checked with :func:`check_value`.
    """
    fields, properties, tags = {}, {}, None
    for key, value in values.items():
        if key == "tags":
            tags = list(dict.fromkeys(value))
        elif is_base(key):
            fields[key] = value
        else:
            properties[key] = value
    return fields, properties, tags

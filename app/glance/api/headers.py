"""Image metadata in ``x-image-meta-*`` headers: reading requests, writing responses.

Request header names are matched case-insensitively with ``-`` and ``_``
equivalent (the WSGI environ cannot tell them apart anyway), so
``X-Image-Meta-Disk-Format`` and ``x-image-meta-disk_format`` are one field.
Responses use each attribute's own name: ``x-image-meta-disk_format``.
"""
import logging
import re

from glance import rules
from glance.errors import BadRequest

LOG = logging.getLogger("glance.api")
PREFIX = "x-image-meta-"
PROPERTY_PREFIX = "x-image-meta-property-"

# Core fields a client may set, with their type.
FIELDS = {
    "id": str, "name": str, "disk_format": str, "container_format": str,
    "size": int, "min_ram": int, "min_disk": int, "checksum": str,
    "is_public": bool, "protected": bool, "owner": str, "location": str, "store": str,
}

# Never sent to clients: store URIs can embed credentials (LP #755916); the
# fast checksum is glance's own check of its stores, not an API field.
HIDDEN = ("location", "fast_checksum", "copies", "location_metadata")
# The registry's v2 fields: not part of v1's answers, which stay as they were.
V2_FIELDS = ("visibility", "os_hidden", "os_hash_algo", "os_hash_value", "tags")


def property_key(raw):
    """``My-Prop.v2`` -> ``my_prop_v2``: lower case, punctuation turned into ``_``."""
    return re.sub(r"[^a-z0-9_]", "_", raw.lower())


def _text(value):
    # WSGI hands header values over as latin-1; clients send UTF-8.
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _convert(field, kind, value):
    # python-glanceclient sends an unset field as the text "None".
    if value == "" or value == "None":
        return None
    if kind is bool:
        return rules.parse_bool(field, value)
    if kind is int:
        if field == "size" and not re.fullmatch("[0-9]+", value):
            raise BadRequest(f"Incoming image size of {value[:40]!r} was not convertible "
                             "to an integer.")
        number = rules.parse_count(field, value)
        if field == "size" and number > rules.MAX_IMAGE_SIZE:
            raise BadRequest("Denying attempt to upload image larger than "
                             f"{rules.MAX_IMAGE_SIZE} bytes.")
        return number
    return value


def _check_limits(fields, properties, conf):
    rules.check_length("Image name", fields.get("name"), conf.image_name_max_length)
    if properties is None:
        return
    rules.check_property_count(len(properties), conf)
    for key, value in properties.items():
        rules.check_length(f"Property name {key[:40]!r}", key, conf.property_key_max_length)
        rules.check_length(f"Value of property {key[:40]!r}", value,
                            conf.property_value_max_length)


def meta_from_headers(headers, conf=None):
    """Read the image metadata a request carries.

    :param headers: the request headers (any mapping with ``items()``).
    :param conf: when given, the name and property limits of ``conf`` are checked.
    :returns: ``(fields, properties)``; ``properties`` is None when the request
        names none, so a caller can tell "no properties" from "no change".
    :raises BadRequest: a value has the wrong type or breaks a limit.
    :raises TooLarge: more properties than ``image_property_quota``.
    """
    fields, properties = {}, None
    for name, value in headers.items():
        lower = name.lower().replace("_", "-")
        if lower.startswith(PROPERTY_PREFIX):
            key = property_key(lower[len(PROPERTY_PREFIX):])
            if key:
                properties = properties if properties is not None else {}
                properties[key] = _text(value)
        elif lower.startswith(PREFIX):
            field = lower[len(PREFIX):].replace("-", "_")
            kind = FIELDS.get(field)
            converted = _convert(field, kind, _text(value)) if kind else None
            if kind is str or converted is not None:   # an empty flag says nothing
                fields[field] = converted
    if conf is not None:
        _check_limits(fields, properties, conf)
    return fields, properties


def check_request(environ, params, conf):
    """The limits every request meets: the number of headers and of list filters.

    :param params: the query parameters as ``(name, value)`` pairs.
    :raises BadRequest: asking to close the connection (a body may follow).
    """
    try:
        rules.check_headers(environ, conf)
        rules.check_filter_count(params, conf)
    except BadRequest as exc:
        raise BadRequest(exc.message, headers=[("Connection", "close")]) from None


def _header_value(value):
    if value is None:
        return ""
    # No control character reaches the wire: CR or LF would start a forged header line.
    text = rules.UNSENDABLE.sub(" ", str(value))
    # Header values must be latin-1 on the WSGI side: send UTF-8 bytes.
    return text.encode("utf-8").decode("latin-1")


def public(image):
    """The image record as v1 shows it: without the fields clients must not see, nor v2's."""
    return {k: v for k, v in image.items() if k not in HIDDEN and k not in V2_FIELDS}


def image_headers(image, base=""):
    """Response headers describing ``image``: every attribute and property, ETag, Location.

    :param base: the URL the client reached glance-api at (see :func:`location_headers`).
    :returns: a list of ``(name, value)`` pairs.
    """
    out = []
    for key, value in image.items():
        if key in HIDDEN or key in V2_FIELDS or key == "properties":
            continue
        out.append((PREFIX + key, _header_value(value)))
    for key, value in (image.get("properties") or {}).items():
        # A name v2 allows that is no header name (``a(b``, ``é``) is not sent;
        # older rows may even hold CR or LF.
        if rules.TOKEN.fullmatch(key):
            out.append((PROPERTY_PREFIX + key, _header_value(value)))
        else:
            LOG.debug("Image %s: property %r not sent in v1 headers", image.get("id"), key)
    out.append((PREFIX + "uri", image_uri(image, base)))
    out.extend(location_headers(image, base))
    return out


def image_uri(image, base=""):
    """The image's absolute URL: ``Location``, the ``uri`` of lists, ``x-image-meta-uri``.

    :param base: ``scheme://host[:port]`` from the request's Host: Diablo's
        WebOb made Location absolute, and its clients followed it as such.
    """
    return f"{base}/v1/images/{image['id']}"


def location_headers(image, base=""):
    """``Location`` (and ``ETag``) of ``image``; ``base`` as for :func:`image_uri`."""
    headers = [("Location", image_uri(image, base))]
    if image.get("checksum"):
        headers.append(("ETag", image["checksum"]))
    return headers

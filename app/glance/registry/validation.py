"""Checking image attributes and list parameters; every failure is a 400."""
import uuid

from glance import limits
from glance.registry.models import new_id

# v1's statuses, then v2's: deactivated, and uploading/importing (interoperable import).
STATUSES = ("active", "saving", "queued", "killed", "pending_delete", "deleted",
            "deactivated", "uploading", "importing")
# v1's formats, then those today's Glance adds (its default enums).
DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vmdk", "raw", "qcow2", "vdi", "iso",
                "vhdx", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
AMAZON = ("ami", "ari", "aki")
SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id",
             "created_at", "updated_at")
SORT_DIRS = ("asc", "desc")
BIGINT_MAX = limits.BIGINT_MAX
INT_MAX = 2 ** 31 - 1
STRING_LIMITS = {"owner": 255, "checksum": 32}     # name: image_name_max_length


class Invalid(Exception):
    """Bad input; the message is shown to the client with status 400."""


def canonical_id(value):
    """The canonical text of a UUID, or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _bool(name, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise Invalid(f"{name} must be a boolean (true or false), not {value!r}")


def _count(name, value, limit, nullable):
    if value is None and nullable:
        return None
    if isinstance(value, str):
        return limits.parse_count(name, value, limit)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Invalid(f"{name} must be a non-negative integer, not {value!r}")
    if value > limit:
        raise Invalid(f"{name} must be at most {limit}, not {value}")
    return value


def clean_values(values, conf):
    """Check and normalise the writable attributes in ``values`` (in place).

    :param conf: gives ``image_name_max_length``.
    :raises Invalid: a value has the wrong type or is out of range.
    :raises glance.limits.LimitError: a number is not plain digits, or a name too long.
    """
    for name in ("is_public", "protected"):
        if name in values:
            values[name] = _bool(name, values[name])
    if "size" in values:
        values["size"] = _count("size", values["size"], BIGINT_MAX, nullable=True)
    for name in ("min_ram", "min_disk"):
        if name in values:
            values[name] = _count(name, values[name], INT_MAX, nullable=False)
    for name in ("name", "disk_format", "container_format", "status", "location",
                 "checksum", "owner"):
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            raise Invalid(f"{name} must be a string, not {value!r}")
        limit = STRING_LIMITS.get(name)
        if value is not None and limit and len(value) > limit:
            raise Invalid(f"{name} must be at most {limit} characters")
    limits.check_length("Image name", values.get("name"), conf.image_name_max_length)
    return values


def validate_image(image):
    """Check status, formats and the ami/ari/aki rule on the final values.

    :param image: mapping with status, disk_format and container_format.
    :raises Invalid: with the messages Glance used.
    """
    status = image.get("status")
    if not status:
        raise Invalid("Image status is required.")
    if status not in STATUSES:
        raise Invalid(f"Invalid image status '{status}' for image.")
    disk, container = image.get("disk_format"), image.get("container_format")
    if disk and disk not in DISK_FORMATS:
        raise Invalid(f"Invalid disk format '{disk}' for image.")
    if container and container not in CONTAINER_FORMATS:
        raise Invalid(f"Invalid container format '{container}' for image.")
    if (disk in AMAZON or container in AMAZON) and disk != container:
        raise Invalid("Invalid mix of disk and container formats. When setting a disk or "
                      "container format to one of 'ami', 'ari', or 'aki', the container "
                      "and disk formats must match.")


def clean_properties(properties, conf):
    """Check a ``properties`` mapping: text names and values within the length
    limits, and no more of them than ``image_property_quota``.

    :raises Invalid: not a mapping, or an empty name.
    :raises glance.limits.LimitError: a limit is exceeded.
    """
    if not isinstance(properties, dict):
        raise Invalid("properties must be an object of names and values")
    limits.check_property_count(len(properties), conf)
    cleaned = {}
    for name, value in properties.items():
        if not name:
            raise Invalid("Invalid property name: it must not be empty")
        limits.check_length(f"Property name {name[:40]!r}", name, conf.property_key_max_length)
        if value is not None and not isinstance(value, str):
            value = str(value).lower() if isinstance(value, bool) else str(value)
        limits.check_length(f"Value of property {name[:40]!r}", value,
                            conf.property_value_max_length)
        cleaned[name] = value
    return cleaned


def _int_param(params, name, message=None):
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return limits.parse_count(name, raw)
    except limits.LimitError as exc:
        raise Invalid(message or exc.message) from None


def list_params(params, is_admin, limit_default, limit_max):
    """Parse the query parameters of a list request.

    :param params: the query string as a mapping.
    :returns: dict with filters, properties, limit, marker, sort_key, sort_dir
        and is_public (True, False or None for all).
    :raises Invalid: with the message Glance gave for each bad value.
    """
    raw_limit = params.get("limit") or ""
    if raw_limit.startswith("-") and limits.DIGITS.fullmatch(raw_limit[1:]):
        raise Invalid("limit param must be positive")
    limit = _int_param(params, "limit", "limit param must be an integer")
    if limit is None:
        limit = limit_default
    sort_key = params.get("sort_key", "created_at")
    if sort_key not in SORT_KEYS:
        raise Invalid("Unsupported sort_key. Acceptable values: " + ", ".join(SORT_KEYS))
    sort_dir = params.get("sort_dir", "desc")
    if sort_dir not in SORT_DIRS:
        raise Invalid("Unsupported sort_dir. Acceptable values: " + ", ".join(SORT_DIRS))
    marker = params.get("marker")
    if marker is not None:
        marker = canonical_id(marker)
        if marker is None:
            raise Invalid("Invalid marker. Image could not be found.")
    is_public = True if is_admin else None
    if "is_public" in params:
        text = params["is_public"].strip().lower()
        if text == "none":
            is_public = None
        elif text in ("true", "1", "false", "0"):
            is_public = text in ("true", "1")
        else:
            raise Invalid("is_public must be None, True, or False")
    filters = {k: params[k] for k in ("name", "status", "disk_format", "container_format")
               if k in params}
    for name in ("size_min", "size_max", "min_ram", "min_disk"):
        value = _int_param(params, name)
        if value is not None:
            filters[name] = value
    properties = {k[len("property-"):]: v for k, v in params.items()
                  if k.startswith("property-") and len(k) > len("property-")}
    return {"filters": filters, "properties": properties, "limit": min(limit, limit_max),
            "marker": marker, "sort_key": sort_key, "sort_dir": sort_dir,
            "is_public": is_public}


def new_or_given_id(value):
    """The id of a new image: the client's UUID (canonical form) or a fresh one.

    :raises Invalid: ``value`` is given but is not a UUID.
    """
    if value is None:
        return new_id()
    image_id = canonical_id(value)
    if image_id is None:
        raise Invalid(f"Invalid image id {value!r}: it must be a UUID")
    return image_id

"""Checking image attributes and list parameters; every failure is a 400 (or a 413 over a quota)."""
import datetime
import uuid

from glance import limits
from glance.errors import BadRequest
from glance.registry.models import MEMBER_STATUSES, VISIBILITIES, new_id

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
STRING_LIMITS = {"owner": 255, "checksum": 32, "os_hash_algo": 64, "os_hash_value": 128}
TAG_MAX_LENGTH = 255
# v2 list operators: in: on these fields, comparisons on the others.
IN_FIELDS = ("id", "name", "status", "container_format", "disk_format")
COMPARED_FIELDS = ("created_at", "updated_at", "size")
COMPARISONS = ("eq", "neq", "gt", "gte", "lt", "lte")


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
    raise BadRequest(f"{name} must be a boolean (true or false), not {value!r}")


def _count(name, value, limit, nullable):
    if value is None and nullable:
        return None
    if isinstance(value, str):
        return limits.parse_count(name, value, limit)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequest(f"{name} must be a non-negative integer, not {value!r}")
    if value > limit:
        raise BadRequest(f"{name} must be at most {limit}, not {value}")
    return value


def clean_values(values, conf):
    """Check and normalise the writable attributes in ``values`` (in place).

    :param conf: gives ``image_name_max_length``.
    :raises BadRequest: a value has the wrong type or is out of range.
    :raises glance.errors.StatusError: a number is not plain digits, or a name too long.
    """
    for name in ("is_public", "protected", "os_hidden"):
        if name in values:
            values[name] = _bool(name, values[name])
    if "size" in values:
        values["size"] = _count("size", values["size"], BIGINT_MAX, nullable=True)
    for name in ("min_ram", "min_disk"):
        if name in values:
            values[name] = _count(name, values[name], INT_MAX, nullable=False)
    if "visibility" in values and values["visibility"] not in VISIBILITIES:
        raise BadRequest(f"Invalid visibility {str(values['visibility'])[:40]!r}: it must be one "
                      "of " + ", ".join(VISIBILITIES))
    for name in ("name", "disk_format", "container_format", "status", "location",
                 "checksum", "owner", "os_hash_algo", "os_hash_value"):
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{name} must be a string, not {value!r}")
        limit = STRING_LIMITS.get(name)
        if value is not None and limit and len(value) > limit:
            raise BadRequest(f"{name} must be at most {limit} characters")
    limits.check_length("Image name", values.get("name"), conf.image_name_max_length)
    return values


def validate_image(image):
    """Check status, formats and the ami/ari/aki rule on the final values.

    :param image: mapping with status, disk_format and container_format.
    :raises BadRequest: with the messages Glance used.
    """
    status = image.get("status")
    if not status:
        raise BadRequest("Image status is required.")
    if status not in STATUSES:
        raise BadRequest(f"Invalid image status '{status}' for image.")
    disk, container = image.get("disk_format"), image.get("container_format")
    if disk and disk not in DISK_FORMATS:
        raise BadRequest(f"Invalid disk format '{disk}' for image.")
    if container and container not in CONTAINER_FORMATS:
        raise BadRequest(f"Invalid container format '{container}' for image.")
    if (disk in AMAZON or container in AMAZON) and disk != container:
        raise BadRequest("Invalid mix of disk and container formats. When setting a disk or "
                      "container format to one of 'ami', 'ari', or 'aki', the container "
                      "and disk formats must match.")


def clean_properties(properties, conf):
    """Check a ``properties`` mapping: text names and values within the length
    limits, and no more of them than ``image_property_quota``.

    :raises BadRequest: not a mapping, or an empty name.
    :raises glance.errors.StatusError: a limit is exceeded.
    """
    if not isinstance(properties, dict):
        raise BadRequest("properties must be an object of names and values")
    limits.check_property_count(len(properties), conf)
    cleaned = {}
    for name, value in properties.items():
        if not name:
            raise BadRequest("Invalid property name: it must not be empty")
        limits.check_length(f"Property name {name[:40]!r}", name, conf.property_key_max_length)
        if value is not None and not isinstance(value, str):
            value = str(value).lower() if isinstance(value, bool) else str(value)
        limits.check_length(f"Value of property {name[:40]!r}", value,
                            conf.property_value_max_length)
        cleaned[name] = value
    return cleaned


def clean_tag(tag):
    """A tag: text of 1 to 255 characters.  :raises BadRequest:"""
    if not isinstance(tag, str) or not tag:
        raise BadRequest(f"Invalid tag {tag!r}: it must be non-empty text")
    if len(tag) > TAG_MAX_LENGTH:
        raise BadRequest(f"Tag is too long: {len(tag)} characters; at most {TAG_MAX_LENGTH} "
                      "are accepted")
    return tag


def clean_tags(tags, conf):
    """A list of tags, duplicates dropped (order kept).  :raises BadRequest: :raises TooLarge:"""
    if not isinstance(tags, list):
        raise BadRequest("tags must be a list of strings")
    cleaned = list(dict.fromkeys(clean_tag(tag) for tag in tags))
    limits.check_tag_count(len(cleaned), conf)
    return cleaned


def member_status(value):
    """:raises BadRequest: ``value`` is not pending, accepted or rejected."""
    if value not in MEMBER_STATUSES:
        raise BadRequest(f"Invalid member status {str(value)[:40]!r}: it must be one of "
                      + ", ".join(MEMBER_STATUSES))
    return value


def _int_param(params, name, message=None):
    """The count ``params[name]`` (None when absent).

    :param message: says what is wrong instead of :func:`glance.limits.parse_count`.
    """
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return limits.parse_count(name, raw)
    except BadRequest:
        if message is None:
            raise
        raise BadRequest(message) from None


def list_params(params, is_admin, limit_default, limit_max):
    """Parse the query parameters of a list request.

    :param params: the query string as a mapping.
    :returns: dict with filters, properties, limit, marker, sort_key, sort_dir
        and is_public (True, False or None for all).
    :raises BadRequest: with the message Glance gave for each bad value.
    """
    raw_limit = params.get("limit") or ""
    if raw_limit.startswith("-") and limits.DIGITS.fullmatch(raw_limit[1:]):
        raise BadRequest("limit param must be positive")
    limit = _int_param(params, "limit", "limit param must be an integer")
    if limit is None:
        limit = limit_default
    sort_key = params.get("sort_key", "created_at")
    if sort_key not in SORT_KEYS:
        raise BadRequest("Unsupported sort_key. Acceptable values: " + ", ".join(SORT_KEYS))
    sort_dir = params.get("sort_dir", "desc")
    if sort_dir not in SORT_DIRS:
        raise BadRequest("Unsupported sort_dir. Acceptable values: " + ", ".join(SORT_DIRS))
    marker = params.get("marker")
    if marker is not None:
        marker = canonical_id(marker)
        if marker is None:
            raise BadRequest("Invalid marker. Image could not be found.")
    is_public = True if is_admin else None
    if "is_public" in params:
        text = params["is_public"].strip().lower()
        if text == "none":
            is_public = None
        elif text in ("true", "1", "false", "0"):
            is_public = text in ("true", "1")
        else:
            raise BadRequest("is_public must be None, True, or False")
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


def _timestamp(name, text):
    """ISO 8601 text as naive UTC (the form the columns hold).  :raises BadRequest:"""
    try:
        value = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest(f"Invalid {name} {text[:40]!r}: it must be an ISO 8601 time") from None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def _operator(name, text):
    """``gt:2026-01-01T00:00:00Z`` -> ``("gt", datetime)``; a bare value is ``eq``."""
    op, sep, rest = text.partition(":")
    if not sep or op not in COMPARISONS:
        op, rest = "eq", text
    if name == "size":
        return op, limits.parse_count(name, rest)
    return op, _timestamp(name, rest)


def _sort_v2(params):
    """``sort=k:dir,k2`` or repeated sort_key/sort_dir -> [(key, dir), ...]."""
    if "sort" in params and ("sort_key" in params or "sort_dir" in params):
        raise BadRequest("The sort parameter cannot be combined with sort_key or sort_dir")
    if "sort" in params:
        pairs = []
        for item in params["sort"].split(","):
            key, _, direction = item.strip().partition(":")
            pairs.append((key.strip(), direction.strip() or "desc"))
    else:
        keys = params.getlist("sort_key") or ["created_at"]
        dirs = params.getlist("sort_dir")
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise BadRequest("The number of sort_dir values must be one or match sort_key")
        dirs = dirs * len(keys) if len(dirs) == 1 else (dirs or ["desc"] * len(keys))
        pairs = list(zip(keys, dirs))
    for key, direction in pairs:
        if key not in SORT_KEYS:
            raise BadRequest("Unsupported sort_key. Acceptable values: " + ", ".join(SORT_KEYS))
        if direction not in SORT_DIRS:
            raise BadRequest("Unsupported sort_dir. Acceptable values: " + ", ".join(SORT_DIRS))
    if len({key for key, _ in pairs}) != len(pairs):
        raise BadRequest("A sort key may be given only once")
    return pairs


def list_params_v2(params, limit_default, limit_max):
    """Parse the query of a v2 list (registry ``GET /v2/images``).

    :param params: a MultiDict (``tag``, ``sort_key`` and ``sort_dir`` repeat).
    :returns: dict with limit, marker, sort [(key, dir)], visibility (None:
        the default set), member_status, os_hidden, tags, equal {field: value},
        within {field: [values]}, compared [(field, op, value)], properties.
    :raises BadRequest:
    """
    raw_limit = params.get("limit") or ""
    if raw_limit.startswith("-") and limits.DIGITS.fullmatch(raw_limit[1:]):
        raise BadRequest("limit param must be positive")
    limit = _int_param(params, "limit", "limit param must be an integer")
    limit = limit_default if limit is None else limit
    marker = params.get("marker")
    if marker is not None:
        marker = canonical_id(marker)
        if marker is None:
            raise BadRequest("Invalid marker. Image could not be found.")
    visibility = params.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES + ("all",):
        raise BadRequest("Invalid visibility value: " + visibility[:40])
    status = params.get("member_status", "accepted")
    if status != "all":
        member_status(status)
    os_hidden = False
    if "os_hidden" in params:
        os_hidden = _bool("os_hidden", params["os_hidden"])
    equal, within, compared = {}, {}, []
    for name in IN_FIELDS + ("owner", "min_ram", "min_disk", "protected"):
        if name not in params:
            continue
        text = params[name]
        if name in IN_FIELDS and text.startswith("in:"):
            within[name] = [v.strip() for v in text[3:].split(",")]
        elif name in ("min_ram", "min_disk"):
            equal[name] = _int_param(params, name)
        elif name == "protected":
            equal[name] = _bool(name, text)
        else:
            equal[name] = (canonical_id(text) or text) if name == "id" else text
    for name in COMPARED_FIELDS:
        for text in params.getlist(name):
            compared.append((name, *_operator(name, text)))
    for name, op in (("size_min", "gte"), ("size_max", "lte")):
        value = _int_param(params, name)
        if value is not None:
            compared.append(("size", op, value))
    properties = {k[len("property-"):]: v for k, v in params.items()
                  if k.startswith("property-") and len(k) > len("property-")}
    return {"limit": min(limit, limit_max), "marker": marker, "sort": _sort_v2(params),
            "visibility": visibility, "member_status": status, "os_hidden": os_hidden,
            "tags": params.getlist("tag"), "equal": equal, "within": within,
            "compared": compared, "properties": properties}


def new_or_given_id(value):
    """The id of a new image: the client's UUID (canonical form) or a fresh one.

    :raises BadRequest: ``value`` is given but is not a UUID.
    """
    if value is None:
        return new_id()
    image_id = canonical_id(value)
    if image_id is None:
        raise BadRequest(f"Invalid image id {value!r}: it must be a UUID")
    return image_id

"""The query parameters of the registry's lists; every bad value is a 400.

The rules of an image itself are :mod:`glance.rules`.
"""
import datetime

from glance.errors import BadRequest
from glance.rules import ACCEPTED, DIGITS, VISIBILITIES, boolean, canonical_id, \
    member_status, parse_count

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id",
             "created_at", "updated_at")
SORT_DIRS = ("asc", "desc")
# v2 list operators: in: on these fields, comparisons on the others.
IN_FIELDS = ("id", "name", "status", "container_format", "disk_format")
COMPARED_FIELDS = ("created_at", "updated_at", "size")
COMPARISONS = ("eq", "neq", "gt", "gte", "lt", "lte")


def _int_param(params, name, message=None):
    """The count ``params[name]`` (None when absent).

    :param message: says what is wrong instead of :func:`glance.parse_count`.
    """
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return parse_count(name, raw)
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
    if raw_limit.startswith("-") and DIGITS.fullmatch(raw_limit[1:]):
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
        try:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        except OverflowError:           # 9999-12-31T23:59:59-23:59 is past year 9999 in UTC
            raise BadRequest(f"Invalid {name} {text[:40]!r}: it is out of range in UTC") \
                from None
    return value


def _operator(name, text):
    """``gt:2026-01-01T00:00:00Z`` -> ``("gt", datetime)``; a bare value is ``eq``."""
    op, sep, rest = text.partition(":")
    if not sep or op not in COMPARISONS:
        op, rest = "eq", text
    if name == "size":
        return op, parse_count(name, rest)
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
    if raw_limit.startswith("-") and DIGITS.fullmatch(raw_limit[1:]):
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
    status = params.get("member_status", ACCEPTED)
    if status != "all":
        member_status(status)
    os_hidden = False
    if "os_hidden" in params:
        os_hidden = boolean("os_hidden", params["os_hidden"])
    equal, within, compared = {}, {}, []
    for name in IN_FIELDS + ("owner", "min_ram", "min_disk", "protected", "checksum",
                             "os_hash_value"):
        if name not in params:
            continue
        text = params[name]
        if name in IN_FIELDS and text.startswith("in:"):
            within[name] = [v.strip() for v in text[3:].split(",")]
        elif name in ("min_ram", "min_disk"):
            equal[name] = _int_param(params, name)
        elif name == "protected":
            equal[name] = boolean(name, text)
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

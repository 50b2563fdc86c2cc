"""The JSON shapes of images and members the registry answers with."""
import json
from operator import attrgetter

FIELDS = ("id", "name", "status", "size", "disk_format", "container_format", "min_disk",
          "min_ram", "is_public", "checksum", "owner", "location", "protected",
          "created_at", "updated_at", "deleted_at", "deleted",
          "visibility", "os_hidden", "os_hash_algo", "os_hash_value",
          "fast_checksum", "copies", "location_metadata")
TIMES = tuple(name for name in FIELDS if name.endswith("_at"))
JSON_TEXT = ("copies", "location_metadata")       # columns holding JSON text
PLAIN = tuple(name for name in FIELDS if name not in TIMES + JSON_TEXT + ("is_public",))
_plain, _times = attrgetter(*PLAIN), attrgetter(*TIMES)
INDEX_FIELDS = ("id", "name", "disk_format", "container_format", "checksum", "size")


def timestamp(value):
    """Naive UTC ``isoformat()`` to the second, as Glance 2011 showed it."""
    return None if value is None else value.isoformat(timespec="seconds")


def image_detail(image, properties, tags=(), is_admin=True):
    """The full record of a model row (or Core row) plus its ``properties`` and ``tags``.

    :param is_admin: False blanks ``location`` and its companions (see ``images.shown``).
    """
    out = dict(zip(PLAIN, _plain(image)))
    out.update(zip(TIMES, map(timestamp, _times(image))))
    out["copies"], out["location_metadata"] = image.copies, image.location_metadata
    return _complete(out, dict(properties), list(tags), is_admin)


def row_details(keys, rows, properties, tags, is_admin):
    """The records of list rows whose columns are ``keys``, as :func:`image_detail` gives
    them, built from each row's values at once (named access cost more than the rest).

    :param properties: image id -> its properties. :param tags: image id -> its tags.
    """
    times = [keys.index(name) for name in TIMES]
    records = []
    for row in rows:
        values = list(row)
        for at in times:
            if values[at] is not None:
                values[at] = values[at].isoformat(timespec="seconds")
        out = dict(zip(keys, values))
        records.append(_complete(out, properties[out["id"]], tags[out["id"]], is_admin))
    return records


def _complete(out, properties, tags, is_admin):
    """Finish a record of column values: v1's ``is_public`` (true only for public
    images), the location's companions parsed (or all three blanked), properties, tags."""
    if is_admin:
        out["copies"] = load(out["copies"], [])
        out["location_metadata"] = load(out["location_metadata"], {})
    else:
        out["location"], out["copies"], out["location_metadata"] = None, [], {}
    out["is_public"] = out["visibility"] == "public"
    out["properties"] = properties
    out["tags"] = tags
    return out


def image_index(row):
    """An index item from a row of (id, name, disk_format, container_format, checksum, size)."""
    return dict(zip(INDEX_FIELDS, row))


def member(row):
    """A membership: who, may it share on, its v2 status and times."""
    return {"member_id": row.member, "can_share": row.can_share, "status": row.status,
            "created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at or row.created_at)}


def dump(value):
    """A JSON document as the text column keeping it holds it."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def load(text, default):
    """The JSON document of a text column; ``default`` for NULL."""
    return default if text is None else json.loads(text)

"""The JSON shapes of images and members the registry answers with."""
import json

from glance.context import visibility_of

FIELDS = ("id", "name", "status", "size", "disk_format", "container_format", "min_disk",
          "min_ram", "is_public", "checksum", "owner", "location", "protected",
          "created_at", "updated_at", "deleted_at", "deleted",
          "visibility", "os_hidden", "os_hash_algo", "os_hash_value",
          "fast_checksum", "copies", "location_metadata")
INDEX_FIELDS = ("id", "name", "disk_format", "container_format", "checksum", "size")


def timestamp(value):
    """Naive UTC ``isoformat()`` to the second, as Glance 2011 showed it."""
    return None if value is None else value.replace(microsecond=0).isoformat()


def image_detail(image, properties, tags=()):
    """The full record of a model row (or Core row) plus its ``properties`` and ``tags``.

    ``is_public`` is v1's view of ``visibility``: true only for public images.
    """
    out = {}
    for name in FIELDS:
        if name == "is_public":
            value = visibility_of(image) == "public"
        elif name == "copies":
            value = load(getattr(image, name, None), [])
        elif name == "location_metadata":
            value = load(getattr(image, name, None), {})
        else:
            value = getattr(image, name)
        if name.endswith("_at"):
            value = timestamp(value)
        out[name] = value
    out["properties"] = dict(properties)
    out["tags"] = list(tags)
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

"""The JSON shapes of images the registry answers with."""

FIELDS = ("id", "name", "status", "size", "disk_format", "container_format", "min_disk",
          "min_ram", "is_public", "checksum", "owner", "location", "protected",
          "created_at", "updated_at", "deleted_at", "deleted")
INDEX_FIELDS = ("id", "name", "disk_format", "container_format", "checksum", "size")


def timestamp(value):
    """Naive UTC ``isoformat()`` to the second, as Glance 2011 showed it."""
    return None if value is None else value.replace(microsecond=0).isoformat()


def image_detail(image, properties):
    """The full record of a model row plus its ``properties`` dict."""
    out = {}
    for name in FIELDS:
        value = getattr(image, name)
        if name.endswith("_at"):
            value = timestamp(value)
        out[name] = value
    out["properties"] = dict(properties)
    return out


def image_index(row):
    """An index item from a row of (id, name, disk_format, container_format, checksum, size)."""
    return dict(zip(INDEX_FIELDS, row))

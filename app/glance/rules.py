"""The rules of an image, for glance-api and glance-registry alike.

Statuses and the way through them, disk and container formats, visibilities,
member statuses, names a client may not set, and every limit on what a
request carries.  No Flask, no SQLAlchemy: glance-api imports it without
paying for the database layer.  A broken rule raises
:class:`~glance.errors.BadRequest` (over a quota :class:`~glance.errors.TooLarge`),
which both servers answer as it is.
"""
import json
import re
import uuid

from glance.errors import BadRequest, Forbidden, TooLarge

# --- statuses ---------------------------------------------------------------
# v1's: queued -> saving -> active (killed on a failed upload), and
# pending_delete -> deleted; v2's: deactivated, and the import's uploading
# (data staged) and importing (web-download running).
QUEUED = "queued"
SAVING = "saving"
ACTIVE = "active"
KILLED = "killed"
PENDING_DELETE = "pending_delete"
DELETED = "deleted"
DEACTIVATED = "deactivated"
UPLOADING = "uploading"
IMPORTING = "importing"
STATUSES = (ACTIVE, SAVING, QUEUED, KILLED, PENDING_DELETE, DELETED, DEACTIVATED,
            UPLOADING, IMPORTING)
# Held while data is being written (the heartbeat keeps them fresh).
BUSY = (SAVING, UPLOADING, IMPORTING)
# Images whose data is gone or going: no download, no cache entry.
GONE = (KILLED, PENDING_DELETE, DELETED)
# Images with data a client may download (an admin only, when deactivated).
READABLE = (ACTIVE, DEACTIVATED)

# --- formats, visibility, sharing ---------------------------------------------
# v1's formats, then those today's Glance adds (its default enums).
DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vmdk", "raw", "qcow2", "vdi", "iso",
                "vhdx", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
AMAZON = ("ami", "ari", "aki")      # disk and container format must then match
PUBLIC, COMMUNITY, SHARED, PRIVATE = "public", "community", "shared", "private"
VISIBILITIES = (PUBLIC, COMMUNITY, SHARED, PRIVATE)
READABLE_BY_ALL = (PUBLIC, COMMUNITY)
PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
MEMBER_STATUSES = (PENDING, ACCEPTED, REJECTED)

# --- names a client does not set ------------------------------------------------
# Set by glance only (v2 answers 403 for them).
READ_ONLY = ("id", "status", "checksum", "os_hash_algo", "os_hash_value", "fast_checksum",
             "size", "virtual_size", "created_at", "updated_at", "self", "file", "schema",
             "direct_url", "locations", "stores", "deleted", "deleted_at", "location",
             "is_public")
# Fields a client sets as themselves (v2: top-level keys, v1: x-image-meta-<field>).
WRITABLE_FIELDS = ("name", "visibility", "protected", "os_hidden", "owner", "disk_format",
                   "container_format", "min_ram", "min_disk", "tags")
# The one list of names no property may have (403, v1, v2 and the registry alike): v2
# shows properties beside the fields, so a property ``direct_url`` would pass for
# glance's own to Nova and Cinder.  Also every name with a reserved prefix.
RESERVED_NAMES = READ_ONLY + WRITABLE_FIELDS
RESERVED_PREFIXES = ("os_glance", "os_hash_")
# The property glance-scrubber --audit sets on an image whose stored data no
# longer matches its hashes (glance.audit): its downloads then fail at once.
CORRUPT_MARK = "os_glance_corrupt"
# Reserved properties glance-api itself (its admin identity) writes, and v2 shows: the
# progress of an import into several stores, as Glance reports it.
IMPORT_STATE = ("os_glance_importing_to_stores", "os_glance_failed_import")

# --- limits -----------------------------------------------------------------------
BIGINT_MAX = 2 ** 63 - 1            # sizes: the column is a BIGINT
INT_MAX = 2 ** 31 - 1               # min_ram, min_disk
MAX_IMAGE_SIZE = 2 ** 50            # the largest x-image-meta-size v1 accepts
NAME_MAX_LENGTH = 255               # names, owners, member ids, tags
TAG_MAX_LENGTH = NAME_MAX_LENGTH
STRING_LIMITS = {"owner": NAME_MAX_LENGTH, "checksum": 32, "os_hash_algo": 64,
                 "os_hash_value": 128, "fast_checksum": 64}
DIGITS = re.compile(r"[0-9]{1,19}")     # 19 digits hold any value up to BIGINT_MAX
TRUE, FALSE = ("true", "1"), ("false", "0")
CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")     # all but HTAB
# What a header value sent to a client must not hold: C0 but HTAB, DEL and C1.
UNSENDABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
# An HTTP header name (RFC 9110 5.1): v1 sends a property only if its name is one.
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Query parameters that steer a list rather than filter it.
LIST_CONTROLS = ("limit", "marker", "sort_key", "sort_dir", "sort")


def parse_count(name, text, maximum=BIGINT_MAX):
    """A count given as text: plain ASCII digits only, at most ``maximum``.

    ``int()`` alone would take ``' 5'``, ``'+5'``, ``'5_0'`` and ``'١٢'``.

    :raises BadRequest: not digits, or too large.
    """
    if not isinstance(text, str) or not DIGITS.fullmatch(text):
        shown = text if not isinstance(text, str) or len(text) <= 40 else text[:40] + "..."
        raise BadRequest(f"Invalid value {shown!r} for {name}: it must be a whole number "
                         f"from 0 to {maximum}, in ASCII digits")
    value = int(text)
    if value > maximum:
        raise BadRequest(f"Invalid value {value} for {name}: it must be at most {maximum}")
    return value


def parse_bool(name, text):
    """``true``/``false`` (any case) or ``1``/``0``.

    :raises BadRequest: anything else.
    """
    lowered = text.strip().lower() if isinstance(text, str) else None
    if lowered in TRUE or lowered in FALSE:
        return lowered in TRUE
    shown = text if not isinstance(text, str) or len(text) <= 40 else text[:40] + "..."
    raise BadRequest(f"Invalid value {shown!r} for {name}: it must be true or false")


def check_headers(environ, conf):
    """Refuse a request with more headers than ``max_header_count``, or with a
    control character (RFC 9110 5.5) in a header value.

    The servers limit the bytes of the headers themselves (cheroot's
    ``max_request_header_size``, waitress's ``max_request_header_size``);
    neither counts them.

    :raises BadRequest: 400 with the count and the limit.
    """
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str) and CONTROL.search(value):
            name = key[5:].replace("_", "-").title()
            raise BadRequest(f"Invalid value in header {name}: control characters are not "
                             "allowed in HTTP header values")
    count = sum(1 for key in environ if key.startswith("HTTP_"))
    count += sum(1 for key in ("CONTENT_TYPE", "CONTENT_LENGTH") if environ.get(key))
    if count > conf.max_header_count:
        raise BadRequest(f"Too many request headers: {count}; at most "
                         f"{conf.max_header_count} are accepted")


def check_filter_count(params, conf):
    """Refuse a list query with more than ``max_list_filters`` filters.

    :param params: the query parameters as ``(name, value)`` pairs.
    :raises BadRequest:
    """
    count = sum(1 for name, _ in params if name not in LIST_CONTROLS)
    if count > conf.max_list_filters:
        raise BadRequest(f"Too many filters in the query: {count}; at most "
                         f"{conf.max_list_filters} are accepted")


def _check_quota(count, limit, what):
    """:raises TooLarge: an image would have more ``what`` than ``limit``."""
    if count > limit:
        raise TooLarge(f"An image may have at most {limit} {what}; "
                       f"this request would give it {count}")


def check_property_count(count, conf):
    """:raises TooLarge: more properties than ``image_property_quota``."""
    _check_quota(count, conf.image_property_quota, "properties")


def check_tag_count(count, conf):
    """:raises TooLarge: more tags than ``image_tag_quota``."""
    _check_quota(count, conf.image_tag_quota, "tags")


def check_member_count(count, conf):
    """:raises TooLarge: more members than ``image_member_quota``."""
    _check_quota(count, conf.image_member_quota, "members")


def check_image_size(size, cap):
    """:raises TooLarge: ``size`` bytes (announced, or read so far) are over ``cap``
    (``image_size_cap``); the answer closes the connection: the rest is not read."""
    if size is not None and size > cap:
        raise TooLarge(f"Image size {size} exceeds the limit of {cap} bytes",
                       headers=[("Connection", "close")])


def check_location_count(count, conf):
    """:raises TooLarge: more locations than ``image_location_quota``."""
    _check_quota(count, conf.image_location_quota, "locations")


def check_length(what, text, limit):
    """:raises BadRequest: ``text`` is longer than ``limit`` characters."""
    if text is not None and len(text) > limit:
        raise BadRequest(f"{what} is too long: {len(text)} characters; at most {limit} "
                         "are accepted")


def parse_json(data):
    """The JSON document in a request body.

    :param data: bytes or text.
    :raises ValueError: not JSON, nested deeper than the parser can go (it
        would raise RecursionError), or holding text that is not Unicode
        (``"\\ud800"``: the database could not store it).
    """
    try:
        value = json.loads(data)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except UnicodeEncodeError:
        raise ValueError("JSON text holds a lone surrogate (\\ud800-\\udfff)") from None
    return value


def canonical_id(value):
    """The canonical text of a UUID, or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def boolean(name, value):
    """A boolean given as JSON (true, 1) or text (true/false, 1/0).  :raises BadRequest:"""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise BadRequest(f"{name} must be a boolean (true or false), not {value!r}")


def _count(name, value, limit, nullable):
    if value is None and nullable:
        return None
    if isinstance(value, str):
        return parse_count(name, value, limit)
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
            values[name] = boolean(name, values[name])
    if "size" in values:
        values["size"] = _count("size", values["size"], BIGINT_MAX, nullable=True)
    for name in ("min_ram", "min_disk"):
        if name in values:
            values[name] = _count(name, values[name], INT_MAX, nullable=False)
    if "visibility" in values and values["visibility"] not in VISIBILITIES:
        raise BadRequest(f"Invalid visibility {str(values['visibility'])[:40]!r}: it must be one "
                         "of " + ", ".join(VISIBILITIES))
    for name in ("name", "disk_format", "container_format", "status", "location",
                 "checksum", "owner", "os_hash_algo", "os_hash_value", "fast_checksum"):
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{name} must be a string, not {value!r}")
        limit = STRING_LIMITS.get(name)
        if value is not None and limit and len(value) > limit:
            raise BadRequest(f"{name} must be at most {limit} characters")
    check_length("Image name", values.get("name"), conf.image_name_max_length)
    return values


def validate_image(image, formats_match=True):
    """Check status, formats and the ami/ari/aki rule on the final values.

    :param image: mapping with status, disk_format and container_format.
    :param formats_match: apply v1's rule that an ami/ari/aki disk or container
        format needs the same other one (v2 has no such rule).
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
    if formats_match and (disk in AMAZON or container in AMAZON) and disk != container:
        raise BadRequest("Invalid mix of disk and container formats. When setting a disk or "
                         "container format to one of 'ami', 'ari', or 'aki', the container "
                         "and disk formats must match.")


def check_property_name(name):
    """A property name is printable text without whitespace.  ``:`` is allowed, as in
    Glance (``trait:STORAGE_DISK_SSD``, ``hw:cpu_policy``): v1 never sends a name that
    is no header token as a header (:func:`glance.api.headers.image_headers`), so
    none can forge header lines.

    :raises BadRequest:
    """
    if not name:
        raise BadRequest("Invalid property name: it must not be empty")
    if not name.isprintable() or any(c.isspace() for c in name):
        raise BadRequest(f"Invalid property name {name[:40]!r}: it must be printable text "
                         "without whitespace")


def is_reserved(name):
    """True for a name no property may have (see :data:`RESERVED_NAMES`)."""
    return name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES)


def check_not_reserved(name, is_admin=False):
    """:raises Forbidden: ``name`` is read-only or reserved (v2's messages); an admin
    (glance-api's own identity) may write :data:`IMPORT_STATE`."""
    if is_admin and name in IMPORT_STATE:
        return
    if name in READ_ONLY:
        raise Forbidden(f"Attribute '{name}' is read-only.")
    if is_reserved(name):
        raise Forbidden(f"Attribute '{name}' is reserved.")


def check_format_change(image, changes):
    """Only a queued image changes its disk or container format (v1 and v2, as later
    Glance): the data of any other was written as what the formats say.

    :raises Forbidden: a format would change on an image that is not queued.
    """
    changed = any(name in changes and changes[name] != image.get(name)
                  for name in ("disk_format", "container_format"))
    if changed and image.get("status") != QUEUED:
        raise Forbidden("Attribute container_format and disk_format can be only "
                        "replaced for a queued image.")


def check_property_allowed(name, is_admin=False):
    """A property a client adds or changes.

    :param is_admin: glance-api's own identity, which may write :data:`IMPORT_STATE`.
    :raises BadRequest: not a header name.  :raises Forbidden: a reserved name.
    """
    check_property_name(name)
    check_not_reserved(name, is_admin)


def clean_properties(properties, conf):
    """Check a ``properties`` mapping: text names and values within the length
    limits, and no more of them than ``image_property_quota``.

    Names that are no header name (:func:`check_property_name`) and reserved names
    (:func:`check_property_allowed`) are the registry's to refuse, where it knows
    which are new.

    :raises BadRequest: not a mapping, or an empty name.
    :raises glance.errors.StatusError: a limit is exceeded.
    """
    if not isinstance(properties, dict):
        raise BadRequest("properties must be an object of names and values")
    check_property_count(len(properties), conf)
    cleaned = {}
    for name, value in properties.items():
        if not name:
            raise BadRequest("Invalid property name: it must not be empty")
        check_length(f"Property name {name[:40]!r}", name, conf.property_key_max_length)
        if value is not None and not isinstance(value, str):
            value = str(value).lower() if isinstance(value, bool) else str(value)
        check_length(f"Value of property {name[:40]!r}", value, conf.property_value_max_length)
        cleaned[name] = value
    return cleaned


def clean_tag(tag):
    """A tag: text of 1 to ``TAG_MAX_LENGTH`` characters.  :raises BadRequest:"""
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
    check_tag_count(len(cleaned), conf)
    return cleaned


def member_status(value):
    """:raises BadRequest: ``value`` is not pending, accepted or rejected."""
    if value not in MEMBER_STATUSES:
        raise BadRequest(f"Invalid member status {str(value)[:40]!r}: it must be one of "
                         + ", ".join(MEMBER_STATUSES))
    return value


def new_id():
    return str(uuid.uuid4())


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


def corrupt_mark(image):
    """The reason glance-scrubber --audit marked ``image`` (a registry record) corrupt, or None."""
    return (image.get("properties") or {}).get(CORRUPT_MARK)

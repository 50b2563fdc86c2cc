"""The /images routes: list, detail, show, create, update, delete; the v2 list; tags."""
import datetime

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import false, update as sql_update
from sqlalchemy.exc import IntegrityError

from glance import rules
from glance.errors import BadRequest, Conflict, Forbidden, NotFound
from glance.registry import queries, v2_lists, validation
from glance.registry.models import WRITABLE, Image, ImageProperty, ImageTag, utcnow
from glance.registry.serialize import dump, image_detail, image_index, row_details
from glance.rules import ACTIVE, DELETED, PENDING_DELETE, QUEUED

bp = Blueprint("images", __name__)
EXPECT_STATUS = "X-Glance-Registry-Expect-Status"
# With EXPECT_STATUS: change the image only if its updated_at is at or before this time.
EXPECT_UNTOUCHED = "X-Glance-Registry-Expect-Untouched-Since"
# "v2": the write comes from glance-api's v2 API, which has no ami/ari/aki format rule.
API = "X-Glance-Registry-Api"


def state():
    return current_app.extensions["glance_registry"]


def json_object(key):
    """The ``{key: {...}}`` object of the request body.

    :raises BadRequest: the body is not JSON or lacks the object.
    """
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise BadRequest(f"Request body must be a JSON object with an '{key}' object")
    return body[key]


def load_visible(session, image_id):
    """The image the caller may read, or :raises NotFound:."""
    image = queries.visible_image(session, g.ctx, rules.canonical_id(image_id))
    if image is None:
        raise NotFound("Image not found")
    return image


def load_undeleted(session, image_id):
    """The image the caller may read and that is not deleted, or :raises NotFound:."""
    image = load_visible(session, image_id)
    if image.deleted:
        raise NotFound("Image not found")
    return image


# Fields only glance-api itself (an admin context: its service token) writes:
# the data's state, where it is and what it is.
SYSTEM_FIELDS = ("status", "location", "checksum", "os_hash_algo", "os_hash_value",
                 "fast_checksum", "copies", "location_metadata")


def _check_system_fields(values, image=None):
    """Refuse what only an admin (glance-api's service user) may write.

    :param image: the current row on update; None on create.
    :raises Forbidden: naming the field.
    """
    if g.ctx.is_admin:
        return
    for name in SYSTEM_FIELDS:
        allowed = image is None and name == "status" and values.get(name) == QUEUED
        if name in values and not allowed:
            raise Forbidden(f"Only glance itself may set {name}")
    if "owner" in values:
        g.ctx.check_owner(values["owner"], image.owner if image else None)
    if image is not None and "size" in values and image.status != QUEUED:
        raise Forbidden("Only glance itself may set the size of an image with data")


def shown(image, properties, tags=()):
    """The record as the caller may see it: ``location`` and ``copies`` (its other
    locations) to admins only (glance-api's service identity among them).  A location
    names the store's container, the path of a file or an external URL; glance-api asks
    for it with its own identity."""
    return image_detail(image, properties, tags, g.ctx.is_admin)


def detail(session, image):
    return shown(image, queries.properties_of(session, [image.id])[image.id],
                 queries.tags_of(session, [image.id])[image.id])


def details_of(session, rows):
    """The records of list rows (``queries.IMAGE_COLUMNS``), as :func:`shown` gives them."""
    ids = [row.id for row in rows]
    return row_details(queries.IMAGE_KEYS, rows, queries.properties_of(session, ids),
                       queries.tags_of(session, ids), g.ctx.is_admin)


def _list(detail_view):
    conf = state().conf
    query = validation.list_params(request.args, g.ctx.is_admin,
                                   conf.limit_param_default, conf.api_limit_max)
    with state().Session() as session:
        try:
            rows = queries.list_images(session, g.ctx, query, detail=detail_view)
        except LookupError:
            raise BadRequest("Invalid marker. Image could not be found.") from None
        if not detail_view:
            return jsonify({"images": [image_index(row) for row in rows]})
        return jsonify({"images": details_of(session, rows)})


@bp.get("/")
@bp.get("/images")
def index():
    return _list(False)


@bp.get("/images/detail")
def details():
    return _list(True)


@bp.get("/v2/images")
def list_v2():
    """A page of the v2 list (always full records); see :mod:`glance.registry.v2_lists`."""
    conf = state().conf
    query = validation.list_params_v2(request.args, conf.limit_param_default,
                                      conf.api_limit_max)
    with state().Session() as session:
        try:
            rows = v2_lists.list_images(session, g.ctx, query)
        except LookupError:
            raise BadRequest("Invalid marker. Image could not be found.") from None
        return jsonify({"images": details_of(session, rows)})


@bp.get("/images/<image_id>")
def show(image_id):
    with state().engine.connect() as conn:
        image, props = queries.visible_record(conn, g.ctx, rules.canonical_id(image_id))
        tags = queries.tags_of_one(conn, image.id) if image is not None else []
    if image is None:
        raise NotFound("Image not found")
    return jsonify({"image": shown(image, props, tags)})


def _writable(body):
    """The attributes, properties (None: unchanged), tags (None: unchanged) and
    the v1 ``is_public`` flag (None: not given) of a create or update body."""
    values = {k: body[k] for k in WRITABLE if k in body}
    conf = state().conf
    is_public = body.get("is_public")
    if is_public is not None:
        is_public = rules.clean_values({"is_public": is_public}, conf)["is_public"]
    rules.clean_values(values, conf)
    if "copies" in values:
        values["copies"] = _copies(values["copies"])
    if "location_metadata" in values:
        values["location_metadata"] = _location_metadata(values["location_metadata"])
    props = (rules.clean_properties(body["properties"], conf)
             if "properties" in body else None)
    tags = rules.clean_tags(body["tags"], conf) if "tags" in body else None
    return values, props, tags, is_public


def _copies(uris):
    """The ``copies`` column of a list of URIs (None for none).  :raises BadRequest:"""
    if uris is None:
        return None
    if not isinstance(uris, list) or not all(isinstance(u, str) and u for u in uris):
        raise BadRequest("copies must be a list of store URIs")
    return dump(list(dict.fromkeys(uris))) if uris else None


def _location_metadata(by_uri):
    """The ``location_metadata`` column of ``{uri: metadata object}`` (None for none).

    :raises BadRequest:
    """
    if by_uri is None:
        return None
    if not isinstance(by_uri, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) for k, v in by_uri.items()):
        raise BadRequest("location_metadata must map location URIs to JSON objects")
    kept = {uri: meta for uri, meta in by_uri.items() if meta}
    return dump(kept) if kept else None


def _v1_visibility(values, is_public, current):
    """Apply v1's ``is_public`` when no visibility is given, as Glance did after v2:
    true makes an image public; false makes a public (or new) image shared and
    leaves a community, shared or private one as it is."""
    if "visibility" in values or is_public is None:
        return
    if is_public:
        values["visibility"] = "public"
    elif current in (None, "public"):
        values["visibility"] = "shared"


def set_tags(session, image, tags):
    """Make the image's tags exactly ``tags`` (rows are soft-deleted and revived)."""
    now = utcnow()
    rows = queries.tag_rows(session, image.id)
    for value in tags:
        row = rows.get(value)
        if row is None:
            session.add(ImageTag(image_id=image.id, value=value))
        elif row.deleted:
            row.deleted, row.deleted_at, row.updated_at = False, None, now
    for value, row in rows.items():
        if value not in tags and not row.deleted:
            row.deleted, row.deleted_at = True, now


@bp.post("/images")
def create():
    body = json_object("image")
    values, props, tags, is_public = _writable(body)
    _v1_visibility(values, is_public, None)
    image_id = rules.new_or_given_id(body.get("id"))
    g.ctx.check_identity()
    _check_system_fields(values)
    g.ctx.check_visibility(values.get("visibility"))
    values.setdefault("status", ACTIVE if g.ctx.is_admin else QUEUED)
    if not g.ctx.is_admin or values.get("owner") is None:
        values["owner"] = g.ctx.owner
    rules.validate_image(values, _formats_match(values))
    duplicate = f"An image with identifier {image_id} already exists"
    with state().Session() as session:
        if queries.get_image(session, image_id) is not None:
            raise Conflict(duplicate)
        image = Image(id=image_id, **values)
        session.add(image)
        for name, value in (props or {}).items():
            rules.check_property_allowed(name, g.ctx.is_admin)
            session.add(ImageProperty(image_id=image_id, name=name, value=value))
        for value in tags or ():
            session.add(ImageTag(image_id=image_id, value=value))
        try:
            session.commit()
        except IntegrityError:
            raise Conflict(duplicate) from None
        return jsonify({"image": shown(image, props or {}, tags or [])})


def set_properties(session, image, props, purge):
    """Merge ``props`` into the image's properties; purge the rest if asked.

    :raises BadRequest: :raises Forbidden: a name that is no header name or is
        reserved is added or changed (one an older glance stored may stay as it is:
        v2 PATCH sends every property back).
    """
    now = utcnow()
    rows = queries.property_rows(session, image.id)
    kept = set() if purge else {name for name, row in rows.items() if not row.deleted}
    rules.check_property_count(len(kept | set(props or {})), state().conf)
    for name, value in (props or {}).items():
        row = rows.get(name)
        if row is None or row.deleted or row.value != value:
            rules.check_property_allowed(name, g.ctx.is_admin)
    for name, value in (props or {}).items():
        row = rows.get(name)
        if row is None:
            session.add(ImageProperty(image_id=image.id, name=name, value=value))
        elif row.deleted or row.value != value:
            row.value, row.deleted, row.deleted_at = value, False, None
    if purge:
        for name, row in rows.items():
            if name not in (props or {}) and not row.deleted:
                row.deleted, row.deleted_at = True, now


@bp.put("/images/<image_id>")
def update(image_id):
    body = json_object("image")
    values, props, tags, is_public = _writable(body)
    g.ctx.check_identity()
    purge = request.headers.get("X-Glance-Registry-Purge-Props", "false").lower() == "true"
    with state().Session() as session:
        image = load_visible(session, image_id)
        g.ctx.check_modify(image)
        _check_system_fields(values, image)
        _v1_visibility(values, is_public, image.visibility)
        g.ctx.check_visibility(values.get("visibility"), image.visibility)
        current = {k: getattr(image, k) for k in ("status", "disk_format", "container_format")}
        rules.validate_image({**current, **values}, _formats_match(values))
        expected = request.headers.get(EXPECT_STATUS)
        if expected is not None:
            _compare_and_set(session, image, expected, values, _untouched_since())
        for name, value in values.items():
            setattr(image, name, value)
        image.updated_at = utcnow()
        if props is not None or purge:
            set_properties(session, image, props, purge)
        if tags is not None:
            set_tags(session, image, tags)
        session.commit()
        return jsonify({"image": detail(session, image)})


def _formats_match(values):
    """Whether v1's ami/ari/aki rule applies: to a v1 write that sets a format (so an
    image v2 made ami/bare still takes v1 updates and its upload's status changes)."""
    sets_format = "disk_format" in values or "container_format" in values
    return sets_format and request.headers.get(API, "v1").lower() != "v2"


def _untouched_since():
    """The EXPECT_UNTOUCHED time (naive UTC), or None.  :raises BadRequest:"""
    value = request.headers.get(EXPECT_UNTOUCHED)
    if value is None:
        return None
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{EXPECT_UNTOUCHED} must be an ISO 8601 time") from None
    if when.tzinfo is not None:
        try:
            when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise BadRequest(f"{EXPECT_UNTOUCHED} is out of range in UTC") from None
    return when


def _compare_and_set(session, image, expected, values, untouched_since=None):
    """Write ``values`` only if the image is still ``expected`` and not deleted
    (and, with ``untouched_since``, not updated after that time).

    One conditional UPDATE, so two requests that both read ``queued`` cannot
    both move the image on: the database lets exactly one of them match.

    :raises Conflict: the image is in another status (or deleted, or touched) by now.
    """
    where = [Image.id == image.id, Image.status == expected, Image.deleted == false()]
    if untouched_since is not None:
        where.append(Image.updated_at <= untouched_since)
    stmt = (sql_update(Image).where(*where)
            .values(**values, updated_at=utcnow())
            .execution_options(synchronize_session=False))
    if session.execute(stmt).rowcount != 1:
        session.rollback()
        raise Conflict(f"Image {image.id} is no longer {expected}: another request "
                       "changed or deleted it")


@bp.delete("/images/<image_id>")
def delete(image_id):
    """Soft-delete; an image with data becomes pending_delete until glance-api removes it.

    The row is marked before any data goes, so a crash in between leaves a
    pending_delete image for glance-scrubber, never data nobody points at.
    """
    g.ctx.check_identity()
    with state().Session() as session:
        image = load_undeleted(session, image_id)
        g.ctx.check_delete(image)
        # The answer shows the properties the image had before it was deleted.
        live = [row for row in queries.property_rows(session, image.id).values()
                if not row.deleted]
        props = {row.name: row.value for row in live}
        now = utcnow()
        image.deleted, image.deleted_at, image.updated_at = True, now, now
        if image.status != PENDING_DELETE:
            image.status = PENDING_DELETE if image.location or image.copies else DELETED
        for row in live:
            row.deleted, row.deleted_at = True, now
        for member in queries.memberships(session, image.id):
            member.deleted, member.deleted_at = True, now
        tags = [row.value for row in queries.tag_rows(session, image.id).values()
                if not row.deleted]
        session.commit()
        return jsonify({"image": shown(image, props, sorted(tags))})


def _modifiable(session, image_id):
    """The undeleted image, if the caller may change it.  :raises NotFound: :raises Forbidden:"""
    image = load_undeleted(session, image_id)
    g.ctx.check_modify(image)
    return image


@bp.put("/images/<image_id>/tags/<tag>")
def add_tag(image_id, tag):
    """Tag the image (204; adding a tag it has is no change)."""
    g.ctx.check_identity()
    rules.clean_tag(tag)
    with state().Session() as session:
        image = _modifiable(session, image_id)
        rows = queries.tag_rows(session, image.id)
        live = {value for value, row in rows.items() if not row.deleted}
        if tag not in live:
            rules.check_tag_count(len(live) + 1, state().conf)
            set_tags(session, image, sorted(live | {tag}))
            image.updated_at = utcnow()
            session.commit()
    return "", 204


@bp.delete("/images/<image_id>/tags/<tag>")
def delete_tag(image_id, tag):
    """Remove a tag (204); 404 when the image does not have it."""
    g.ctx.check_identity()
    with state().Session() as session:
        image = _modifiable(session, image_id)
        row = queries.tag_rows(session, image.id).get(tag)
        if row is None or row.deleted:
            raise NotFound(f"Image {image.id} has no tag {tag[:255]!r}")
        now = utcnow()
        row.deleted, row.deleted_at, image.updated_at = True, now, now
        session.commit()
    return "", 204


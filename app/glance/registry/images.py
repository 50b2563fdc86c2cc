"""The /images routes: list, detail, show, create, update, delete."""
from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import false, update as sql_update
from sqlalchemy.exc import IntegrityError

from glance import limits
from glance.registry import queries, validation
from glance.registry.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from glance.registry.models import WRITABLE, Image, ImageProperty, utcnow
from glance.registry.serialize import image_detail, image_index

bp = Blueprint("images", __name__)
EXPECT_STATUS = "X-Glance-Registry-Expect-Status"


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
    image = queries.visible_image(session, g.ctx, validation.canonical_id(image_id))
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
SYSTEM_FIELDS = ("status", "location", "checksum")


def require_identity():
    """:raises Unauthorized: anonymous callers write nothing."""
    if not g.ctx.may_write:
        raise Unauthorized("Authentication required")


def _check_system_fields(values, image=None):
    """Refuse what only an admin (glance-api's service user) may write.

    :param image: the current row on update; None on create.
    :raises Forbidden: naming the field.
    """
    if g.ctx.is_admin:
        return
    for name in SYSTEM_FIELDS:
        allowed = image is None and name == "status" and values.get(name) == "queued"
        if name in values and not allowed:
            raise Forbidden(f"Only glance itself may set {name}")
    if "owner" in values and values["owner"] != (image.owner if image else g.ctx.owner):
        raise Forbidden("Only an admin may set the owner of an image")
    if image is not None and "size" in values and image.status != "queued":
        raise Forbidden("Only glance itself may set the size of an image with data")


def detail(session, image):
    return image_detail(image, queries.properties_of(session, [image.id])[image.id])


def _list(detail_view):
    conf = state().conf
    try:
        query = validation.list_params(request.args, g.ctx.is_admin,
                                       conf.limit_param_default, conf.api_limit_max)
    except validation.Invalid as exc:
        raise BadRequest(str(exc)) from None
    with state().Session() as session:
        try:
            rows = queries.list_images(session, g.ctx, query, detail=detail_view)
        except LookupError:
            raise BadRequest("Invalid marker. Image could not be found.") from None
        if not detail_view:
            return jsonify({"images": [image_index(row) for row in rows]})
        props = queries.properties_of(session, [row.id for row in rows])
        return jsonify({"images": [image_detail(row, props[row.id]) for row in rows]})


@bp.get("/")
@bp.get("/images")
def index():
    return _list(False)


@bp.get("/images/detail")
def details():
    return _list(True)


@bp.get("/images/<image_id>")
def show(image_id):
    with state().engine.connect() as conn:
        image, props = queries.visible_record(conn, g.ctx, validation.canonical_id(image_id))
    if image is None:
        raise NotFound("Image not found")
    return jsonify({"image": image_detail(image, props)})


def _writable(body):
    values = {k: body[k] for k in WRITABLE if k in body}
    conf = state().conf
    try:
        validation.clean_values(values, conf)
        props = (validation.clean_properties(body["properties"], conf)
                 if "properties" in body else None)
    except validation.Invalid as exc:
        raise BadRequest(str(exc)) from None
    return values, props


def _validate(values):
    try:
        validation.validate_image(values)
    except validation.Invalid as exc:
        raise BadRequest(str(exc)) from None


@bp.post("/images")
def create():
    body = json_object("image")
    values, props = _writable(body)
    try:
        image_id = validation.new_or_given_id(body.get("id"))
    except validation.Invalid as exc:
        raise BadRequest(str(exc)) from None
    require_identity()
    _check_system_fields(values)
    values.setdefault("status", "active" if g.ctx.is_admin else "queued")
    if not g.ctx.is_admin or values.get("owner") is None:
        values["owner"] = g.ctx.owner
    _validate(values)
    duplicate = f"An image with identifier {image_id} already exists"
    with state().Session() as session:
        if queries.get_image(session, image_id) is not None:
            raise Conflict(duplicate)
        image = Image(id=image_id, **values)
        session.add(image)
        for name, value in (props or {}).items():
            session.add(ImageProperty(image_id=image_id, name=name, value=value))
        try:
            session.commit()
        except IntegrityError:
            raise Conflict(duplicate) from None
        return jsonify({"image": image_detail(image, props or {})})


def set_properties(session, image, props, purge):
    """Merge ``props`` into the image's properties; purge the rest if asked."""
    now = utcnow()
    rows = queries.property_rows(session, image.id)
    kept = set() if purge else {name for name, row in rows.items() if not row.deleted}
    limits.check_property_count(len(kept | set(props or {})), state().conf)
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
    values, props = _writable(body)
    require_identity()
    purge = request.headers.get("X-Glance-Registry-Purge-Props", "false").lower() == "true"
    with state().Session() as session:
        image = load_visible(session, image_id)
        if not g.ctx.can_modify(image):
            raise Forbidden("Forbidden to modify an image you do not own")
        _check_system_fields(values, image)
        current = {k: getattr(image, k) for k in ("status", "disk_format", "container_format")}
        _validate({**current, **values})
        expected = request.headers.get(EXPECT_STATUS)
        if expected is not None:
            _compare_and_set(session, image, expected, values)
        for name, value in values.items():
            setattr(image, name, value)
        image.updated_at = utcnow()
        if props is not None or purge:
            set_properties(session, image, props, purge)
        session.commit()
        return jsonify({"image": detail(session, image)})


def _compare_and_set(session, image, expected, values):
    """Write ``values`` only if the image is still ``expected`` and not deleted.

    One conditional UPDATE, so two requests that both read ``queued`` cannot
    both move the image on: the database lets exactly one of them match.

    :raises Conflict: the image is in another status (or deleted) by now.
    """
    stmt = (sql_update(Image)
            .where(Image.id == image.id, Image.status == expected, Image.deleted == false())
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
    require_identity()
    with state().Session() as session:
        image = load_undeleted(session, image_id)
        if not g.ctx.can_modify(image):
            raise Forbidden("Forbidden to delete an image you do not own")
        if image.protected:
            raise Forbidden("Image is protected")
        # The answer shows the properties the image had before it was deleted.
        live = [row for row in queries.property_rows(session, image.id).values()
                if not row.deleted]
        props = {row.name: row.value for row in live}
        now = utcnow()
        image.deleted, image.deleted_at, image.updated_at = True, now, now
        if image.status != "pending_delete":
            image.status = "pending_delete" if image.location else "deleted"
        for row in live:
            row.deleted, row.deleted_at = True, now
        for member in queries.memberships(session, image.id):
            member.deleted, member.deleted_at = True, now
        session.commit()
        return jsonify({"image": image_detail(image, props)})


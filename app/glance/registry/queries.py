"""Database queries of the registry: listing with filters and keyset paging.

Paging is by (sort_key, id): the next page starts strictly after the
marker's pair, so a deep page costs an index seek, not an OFFSET scan.  NULL
sort values count as the smallest on every database (PostgreSQL is told so
explicitly), so a NULL-named image sits at a stable place in the order.
"""
from sqlalchemy import (Boolean, and_, bindparam, exists, false, func, literal_column, or_,
                        select)

from glance.registry.models import Image, ImageMember, ImageProperty, ImageTag
from glance.rules import DELETED, KILLED, READABLE_BY_ALL

HIDDEN_STATUSES = (KILLED, DELETED)
FEW_VALUES = ("status", "disk_format", "container_format")
NULLABLE_KEYS = ("name", "size", "disk_format", "container_format", "updated_at")
INDEX_COLUMNS = (Image.id, Image.name, Image.disk_format, Image.container_format,
                 Image.checksum, Image.size)
# Lists select plain rows, not ORM objects: building 1000 instances costs more than
# the query.  A row answers the same attribute names.
IMAGE_COLUMNS = tuple(getattr(Image, column.key) for column in Image.__table__.columns)
IMAGE_KEYS = tuple(column.key for column in IMAGE_COLUMNS)


def membership_exists(image_id_col, member, status="all"):
    condition = exists().where(ImageMember.image_id == image_id_col,
                               ImageMember.member == member,
                               ImageMember.deleted == false())
    if status != "all":
        condition = condition.where(ImageMember.status == status)
    return condition


PUBLIC = Image.visibility == "public"


def visible_in_lists(ctx):
    """The condition of :attr:`glance.context.RequestContext.lists` (v1 lists); None: no
    condition.  Members of any status see a shared image listed, as v1 always did."""
    if ctx.lists == "all":
        return None
    if ctx.lists == "public":
        return PUBLIC
    return or_(PUBLIC, Image.owner == ctx.owner,
               and_(Image.visibility == "shared", membership_exists(Image.id, ctx.owner)))


def _after_marker(col, value, marker_id, descending):
    """Rows strictly after (value, marker_id) in the (col, id) order."""
    nullable = col.key in NULLABLE_KEYS
    if col.key == "id":
        return col < marker_id if descending else col > marker_id
    if descending:
        if value is None:
            return and_(col.is_(None), Image.id < marker_id)
        # The leading col <= value keeps the condition usable by an index.
        after = and_(col <= value, or_(col < value, Image.id < marker_id))
        return or_(after, col.is_(None)) if nullable else after
    if value is None:
        return or_(col.is_not(None), and_(col.is_(None), Image.id > marker_id))
    return and_(col >= value, or_(col > value, Image.id > marker_id))


def _equal(col, value, sort_col, dialect):
    """``col == value``, marked on SQLite as a condition most rows meet.

    SQLite keeps no statistics unless ANALYZE ran, so it takes an equality on
    an indexed column with a handful of values (disk_format=raw) for a
    selective one and sorts thousands of rows instead of walking the sort
    index.  likelihood() tells it otherwise.
    """
    condition = col == value
    if dialect == "sqlite" and col.key in FEW_VALUES and col.key != sort_col.key:
        return func.likelihood(condition, literal_column("0.9"), type_=Boolean)
    return condition


def _order(col, descending, dialect):
    if col.key == "id":
        return [col.desc() if descending else col.asc()]
    if descending:
        ordered = col.desc()
        if dialect == "postgresql" and col.key in NULLABLE_KEYS:
            ordered = ordered.nulls_last()
        return [ordered, Image.id.desc()]
    ordered = col.asc()
    if dialect == "postgresql" and col.key in NULLABLE_KEYS:
        ordered = ordered.nulls_first()
    return [ordered, Image.id.asc()]


def list_images(session, ctx, query, detail=False):
    """Return one page of images as rows of every column (detail) or index tuples.

    :param query: the result of :func:`glance.registry.validation.list_params`.
    :raises LookupError: the marker is not an image the caller can see.
    """
    col = getattr(Image, query["sort_key"])
    descending = query["sort_dir"] == "desc"
    stmt = select(*(IMAGE_COLUMNS if detail else INDEX_COLUMNS))
    stmt = stmt.where(Image.deleted == false(), ~Image.status.in_(HIDDEN_STATUSES))
    visible = visible_in_lists(ctx)
    if visible is not None:
        stmt = stmt.where(visible)
    if query["is_public"] is not None:
        stmt = stmt.where(PUBLIC if query["is_public"] else Image.visibility != "public")
    filters = query["filters"]
    dialect = session.get_bind().dialect.name
    for name in ("name", "status", "disk_format", "container_format", "min_ram", "min_disk"):
        if name in filters:
            stmt = stmt.where(_equal(getattr(Image, name), filters[name], col, dialect))
    if "size_min" in filters:
        stmt = stmt.where(Image.size >= filters["size_min"])
    if "size_max" in filters:
        stmt = stmt.where(Image.size <= filters["size_max"])
    for name, value in query["properties"].items():
        stmt = stmt.where(exists().where(ImageProperty.image_id == Image.id,
                                         ImageProperty.name == name,
                                         ImageProperty.value == value,
                                         ImageProperty.deleted == false()))
    if query["marker"] is not None:
        marker = get_image(session, query["marker"])
        if marker is None or not ctx.can_see(marker, _is_member(session, marker, ctx)):
            raise LookupError(query["marker"])
        stmt = stmt.where(_after_marker(col, getattr(marker, query["sort_key"]),
                                        marker.id, descending))
    stmt = stmt.order_by(*_order(col, descending, dialect)).limit(query["limit"])
    return rows(session, stmt)


def rows(session, stmt, params=None):
    """The rows of a Core ``stmt`` on the session's connection: through the ORM, each
    list query cost a third more."""
    return session.connection().execute(stmt, params).all()


def get_image(session, image_id):
    """The image row with ``image_id`` (deleted or not), or None."""
    return session.get(Image, image_id)


def _is_member(bind, image, ctx):
    """Whether the caller holds a membership that matters for visibility.

    :param bind: a Session or a Connection.
    """
    if (ctx.is_admin or ctx.owner is None or image.owner == ctx.owner
            or image.visibility in READABLE_BY_ALL):
        return False
    return bind.execute(_MEMBER, {"image_id": image.id, "member": ctx.owner}).first() is not None


# Built once, as the two below: statements made per call cost their construction
# and cache key on every request (profiled: half of the registry's show).
_MEMBER = select(ImageMember.id).where(ImageMember.image_id == bindparam("image_id"),
                                      ImageMember.member == bindparam("member"),
                                      ImageMember.deleted == false())


# Built once: the show path runs it for every HEAD and GET of glance-api.
_RECORD = (select(Image.__table__, ImageProperty.name.label("property_name"),
                  ImageProperty.value.label("property_value"))
           .outerjoin(ImageProperty.__table__, and_(ImageProperty.image_id == Image.id,
                                                    ImageProperty.deleted == false()))
           .where(Image.id == bindparam("image_id")))


def visible_record(conn, ctx, image_id):
    """The image row and its properties in one query, for the hot show path.

    :param conn: a Connection (plain Core, no ORM identity map).
    :returns: ``(row, properties)``; row is None if missing or not visible.
    """
    if not image_id:
        return None, {}
    rows = conn.execute(_RECORD, {"image_id": image_id}).all()
    if not rows or not ctx.can_see(rows[0], _is_member(conn, rows[0], ctx)):
        return None, {}
    return rows[0], {r.property_name: r.property_value for r in rows
                     if r.property_name is not None}


def visible_image(session, ctx, image_id):
    """The image if the caller may read it, else None (shown as 404)."""
    image = get_image(session, image_id) if image_id else None
    if image is None or not ctx.can_see(image, _is_member(session, image, ctx)):
        return None
    return image


# Prebuilt: building an IN of a page's 1000 ids coerces each id, which cost more
# than running the query.
_PROPERTIES_OF = select(ImageProperty.image_id, ImageProperty.name, ImageProperty.value).where(
    ImageProperty.image_id.in_(bindparam("ids", expanding=True)), ImageProperty.deleted == false())
_TAGS_OF = (select(ImageTag.image_id, ImageTag.value)
            .where(ImageTag.image_id.in_(bindparam("ids", expanding=True)),
                   ImageTag.deleted == false())
            .order_by(ImageTag.value))


def properties_of(session, image_ids):
    """Map each id in ``image_ids`` to its undeleted properties (one query)."""
    found = {image_id: {} for image_id in image_ids}
    if not image_ids:
        return found
    for image_id, name, value in rows(session, _PROPERTIES_OF, {"ids": list(image_ids)}):
        found[image_id][name] = value
    return found


def property_rows(session, image_id):
    """All property rows of an image, deleted ones too, by name."""
    stmt = select(ImageProperty).where(ImageProperty.image_id == image_id)
    return {row.name: row for row in session.execute(stmt).scalars()}


def get_membership(session, image_id, member, include_deleted=False):
    stmt = select(ImageMember).where(ImageMember.image_id == image_id,
                                     ImageMember.member == member)
    if not include_deleted:
        stmt = stmt.where(ImageMember.deleted == false())
    return session.execute(stmt).scalars().first()


def memberships(session, image_id, include_deleted=False):
    stmt = select(ImageMember).where(ImageMember.image_id == image_id)
    if not include_deleted:
        stmt = stmt.where(ImageMember.deleted == false())
    return list(session.execute(stmt.order_by(ImageMember.member)).scalars())


def shared_with(session, member):
    """Undeleted memberships of ``member`` on images that are not deleted and that it
    can see: a ``private`` image keeps its members but shows itself to none of them."""
    stmt = (select(ImageMember.image_id, ImageMember.can_share)
            .join(Image, Image.id == ImageMember.image_id)
            .where(ImageMember.member == member, ImageMember.deleted == false(),
                   Image.deleted == false(), Image.visibility != "private")
            .order_by(ImageMember.image_id))
    return list(session.execute(stmt))



_TAGS = (select(ImageTag.value)
         .where(ImageTag.image_id == bindparam("image_id"), ImageTag.deleted == false())
         .order_by(ImageTag.value))


def tags_of_one(conn, image_id):
    """The undeleted tags of one image, sorted (the show path's prebuilt query)."""
    return list(conn.execute(_TAGS, {"image_id": image_id}).scalars())


def tags_of(session, image_ids):
    """Map each id in ``image_ids`` to its undeleted tags, sorted (one query)."""
    found = {image_id: [] for image_id in image_ids}
    if not image_ids:
        return found
    for image_id, value in rows(session, _TAGS_OF, {"ids": list(image_ids)}):
        found[image_id].append(value)
    return found


def tag_rows(session, image_id):
    """All tag rows of an image, deleted ones too, by value."""
    stmt = select(ImageTag).where(ImageTag.image_id == image_id)
    return {row.value: row for row in session.execute(stmt).scalars()}

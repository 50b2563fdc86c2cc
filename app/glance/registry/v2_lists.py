"""The v2 list: visibility, member status, tags, operators and multi-key sort.

Which images a v2 list shows (Glance's rules): the caller's own, the public
ones, and the shared ones it is a member of with ``member_status`` (default
``accepted``); community images only when ``visibility=community`` (or
``all``) is asked.  Admins see everything.  Hidden images (``os_hidden``)
are left out unless ``os_hidden=true`` asks for them.

Paging is keyset paging like v1's, generalised to several sort keys: rows
strictly after the marker's (k1, k2, ..., id) tuple, NULL the smallest value.
"""
from sqlalchemy import and_, exists, false, or_, select, true

from glance.registry import queries
from glance.registry.models import Image, ImageProperty, ImageTag
from glance.rules import READABLE_BY_ALL

OPERATORS = {"eq": "__eq__", "neq": "__ne__", "gt": "__gt__", "gte": "__ge__",
             "lt": "__lt__", "lte": "__le__"}


def visible(ctx, visibility, member_status):
    """The condition of what a v2 list shows the caller; None: no condition."""
    if ctx.is_admin:
        return None if visibility in (None, "all") else Image.visibility == visibility
    if visibility in ("public", "community"):
        return Image.visibility == visibility
    if ctx.owner is None:           # anonymous, or an identity without a tenant
        if visibility == "all":
            return Image.visibility.in_(READABLE_BY_ALL)
        return queries.PUBLIC if visibility is None else false()
    owned = Image.owner == ctx.owner
    member = queries.membership_exists(Image.id, ctx.owner, member_status)
    if visibility == "private":
        return and_(Image.visibility == "private", owned)
    if visibility == "shared":
        return and_(Image.visibility == "shared", or_(owned, member))
    shown = [queries.PUBLIC, owned, and_(Image.visibility == "shared", member)]
    if visibility == "all":
        shown.append(Image.visibility == "community")
    return or_(*shown)


def _tagged(tag):
    return exists().where(ImageTag.image_id == Image.id, ImageTag.value == tag,
                          ImageTag.deleted == false())


def _filters(query):
    yield Image.deleted == false()
    yield ~Image.status.in_(queries.HIDDEN_STATUSES)
    yield Image.os_hidden == (true() if query["os_hidden"] else false())
    for name, value in query["equal"].items():
        yield getattr(Image, name) == value
    for name, values in query["within"].items():
        yield getattr(Image, name).in_(values)
    for name, op, value in query["compared"]:
        yield getattr(getattr(Image, name), OPERATORS[op])(value)
    for tag in query["tags"]:
        yield _tagged(tag)
    for name, value in query["properties"].items():
        yield exists().where(ImageProperty.image_id == Image.id, ImageProperty.name == name,
                             ImageProperty.value == value, ImageProperty.deleted == false())


def _same(col, value):
    return col.is_(None) if value is None else col == value


def _beyond(col, value, descending):
    """``col`` strictly after ``value`` in its direction, NULL counting as the smallest."""
    if descending:
        if value is None:
            return false()
        return or_(col < value, col.is_(None)) if col.key in queries.NULLABLE_KEYS else col < value
    if value is None:
        return col.is_not(None)
    return col > value


def after_marker(sort, marker):
    """Rows strictly after ``marker`` in the order of ``sort`` [(key, dir)] then id."""
    chain = [(getattr(Image, key), getattr(marker, key), direction == "desc")
             for key, direction in sort]
    if all(key != "id" for key, _ in sort):
        chain.append((Image.id, marker.id, sort[-1][1] == "desc"))
    branches = []
    for i, (col, value, descending) in enumerate(chain):
        earlier = [_same(c, v) for c, v, _ in chain[:i]]
        branches.append(and_(*earlier, _beyond(col, value, descending)))
        if col.key == "id":
            break               # ids are unique: nothing sorts after an equal id
    return or_(*branches)


def order(sort, dialect):
    """ORDER BY for ``sort``, NULLs first ascending on every database, id last."""
    clauses = []
    for key, direction in sort:
        col = getattr(Image, key)
        ordered = col.desc() if direction == "desc" else col.asc()
        if dialect == "postgresql" and key in queries.NULLABLE_KEYS:
            ordered = ordered.nulls_last() if direction == "desc" else ordered.nulls_first()
        clauses.append(ordered)
    if all(key != "id" for key, _ in sort):
        clauses.append(Image.id.desc() if sort[-1][1] == "desc" else Image.id.asc())
    return clauses


def list_images(session, ctx, query):
    """One page of a v2 list as rows of every column.

    :param query: the result of :func:`glance.registry.validation.list_params_v2`.
    :raises LookupError: the marker is not an image the caller can see.
    """
    stmt = select(*queries.IMAGE_COLUMNS).where(*_filters(query))
    condition = visible(ctx, query["visibility"], query["member_status"])
    if condition is not None:
        stmt = stmt.where(condition)
    if query["marker"] is not None:
        marker = queries.visible_image(session, ctx, query["marker"])
        if marker is None:
            raise LookupError(query["marker"])
        stmt = stmt.where(after_marker(query["sort"], marker))
    dialect = session.get_bind().dialect.name
    stmt = stmt.order_by(*order(query["sort"], dialect)).limit(query["limit"])
    return queries.rows(session, stmt)

"""Keyset paging over ``(sort column, id)`` for the catalog tables (metadefs, tasks).

A page starts strictly after the marker's pair, so a deep page is an index
seek, not an OFFSET scan.  A nullable sort column counts NULL as its
smallest value on every database (PostgreSQL is told so explicitly).
"""
from sqlalchemy import and_, or_


def _nullable(col):
    return bool(col.expression.nullable)


def after(model, col, marker, descending):
    """The condition of the rows strictly after ``marker`` (a row) in the ``(col, id)`` order."""
    value, marker_id = getattr(marker, col.key), marker.id
    if descending:
        if value is None:
            return and_(col.is_(None), model.id < marker_id)
        # The leading col <= value keeps the condition usable by an index.
        later = and_(col <= value, or_(col < value, model.id < marker_id))
        return or_(later, col.is_(None)) if _nullable(col) else later
    if value is None:
        return or_(col.is_not(None), model.id > marker_id)
    return and_(col >= value, or_(col > value, model.id > marker_id))


def order(model, col, descending, dialect):
    """ORDER BY terms for ``(col, id)``; NULL first ascending, last descending."""
    if descending:
        ordered = col.desc()
        if dialect == "postgresql" and _nullable(col):
            ordered = ordered.nulls_last()
        return ordered, model.id.desc()
    ordered = col.asc()
    if dialect == "postgresql" and _nullable(col):
        ordered = ordered.nulls_first()
    return ordered, model.id.asc()


def page(stmt, model, query, marker, dialect):
    """``stmt`` limited to one page.

    :param query: ``sort_key``, ``sort_dir`` (asc|desc) and ``limit`` (None: all).
    :param marker: the row the page starts after, or None for the first page.
    """
    col = getattr(model, query["sort_key"])
    descending = query["sort_dir"] == "desc"
    if marker is not None:
        stmt = stmt.where(after(model, col, marker, descending))
    stmt = stmt.order_by(*order(model, col, descending, dialect))
    return stmt if query["limit"] is None else stmt.limit(query["limit"])

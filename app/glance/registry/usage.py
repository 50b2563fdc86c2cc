"""/usage: what the caller's project holds, counted as Glance counts it for quotas.

One aggregate query over the project's images (``ix_images_owner``):

* ``image_count_total``: images not killed, deleted or pending deletion;
* ``image_size_total``: bytes of those with data in a store, staged data aside;
* ``image_stage_total``: bytes staged (``uploading``) or being imported;
* ``image_count_uploading``: images saving, uploading or importing.
"""
from flask import Blueprint, g, jsonify
from sqlalchemy import and_, case, false, func, select

from glance.registry.images import state
from glance.registry.models import Image
from glance.rules import BUSY, GONE, IMPORTING, UPLOADING

bp = Blueprint("usage", __name__)
STAGED = (UPLOADING, IMPORTING)


def project_usage(session, owner):
    """``{name: count or bytes}`` of the images ``owner`` (None: those without owner) holds."""
    live = Image.status.not_in(GONE)
    staged = Image.status.in_(STAGED)
    stored = and_(live, Image.status.not_in(STAGED), Image.location.is_not(None))
    owned = Image.owner.is_(None) if owner is None else Image.owner == owner
    stmt = select(func.count(case((live, 1))),
                  func.sum(case((stored, Image.size), else_=0)),
                  func.sum(case((staged, Image.size), else_=0)),
                  func.count(case((Image.status.in_(BUSY), 1)))
                  ).where(owned, Image.deleted == false())
    count, size, stage, busy = session.execute(stmt).one()
    # SUM is NULL over no rows, and a DECIMAL on MySQL and PostgreSQL.
    return {"image_count_total": count, "image_size_total": int(size or 0),
            "image_stage_total": int(stage or 0), "image_count_uploading": busy}


@bp.get("/usage")
def usage():
    """The caller's project's usage.  :raises Unauthorized: anonymous callers have none."""
    g.ctx.check_identity()
    with state().Session() as session:
        return jsonify({"usage": project_usage(session, g.ctx.owner)})

"""/metadefs: namespaces of metadata definitions and their resource type associations.

The registry applies Glance's rules and default policy in this order:
anonymous callers 401; a bad body 400 (403 for a read-only attribute); a
namespace the caller may not read 404; a write by a non-admin 403; a delete
in a protected namespace 403; over a quota 413; a name taken 409.
"""
from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from glance import rules
from glance.errors import BadRequest, Conflict, Forbidden, NotFound, TooLarge
from glance.registry import metadef_queries as queries
from glance.registry import metadef_validation as checks
from glance.registry.images import state
from glance.registry.metadef_models import (CONTENT, MetadefNamespace,
                                            MetadefNamespaceResourceType, MetadefObject,
                                            MetadefProperty, MetadefResourceType, MetadefTag,
                                            utcnow)
from glance.registry.serialize import dump

bp = Blueprint("metadefs", __name__, url_prefix="/metadefs")
KINDS = {"objects": MetadefObject, "properties": MetadefProperty, "tags": MetadefTag}
QUOTAS = {MetadefObject: ("metadef_object_quota", "objects"),
          MetadefProperty: ("metadef_property_quota", "properties"),
          MetadefTag: ("metadef_tag_quota", "tags")}
SORT_DIRS = ("asc", "desc")


def body():
    """The request's JSON document.  :raises BadRequest: none, or not JSON."""
    document = request.get_json(force=True, silent=True)
    if document is None:
        raise BadRequest("Request body must be a JSON document")
    return document


def load_namespace(session, name, write=False):
    """The namespace ``name`` if the caller may read it (and, for ``write``, change it).

    A write locks the row until commit: changes to what a namespace holds are
    counted against its quotas one request at a time.
    :raises NotFound: :raises Forbidden: a write by a caller who is not an admin.
    """
    row = queries.namespace_row(session, name)
    if row is None or not g.ctx.can_see_namespace(row):
        raise NotFound(f"Metadata definition namespace {name} was not found")
    if write:
        if not g.ctx.may_manage_metadefs:
            raise Forbidden("Only admins may change metadata definitions")
        session.refresh(row, with_for_update=True)
    return row


def deletable(namespace, what):
    """:raises Forbidden: the namespace is protected."""
    if namespace.protected:
        raise Forbidden(f"Metadata definition namespace {namespace.namespace} is protected: "
                        f"its {what} cannot be deleted")


def check_quota(session, model, namespace, total):
    """:raises TooLarge: the namespace would hold more than its quota."""
    option, what = QUOTAS[model]
    quota = getattr(state().conf, option)
    if total > quota:
        raise TooLarge(f"A metadata definition namespace may hold at most {quota} "
                                f"{what}; this request would make {total}")


def commit(session, conflict):
    """Commit; a unique constraint that fails (a race) is a 409 ``conflict``."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(conflict) from None


def no_repeats(names, what):
    """:raises Conflict: a name given twice in one request."""
    seen = set()
    for name in names:
        if name in seen:
            raise Conflict(f"Duplicate {what} {name!r} in the request")
        seen.add(name)


def created(key, record):
    return jsonify({key: record}), 201


def no_content():
    return Response(status=204)


# --- namespaces ---------------------------------------------------------------------

def choice(name, value, choices, default):
    """``value``, or ``default`` when it is empty.  :raises BadRequest: not one of ``choices``."""
    if value in (None, ""):
        return default
    if value not in choices:
        raise BadRequest(f"Invalid {name} {value[:40]!r}: one of {', '.join(choices)}")
    return value


def page_query(sort_keys, default_limit):
    """limit, marker, sort_key and sort_dir of a list request.  :raises BadRequest:"""
    limit = request.args.get("limit")
    limit = default_limit if limit is None else rules.parse_count("limit", limit)
    conf = state().conf
    return {"limit": None if limit is None else min(limit, conf.api_limit_max),
            "marker": request.args.get("marker") or None,
            "sort_key": choice("sort_key", request.args.get("sort_key"), sort_keys,
                               "created_at"),
            "sort_dir": choice("sort direction", request.args.get("sort_dir"), SORT_DIRS,
                               "desc")}


@bp.get("/namespaces")
def list_namespaces():
    """A page of the namespaces the caller may read, each with its resource types."""
    g.ctx.check_identity()
    query = page_query(("created_at", "updated_at", "namespace"),
                       state().conf.limit_param_default)
    query["visibility"] = choice("visibility", request.args.get("visibility"),
                                 checks.VISIBILITIES, None)
    wanted = request.args.get("resource_types") or ""
    query["resource_types"] = [name for name in wanted.split(",") if name]
    limit = query["limit"]
    query["limit"] = limit + 1            # one more tells whether a next page exists
    with state().Session() as session:
        try:
            rows = queries.list_namespaces(session, g.ctx, query)
        except LookupError:
            raise NotFound(f"Metadata definition namespace {query['marker']} was not found")
        following = rows[limit - 1].namespace if len(rows) > limit > 0 else None
        rows = rows[:limit]
        found = queries.associations(session, [row.id for row in rows])
        namespaces = [{**queries.namespace_record(row),
                       "resource_type_associations": [queries.association_record(*pair)
                                                      for pair in found[row.id]]}
                      for row in rows]
    return jsonify({"namespaces": namespaces, "next": following})


@bp.post("/namespaces")
def create_namespace():
    """A namespace, with the associations, properties, objects and tags it starts with."""
    g.ctx.check_identity()
    values = checks.namespace(body())
    if not g.ctx.may_manage_metadefs:
        raise Forbidden("Only admins may create metadata definition namespaces")
    name = values["namespace"]
    conflict = f"Metadata definition namespace {name} already exists"
    with state().Session() as session:
        quota = state().conf.metadef_namespace_quota
        if queries.count(session, MetadefNamespace) >= quota:
            raise TooLarge(f"There may be at most {quota} metadata definition "
                                    "namespaces")
        if queries.namespace_row(session, name) is not None:
            raise Conflict(conflict)
        now = utcnow()
        row = MetadefNamespace(
            namespace=name, display_name=values.get("display_name"),
            description=values.get("description"),
            visibility=values.get("visibility", "private"),
            protected=values.get("protected", False),
            owner=values.get("owner", g.ctx.owner), created_at=now, updated_at=now)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(conflict) from None
        _fill(session, row, values, now)
        commit(session, conflict)
        return created("namespace", queries.namespace_detail(session, row))


def _fill(session, namespace, values, now):
    """Add what a new namespace starts with.  :raises Conflict: a name given twice."""
    objects = values.get("objects", [])
    tags = [item["name"] for item in values.get("tags", [])]
    properties = values.get("properties", {})
    no_repeats([item["name"] for item in objects], "object")
    no_repeats(tags, "tag")
    no_repeats([item["name"] for item in values.get("resource_type_associations", [])],
               "resource type")
    for model, count in ((MetadefObject, len(objects)), (MetadefTag, len(tags)),
                         (MetadefProperty, len(properties))):
        check_quota(session, model, namespace, count)
    for association in values.get("resource_type_associations", []):
        associate(session, namespace, association, now)
    for item in objects:
        session.add(new_object(namespace, item, now))
    for name, definition in properties.items():
        session.add(MetadefProperty(namespace_id=namespace.id, name=name,
                                    json_schema=dump(definition),
                                    created_at=now, updated_at=now))
    for name in tags:
        session.add(MetadefTag(namespace_id=namespace.id, name=name, created_at=now,
                               updated_at=now))


def new_object(namespace, values, now):
    return MetadefObject(namespace_id=namespace.id, name=values["name"],
                         description=values.get("description"),
                         required=dump(values.get("required", [])),
                         json_schema=dump(values.get("properties", {})),
                         created_at=now, updated_at=now)


@bp.get("/namespaces/<name>")
def show_namespace(name):
    """The namespace and all it holds; ``?resource_type=`` prefixes property names."""
    g.ctx.check_identity()
    with state().Session() as session:
        row = load_namespace(session, name)
        detail = queries.namespace_detail(session, row, request.args.get("resource_type"))
    return jsonify({"namespace": detail})


@bp.put("/namespaces/<name>")
def update_namespace(name):
    """Replace the namespace's attributes; what it holds is kept.

    As in Glance, an attribute left out goes back to its default: no display
    name or description, private, unprotected, owned by the caller's project.
    """
    g.ctx.check_identity()
    values = checks.namespace(body())
    with state().Session() as session:
        row = load_namespace(session, name, write=True)
        new_name = values["namespace"]
        conflict = f"Metadata definition namespace {new_name} already exists"
        if new_name != row.namespace and queries.namespace_row(session, new_name) is not None:
            raise Conflict(conflict)
        row.namespace = new_name
        row.display_name = values.get("display_name")
        row.description = values.get("description")
        row.visibility = values.get("visibility", "private")
        row.protected = values.get("protected", False)
        row.owner = values.get("owner", g.ctx.owner or row.owner)
        commit(session, conflict)
        return jsonify({"namespace": queries.namespace_record(row)})


@bp.delete("/namespaces/<name>")
def delete_namespace(name):
    """Delete the namespace and all it holds (403 while it is protected)."""
    g.ctx.check_identity()
    with state().Session() as session:
        row = load_namespace(session, name, write=True)
        deletable(row, "namespace")
        for model in CONTENT:
            session.execute(delete(model).where(model.namespace_id == row.id))
        session.delete(row)
        session.commit()
    return no_content()


@bp.delete("/namespaces/<name>/<any(objects, properties, tags):kind>")
def delete_content(name, kind):
    """Delete all objects, properties or tags of a namespace (403 while it is protected)."""
    g.ctx.check_identity()
    model = KINDS[kind]
    with state().Session() as session:
        row = load_namespace(session, name, write=True)
        deletable(row, kind)
        session.execute(delete(model).where(model.namespace_id == row.id))
        session.commit()
    return no_content()


# --- resource types -----------------------------------------------------------------

@bp.get("/resource_types")
def list_resource_types():
    g.ctx.check_identity()
    with state().Session() as session:
        rows = queries.resource_types(session)
        return jsonify({"resource_types": [queries.resource_type_record(r) for r in rows]})


@bp.get("/namespaces/<name>/resource_types")
def list_associations(name):
    g.ctx.check_identity()
    with state().Session() as session:
        row = load_namespace(session, name)
        found = queries.associations(session, [row.id])[row.id]
        return jsonify({"resource_type_associations": [queries.association_record(*pair)
                                                       for pair in found]})


def associate(session, namespace, values, now):
    """Associate ``values["name"]`` (created if it is a new resource type) with the namespace.

    :raises Conflict: already associated.
    """
    resource_type = queries.resource_type(session, values["name"])
    if resource_type is None:
        resource_type = MetadefResourceType(name=values["name"], protected=False,
                                            created_at=now, updated_at=now)
        session.add(resource_type)
        session.flush()
    elif session.get(MetadefNamespaceResourceType, (resource_type.id, namespace.id)):
        raise Conflict(f"Resource type {values['name']} is already associated with "
                       f"namespace {namespace.namespace}")
    association = MetadefNamespaceResourceType(
        resource_type_id=resource_type.id, namespace_id=namespace.id,
        prefix=values.get("prefix"), properties_target=values.get("properties_target"),
        created_at=now, updated_at=now)
    session.add(association)
    return association


@bp.post("/namespaces/<name>/resource_types")
def create_association(name):
    g.ctx.check_identity()
    values = checks.association(body())
    conflict = f"Resource type {values['name']} is already associated with namespace {name}"
    with state().Session() as session:
        row = load_namespace(session, name, write=True)
        association = associate(session, row, values, utcnow())
        commit(session, conflict)
        return created("resource_type_association",
                       queries.association_record(association, values["name"]))


@bp.delete("/namespaces/<name>/resource_types/<type_name>")
def delete_association(name, type_name):
    g.ctx.check_identity()
    with state().Session() as session:
        row = load_namespace(session, name, write=True)
        resource_type = queries.resource_type(session, type_name)
        association = resource_type and session.get(MetadefNamespaceResourceType,
                                                    (resource_type.id, row.id))
        if not association:
            raise NotFound(f"Resource type {type_name} is not associated with namespace {name}")
        deletable(row, "resource type associations")
        session.delete(association)
        session.commit()
    return no_content()

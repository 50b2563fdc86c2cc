"""Queries of the metadata definitions catalog, and the records the registry answers with.

Namespaces and tags are paged by keyset, ``(sort_key, id)``, like images
(:mod:`glance.registry.keyset`).
"""
from sqlalchemy import func, or_, select

from glance.registry import keyset
from glance.registry.metadef_models import (MetadefNamespace, MetadefNamespaceResourceType,
                                            MetadefObject, MetadefProperty, MetadefResourceType,
                                            MetadefTag)
from glance.registry.serialize import load, timestamp


def namespace_row(session, name):
    """The namespace called ``name``, or None."""
    stmt = select(MetadefNamespace).where(MetadefNamespace.namespace == name)
    return session.execute(stmt).scalar_one_or_none()


def visible_namespaces(ctx):
    """The condition of the namespaces ``ctx`` may read (the SQL form of
    :meth:`glance.context.RequestContext.can_see_namespace`); None: all."""
    if ctx.lists == "all":
        return None
    public = MetadefNamespace.visibility == "public"
    if ctx.lists == "public":
        return public
    return or_(public, MetadefNamespace.owner == ctx.owner)


def _page(session, stmt, model, query, marker):
    return keyset.page(stmt, model, query, marker, session.get_bind().dialect.name)


def list_namespaces(session, ctx, query):
    """One page of the namespaces ``ctx`` may read.

    :param query: ``limit``, ``marker`` (a namespace name), ``sort_key``,
        ``sort_dir``, ``visibility`` and ``resource_types`` (names; any matches).
    :raises LookupError: the marker is not a namespace the caller may read.
    """
    stmt = select(MetadefNamespace)
    visible = visible_namespaces(ctx)
    if visible is not None:
        stmt = stmt.where(visible)
    if query["visibility"]:
        stmt = stmt.where(MetadefNamespace.visibility == query["visibility"])
    if query["resource_types"]:
        associated = (select(MetadefNamespaceResourceType.namespace_id)
                      .join(MetadefResourceType)
                      .where(MetadefResourceType.name.in_(query["resource_types"])))
        stmt = stmt.where(MetadefNamespace.id.in_(associated))
    marker = None
    if query["marker"] is not None:
        marker = namespace_row(session, query["marker"])
        if marker is None or not ctx.can_see_namespace(marker):
            raise LookupError(query["marker"])
    return list(session.execute(_page(session, stmt, MetadefNamespace, query, marker)).scalars())


def list_tags(session, namespace, query):
    """One page of a namespace's tags.  :raises LookupError: no such marker tag."""
    marker = None
    if query["marker"] is not None:
        marker = item(session, MetadefTag, namespace, query["marker"])
        if marker is None:
            raise LookupError(query["marker"])
    stmt = select(MetadefTag).where(MetadefTag.namespace_id == namespace.id)
    return list(session.execute(_page(session, stmt, MetadefTag, query, marker)).scalars())


def items(session, model, namespace):
    """Everything of one kind (objects, properties, tags) in a namespace, oldest first."""
    stmt = (select(model).where(model.namespace_id == namespace.id)
            .order_by(model.created_at, model.id))
    return list(session.execute(stmt).scalars())


def item(session, model, namespace, name):
    """The object, property or tag ``name`` of a namespace, or None."""
    stmt = select(model).where(model.namespace_id == namespace.id, model.name == name)
    return session.execute(stmt).scalar_one_or_none()


def count(session, model, namespace=None):
    stmt = select(func.count()).select_from(model)
    if namespace is not None:
        stmt = stmt.where(model.namespace_id == namespace.id)
    return session.execute(stmt).scalar_one()


def resource_type(session, name):
    stmt = select(MetadefResourceType).where(MetadefResourceType.name == name)
    return session.execute(stmt).scalar_one_or_none()


def resource_types(session):
    stmt = select(MetadefResourceType).order_by(MetadefResourceType.id)
    return list(session.execute(stmt).scalars())


def associations(session, namespace_ids):
    """``{namespace id: [(association, resource type name), ...]}``, oldest first."""
    found = {namespace_id: [] for namespace_id in namespace_ids}
    if not found:
        return found
    stmt = (select(MetadefNamespaceResourceType, MetadefResourceType.name)
            .join(MetadefResourceType)
            .where(MetadefNamespaceResourceType.namespace_id.in_(list(found)))
            .order_by(MetadefNamespaceResourceType.created_at,
                      MetadefNamespaceResourceType.resource_type_id))
    for association, type_name in session.execute(stmt):
        found[association.namespace_id].append((association, type_name))
    return found


# --- records ----------------------------------------------------------------------

def _times(row):
    return {"created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at)}


def namespace_record(row):
    return {"namespace": row.namespace, "display_name": row.display_name,
            "description": row.description, "visibility": row.visibility,
            "protected": row.protected, "owner": row.owner, **_times(row)}


def association_record(association, type_name):
    return {"name": type_name, "prefix": association.prefix,
            "properties_target": association.properties_target, **_times(association)}


def object_record(row, prefix=""):
    properties = load(row.json_schema, {})
    return {"name": row.name, "description": row.description,
            "required": [prefix + name for name in load(row.required, [])],
            "properties": {prefix + name: value for name, value in properties.items()},
            **_times(row)}


def property_record(row, prefix=""):
    """A property definition; named, as a property answered on its own is."""
    return {**load(row.json_schema, {}), "name": prefix + row.name}


def tag_record(row):
    return {"name": row.name, **_times(row)}


def resource_type_record(row):
    return {"name": row.name, **_times(row)}


def prefix_for(found, resource_type_name):
    """The prefix of ``resource_type_name``'s association among ``found`` ([(association,
    name)]), or None: no association or no prefix."""
    for association, type_name in found:
        if type_name == resource_type_name:
            return association.prefix
    return None


def namespace_detail(session, row, resource_type_name=None):
    """A namespace with everything it holds.

    :param resource_type_name: when the namespace is associated with this
        resource type under a prefix, property names carry that prefix.
    """
    found = associations(session, [row.id])[row.id]
    prefix = (prefix_for(found, resource_type_name) if resource_type_name else None) or ""
    properties = {}
    for prop in items(session, MetadefProperty, row):
        record = property_record(prop, prefix)
        properties[record.pop("name")] = record
    return {**namespace_record(row),
            "resource_type_associations": [association_record(*pair) for pair in found],
            "properties": properties,
            "objects": [object_record(obj, prefix)
                        for obj in items(session, MetadefObject, row)],
            "tags": [tag_record(tag) for tag in items(session, MetadefTag, row)]}

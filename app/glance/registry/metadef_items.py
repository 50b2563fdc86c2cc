"""/metadefs/namespaces/<namespace>/objects, /properties and /tags.

Read by whoever may read the namespace; created, changed and deleted by
admins (deleted only while the namespace is not protected), in the order
of :mod:`glance.registry.metadefs`.
"""
from flask import Blueprint, g, jsonify, request

from glance import rules
from glance.errors import Conflict, NotFound
from glance.registry import metadef_queries as queries
from glance.registry import metadef_validation as checks
from glance.registry.images import state
from glance.registry.metadef_models import MetadefObject, MetadefProperty, MetadefTag, utcnow
from glance.registry.metadefs import (body, check_quota, commit, created, deletable,
                                      load_namespace, new_object, no_content, no_repeats,
                                      page_query)
from glance.registry.serialize import dump

bp = Blueprint("metadef_items", __name__, url_prefix="/metadefs/namespaces/<namespace>")
# What each is called, and the record the registry answers with.
KINDS = {MetadefObject: ("object", queries.object_record),
         MetadefProperty: ("property", queries.property_record),
         MetadefTag: ("tag", queries.tag_record)}


def load_item(session, model, namespace, name):
    """:raises NotFound: no such object, property or tag in the namespace."""
    row = queries.item(session, model, namespace, name)
    if row is None:
        raise NotFound(f"Metadata definition {KINDS[model][0]} {name} was not found in "
                       f"namespace {namespace.namespace}")
    return row


def taken(session, model, namespace, name, current=None):
    """:raises Conflict: another object, property or tag of the namespace has ``name``."""
    if name != current and queries.item(session, model, namespace, name) is not None:
        raise Conflict(_conflict(model, namespace.namespace, name))


def _conflict(model, namespace, name):
    return (f"A metadata definition {KINDS[model][0]} {name} already exists in "
            f"namespace {namespace}")


def answer(model, item, status=200):
    key, record = KINDS[model]
    return jsonify({key: record(item)}), status


def add(model, namespace, name, make):
    """Create one object, property or tag called ``name``: ``make(namespace row, now)``
    builds it once the quota and the name are checked."""
    with state().Session() as session:
        row = load_namespace(session, namespace, write=True)
        check_quota(session, model, row, queries.count(session, model, row) + 1)
        taken(session, model, row, name)
        item = make(row, utcnow())
        session.add(item)
        commit(session, _conflict(model, namespace, name))
        return answer(model, item, 201)


def show(model, namespace, name):
    with state().Session() as session:
        return answer(model, load_item(session, model, load_namespace(session, namespace), name))


def replace(model, namespace, name, new_name, change):
    """Change one object, property or tag (``new_name`` may rename it): ``change(item)``."""
    with state().Session() as session:
        row = load_namespace(session, namespace, write=True)
        item = load_item(session, model, row, name)
        taken(session, model, row, new_name, item.name)
        change(item)
        commit(session, _conflict(model, namespace, new_name))
        return answer(model, item)


def remove(model, namespace, name):
    """Delete one object, property or tag (403 while the namespace is protected)."""
    g.ctx.check_identity()
    with state().Session() as session:
        row = load_namespace(session, namespace, write=True)
        item = load_item(session, model, row, name)
        deletable(row, f"{KINDS[model][0]} definitions")
        session.delete(item)
        session.commit()
    return no_content()


# --- objects ------------------------------------------------------------------------

@bp.get("/objects")
def list_objects(namespace):
    g.ctx.check_identity()
    with state().Session() as session:
        row = load_namespace(session, namespace)
        rows = queries.items(session, MetadefObject, row)
        return jsonify({"objects": [queries.object_record(obj) for obj in rows]})


@bp.post("/objects")
def create_object(namespace):
    g.ctx.check_identity()
    values = checks.metadef_object(body())
    return add(MetadefObject, namespace, values["name"],
               lambda row, now: new_object(row, values, now))


@bp.get("/objects/<name>")
def show_object(namespace, name):
    g.ctx.check_identity()
    return show(MetadefObject, namespace, name)


@bp.put("/objects/<name>")
def update_object(namespace, name):
    """Replace an object (a new ``name`` renames it); attributes left out are cleared."""
    g.ctx.check_identity()
    values = checks.metadef_object(body())

    def change(obj):
        obj.name, obj.description = values["name"], values.get("description")
        obj.required = dump(values.get("required", []))
        obj.json_schema = dump(values.get("properties", {}))
    return replace(MetadefObject, namespace, name, values["name"], change)


@bp.delete("/objects/<name>")
def delete_object(namespace, name):
    return remove(MetadefObject, namespace, name)


# --- properties ---------------------------------------------------------------------

@bp.get("/properties")
def list_properties(namespace):
    g.ctx.check_identity()
    with state().Session() as session:
        row = load_namespace(session, namespace)
        properties = {}
        for prop in queries.items(session, MetadefProperty, row):
            record = queries.property_record(prop)
            properties[record.pop("name")] = record
        return jsonify({"properties": properties})


@bp.post("/properties")
def create_property(namespace):
    g.ctx.check_identity()
    name, definition = checks.property_definition(body())
    return add(MetadefProperty, namespace, name, lambda row, now: MetadefProperty(
        namespace_id=row.id, name=name, json_schema=dump(definition),
        created_at=now, updated_at=now))


@bp.get("/properties/<name>")
def show_property(namespace, name):
    """A property; with ``?resource_type=``, ``name`` carries that association's prefix."""
    g.ctx.check_identity()
    resource_type = request.args.get("resource_type")
    with state().Session() as session:
        row = load_namespace(session, namespace)
        if resource_type:
            name = _unprefixed(session, row, name, resource_type)
        return answer(MetadefProperty, load_item(session, MetadefProperty, row, name))


def _unprefixed(session, namespace, name, resource_type):
    """``name`` without the prefix of the namespace's association with ``resource_type``.

    :raises NotFound: no such association, or ``name`` does not start with its prefix
        (an association without prefix included, as in Glance).
    """
    found = queries.associations(session, [namespace.id])[namespace.id]
    if not any(type_name == resource_type for _, type_name in found):
        raise NotFound(f"Resource type {resource_type} is not associated with namespace "
                       f"{namespace.namespace}")
    prefix = queries.prefix_for(found, resource_type)
    if not prefix or not name.startswith(prefix):
        raise NotFound(f"Property {name} does not start with the prefix {prefix!r} of "
                       f"resource type {resource_type}")
    return name[len(prefix):]


@bp.put("/properties/<name>")
def update_property(namespace, name):
    """Replace a property's definition (a new ``name`` renames it)."""
    g.ctx.check_identity()
    new_name, definition = checks.property_definition(body())

    def change(prop):
        prop.name, prop.json_schema = new_name, dump(definition)
    return replace(MetadefProperty, namespace, name, new_name, change)


@bp.delete("/properties/<name>")
def delete_property(namespace, name):
    return remove(MetadefProperty, namespace, name)


# --- tags ---------------------------------------------------------------------------

@bp.get("/tags")
def list_tags(namespace):
    """A page of the namespace's tags (no limit unless asked)."""
    g.ctx.check_identity()
    query = page_query(("created_at", "updated_at", "name"), None)
    with state().Session() as session:
        row = load_namespace(session, namespace)
        try:
            rows = queries.list_tags(session, row, query)
        except LookupError:
            raise NotFound(f"Metadata definition tag {query['marker']} was not found in "
                           f"namespace {namespace}") from None
        return jsonify({"tags": [queries.tag_record(tag) for tag in rows]})


@bp.post("/tags")
def create_tags(namespace):
    """Replace the namespace's tags, or with ``?append=true`` add to them."""
    g.ctx.check_identity()
    names = checks.tags(body())
    no_repeats(names, "tag")
    append = rules.parse_bool("append", request.args.get("append", "false"))
    with state().Session() as session:
        row = load_namespace(session, namespace, write=True)
        existing = queries.items(session, MetadefTag, row)
        if append:
            no_repeats([tag.name for tag in existing] + names, "tag")
        check_quota(session, MetadefTag, row, len(names) + (len(existing) if append else 0))
        if not append:
            for tag in existing:
                session.delete(tag)
            session.flush()
        now = utcnow()
        rows = [MetadefTag(namespace_id=row.id, name=name, created_at=now, updated_at=now)
                for name in names]
        session.add_all(rows)
        commit(session, f"A tag of this request already exists in namespace {namespace}")
        return created("tags", [queries.tag_record(tag) for tag in rows])


@bp.post("/tags/<name>")
def create_tag(namespace, name):
    g.ctx.check_identity()
    checks.name(name, "tag name")
    return add(MetadefTag, namespace, name, lambda row, now: MetadefTag(
        namespace_id=row.id, name=name, created_at=now, updated_at=now))


@bp.get("/tags/<name>")
def show_tag(namespace, name):
    g.ctx.check_identity()
    return show(MetadefTag, namespace, name)


@bp.put("/tags/<name>")
def update_tag(namespace, name):
    """Rename a tag."""
    g.ctx.check_identity()
    new_name = checks.tag(body())["name"]

    def change(tag):
        tag.name = new_name
    return replace(MetadefTag, namespace, name, new_name, change)


@bp.delete("/tags/<name>")
def delete_tag(namespace, name):
    return remove(MetadefTag, namespace, name)

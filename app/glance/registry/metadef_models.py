"""The tables of the metadata definitions catalog (/v2/metadefs), on the registry's ``Base``.

A namespace holds objects, properties and tags and is associated with
resource types.  Rows are deleted for good, as Glance does: a name is free
again once its namespace (or object, property, tag) is gone.  Property
definitions and an object's properties are JSON documents kept as text.
"""
from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import declared_attr

from glance.registry.models import MYSQL_ARGS, Base, Timestamp, utcnow

NAME_LENGTH = 80
# Resource types the catalog starts with (Glance's own definitions use them);
# they are protected: created by the migration, never deleted by a dissociation.
SEEDED_RESOURCE_TYPES = ("OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor",
                         "OS::Nova::Aggregate", "OS::Nova::Server")


class Times:
    created_at = Column(Timestamp, nullable=False, default=utcnow)
    # Never NULL (set at creation): namespaces and tags are sorted and paged by it.
    updated_at = Column(Timestamp, nullable=False, default=utcnow, onupdate=utcnow)


class MetadefNamespace(Times, Base):
    __tablename__ = "metadef_namespaces"
    __table_args__ = (
        UniqueConstraint("namespace", name="uq_metadef_namespaces_namespace"),
        Index("ix_metadef_namespaces_owner", "owner"),
        Index("ix_metadef_namespaces_created_at", "created_at", "id"),
        Index("ix_metadef_namespaces_updated_at", "updated_at", "id"),
        MYSQL_ARGS,
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    namespace = Column(String(NAME_LENGTH), nullable=False)
    display_name = Column(String(NAME_LENGTH))
    description = Column(Text)
    visibility = Column(String(32), nullable=False, default="private")
    protected = Column(Boolean, nullable=False, default=False)
    # None only for a namespace made by noauth's identity-less admin.
    owner = Column(String(255))


class MetadefResourceType(Times, Base):
    __tablename__ = "metadef_resource_types"
    __table_args__ = (
        UniqueConstraint("name", name="uq_metadef_resource_types_name"),
        MYSQL_ARGS,
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    name = Column(String(NAME_LENGTH), nullable=False)
    protected = Column(Boolean, nullable=False, default=False)


class MetadefNamespaceResourceType(Times, Base):
    """The association of a namespace with a resource type."""
    __tablename__ = "metadef_namespace_resource_types"
    __table_args__ = (
        Index("ix_metadef_ns_res_types_namespace_id", "namespace_id"),
        MYSQL_ARGS,
    )

    resource_type_id = Column(Integer, ForeignKey("metadef_resource_types.id"),
                              primary_key=True)
    namespace_id = Column(Integer, ForeignKey("metadef_namespaces.id"), primary_key=True)
    properties_target = Column(String(NAME_LENGTH))
    prefix = Column(String(NAME_LENGTH))


class InNamespace(Times):
    """Something named within one namespace: an object, a property or a tag."""

    @declared_attr
    def __table_args__(cls):
        return (UniqueConstraint("namespace_id", "name",
                                 name=f"uq_{cls.__tablename__}_namespace_id_name"),
                MYSQL_ARGS)

    id = Column(Integer, primary_key=True, autoincrement=True)

    @declared_attr
    def namespace_id(cls):
        return Column(Integer, ForeignKey("metadef_namespaces.id"), nullable=False)

    name = Column(String(NAME_LENGTH), nullable=False)


class MetadefObject(InNamespace, Base):
    __tablename__ = "metadef_objects"

    description = Column(Text)
    required = Column(Text)          # JSON list of property names
    json_schema = Column(Text, nullable=False)   # JSON {name: property definition}


class MetadefProperty(InNamespace, Base):
    __tablename__ = "metadef_properties"

    json_schema = Column(Text, nullable=False)   # JSON property definition, without its name


class MetadefTag(InNamespace, Base):
    __tablename__ = "metadef_tags"


# What a namespace holds, deleted with it.
CONTENT = (MetadefObject, MetadefProperty, MetadefTag, MetadefNamespaceResourceType)

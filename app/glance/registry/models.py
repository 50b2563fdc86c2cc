"""The registry's tables: images, image_properties, image_members, image_tags.

Every table has the soft-delete columns of the 2011 schema (created_at,
updated_at, deleted_at, deleted).  Timestamps are naive UTC.  On MySQL they
keep microseconds so that images created in the same second still list in
creation order.
"""
import datetime

from sqlalchemy import (BigInteger, Boolean, Column, DateTime, ForeignKey, Index,
                        Integer, String, Text, UniqueConstraint)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import declarative_base

from glance.rules import new_id

Base = declarative_base()

# DATETIME(6) on MySQL/MariaDB; the plain type elsewhere already keeps microseconds.
Timestamp = (DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")
             .with_variant(mysql.DATETIME(fsp=6), "mariadb"))

# Sort keys that get a (key, id) index for keyset paging; ``id`` is the primary key.
INDEXED_SORT_KEYS = ("created_at", "updated_at", "name", "size", "status", "disk_format",
                     "container_format")
MYSQL_ARGS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def utcnow():
    """Naive UTC now, the form every timestamp column holds."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class SoftDelete:
    created_at = Column(Timestamp, nullable=False, default=utcnow)
    updated_at = Column(Timestamp, onupdate=utcnow)
    deleted_at = Column(Timestamp)
    deleted = Column(Boolean, nullable=False, default=False)


class Image(SoftDelete, Base):
    __tablename__ = "images"
    __table_args__ = (
        # Listing is ORDER BY <sort_key>, id with keyset paging: one (key, id)
        # index per sort key serves both the seek past the marker and the
        # order.  ``deleted`` is not a leading column on purpose: with it,
        # MariaDB picks a ref lookup on deleted=0 over the range seek and
        # scans most of the table.
        *(Index(f"ix_images_{key}", key, "id") for key in INDEXED_SORT_KEYS),
        Index("ix_images_checksum", "checksum"),
        Index("ix_images_owner", "owner"),
        MYSQL_ARGS,
    )

    id = Column(String(36), primary_key=True, default=new_id)
    name = Column(String(255))
    disk_format = Column(String(20))
    container_format = Column(String(20))
    size = Column(BigInteger)
    status = Column(String(30), nullable=False)
    # The truth since v2; v1's is_public is derived from it (see is_public).
    visibility = Column(String(16), nullable=False, default="shared")
    location = Column(Text)
    checksum = Column(String(32))
    min_disk = Column(Integer, nullable=False, default=0)
    min_ram = Column(Integer, nullable=False, default=0)
    owner = Column(String(255))
    protected = Column(Boolean, nullable=False, default=False)
    os_hidden = Column(Boolean, nullable=False, default=False)
    os_hash_algo = Column(String(64))
    os_hash_value = Column(String(128))
    # "xxh3:<hex>" or "crc32:<hex>": what downloads verify by default (NULL: the MD5).
    fast_checksum = Column(String(64))
    # The URIs of the data's copies in other stores than ``location``'s, a JSON
    # list (multiple stores: all_stores import, copy-image); NULL: none.
    copies = Column(Text)
    # The metadata of the locations that have any, a JSON object keyed by location URI
    # (the v2 ``locations`` items' ``metadata``); NULL: none.
    location_metadata = Column(Text)

    @property
    def is_public(self):
        """v1's flag: only ``public`` images are public to v1 callers."""
        return self.visibility == "public"


class ImageProperty(SoftDelete, Base):
    __tablename__ = "image_properties"
    __table_args__ = (
        UniqueConstraint("image_id", "name", name="uq_image_properties_image_id_name"),
        Index("ix_image_properties_name", "name"),
        MYSQL_ARGS,
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    image_id = Column(String(36), ForeignKey("images.id"), nullable=False)
    name = Column(String(255), nullable=False)
    value = Column(Text)


class ImageMember(SoftDelete, Base):
    __tablename__ = "image_members"
    __table_args__ = (
        UniqueConstraint("image_id", "member", name="uq_image_members_image_id_member"),
        Index("ix_image_members_member", "member"),
        MYSQL_ARGS,
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    image_id = Column(String(36), ForeignKey("images.id"), nullable=False)
    member = Column(String(255), nullable=False)
    can_share = Column(Boolean, nullable=False, default=False)
    # v1 has no accept step: its members are created accepted; v2's start pending.
    status = Column(String(20), nullable=False, default="pending")


class ImageTag(SoftDelete, Base):
    __tablename__ = "image_tags"
    __table_args__ = (
        UniqueConstraint("image_id", "value", name="uq_image_tags_image_id_value"),
        Index("ix_image_tags_value", "value"),
        MYSQL_ARGS,
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    image_id = Column(String(36), ForeignKey("images.id"), nullable=False)
    value = Column(String(255), nullable=False)


# Columns a client may write on create or update.
WRITABLE = ("name", "disk_format", "container_format", "size", "status", "visibility",
            "location", "checksum", "min_disk", "min_ram", "owner", "protected", "os_hidden",
            "os_hash_algo", "os_hash_value", "fast_checksum", "copies", "location_metadata")

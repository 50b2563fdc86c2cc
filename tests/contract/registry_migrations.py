"""Migration checks shared by the SQLite, MariaDB and PostgreSQL tests."""
import datetime
import os
import subprocess
import sys

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import pytest

from contract.registry_support import InProcessRegistry
from glance import config
from glance import errors
from glance.registry import create_app, db
from glance.registry import metadef_models, task_models  # noqa: F401  (tables on Base)
from glance.registry.models import Base
from servers import APP, write_conf


def manage(tmp_path, url, *words):
    """Run ``glance-manage`` as a process; returns the CompletedProcess."""
    conf = write_conf(os.path.join(tmp_path, "glance-registry.conf"), {"sql_connection": url})
    env = dict(os.environ, PYTHONPATH=APP)
    return subprocess.run([sys.executable, "-m", "glance.cmd.manage", "--config-file", conf,
                           *words], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


# On PostgreSQL the migration builds these indexes with NULLS FIRST (the
# registry's NULL order); the models, shared by every database, cannot say so.
NULLS_FIRST = {"ix_images_updated_at", "ix_images_name", "ix_images_size",
               "ix_images_disk_format", "ix_images_container_format"}


def schema_drift(engine):
    """Differences between the migrated database and the models (empty when equal)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    if engine.dialect.name == "postgresql":
        diffs = [d for d in diffs if not (d[0] in ("add_index", "remove_index")
                                          and d[1].name in NULLS_FIRST)]
    return diffs


def check_sync_from_empty_and_again(tmp_path, url):
    first = manage(tmp_path, url, "db_sync")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"Database is at revision {db.head_revision()}"
    again = manage(tmp_path, url, "db_sync")
    assert again.returncode == 0, again.stderr
    version = manage(tmp_path, url, "db_version")
    assert (version.returncode, version.stdout.strip()) == (0, db.head_revision())
    engine = db.make_engine(url)
    try:
        assert schema_drift(engine) == []
    finally:
        engine.dispose()


def _at_first_revision(engine, versioned=True):
    """Give the database the schema of revision 0001 (without its version row if asked)."""
    with engine.begin() as conn:
        command.upgrade(db._alembic_config(conn), "0001")
        if not versioned:
            conn.execute(sa.text("DROP TABLE alembic_version"))


def check_sync_keeps_images_of_unversioned_database(url):
    """A database made by an old create_all (no alembic) and holding data is adopted."""
    engine = db.make_engine(url)
    try:
        _at_first_revision(engine, versioned=False)
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO images (id, name, status, is_public, min_disk, min_ram, protected,"
                " size, created_at, deleted) VALUES ('11111111-2222-3333-4444-555555555555',"
                " 'kept', 'active', :t, 0, 0, :f, :size, :now, :f)"),
                {"t": True, "f": False, "size": 6 * 2 ** 30,
                 "now": datetime.datetime(2011, 9, 22)})
        assert db.current_revision(engine) is None
        assert db.db_sync(engine) == db.head_revision()
        assert db.db_sync(engine) == db.head_revision()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT name, size FROM images")).all() == \
                [("kept", 6 * 2 ** 30)]
    finally:
        engine.dispose()


def check_sync_adopts_an_unversioned_current_schema(url):
    """A database made by today's create_all (no alembic) is stamped, not migrated again."""
    engine = db.make_engine(url)
    try:
        Base.metadata.create_all(engine)
        assert db.db_sync(engine) == db.head_revision()
        assert schema_drift(engine) == []
    finally:
        engine.dispose()


IMAGE_SQL = ("INSERT INTO images (id, name, status, is_public, min_disk, min_ram, protected,"
             " owner, created_at, deleted) VALUES (:id, :name, 'active', :public, 0, 0, :f,"
             " :owner, :now, :deleted)")
MEMBER_SQL = ("INSERT INTO image_members (image_id, member, can_share, created_at, deleted)"
              " VALUES (:image_id, :member, :can_share, :now, :deleted)")


def _uuid(n):
    return f"00000000-0000-0000-0000-{n:012d}"


def check_upgrade_of_a_populated_database(tmp_path, url):
    """Rows written at 0001 come out of ``glance-manage db_sync`` with Glance's visibility
    rule applied, their members accepted, and the registry serves them as before."""
    engine = db.make_engine(url)
    now = datetime.datetime(2011, 9, 22, 12, 0, 0)
    # name -> (is_public, owner, members [(member, deleted)], image deleted, visibility)
    rows = {
        "public": (True, "alice", [("bob", False)], False, "public"),
        "shared": (False, "alice", [("bob", False), ("carol", True)], False, "shared"),
        "only-deleted-members": (False, "alice", [("carol", True)], False, "private"),
        "private": (False, "alice", [], False, "private"),
        "unowned": (False, None, [], False, "private"),
        "gone": (False, "alice", [("bob", True)], True, "private"),
    }
    try:
        _at_first_revision(engine)
        with engine.begin() as conn:
            for n, (name, (public, owner, members, deleted, _)) in enumerate(rows.items()):
                conn.execute(sa.text(IMAGE_SQL), {"id": _uuid(n), "name": name,
                                                  "public": public, "f": False,
                                                  "owner": owner, "now": now,
                                                  "deleted": deleted})
                for member, gone in members:
                    conn.execute(sa.text(MEMBER_SQL), {"image_id": _uuid(n), "member": member,
                                                       "can_share": member == "bob",
                                                       "now": now, "deleted": gone})
        result = manage(tmp_path, url, "db_sync")
        assert result.returncode == 0, result.stderr
        assert db.current_revision(engine) == db.head_revision()
        assert schema_drift(engine) == []
        with engine.connect() as conn:
            found = dict(conn.execute(sa.text("SELECT name, visibility FROM images")).all())
            assert found == {name: row[-1] for name, row in rows.items()}
            hidden = conn.execute(sa.text(
                "SELECT COUNT(*) FROM images WHERE os_hidden = :f"), {"f": False}).scalar()
            assert hidden == len(rows)
            members = conn.execute(sa.text(
                "SELECT member, status, can_share, deleted FROM image_members"
                " ORDER BY image_id, member")).all()
            assert sorted(set(m.status for m in members)) == ["accepted"]
            assert len(members) == sum(len(row[2]) for row in rows.values())
            assert conn.execute(sa.text("SELECT COUNT(*) FROM image_tags")).scalar() == 0
        _check_served_after_upgrade(engine)
    finally:
        engine.dispose()


def _tenant(name):
    return {"X-Auth-Token": "t", "X-Identity-Status": "Confirmed", "X-User": f"u-{name}",
            "X-Tenant": name, "X-Role": "Member"}


def _check_served_after_upgrade(engine):
    """The registry on the upgraded database: who sees what, v1 and v2 alike."""
    conf = config.load_config("glance-registry", None, {"sql_connection": "sqlite://"})
    registry = InProcessRegistry(create_app(conf, engine=engine), engine)
    shared, private = _uuid(1), _uuid(3)
    bob, dave, alice = _tenant("bob"), _tenant("dave"), _tenant("alice")
    assert registry.get(shared, headers=bob)["is_public"] is False
    assert registry.get(_uuid(0), headers=dave)["is_public"] is True
    for image_id, caller in ((shared, dave), (private, bob), (_uuid(2), _tenant("carol"))):
        with pytest.raises(errors.NotFound):
            registry.get(image_id, headers=caller)
    v1_names = lambda h: sorted(i["name"] for i in registry.list(detail=True, headers=h))
    assert v1_names(bob) == ["public", "shared"]
    assert v1_names(dave) == ["public"]
    v2_names = lambda h: sorted(i["name"] for i in registry.list_v2(headers=h))
    assert v2_names(bob) == ["public", "shared"]
    assert v2_names(alice) == ["only-deleted-members", "private", "public", "shared"]
    assert [m["status"] for m in registry.get_members(shared, headers=alice)] == ["accepted"]


def check_downgrade_and_upgrade(url):
    engine = db.make_engine(url)
    try:
        db.db_sync(engine)
        with engine.begin() as conn:
            command.downgrade(db._alembic_config(conn), "base")
        assert not db.has_tables(engine)
        db.db_sync(engine)
        assert db.has_tables(engine) and schema_drift(engine) == []
    finally:
        engine.dispose()


V2_IMAGE_SQL = ("INSERT INTO images (id, name, status, visibility, min_disk, min_ram, protected,"
                " owner, created_at, deleted) VALUES (:id, :name, 'active', :visibility, 0, 0,"
                " :f, 'alice', :now, :f)")
METADEF_TABLES = ("metadef_namespaces", "metadef_resource_types",
                  "metadef_namespace_resource_types", "metadef_objects", "metadef_properties",
                  "metadef_tags")


def _image_rows(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT id, name, visibility FROM images ORDER BY id")).all()


def check_metadefs_upgrade_keeps_images_and_downgrades(url):
    """0002 -> 0003 on a database holding images: the images stay as they were, the
    catalog starts with the seeded resource types and works; back to 0002 drops the
    catalog only, and upgrading again gives it back, empty."""
    engine = db.make_engine(url)
    now = datetime.datetime(2026, 11, 29, 12, 0, 0)
    try:
        with engine.begin() as conn:
            command.upgrade(db._alembic_config(conn), "0002")
            for n, visibility in enumerate(("public", "private", "shared")):
                conn.execute(sa.text(V2_IMAGE_SQL), {"id": _uuid(n), "name": visibility,
                                                     "visibility": visibility, "f": False,
                                                     "now": now})
        images = _image_rows(engine)
        assert db.db_sync(engine) == db.head_revision()
        assert schema_drift(engine) == []
        assert _image_rows(engine) == images
        conf = config.load_config("glance-registry", None, {"sql_connection": "sqlite://"})
        registry = InProcessRegistry(create_app(conf, engine=engine), engine)
        alice = _tenant("alice")
        assert [rt["name"] for rt in registry.list_resource_types(headers=alice)] == \
            list(metadef_models.SEEDED_RESOURCE_TYPES)
        registry.create_namespace({"namespace": "kept-until-downgrade", "tags": [{"name": "t"}],
                                   "resource_type_associations": [{"name": "OS::Glance::Image"}]},
                                  headers={})
        assert sorted(i["name"] for i in registry.list_v2(headers=alice)) == [
            "private", "public", "shared"]
        with engine.begin() as conn:
            command.downgrade(db._alembic_config(conn), "0002")
        assert not set(METADEF_TABLES) & set(sa.inspect(engine).get_table_names())
        assert _image_rows(engine) == images
        assert db.db_sync(engine) == db.head_revision()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM metadef_namespaces")).scalar() == 0
    finally:
        engine.dispose()


NAMESPACE_SQL = ("INSERT INTO metadef_namespaces (namespace, visibility, protected, owner,"
                 " created_at, updated_at) VALUES ('kept', 'public', :f, 'alice', :now, :now)")


def _kept_rows(engine):
    with engine.connect() as conn:
        return (_image_rows(engine),
                conn.execute(sa.text("SELECT namespace, owner FROM metadef_namespaces")).all())


def check_tasks_upgrade_keeps_data_and_downgrades(tmp_path, url):
    """0003 -> 0004 (``glance-manage db_sync``) on a database holding images and a
    namespace: they stay as they were and tasks work; back to 0003 drops the tasks
    only, and upgrading again gives an empty tasks table."""
    engine = db.make_engine(url)
    now = datetime.datetime(2026, 12, 1, 12, 0, 0)
    try:
        with engine.begin() as conn:
            command.upgrade(db._alembic_config(conn), "0003")
            for n, visibility in enumerate(("public", "private")):
                conn.execute(sa.text(V2_IMAGE_SQL), {"id": _uuid(n), "name": visibility,
                                                     "visibility": visibility, "f": False,
                                                     "now": now})
            conn.execute(sa.text(NAMESPACE_SQL), {"f": False, "now": now})
        kept = _kept_rows(engine)
        result = manage(tmp_path, url, "db_sync")
        assert result.returncode == 0, result.stderr
        assert db.current_revision(engine) == db.head_revision()
        assert schema_drift(engine) == []
        assert _kept_rows(engine) == kept
        conf = config.load_config("glance-registry", None, {"sql_connection": "sqlite://"})
        registry = InProcessRegistry(create_app(conf, engine=engine), engine)
        task = registry.create_task({"type": "api_image_import", "input": {},
                                     "image_id": _uuid(1), "owner": "alice"}, headers={})
        assert [t["id"] for t in registry.image_tasks(_uuid(1), headers=_tenant("alice"))] \
            == [task["id"]]
        with engine.begin() as conn:
            command.downgrade(db._alembic_config(conn), "0003")
        assert "tasks" not in sa.inspect(engine).get_table_names()
        assert _kept_rows(engine) == kept
        assert db.db_sync(engine) == db.head_revision()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT COUNT(*) FROM tasks")).scalar() == 0
    finally:
        engine.dispose()


def _one_image_at(engine, revision, location=None, copies=None):
    """Migrate to ``revision`` and store one public image there (with ``location`` and
    ``copies`` when given); its rows as they read then."""
    with engine.begin() as conn:
        command.upgrade(db._alembic_config(conn), revision)
        conn.execute(sa.text(V2_IMAGE_SQL), {"id": _uuid(1), "name": "old", "visibility": "public",
                                             "f": False, "now": datetime.datetime(2026, 12, 7)})
        if location:
            conn.execute(sa.text("UPDATE images SET location = :where"), {"where": location})
        if copies:
            conn.execute(sa.text("UPDATE images SET copies = :copies"), {"copies": copies})
    return _image_rows(engine)


def _upgraded(engine, kept):
    """Upgrade to head: no row changed, no drift; an in-process registry on the result."""
    assert db.db_sync(engine) == db.head_revision()
    assert schema_drift(engine) == []
    assert _image_rows(engine) == kept
    conf = config.load_config("glance-registry", None, {"sql_connection": "sqlite://"})
    return InProcessRegistry(create_app(conf, engine=engine), engine)


def _downgraded(engine, revision, kept):
    """Back to ``revision``: the rows are as they were; the images table's columns."""
    with engine.begin() as conn:
        command.downgrade(db._alembic_config(conn), revision)
    assert _image_rows(engine) == kept
    return {c["name"] for c in sa.inspect(engine).get_columns("images")}


def check_fast_checksum_upgrade_and_downgrade(url):
    """0004 -> 0006 on a database holding images: they keep every value and have no
    fast checksum (their downloads verify the MD5); the registry then records one;
    back to 0004 drops the column only."""
    engine = db.make_engine(url)
    try:
        kept = _one_image_at(engine, "0004")
        registry = _upgraded(engine, kept)
        assert registry.get(_uuid(1))["fast_checksum"] is None
        assert registry.update(_uuid(1), {"fast_checksum": "crc32:0a0b0c0d"})[
            "fast_checksum"] == "crc32:0a0b0c0d"
        columns = _downgraded(engine, "0004", kept)
        assert "fast_checksum" not in columns and "os_hash_value" in columns
    finally:
        engine.dispose()


def check_copies_upgrade_and_downgrade(url):
    """0006 -> 0007 on a database holding an image with data: it keeps its location and
    has no copies; the registry then records copies; back to 0006 drops the column only."""
    engine = db.make_engine(url)
    where = "file:///srv/images/" + _uuid(1)
    try:
        kept = _one_image_at(engine, "0006", location=where)
        registry = _upgraded(engine, kept)
        image = registry.get(_uuid(1))
        assert (image["location"], image["copies"]) == (where, [])
        copy = "file:///srv/cheap/" + _uuid(1)
        assert registry.update(_uuid(1), {"copies": [copy]})["copies"] == [copy]
        columns = _downgraded(engine, "0006", kept)
        assert "copies" not in columns and "fast_checksum" in columns
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT location FROM images")).scalar() == where
    finally:
        engine.dispose()


def check_location_metadata_upgrade_and_downgrade(url):
    """0007 -> 0008 on a database holding an image with data in two stores: it keeps
    its location and copies and has no location metadata; the registry then records
    some; back to 0007 drops the column only (the locations stay)."""
    engine = db.make_engine(url)
    where, copy = "file:///srv/images/" + _uuid(1), "file:///srv/cheap/" + _uuid(1)
    try:
        kept = _one_image_at(engine, "0007", location=where, copies=f'["{copy}"]')
        registry = _upgraded(engine, kept)
        assert db.head_revision() == "0008"
        image = registry.get(_uuid(1))
        assert (image["location"], image["copies"], image["location_metadata"]) == (
            where, [copy], {})
        meta = {copy: {"speed": "88mph"}}
        assert registry.update(_uuid(1), {"location_metadata": meta})[
            "location_metadata"] == meta
        columns = _downgraded(engine, "0007", kept)
        assert "location_metadata" not in columns and "copies" in columns
        with engine.connect() as conn:
            assert tuple(conn.execute(sa.text("SELECT location, copies FROM images")).one()) \
                == (where, f'["{copy}"]')
    finally:
        engine.dispose()

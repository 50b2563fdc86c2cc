"""On MariaDB: names and tags that differ only in case or trailing space are different
(no 503 from a unique key), and owners and members are compared exactly (tenant ``PA``
is not ``pa``).  Migration 0005 gives a populated 0004 database the binary collation.

Against glance-registry and glance-api on a throwaway MariaDB database (skipped when no
MariaDB answers on 127.0.0.1:3306).
"""
import datetime

import pytest
import requests
import sqlalchemy as sa
from alembic import command

from glance.registry import db
from integration.registry.registry_databases import throwaway_database
from servers import Server
from v2client import V2, tenant

pytestmark = pytest.mark.mariadb
PA, PB = tenant("pa"), tenant("pb")


@pytest.fixture(scope="module")
def mariadb_url():
    yield from throwaway_database("mariadb")


@pytest.fixture(scope="module")
def glance(mariadb_url, tmp_path_factory):
    """glance-registry (which makes the schema: every migration) and glance-api."""
    workdir = tmp_path_factory.mktemp("mariadb-glance")
    registry = Server("glance-registry", workdir, {"sql_connection": mariadb_url}).start()
    api = Server("glance-api", workdir, {
        "registry_host": "127.0.0.1", "registry_port": registry.port,
        "filesystem_store_datadir": f"{workdir}/images"}).start()
    yield api
    api.stop()
    registry.stop()


def test_properties_differing_only_in_case_are_two(glance):
    v2 = V2(glance.url, PA)
    image = v2.new(name="case", Foo="upper")
    response = v2.patch(image["id"], [{"op": "add", "path": "/foo", "value": "lower"}])
    assert response.status_code == 200, response.text
    shown = v2.show(image["id"]).json()
    assert (shown["Foo"], shown["foo"]) == ("upper", "lower")


def test_tags_differing_only_in_case_or_trailing_space_are_several(glance):
    v2 = V2(glance.url, PA)
    image = v2.new(name="tags", tags=["tag", "Tag"])
    assert sorted(image["tags"]) == ["Tag", "tag"]
    for tag in ("TAG", "tag ", "tag  "):
        response = v2.request("PUT", f"/v2/images/{image['id']}/tags/{tag}")
        assert response.status_code == 204, response.text
    assert sorted(v2.show(image["id"]).json()["tags"]) == \
        sorted(["tag", "Tag", "TAG", "tag ", "tag  "])
    assert v2.ids(tag="tag ") == [image["id"]]
    response = v2.request("DELETE", f"/v2/images/{image['id']}/tags/tag ")
    assert response.status_code == 204, response.text
    assert sorted(v2.show(image["id"]).json()["tags"]) == sorted(["tag", "Tag", "TAG", "tag  "])


def test_an_owner_differing_only_in_case_is_another_tenant(glance):
    owner = V2(glance.url, PA)
    image = owner.new(name="mine", visibility="private")
    for other in (V2(glance.url, tenant("PA")), V2(glance.url, tenant("Pa"))):
        assert image["id"] not in other.ids()
        assert other.show(image["id"]).status_code == 404
        assert other.patch(image["id"], [{"op": "replace", "path": "/name", "value": "x"}]) \
            .status_code == 404
        listed = requests.get(f"{glance.url}/v1/images/detail", headers=other.headers,
                              timeout=30).json()["images"]
        assert image["id"] not in [i["id"] for i in listed]
    assert owner.show(image["id"]).json() == image


def test_a_member_differing_only_in_case_is_another_tenant(glance):
    owner = V2(glance.url, PA)
    image = owner.new(name="shared")
    response = owner.request("POST", f"/v2/images/{image['id']}/members", json={"member": "pb"})
    assert response.status_code == 200, response.text
    upper = V2(glance.url, tenant("PB"))
    assert upper.show(image["id"]).status_code == 404
    response = upper.request("PUT", f"/v2/images/{image['id']}/members/pb",
                             json={"status": "accepted"})
    assert response.status_code == 404, response.text
    shared = requests.get(f"{glance.url}/v1/shared-images/PB", headers=tenant("PB"),
                          timeout=30).json()["shared_images"]
    assert shared == []
    members = owner.request("GET", f"/v2/images/{image['id']}/members").json()["members"]
    assert [(m["member_id"], m["status"]) for m in members] == [("pb", "pending")]
    assert V2(glance.url, PB).show(image["id"]).status_code == 200


def _collations(engine, columns):
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT TABLE_NAME, COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE()")).all()
    found = {(t, c): collation for t, c, collation in rows}
    return {column: found[column] for column in columns}


COLUMNS = [("images", "id"), ("images", "owner"), ("images", "name"),
           ("image_properties", "image_id"), ("image_properties", "name"),
           ("image_members", "member"), ("image_tags", "value"), ("tasks", "owner")]
NOW = datetime.datetime(2026, 12, 1, 12, 0, 0)


def test_migration_0005_upgrades_a_populated_0004_database():
    for url in throwaway_database("mariadb"):
        engine = db.make_engine(url)
        try:
            with engine.begin() as conn:
                command.upgrade(db._alembic_config(conn), "0004")
            assert set(_collations(engine, COLUMNS).values()) != {"utf8mb4_nopad_bin"}
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO images (id, name, status, visibility, owner, min_disk, "
                    "min_ram, protected, os_hidden, created_at, deleted) VALUES "
                    "('11111111-1111-1111-1111-111111111111', 'old', 'active', 'shared', "
                    "'pa', 0, 0, 0, 0, :now, 0)"), {"now": NOW})
                conn.execute(sa.text(
                    "INSERT INTO image_properties (image_id, name, value, created_at, deleted) "
                    "VALUES ('11111111-1111-1111-1111-111111111111', 'Foo', 'ü', :now, 0)"),
                    {"now": NOW})
                conn.execute(sa.text(
                    "INSERT INTO image_members (image_id, member, can_share, status, "
                    "created_at, deleted) VALUES ('11111111-1111-1111-1111-111111111111', "
                    "'pb', 0, 'accepted', :now, 0)"), {"now": NOW})
                conn.execute(sa.text(
                    "INSERT INTO image_tags (image_id, value, created_at, deleted) VALUES "
                    "('11111111-1111-1111-1111-111111111111', 'Tag', :now, 0)"), {"now": NOW})

            def rows():
                with engine.connect() as conn:
                    return [conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1")).all()
                            for t in ("images", "image_properties", "image_members",
                                      "image_tags")]

            kept = rows()
            with engine.begin() as conn:      # later revisions add columns: compare at 0005
                command.upgrade(db._alembic_config(conn), "0005")
            assert set(_collations(engine, COLUMNS).values()) == {"utf8mb4_nopad_bin"}
            assert rows() == kept
            assert db.db_sync(engine) == db.head_revision()
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO image_properties (image_id, name, value, created_at, deleted) "
                    "VALUES ('11111111-1111-1111-1111-111111111111', 'foo', 'x', :now, 0)"),
                    {"now": NOW})
                found = conn.execute(sa.text(
                    "SELECT COUNT(*) FROM images WHERE owner = 'PA'")).scalar()
            assert found == 0
            with engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM image_properties WHERE name = 'foo'"))
                command.downgrade(db._alembic_config(conn), "0004")
            assert "utf8mb4_nopad_bin" not in set(_collations(engine, COLUMNS).values())
            assert rows() == kept
        finally:
            engine.dispose()

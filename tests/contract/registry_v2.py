"""RegistryV2Contract: visibility, tags, member status and the v2 list.

Mixed into the same test classes as :class:`contract.registry.RegistryContract`,
so it runs in process, over HTTP on SQLite, and on MariaDB and PostgreSQL.
Every refused call is followed by a look at the image: nothing changed.
"""
import datetime

import pytest

from contract.registry import as_user, queued
from glance import errors

ALICE, BOB, CAROL, DAVE = (as_user(t) for t in ("alice", "bob", "carol", "dave"))
ANONYMOUS = {"X-Auth-Token": "t", "X-Identity-Status": "Invalid"}


def names(images):
    return sorted(image["name"] for image in images)


def made(registry, name, visibility, owner=ALICE, **values):
    return registry.create(queued(name=name, visibility=visibility, **values), headers=owner)


class RegistryV2Contract:

    def test_visibility_decides_who_reads(self, registry):
        images = {v: made(registry, v, v)["id"] for v in
                  ("public", "community", "shared", "private")}
        registry.add_member(images["shared"], "bob", headers=ALICE, status="pending")
        readable = {
            "alice": ({"public", "community", "shared", "private"}, ALICE),
            "bob": ({"public", "community", "shared"}, BOB),       # pending is enough
            "dave": ({"public", "community"}, DAVE),
            "anonymous": ({"public", "community"}, ANONYMOUS),
            "admin": ({"public", "community", "shared", "private"}, {}),
        }
        for who, (expected, headers) in readable.items():
            seen = set()
            for visibility, image_id in images.items():
                try:
                    registry.get(image_id, headers=headers)
                    seen.add(visibility)
                except errors.NotFound:
                    pass
            assert seen == expected, who

    def test_is_public_is_derived_and_v1_writes_map_to_visibility(self, registry):
        image = registry.create(queued(is_public=True), headers=ALICE)
        assert (image["visibility"], image["is_public"]) == ("public", True)
        image = registry.update(image["id"], {"is_public": False}, headers=ALICE)
        assert (image["visibility"], image["is_public"]) == ("shared", False)
        neither = {k: v for k, v in queued().items() if k != "is_public"}
        assert registry.create(neither, headers=ALICE)["visibility"] == "shared"
        assert registry.create(queued(is_public=False), headers=ALICE)["visibility"] == "shared"
        private = made(registry, "p", "private")
        assert registry.update(private["id"], {"is_public": False},
                               headers=ALICE)["visibility"] == "private"
        both = registry.create(queued(is_public=True, visibility="community"), headers=ALICE)
        assert (both["visibility"], both["is_public"]) == ("community", False)
        with pytest.raises(errors.BadRequest):
            registry.create(queued(visibility="everyone"), headers=ALICE)

    def test_other_tenant_sees_no_private_image_and_changes_nothing(self, registry):
        image = made(registry, "mine", "private", tags=["t"])
        before = registry.get(image["id"], headers=ALICE)
        calls = (lambda: registry.get(image["id"], headers=DAVE),
                 lambda: registry.update(image["id"], {"visibility": "public"}, headers=DAVE),
                 lambda: registry.delete(image["id"], headers=DAVE),
                 lambda: registry.add_tag(image["id"], "x", headers=DAVE),
                 lambda: registry.delete_tag(image["id"], "t", headers=DAVE))
        for call in calls:
            with pytest.raises(errors.NotFound):
                call()
        assert registry.list_v2(headers=DAVE) == []
        assert registry.list_v2(params={"visibility": "private"}, headers=DAVE) == []
        assert registry.list(detail=True, headers=DAVE) == []
        assert registry.get(image["id"], headers=ALICE) == before

    def test_non_member_sees_no_shared_image(self, registry):
        image = made(registry, "shared", "shared")
        registry.add_member(image["id"], "bob", headers=ALICE)
        before = registry.get(image["id"], headers=ALICE)
        with pytest.raises(errors.NotFound):
            registry.get(image["id"], headers=CAROL)
        with pytest.raises(errors.NotFound):
            registry.get_member(image["id"], "bob", headers=CAROL)
        with pytest.raises(errors.NotFound):
            registry.update_member_status(image["id"], "carol", "accepted", headers=CAROL)
        assert registry.list_v2(params={"member_status": "all"}, headers=CAROL) == []
        assert registry.list(detail=True, headers=CAROL) == []
        assert names(registry.list_v2(params={"member_status": "pending"},
                                      headers=BOB)) == ["shared"]
        assert registry.get(image["id"], headers=ALICE) == before

    def test_a_member_cannot_change_visibility_or_tags(self, registry):
        image = made(registry, "shared", "shared", tags=["t"])
        registry.add_member(image["id"], "bob", can_share=True, headers=ALICE)
        before = registry.get(image["id"], headers=ALICE)
        for call in (lambda: registry.update(image["id"], {"visibility": "public"}, headers=BOB),
                     lambda: registry.update(image["id"], {"is_public": True}, headers=BOB),
                     lambda: registry.add_tag(image["id"], "x", headers=BOB),
                     lambda: registry.delete_tag(image["id"], "t", headers=BOB)):
            with pytest.raises(errors.Forbidden):
                call()
        assert registry.get(image["id"], headers=ALICE) == before

    def test_member_status_is_the_members_to_set(self, registry):
        image = made(registry, "shared", "shared")
        registry.add_member(image["id"], "bob", headers=ALICE, status="pending")
        assert registry.list_v2(headers=BOB) == []
        assert names(registry.list_v2(params={"member_status": "pending"},
                                      headers=BOB)) == ["shared"]
        for caller, error in ((ALICE, errors.Forbidden), (CAROL, errors.NotFound),
                              (ANONYMOUS, errors.Unauthorized)):
            with pytest.raises(error):
                registry.update_member_status(image["id"], "bob", "accepted", headers=caller)
        assert registry.get_member(image["id"], "bob", headers=BOB)["status"] == "pending"
        with pytest.raises(errors.BadRequest):
            registry.update_member_status(image["id"], "bob", "maybe", headers=BOB)
        member = registry.update_member_status(image["id"], "bob", "accepted", headers=BOB)
        assert member["member_id"] == "bob" and member["status"] == "accepted"
        assert names(registry.list_v2(headers=BOB)) == ["shared"]
        registry.update_member_status(image["id"], "bob", "rejected", headers=BOB)
        assert registry.list_v2(headers=BOB) == []
        assert registry.get(image["id"], headers=BOB)["id"] == image["id"]
        shown = registry.get_members(image["id"], headers=ALICE)
        assert [(m["member_id"], m["status"]) for m in shown] == [("bob", "rejected")]
        assert set(shown[0]) == {"member_id", "can_share", "status", "created_at",
                                 "updated_at"}

    def test_new_members_are_pending_and_a_private_image_becomes_shared(self, registry):
        image = made(registry, "was-private", "private")
        registry.add_member(image["id"], "bob", headers=ALICE)
        assert registry.get(image["id"], headers=ALICE)["visibility"] == "shared"
        assert registry.get_member(image["id"], "bob", headers=BOB)["status"] == "pending"
        assert names(registry.list(detail=True, headers=BOB)) == ["was-private"]   # v1: any status
        registry.update_member_status(image["id"], "bob", "accepted", headers=BOB)
        registry.add_member(image["id"], "bob", headers=ALICE, status="pending")   # kept
        assert registry.get_member(image["id"], "bob", headers=ALICE)["status"] == "accepted"

    def test_a_rejection_survives_removal_and_re_adding(self, registry):
        image = made(registry, "rejected", "shared")
        registry.add_member(image["id"], "bob", headers=ALICE)
        registry.update_member_status(image["id"], "bob", "rejected", headers=BOB)
        registry.delete_member(image["id"], "bob", headers=ALICE)
        registry.add_member(image["id"], "bob", headers=ALICE)
        assert registry.get_member(image["id"], "bob", headers=ALICE)["status"] == "pending"
        registry.replace_members(image["id"], [{"member_id": "carol"}], headers=ALICE)
        registry.replace_members(image["id"], [{"member_id": "bob"}], headers=ALICE)
        assert registry.get_member(image["id"], "bob", headers=ALICE)["status"] == "pending"
        assert registry.list_v2(headers=BOB) == []

    @pytest.mark.parametrize("status", ["accepted", "rejected"])
    def test_the_owner_may_not_give_a_status(self, registry, status):
        image = made(registry, "owned", "shared")
        with pytest.raises(errors.Forbidden):
            registry.add_member(image["id"], "bob", headers=ALICE, status=status)
        with pytest.raises(errors.Forbidden):
            registry.replace_members(image["id"], [{"member_id": "bob", "status": status}],
                                     headers=ALICE)
        assert registry.get_members(image["id"], headers=ALICE) == []

    def test_tags(self, registry):
        image = made(registry, "tagged", "shared", tags=["b", "a", "b"])
        assert image["tags"] == ["b", "a"]
        registry.add_tag(image["id"], "c", headers=ALICE)
        registry.add_tag(image["id"], "c", headers=ALICE)
        registry.delete_tag(image["id"], "a", headers=ALICE)
        assert registry.get(image["id"], headers=ALICE)["tags"] == ["b", "c"]
        with pytest.raises(errors.NotFound):
            registry.delete_tag(image["id"], "a", headers=ALICE)
        registry.add_tag(image["id"], "a", headers=ALICE)            # revived
        assert registry.get(image["id"], headers=ALICE)["tags"] == ["a", "b", "c"]
        with pytest.raises(errors.BadRequest):
            registry.add_tag(image["id"], "x" * 256, headers=ALICE)
        with pytest.raises(errors.StatusError) as too_many:
            registry.update(image["id"], {"tags": [str(n) for n in range(129)]}, headers=ALICE)
        assert too_many.value.status == 413
        assert registry.update(image["id"], {"tags": ["z"]}, headers=ALICE)["tags"] == ["z"]
        with pytest.raises(errors.Unauthorized):
            registry.add_tag(image["id"], "q", headers=ANONYMOUS)
        assert registry.get(image["id"], headers=ALICE)["tags"] == ["z"]

    def test_tag_filter_needs_every_tag(self, registry):
        made(registry, "ab", "public", tags=["a", "b"])
        made(registry, "a", "public", tags=["a"])
        assert names(registry.list_v2(params=[("tag", "a")], headers=DAVE)) == ["a", "ab"]
        assert names(registry.list_v2(params=[("tag", "a"), ("tag", "b")],
                                      headers=DAVE)) == ["ab"]
        assert registry.list_v2(params=[("tag", "c")], headers=DAVE) == []

    def test_default_v2_list_and_visibility_filter(self, registry):
        for visibility in ("public", "community", "shared", "private"):
            made(registry, f"alice-{visibility}", visibility)
            made(registry, f"carol-{visibility}", visibility, owner=CAROL)
        hidden = made(registry, "alice-hidden", "public")
        registry.update(hidden["id"], {"os_hidden": True}, headers=ALICE)
        assert names(registry.list_v2(headers=ALICE)) == [
            "alice-community", "alice-private", "alice-public", "alice-shared", "carol-public"]
        assert names(registry.list_v2(params={"visibility": "community"}, headers=ALICE)) == [
            "alice-community", "carol-community"]
        assert names(registry.list_v2(params={"visibility": "private"}, headers=ALICE)) == [
            "alice-private"]
        assert names(registry.list_v2(params={"os_hidden": "true"}, headers=ALICE)) == [
            "alice-hidden"]
        assert names(registry.list_v2(headers=ANONYMOUS)) == ["alice-public", "carol-public"]
        assert len(registry.list_v2(headers={})) == 8           # an admin sees all
        assert len(registry.list(detail=True, params={"is_public": "none"})) == 9   # v1: as before

    def test_operators(self, registry):
        for n, (name, size) in enumerate((("a", 10), ("b", 20), ("c", 30))):
            made(registry, name, "public", size=size, disk_format="raw" if n else "qcow2",
                 container_format="bare")
        params = lambda **p: names(registry.list_v2(params=p, headers=DAVE))
        assert params(name="in:a,c") == ["a", "c"]
        assert params(disk_format="in:qcow2") == ["a"]
        assert params(size="gt:10") == ["b", "c"]
        assert params(size="lte:20") == ["a", "b"]
        assert params(size="neq:20") == ["a", "c"]
        assert params(size="20") == ["b"]
        later = (datetime.datetime.now(datetime.timezone.utc)
                 + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert params(created_at=f"lt:{later}") == ["a", "b", "c"]
        assert params(created_at=f"gte:{later}") == []
        for bad in ({"size": "gt:ten"}, {"created_at": "lt:yesterday"},
                    {"sort": "size:sideways"}, {"sort": "colour:asc"},
                    {"visibility": "everyone"}, {"member_status": "maybe"},
                    {"sort": "name", "sort_key": "size"}):
            with pytest.raises(errors.BadRequest):
                registry.list_v2(params=bad, headers=DAVE)

    def test_multi_key_sort_pages_through_everything(self, registry):
        sizes = [None, 1, 1, 2, None, 2, 3, 1]
        labels = ["x", None, "y", "x", "z", "x", None, "x"]
        for size, label in zip(sizes, labels):
            registry.create(queued(name=label, size=size, visibility="public"), headers=ALICE)
        sort = "size:asc,name:desc"
        whole = registry.list_v2(params={"sort": sort, "limit": 100}, headers=DAVE)
        pairs = [(i["size"], i["name"]) for i in whole]
        # NULL is the smallest value on every database: first ascending, last descending.
        expected = sorted(zip(sizes, labels), key=lambda p: (p[0] is not None, p[0] or 0))
        assert [p[0] for p in pairs] == [p[0] for p in expected]
        for size in set(sizes):
            group = [n for s, n in pairs if s == size]
            assert group == sorted(group, key=lambda n: (n is not None, n or ""), reverse=True)
        walked, marker = [], None
        while True:
            query = {"sort": sort, "limit": 3, **({"marker": marker} if marker else {})}
            page = registry.list_v2(params=query, headers=DAVE)
            if not page:
                break
            walked += page
            marker = page[-1]["id"]
        assert [i["id"] for i in walked] == [i["id"] for i in whole]
        keyed = registry.list_v2(params=[("sort_key", "name"), ("sort_key", "size"),
                                         ("sort_dir", "asc"), ("sort_dir", "desc"),
                                         ("limit", "100")], headers=DAVE)
        assert [i["name"] for i in keyed][:2] == [None, None]

    def test_hashes_are_system_fields(self, registry):
        image = made(registry, "h", "shared")
        before = registry.get(image["id"], headers=ALICE)
        for field in ({"os_hash_algo": "sha512"}, {"os_hash_value": "ab" * 64},
                      {"fast_checksum": "crc32:0000abcd"}, {"copies": ["file:///x"]},
                      {"location_metadata": {"file:///x": {"a": "b"}}},
                      {"properties": {"os_glance_failed_import": "x"}}):
            with pytest.raises(errors.Forbidden):
                registry.update(image["id"], field, headers=ALICE)
        assert registry.get(image["id"], headers=ALICE) == before
        done = registry.update(image["id"], {"os_hash_algo": "sha512",
                                             "os_hash_value": "ab" * 64,
                                             "fast_checksum": "crc32:0000abcd"})
        assert (done["os_hash_algo"], done["os_hash_value"]) == ("sha512", "ab" * 64)
        assert done["fast_checksum"] == "crc32:0000abcd"
        # glance-api records copies in other stores and an import's progress
        done = registry.update(image["id"], {"copies": ["file:///b", "file:///b"],
                                             "properties": {"os_glance_failed_import": ""}})
        assert done["copies"] == ["file:///b"]
        assert done["properties"]["os_glance_failed_import"] == ""
        with pytest.raises(errors.BadRequest):
            registry.update(image["id"], {"copies": "file:///b"})
        # and the metadata of the locations (v2 show_multiple_locations), to admins only
        done = registry.update(image["id"], {"location_metadata": {"file:///b": {"a": "b"},
                                                                   "file:///c": {}}})
        assert done["location_metadata"] == {"file:///b": {"a": "b"}}
        assert registry.get(image["id"], headers=ALICE)["location_metadata"] == {}
        with pytest.raises(errors.BadRequest):
            registry.update(image["id"], {"location_metadata": {"file:///b": "fast"}})

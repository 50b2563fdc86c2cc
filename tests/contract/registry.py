"""RegistryContract: the registry's REST surface, for every way of reaching it.

Subclasses supply a ``registry`` fixture (see ``registry_support``) whose
tables are empty at the start of each test.
"""
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from glance import errors

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
BIG = 5 * 2 ** 30 + 7          # above 4 GiB
HUGE = 2 ** 62 + 3             # exact beyond double precision


def v1_members(found):
    """Memberships as v1 knew them (the registry adds v2's status and times)."""
    return [{"member_id": m["member_id"], "can_share": m["can_share"]} for m in found]


def as_user(tenant, user=None, roles="Member"):
    return {"X-Auth-Token": "token", "X-Identity-Status": "Confirmed",
            "X-User": user or f"user-of-{tenant}", "X-Tenant": tenant, "X-Role": roles}


def image(**values):
    base = {"name": "img", "status": "active", "is_public": True, "disk_format": "raw",
            "container_format": "bare", "size": 10}
    return {**base, **values}


def queued(**values):
    """An image as a tenant creates it: queued, no checksum or location."""
    return image(**{"status": "queued", **values})


def ids(images):
    return [i["id"] for i in images]


def raises(status, message=None):
    """Context manager: the call fails with ``status`` (and exactly ``message``)."""
    class Check:
        def __enter__(self):
            self.ctx = pytest.raises(errors.StatusError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            assert self.info.value.status == status, self.info.value.message
            if message is not None:
                assert self.info.value.message == message
            return handled
    return Check()


class RegistryContract:

    # --- conditional status changes (X-Glance-Registry-Expect-Status) -------

    def test_expect_status_changes_only_an_image_in_that_status(self, registry):
        made = registry.create(image(status="queued"))
        saving = registry.update(made["id"], {"status": "saving"}, expect_status="queued")
        assert saving["status"] == "saving"
        with raises(409) as info:
            registry.update(made["id"], {"status": "saving", "name": "second"},
                            expect_status="queued")
        assert "no longer queued" in info.value.message
        assert registry.get(made["id"]) == saving, "a refused update changed the image"

    def test_expect_status_lets_exactly_one_of_many_win(self, registry):
        if not getattr(registry, "concurrent", True):
            pytest.skip("this registry serves one request at a time")
        made = [registry.create(image(status="queued"))["id"] for _ in range(4)]

        def attempt(args):
            image_id, n = args
            try:
                registry.update(image_id, {"status": "saving", "name": f"won-{n}"},
                                expect_status="queued")
                return n
            except errors.Conflict:
                return None
        with ThreadPoolExecutor(8) as pool:
            for image_id in made:
                winners = [n for n in pool.map(attempt, [(image_id, n) for n in range(8)])
                           if n is not None]
                assert len(winners) == 1, winners
                assert registry.get(image_id)["name"] == f"won-{winners[0]}"

    def test_expect_status_refuses_a_deleted_image(self, registry):
        made = registry.create(image(status="saving"))
        registry.update(made["id"], {"status": "deleted"})
        registry.delete(made["id"])
        with raises(409):
            registry.update(made["id"], {"status": "active"}, expect_status="saving")
        assert registry.get(made["id"])["status"] == "deleted"

    def test_expect_status_with_no_change_refreshes_updated_at(self, registry):
        made = registry.create(image(status="saving"))
        touched = registry.update(made["id"], {}, expect_status="saving")
        assert touched["status"] == "saving"
        assert touched["updated_at"] >= made["created_at"]

    # --- create and show ---------------------------------------------------

    def test_create_then_show_round_trips(self, registry):
        made = registry.create(image(name="cirros", size=BIG, min_ram=512, min_disk=2,
                                     checksum="a" * 32, location="file:///x",
                                     properties={"arch": "x86_64", "distro": "debian"}))
        assert uuid.UUID(made["id"])
        shown = registry.get(made["id"])
        assert shown == made
        assert shown["size"] == BIG and shown["min_ram"] == 512 and shown["min_disk"] == 2
        assert shown["properties"] == {"arch": "x86_64", "distro": "debian"}
        assert shown["deleted"] is False and shown["deleted_at"] is None
        assert TS.match(shown["created_at"])
        assert set(shown) == {"id", "name", "status", "size", "disk_format", "container_format",
                              "min_disk", "min_ram", "is_public", "checksum", "owner",
                              "location", "protected", "created_at", "updated_at",
                              "deleted_at", "deleted", "properties", "visibility",
                              "os_hidden", "os_hash_algo", "os_hash_value", "fast_checksum",
                              "copies", "location_metadata", "tags"}

    def test_huge_sizes_are_exact(self, registry):
        made = registry.create(image(size=HUGE))
        assert registry.get(made["id"])["size"] == HUGE
        assert registry.list(params={"size_min": HUGE})[0]["size"] == HUGE

    def test_status_defaults_to_active_and_defaults_are_filled(self, registry):
        made = registry.create({"name": "bare"})
        assert made["status"] == "active"
        assert (made["is_public"], made["protected"], made["min_ram"], made["min_disk"]) == \
            (False, False, 0, 0)

    def test_client_supplied_id_and_duplicate(self, registry):
        wanted = str(uuid.uuid4())
        assert registry.create(image(id=wanted.upper()))["id"] == wanted
        assert registry.get(wanted.upper())["id"] == wanted
        with raises(409, f"An image with identifier {wanted} already exists"):
            registry.create(image(id=wanted))
        with raises(400):
            registry.create(image(id="42"))

    @pytest.mark.parametrize("values, message", [
        ({"status": "bogus"}, "Invalid image status 'bogus' for image."),
        ({"disk_format": "floppy"}, "Invalid disk format 'floppy' for image."),
        ({"container_format": "tar"}, "Invalid container format 'tar' for image."),
        ({"disk_format": "ami", "container_format": "bare"},
         "Invalid mix of disk and container formats. When setting a disk or container format "
         "to one of 'ami', 'ari', or 'aki', the container and disk formats must match."),
        ({"size": -1}, None), ({"size": "big"}, None), ({"min_ram": 1.5}, None),
        ({"min_disk": -3}, None), ({"name": "n" * 256}, None), ({"is_public": "maybe"}, None),
        ({"properties": ["a"]}, None),
    ])
    def test_create_rejects_bad_values(self, registry, values, message):
        with raises(400, message):
            registry.create(image(**values))
        assert registry.list(params={"is_public": "None"}) == []

    def test_matching_amazon_formats_are_accepted(self, registry):
        for kind in ("ami", "ari", "aki"):
            assert registry.create(image(disk_format=kind, container_format=kind))

    def test_v2_writes_have_no_amazon_format_rule(self, registry):
        made = registry.create(image(disk_format="ami", container_format="bare"), api="v2")
        assert (made["disk_format"], made["container_format"]) == ("ami", "bare")
        with raises(400):
            registry.update(made["id"], {"container_format": "ovf"})
        assert registry.get(made["id"])["container_format"] == "bare"
        assert registry.update(made["id"], {"container_format": "ovf"},
                               api="v2")["container_format"] == "ovf"
        assert registry.update(made["id"], {"name": "v1 rename"})["name"] == "v1 rename"

    def test_bad_bodies_are_400(self, registry):
        status, body = registry.raw("POST", "/images", "not json",
                                    {"Content-Type": "application/json"})
        assert status == 400 and body["error"]["code"] == 400 and body["error"]["message"]
        assert registry.raw("POST", "/images", {"name": "no wrapper"})[0] == 400

    def test_unknown_image_is_404_json(self, registry):
        status, body = registry.raw("GET", f"/images/{uuid.uuid4()}")
        assert status == 404 and body == {"error": {"code": 404, "message": "Image not found"}}
        with raises(404):
            registry.get("not-a-uuid")

    # --- update --------------------------------------------------------------

    def test_update_merges_and_purges_properties(self, registry):
        made = registry.create(image(properties={"a": "1", "b": "2"}))
        updated = registry.update(made["id"], {"name": "renamed", "unknown": "ignored",
                                               "properties": {"b": "3", "c": "4"}})
        assert updated["name"] == "renamed" and "unknown" not in updated
        assert updated["properties"] == {"a": "1", "b": "3", "c": "4"}
        assert TS.match(updated["updated_at"])
        purged = registry.update(made["id"], {"properties": {"c": "5"}}, purge_props=True)
        assert purged["properties"] == {"c": "5"}
        back = registry.update(made["id"], {"properties": {"a": "again"}})
        assert back["properties"] == {"a": "again", "c": "5"}
        assert registry.get(made["id"])["properties"] == {"a": "again", "c": "5"}

    def test_update_validates_the_result(self, registry):
        made = registry.create(image())
        with raises(400, "Invalid image status 'gone' for image."):
            registry.update(made["id"], {"status": "gone"})
        with raises(400):
            registry.update(made["id"], {"container_format": "aki"})
        assert registry.update(made["id"], {"disk_format": "aki", "container_format": "aki",
                                            "size": BIG})["size"] == BIG
        with raises(404):
            registry.update(str(uuid.uuid4()), {"name": "x"})

    # --- delete --------------------------------------------------------------

    def test_delete_is_soft_and_hides_from_lists(self, registry):
        made = registry.create(image(properties={"k": "v"}))
        gone = registry.delete(made["id"])
        assert gone["deleted"] is True and gone["status"] == "deleted"
        shown = registry.get(made["id"])     # an admin still sees it
        assert shown["deleted"] is True and TS.match(shown["deleted_at"])
        assert registry.list() == [] and registry.list(detail=True) == []
        with raises(404):
            registry.delete(made["id"])
        with raises(404):
            registry.get(made["id"], headers=as_user("someone"))

    def test_delete_keeps_pending_delete(self, registry):
        made = registry.create(image())
        registry.update(made["id"], {"status": "pending_delete"})
        assert registry.delete(made["id"])["status"] == "pending_delete"
        assert registry.update(made["id"], {"status": "deleted"})["status"] == "deleted"

    # --- lists ---------------------------------------------------------------

    def test_index_and_detail_shapes(self, registry):
        made = registry.create(image(properties={"p": "q"}))
        [item] = registry.list()
        assert item == {k: made[k] for k in ("id", "name", "disk_format", "container_format",
                                             "checksum", "size")}
        [full] = registry.list(detail=True)
        assert full == made
        assert registry.raw("GET", "/")[1] == {"images": [item]}

    def test_detail_lists_give_each_caller_the_record_show_gives(self, registry):
        made = registry.create(image(properties={"p": "q"}, tags=["b", "a"], owner="t1",
                                     is_public=False, location="file:///var/x"))
        for headers in (None, as_user("t1")):
            shown = registry.get(made["id"], headers=headers)
            assert registry.list(detail=True, params={"is_public": "none"},
                                 headers=headers) == [shown]
            assert registry.list_v2(headers=headers) == [shown]
        assert (shown["location"], shown["tags"]) == (None, ["a", "b"]), shown    # the tenant's
        assert registry.get(made["id"])["location"] == "file:///var/x"

    def test_default_order_limit_and_marker(self, registry):
        one, two, three = (registry.create(image(name=n))["id"] for n in ("1", "2", "3"))
        assert ids(registry.list()) == [three, two, one]
        assert ids(registry.list(params={"limit": 2})) == [three, two]
        assert ids(registry.list(params={"marker": three})) == [two, one]
        assert ids(registry.list(params={"limit": 1, "marker": two})) == [one]
        assert registry.list(params={"limit": 0}) == []

    def test_limit_default_is_25(self, registry):
        for n in range(27):
            registry.create(image(name=f"n{n}"))
        assert len(registry.list()) == 25
        assert len(registry.list(params={"limit": 26})) == 26

    def test_listed_statuses(self, registry):
        shown = {s: registry.create(image(status=s))["id"]
                 for s in ("active", "queued", "saving", "killed", "pending_delete")}
        listed = set(ids(registry.list()))
        assert listed == {shown["active"], shown["queued"], shown["saving"],
                          shown["pending_delete"]}
        assert registry.list(params={"status": "killed"}) == []

    def test_filters(self, registry):
        a = registry.create(image(name="a", size=100, min_ram=1, min_disk=5,
                                  properties={"os": "linux"}))["id"]
        b = registry.create(image(name="b", size=BIG, disk_format="qcow2",
                                  container_format="ovf", properties={"os": "bsd"}))["id"]
        c = registry.create(image(name="c", is_public=False, status="queued"))["id"]

        def listed(**params):
            return sorted(ids(registry.list(params=params)))
        assert listed(name="a") == [a]
        assert listed(disk_format="qcow2") == [b]
        assert listed(container_format="bare") == [a]
        assert listed(size_min=101) == [b]
        assert listed(size_max=100) == [a]
        assert listed(size_min=100, size_max=BIG) == sorted([a, b])
        assert listed(min_ram=1) == [a] and listed(min_disk=5) == [a]
        assert listed(**{"property-os": "bsd"}) == [b]
        assert listed(**{"property-os": "linux", "name": "b"}) == []
        assert listed(is_public="None") == sorted([a, b, c])
        assert listed(is_public="false") == [c] and listed(is_public="0") == [c]
        assert listed(is_public="TRUE") == sorted([a, b])
        assert listed(status="queued", is_public="none") == [c]

    def test_paging_walks_every_sorted_list(self, registry):
        # Ties and NULLs (no name, no size, never updated) must page without loss.
        specs = [dict(name="b", size=5), dict(name=None, size=None), dict(name="a", size=5),
                 dict(name="b", size=7, status="queued"), dict(name=None, size=1),
                 dict(name="c", disk_format="ami", container_format="ami")]
        made = [registry.create(image(**spec))["id"] for spec in specs]
        registry.update(made[2], {"min_ram": 1})
        for sort_key in ("name", "status", "container_format", "disk_format", "size", "id",
                         "created_at", "updated_at"):
            for sort_dir in ("asc", "desc"):
                params = {"sort_key": sort_key, "sort_dir": sort_dir}
                full = registry.list(detail=True, params=params)
                assert sorted(ids(full)) == sorted(made)
                walked, marker = [], None
                while True:
                    page = registry.list(params={**params, "limit": 2,
                                                 **({"marker": marker} if marker else {})})
                    if not page:
                        break
                    walked += ids(page)
                    marker = page[-1]["id"]
                assert walked == ids(full), params
                if sort_key.endswith("_at"):
                    continue   # shown to the second; the order itself uses microseconds
                values = [(i[sort_key], i["id"]) for i in full]
                present = [v for v in values if v[0] is not None]
                assert present == sorted(present, reverse=sort_dir == "desc"), params
                # NULLs count as the smallest value on every database.
                nulls = [i for i, v in enumerate(values) if v[0] is None]
                if nulls:
                    edge = 0 if sort_dir == "asc" else len(values) - len(nulls)
                    assert nulls == list(range(edge, edge + len(nulls))), params

    @pytest.mark.parametrize("params, message", [
        ({"limit": "x"}, "limit param must be an integer"),
        ({"limit": "-1"}, "limit param must be positive"),
        ({"marker": str(uuid.uuid4())}, "Invalid marker. Image could not be found."),
        ({"marker": "garbage"}, "Invalid marker. Image could not be found."),
        ({"sort_key": "owner"}, "Unsupported sort_key. Acceptable values: name, status, "
         "container_format, disk_format, size, id, created_at, updated_at"),
        ({"sort_dir": "up"}, "Unsupported sort_dir. Acceptable values: asc, desc"),
        ({"is_public": "maybe"}, "is_public must be None, True, or False"),
        ({"size_min": "big"}, None), ({"size_max": "1.5"}, None),
        ({"min_ram": "x"}, None), ({"min_disk": "x"}, None),
    ])
    def test_bad_list_parameters(self, registry, params, message):
        for detail in (False, True):
            with raises(400, message):
                registry.list(detail=detail, params=params)

    # --- visibility ------------------------------------------------------------

    def test_visibility_for_tenants(self, registry):
        alice, bob = as_user("alice"), as_user("bob")
        public = registry.create(queued(name="public"), headers=alice)
        with raises(403, "Only an admin may set the owner of an image"):
            registry.create(queued(name="private", is_public=False, owner="evil"), headers=alice)
        private = registry.create(queued(name="private", is_public=False), headers=alice)
        assert private["owner"] == "alice" and private["status"] == "queued"
        theirs = registry.create(queued(name="bobs", is_public=False), headers=bob)
        orphan = registry.create(image(name="orphan", is_public=False))  # admin, no owner
        assert sorted(ids(registry.list(headers=alice))) == sorted([public["id"], private["id"]])
        assert registry.get(orphan["id"], headers=alice)["name"] == "orphan"
        with raises(404):
            registry.get(theirs["id"], headers=alice)
        with raises(404):
            registry.update(theirs["id"], {"name": "x"}, headers=alice)
        with raises(403):
            registry.update(public["id"], {"name": "x"}, headers=bob)
        with raises(403):
            registry.delete(public["id"], headers=bob)
        with raises(400, "Invalid marker. Image could not be found."):
            registry.list(params={"marker": theirs["id"]}, headers=alice)
        with raises(403, "Only an admin may set the owner of an image"):
            registry.update(private["id"], {"owner": "bob", "name": "mine"}, headers=alice)
        assert registry.get(private["id"])["name"] == "private"
        admin = as_user("ops", roles="member,ADMIN")
        assert registry.update(private["id"], {"owner": "bob"}, headers=admin)["owner"] == "bob"
        assert registry.get(private["id"], headers=bob)["owner"] == "bob"

    def test_unconfirmed_identity_is_anonymous(self, registry):
        registry.create(image(name="private", is_public=False, owner="alice"))
        headers = {**as_user("alice"), "X-Identity-Status": "Invalid"}
        assert registry.list(headers=headers, params={"is_public": "None"}) == []

    # --- members -------------------------------------------------------------

    def test_member_writes_need_an_identity(self, registry):
        made = registry.create(image(is_public=False))
        with raises(401, "No authenticated user"):
            registry.add_member(made["id"], "bob")
        with raises(401, "No authenticated user"):
            registry.replace_members(made["id"], [{"member_id": "bob"}])
        with raises(401, "No authenticated user"):
            registry.delete_member(made["id"], "bob")
        assert v1_members(registry.get_members(made["id"])) == []

    def test_sharing(self, registry):
        alice, bob, carol = as_user("alice"), as_user("bob"), as_user("carol")
        made = registry.create(queued(is_public=False), headers=alice)
        registry.add_member(made["id"], "bob", headers=alice)
        registry.add_member(made["id"], "bob", headers=alice)   # again: unchanged
        assert v1_members(registry.get_members(made["id"])) == [{"member_id": "bob", "can_share": False}]
        assert ids(registry.list(headers=bob)) == [made["id"]]
        assert registry.get(made["id"], headers=bob)["id"] == made["id"]
        assert registry.get_shared_images("bob") == [{"image_id": made["id"],
                                                      "can_share": False}]
        with raises(403, "No permission to share that image"):
            registry.add_member(made["id"], "carol", headers=bob)
        registry.add_member(made["id"], "bob", can_share=True, headers=alice)
        registry.add_member(made["id"], "carol", headers=bob)
        assert registry.get(made["id"], headers=carol)["id"] == made["id"]
        with raises(403):
            registry.update(made["id"], {"name": "x"}, headers=bob)   # sharing is not owning
        registry.replace_members(made["id"], [{"member_id": "dave", "can_share": True},
                                              {"member_id": "bob"}], headers=alice)
        assert v1_members(registry.get_members(made["id"])) == [
            {"member_id": "bob", "can_share": True}, {"member_id": "dave", "can_share": True}]
        with raises(404):
            registry.get(made["id"], headers=carol)
        registry.delete_member(made["id"], "bob", headers=alice)
        registry.delete_member(made["id"], "nobody", headers=alice)
        assert v1_members(registry.get_members(made["id"])) == [{"member_id": "dave", "can_share": True}]
        assert registry.get_shared_images("bob") == []
        registry.delete(made["id"], headers=alice)
        assert registry.get_shared_images("dave") == []

    def test_member_errors(self, registry):
        alice = as_user("alice")
        made = registry.create(queued(is_public=False), headers=alice)
        with raises(404):
            registry.get_members(str(uuid.uuid4()))
        with raises(404):
            registry.add_member(str(uuid.uuid4()), "bob", headers=alice)
        with raises(400):
            registry.replace_members(made["id"], [{"nope": 1}], headers=alice)
        status, _ = registry.raw("PUT", f"/images/{made['id']}/members", {"x": []}, alice)
        assert status == 400
        status, _ = registry.raw("PUT", f"/images/{made['id']}/members/bob",
                                 {"member": {"can_share": "yes"}}, alice)
        assert status == 400

    # --- what only glance-api (an admin context) may write ---------------------

    def test_tenants_cannot_write_system_fields(self, registry):
        alice = as_user("alice")
        for field, value in (("status", "active"), ("location", "file:///etc/passwd"),
                             ("checksum", "0" * 32)):
            with raises(403, f"Only glance itself may set {field}"):
                registry.create(queued(**{field: value}), headers=alice)
        made = registry.create(queued(is_public=False, size=5), headers=alice)
        for field, value in (("status", "active"), ("location", "file:///etc/passwd"),
                             ("checksum", "0" * 32)):
            with raises(403, f"Only glance itself may set {field}"):
                registry.update(made["id"], {field: value}, headers=alice)
        assert registry.update(made["id"], {"size": 7}, headers=alice)["size"] == 7
        registry.update(made["id"], {"status": "active", "location": "file:///x/y"})  # admin
        with raises(403, "Only glance itself may set the size of an image with data"):
            registry.update(made["id"], {"size": 1}, headers=alice)
        shown = registry.get(made["id"])
        assert (shown["status"], shown["location"], shown["size"]) == ("active", "file:///x/y", 7)

    def test_anonymous_writes_nothing(self, registry):
        anonymous = {**as_user("alice"), "X-Identity-Status": "Invalid"}
        public = registry.create(image(name="pub"))
        with raises(401, "Authentication required"):
            registry.create(queued(), headers=anonymous)
        with raises(401, "Authentication required"):
            registry.update(public["id"], {"name": "x"}, headers=anonymous)
        with raises(401, "Authentication required"):
            registry.delete(public["id"], headers=anonymous)
        assert registry.get(public["id"], headers=anonymous)["name"] == "pub"
        assert ids(registry.list(headers=anonymous)) == [public["id"]]

    def test_protected_images_are_not_deleted(self, registry):
        made = registry.create(queued(protected=True), headers=as_user("alice"))
        for who in (as_user("alice"), as_user("ops", roles="admin"), {}):
            with raises(403, "Image is protected"):
                registry.delete(made["id"], headers=who)
        assert registry.get(made["id"])["deleted"] is False

    def test_delete_of_an_image_with_data_leaves_it_pending_delete(self, registry):
        made = registry.create(image(location="file:///d/x"))
        assert registry.delete(made["id"])["status"] == "pending_delete"

    def test_member_lists_are_for_the_owner_and_shared_images_for_that_tenant(self, registry):
        alice, bob, carol = as_user("alice"), as_user("bob"), as_user("carol")
        made = registry.create(queued(is_public=True), headers=alice)
        registry.add_member(made["id"], "bob", headers=alice)
        with raises(403, "Only the image owner may see its members"):
            registry.get_members(made["id"], headers=carol)
        with raises(403, "Only the image owner may see its members"):
            registry.get_members(made["id"], headers=bob)
        assert v1_members(registry.get_members(made["id"], headers=alice)) == [
            {"member_id": "bob", "can_share": False}]
        with raises(403, "Only that tenant may see the images shared with it"):
            registry.get_shared_images("bob", headers=carol)
        with raises(403, "Only that tenant may see the images shared with it"):
            registry.get_shared_images("bob", headers=alice)
        assert ids_of_shared(registry.get_shared_images("bob", headers=bob)) == [made["id"]]
        assert ids_of_shared(registry.get_shared_images("bob")) == [made["id"]]   # admin

    def test_member_routes_of_an_invisible_image_are_404_and_sharers_see_no_list(self, registry):
        alice, bob, carol = as_user("alice"), as_user("bob"), as_user("carol")
        made = registry.create(queued(is_public=False), headers=alice)
        image_id = made["id"]
        for call in (lambda: registry.get_members(image_id, headers=carol),
                     lambda: registry.add_member(image_id, "carol", headers=carol),
                     lambda: registry.delete_member(image_id, "bob", headers=carol),
                     lambda: registry.replace_members(image_id, [], headers=carol)):
            with raises(404, "Image not found"):
                call()
        registry.add_member(image_id, "bob", can_share=True, headers=alice)
        registry.add_member(image_id, "dave", headers=bob)              # bob shares on
        with raises(403, "Only the image owner may see its members"):
            registry.get_members(image_id, headers=bob)
        with raises(403, "Forbidden to modify an image you do not own"):
            registry.update(image_id, {"name": "bob's now"}, headers=bob)
        assert sorted(m["member_id"] for m in registry.get_members(image_id, headers=alice)) \
            == ["bob", "dave"]
        assert registry.get(image_id, headers=alice)["name"] == "img"


def ids_of_shared(found):
    return [item["image_id"] for item in found]

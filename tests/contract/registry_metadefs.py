"""RegistryMetadefsContract: the metadata definitions catalog (/metadefs) of the registry.

Mixed into the registry's contract test classes, so it runs in process on
SQLite, over HTTP against glance-registry, and on MariaDB and PostgreSQL.
Glance's default policy: reads for whoever may see the namespace, writes for
admins.  Every refused call is followed by a look at the catalog: nothing changed.
"""
from contract.registry import TS, as_user, raises

ADMIN = as_user("operators", roles="admin")
ALICE, BOB = as_user("alice"), as_user("bob")
ANONYMOUS = {"X-Auth-Token": "t", "X-Identity-Status": "Invalid"}
SEEDED = ["OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Aggregate",
          "OS::Nova::Server"]
CPU = {"title": "vCPUs", "type": "integer", "minimum": 1, "description": "How many"}


def catalog(registry, name="ns", owner="alice", **values):
    """A namespace holding one of everything, made by an admin for ``owner``."""
    body = {"namespace": name, "owner": owner, "display_name": "Shown", "properties": {"cpu": CPU},
            "objects": [{"name": "o1", "required": ["cpu"], "properties": {"cpu": CPU}}],
            "tags": [{"name": "t1"}, {"name": "t2"}],
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}],
            **values}
    return registry.create_namespace(body, headers=ADMIN)


def names(page):
    return [ns["namespace"] for ns in page["namespaces"]]


def every_write(registry, ns):
    """One call of each write to namespace ``ns``, as ``lambda headers: ...``."""
    return {
        "create namespace": lambda h: registry.create_namespace({"namespace": "new"}, headers=h),
        "update namespace": lambda h: registry.update_namespace(ns, {"namespace": ns,
                                                                     "visibility": "public"},
                                                                headers=h),
        "delete namespace": lambda h: registry.delete_namespace(ns, headers=h),
        "delete objects": lambda h: registry.delete_namespace_items(ns, "objects", headers=h),
        "create object": lambda h: registry.create_item(ns, "objects", {"name": "o9"},
                                                        headers=h),
        "update object": lambda h: registry.update_item(ns, "objects", "o1", {"name": "o9"},
                                                        headers=h),
        "delete object": lambda h: registry.delete_item(ns, "objects", "o1", headers=h),
        "create property": lambda h: registry.create_item(ns, "properties",
                                                          {"name": "ram", **CPU}, headers=h),
        "update property": lambda h: registry.update_item(ns, "properties", "cpu",
                                                          {"name": "cpu", **CPU, "title": "x"},
                                                          headers=h),
        "delete property": lambda h: registry.delete_item(ns, "properties", "cpu", headers=h),
        "create tag": lambda h: registry.create_tag(ns, "t9", headers=h),
        "replace tags": lambda h: registry.create_tags(ns, {"tags": []}, headers=h),
        "rename tag": lambda h: registry.update_item(ns, "tags", "t1", {"name": "t9"},
                                                     headers=h),
        "delete tag": lambda h: registry.delete_item(ns, "tags", "t1", headers=h),
        "delete tags": lambda h: registry.delete_namespace_items(ns, "tags", headers=h),
        "associate": lambda h: registry.create_association(ns, {"name": "OS::Nova::Flavor"},
                                                           headers=h),
        "dissociate": lambda h: registry.delete_association(ns, "OS::Glance::Image", headers=h),
    }


class RegistryMetadefsContract:

    def test_the_seeded_resource_types_are_listed(self, registry):
        found = registry.list_resource_types(headers=BOB)
        assert [rt["name"] for rt in found] == SEEDED
        assert all(TS.match(rt["created_at"]) for rt in found)

    def test_a_namespace_is_created_with_what_it_starts_with(self, registry):
        made = catalog(registry)
        assert {k: made[k] for k in ("namespace", "display_name", "description", "visibility",
                                     "protected", "owner")} == {
            "namespace": "ns", "display_name": "Shown", "description": None,
            "visibility": "private", "protected": False, "owner": "alice"}
        assert made["properties"] == {"cpu": CPU}
        assert [(o["name"], o["required"], o["properties"]) for o in made["objects"]] == [
            ("o1", ["cpu"], {"cpu": CPU})]
        assert [t["name"] for t in made["tags"]] == ["t1", "t2"]
        assert [(a["name"], a["prefix"]) for a in made["resource_type_associations"]] == [
            ("OS::Glance::Image", "hw_")]
        assert TS.match(made["created_at"]) and made["updated_at"] == made["created_at"]
        assert registry.get_namespace("ns", headers=ALICE) == made
        by_admin = registry.create_namespace({"namespace": "mine"}, headers=ADMIN)
        assert (by_admin["owner"], by_admin["objects"], by_admin["tags"]) == ("operators", [], [])

    def test_update_replaces_the_attributes_and_keeps_the_content(self, registry):
        made = catalog(registry, visibility="public", protected=True, description="d")
        updated = registry.update_namespace("ns", {"namespace": "renamed"}, headers=ADMIN)
        assert {k: updated[k] for k in ("namespace", "display_name", "description",
                                        "visibility", "protected", "owner")} == {
            "namespace": "renamed", "display_name": None, "description": None,
            "visibility": "private", "protected": False, "owner": "operators"}
        with raises(404):
            registry.get_namespace("ns", headers=ADMIN)
        kept = registry.get_namespace("renamed", headers=ADMIN)
        for key in ("properties", "objects", "tags", "resource_type_associations"):
            assert kept[key] == made[key], key
        again = registry.update_namespace("renamed", {"namespace": "renamed", "owner": "bob"},
                                          headers=ADMIN)
        assert again["owner"] == "bob"
        # noauth's identity-less admin has no project to give: the owner stays.
        assert registry.update_namespace("renamed", {"namespace": "renamed"},
                                         headers={})["owner"] == "bob"

    def test_delete_removes_the_content_and_frees_the_name(self, registry):
        catalog(registry, resource_type_associations=[{"name": "OS::Trove::Instance"}])
        registry.delete_namespace("ns", headers=ADMIN)
        for call in (lambda: registry.get_namespace("ns", headers=ADMIN),
                     lambda: registry.list_items("ns", "objects", headers=ADMIN),
                     lambda: registry.delete_namespace("ns", headers=ADMIN)):
            with raises(404):
                call()
        fresh = registry.create_namespace({"namespace": "ns"}, headers=ADMIN)
        assert (fresh["objects"], fresh["properties"], fresh["tags"],
                fresh["resource_type_associations"]) == ([], {}, [], [])
        assert "OS::Trove::Instance" in [rt["name"] for rt in
                                         registry.list_resource_types(headers=ADMIN)]

    def test_who_reads_what(self, registry):
        catalog(registry, "alice-private")
        catalog(registry, "alice-public", visibility="public")
        catalog(registry, "bob-private", owner="bob")
        registry.create_namespace({"namespace": "nobodys"}, headers={})   # identity-less admin
        everything = ["alice-private", "alice-public", "bob-private", "nobodys"]
        seen = {"alice": (ALICE, ["alice-private", "alice-public"]),
                "bob": (BOB, ["alice-public", "bob-private"]),
                "admin": (ADMIN, everything), "noauth admin": ({}, everything)}
        for who, (headers, expected) in seen.items():
            assert sorted(names(registry.list_namespaces(headers=headers))) == expected, who
            for name in everything:
                if name in expected:
                    assert registry.get_namespace(name, headers=headers)["namespace"] == name
                    continue
                for call in (lambda: registry.get_namespace(name, headers=headers),
                             lambda: registry.list_items(name, "properties", headers=headers),
                             lambda: registry.get_item(name, "objects", "o1", headers=headers),
                             lambda: registry.list_associations(name, headers=headers)):
                    with raises(404):
                        call()
        for call in (lambda: registry.list_namespaces(headers=ANONYMOUS),
                     lambda: registry.get_namespace("alice-public", headers=ANONYMOUS),
                     lambda: registry.list_resource_types(headers=ANONYMOUS)):
            with raises(401):
                call()

    def test_only_admins_write_and_a_refused_write_changes_nothing(self, registry):
        catalog(registry, "public", visibility="public")
        catalog(registry, "private")
        before = {name: registry.get_namespace(name, headers=ADMIN)
                  for name in ("public", "private")}
        for what, call in every_write(registry, "public").items():
            for caller, status in ((ALICE, 403), (BOB, 403), (ANONYMOUS, 401)):
                with raises(status):
                    call(caller)
        for what, call in every_write(registry, "private").items():
            if what != "create namespace":
                with raises(404):         # bob may not even see it
                    call(BOB)
        for name, detail in before.items():
            assert registry.get_namespace(name, headers=ADMIN) == detail
        assert sorted(names(registry.list_namespaces(headers=ADMIN))) == ["private", "public"]

    def test_a_protected_namespace_keeps_its_content(self, registry):
        catalog(registry, protected=True)
        registry.create_tag("ns", "added", headers=ADMIN)     # writes other than deletes go on
        before = registry.get_namespace("ns", headers=ADMIN)
        deletes = [what for what in every_write(registry, "ns") if what.startswith(("delete",
                                                                                   "dissociate"))]
        for what in deletes:
            with raises(403):
                every_write(registry, "ns")[what](ADMIN)
        with raises(404):                                          # 404 comes first
            registry.delete_item("ns", "tags", "none", headers=ADMIN)
        assert registry.get_namespace("ns", headers=ADMIN) == before
        registry.update_namespace("ns", {"namespace": "ns", "protected": False}, headers=ADMIN)
        registry.delete_namespace("ns", headers=ADMIN)
        assert names(registry.list_namespaces(headers=ADMIN)) == []

    def test_names_are_unique_and_a_refused_create_leaves_nothing(self, registry):
        catalog(registry)
        registry.create_item("ns", "objects", {"name": "o2"}, headers=ADMIN)
        before = registry.get_namespace("ns", headers=ADMIN)
        taken = (
            lambda: catalog(registry),
            lambda: registry.create_item("ns", "objects", {"name": "o1"}, headers=ADMIN),
            lambda: registry.update_item("ns", "objects", "o2", {"name": "o1"}, headers=ADMIN),
            lambda: registry.create_item("ns", "properties", {"name": "cpu", **CPU},
                                         headers=ADMIN),
            lambda: registry.create_tag("ns", "t1", headers=ADMIN),
            lambda: registry.update_item("ns", "tags", "t2", {"name": "t1"}, headers=ADMIN),
            lambda: registry.create_tags("ns", {"tags": [{"name": "x"}, {"name": "x"}]},
                                         headers=ADMIN),
            lambda: registry.create_tags("ns", {"tags": [{"name": "t1"}]}, append=True,
                                         headers=ADMIN),
            lambda: registry.create_association("ns", {"name": "OS::Glance::Image"},
                                                headers=ADMIN),
            lambda: catalog(registry, "other", objects=[{"name": "o"}, {"name": "o"}]),
        )
        for call in taken:
            with raises(409):
                call()
        assert registry.get_namespace("ns", headers=ADMIN) == before
        assert names(registry.list_namespaces(headers=ADMIN)) == ["ns"]

    def test_bad_namespaces_are_refused_and_leave_nothing(self, registry):
        cases = [
            ({}, 400), ({"namespace": "x" * 81}, 400), ({"namespace": "a/b"}, 400),
            ({"namespace": ".."}, 400), ({"namespace": "a\nb"}, 400),
            ({"namespace": ""}, 400), ({"namespace": "x", "visibility": "shared"}, 400),
            ({"namespace": "x", "protected": "yes"}, 400), ({"namespace": "x", "bogus": 1}, 400),
            ({"namespace": "x", "description": "d" * 501}, 400),
            ({"namespace": "x", "properties": {"p": {"type": "string"}}}, 400),
            ({"namespace": "x", "properties": {"p": {"title": "P", "type": "text"}}}, 400),
            ({"namespace": "x", "objects": [{"name": "o", "required": ["a", "a"]}]}, 400),
            ({"namespace": "x", "tags": [{"name": ""}]}, 400),
            ({"namespace": "x", "resource_type_associations": [{"prefix": "p"}]}, 400),
            ({"namespace": "x", "created_at": "2026-01-01T00:00:00Z"}, 403),
            ({"namespace": "x", "self": "/elsewhere"}, 403),
            (["x"], 400),
        ]
        for body, status in cases:
            with raises(status):
                registry.create_namespace(body, headers=ADMIN)
        assert names(registry.list_namespaces(headers=ADMIN)) == []

    def test_bad_objects_and_properties_are_refused(self, registry):
        catalog(registry)
        before = registry.get_namespace("ns", headers=ADMIN)
        cases = [
            ("properties", {"title": "P", "type": "string"}),                 # no name
            ("properties", {"name": "p", "title": "P", "type": "string", "minLength": -1}),
            ("properties", {"name": "p", "title": "P", "type": "array", "items": {"type": "x"}}),
            ("properties", {"name": "p", "title": "P", "type": "number", "maximum": "9"}),
            ("objects", {"name": "o", "properties": {"p": {"title": "P"}}}),
            ("objects", {"description": "no name"}),
        ]
        for kind, body in cases:
            with raises(400):
                registry.create_item("ns", kind, body, headers=ADMIN)
        with raises(400):
            registry.update_item("ns", "properties", "cpu", {"name": "cpu", "title": "T"},
                                 headers=ADMIN)
        assert registry.get_namespace("ns", headers=ADMIN) == before

    def test_namespaces_are_paged_sorted_and_filtered(self, registry):
        for n in range(5):
            catalog(registry, f"n{n}", visibility="public" if n % 2 else "private",
                    resource_type_associations=[{"name": SEEDED[n % 3]}])
        pages, marker = [], None
        while True:
            params = {"sort_key": "namespace", "sort_dir": "asc", "limit": "2"}
            page = registry.list_namespaces(params={**params, "marker": marker} if marker
                                            else params, headers=ADMIN)
            pages.append(names(page))
            marker = page["next"]
            if marker is None:
                break
        assert pages == [["n0", "n1"], ["n2", "n3"], ["n4"]]
        assert names(registry.list_namespaces(headers=ADMIN)) == ["n4", "n3", "n2", "n1", "n0"]
        assert names(registry.list_namespaces(params={"visibility": "public"},
                                              headers=ADMIN)) == ["n3", "n1"]
        by_type = registry.list_namespaces(
            params={"resource_types": "OS::Cinder::Volume,OS::Nova::Flavor"}, headers=ADMIN)
        assert names(by_type) == ["n4", "n2", "n1"]
        assert names(registry.list_namespaces(params={"resource_types": "OS::Nope"},
                                              headers=ADMIN)) == []
        for params in ({"sort_key": "owner"}, {"sort_dir": "up"}, {"visibility": "shared"},
                       {"limit": "-1"}, {"limit": "ten"}):
            with raises(400):
                registry.list_namespaces(params=params, headers=ADMIN)
        with raises(404):
            registry.list_namespaces(params={"marker": "n0"}, headers=BOB)   # not bob's to see
        with raises(404):
            registry.list_namespaces(params={"marker": "none"}, headers=ADMIN)

    def test_tags_are_replaced_appended_and_paged(self, registry):
        catalog(registry)
        made = registry.create_tags("ns", {"tags": [{"name": "a"}, {"name": "b"}]},
                                    headers=ADMIN)
        assert [t["name"] for t in made] == ["a", "b"]
        tags = lambda **params: [t["name"] for t in registry.list_items(
            "ns", "tags", params=params or None, headers=ALICE)]
        assert sorted(tags()) == ["a", "b"]
        registry.create_tags("ns", {"tags": [{"name": "c"}]}, append=True, headers=ADMIN)
        assert tags(sort_key="name", sort_dir="asc") == ["a", "b", "c"]
        assert tags(sort_key="name", sort_dir="asc", limit="1", marker="a") == ["b"]
        with raises(404):
            tags(marker="zz")
        assert registry.get_item("ns", "tags", "c", headers=ALICE)["name"] == "c"
        registry.delete_namespace_items("ns", "tags", headers=ADMIN)
        assert tags() == []

    def test_a_resource_type_prefix_applies_to_property_names(self, registry):
        catalog(registry, resource_type_associations=[
            {"name": "OS::Glance::Image", "prefix": "hw_"},
            {"name": "OS::Nova::Flavor", "prefix": "hw:", "properties_target": "image"},
            {"name": "OS::Cinder::Volume"}])
        flavor = registry.get_namespace("ns", resource_type="OS::Nova::Flavor", headers=ALICE)
        assert list(flavor["properties"]) == ["hw:cpu"]
        assert flavor["objects"][0]["required"] == ["hw:cpu"]
        assert list(flavor["objects"][0]["properties"]) == ["hw:cpu"]
        for plain in ("OS::Cinder::Volume", "OS::Nova::Server"):
            assert list(registry.get_namespace("ns", resource_type=plain,
                                               headers=ALICE)["properties"]) == ["cpu"]
        image = {"resource_type": "OS::Glance::Image"}
        found = registry.get_item("ns", "properties", "hw_cpu", params=image, headers=ALICE)
        assert found == {"name": "cpu", **CPU}
        for name, params in (("cpu", image), ("hw_cpu", {"resource_type": "OS::Cinder::Volume"}),
                             ("hw_cpu", {"resource_type": "OS::Nova::Server"})):
            with raises(404):
                registry.get_item("ns", "properties", name, params=params, headers=ALICE)

    def test_associations_come_and_go_and_new_resource_types_stay(self, registry):
        catalog(registry)
        made = registry.create_association("ns", {"name": "OS::Trove::Instance", "prefix": "t:"},
                                           headers=ADMIN)
        assert (made["name"], made["prefix"], made["properties_target"]) == (
            "OS::Trove::Instance", "t:", None)
        listed = lambda: [a["name"] for a in registry.list_associations("ns", headers=ALICE)]
        assert listed() == ["OS::Glance::Image", "OS::Trove::Instance"]
        registry.delete_association("ns", "OS::Trove::Instance", headers=ADMIN)
        assert listed() == ["OS::Glance::Image"]
        assert "OS::Trove::Instance" in [rt["name"] for rt in
                                         registry.list_resource_types(headers=ADMIN)]
        for name in ("OS::Trove::Instance", "OS::Never::Made"):
            with raises(404):
                registry.delete_association("ns", name, headers=ADMIN)

    def test_objects_and_properties_are_replaced_and_renamed(self, registry):
        catalog(registry)
        obj = registry.update_item("ns", "objects", "o1", {"name": "o2", "description": "d"},
                                   headers=ADMIN)
        assert (obj["name"], obj["description"], obj["required"], obj["properties"]) == (
            "o2", "d", [], {})
        prop = registry.update_item("ns", "properties", "cpu",
                                    {"name": "vcpus", "title": "V", "type": "integer"},
                                    headers=ADMIN)
        assert prop == {"name": "vcpus", "title": "V", "type": "integer"}
        detail = registry.get_namespace("ns", headers=ADMIN)
        assert [o["name"] for o in detail["objects"]] == ["o2"]
        assert detail["properties"] == {"vcpus": {"title": "V", "type": "integer"}}
        for kind, name in (("objects", "o1"), ("properties", "cpu")):
            with raises(404):
                registry.get_item("ns", kind, name, headers=ADMIN)

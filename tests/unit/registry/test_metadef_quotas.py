"""The metadef_*_quota options: over a quota is 413, and the refused request leaves nothing."""
import pytest

from contract.registry import raises
from contract.registry_support import InProcessRegistry, in_memory_app

QUOTAS = {"metadef_namespace_quota": 2, "metadef_object_quota": 2,
          "metadef_property_quota": 2, "metadef_tag_quota": 3}
PROP = {"title": "P", "type": "string"}


@pytest.fixture(scope="module")
def app():
    yield from in_memory_app(**QUOTAS)


@pytest.fixture
def registry(app):
    client = InProcessRegistry(app)
    client.wipe()
    return client


def test_namespaces(registry):
    for name in ("a", "b"):
        registry.create_namespace({"namespace": name}, headers={})
    with raises(413, "There may be at most 2 metadata definition namespaces"):
        registry.create_namespace({"namespace": "c"}, headers={})
    registry.delete_namespace("a", headers={})
    registry.create_namespace({"namespace": "c"}, headers={})
    assert sorted(ns["namespace"] for ns in registry.list_namespaces()["namespaces"]) == ["b", "c"]


@pytest.mark.parametrize("kind, key, value", [
    ("objects", "objects", [{"name": f"o{n}"} for n in range(3)]),
    ("properties", "properties", {f"p{n}": PROP for n in range(3)}),
    ("tags", "tags", [{"name": f"t{n}"} for n in range(4)]),
])
def test_a_new_namespace_over_a_quota_is_not_created(registry, kind, key, value):
    with raises(413):
        registry.create_namespace({"namespace": "ns", key: value}, headers={})
    assert registry.list_namespaces()["namespaces"] == []


def test_objects_and_properties_one_at_a_time(registry):
    registry.create_namespace({"namespace": "ns", "objects": [{"name": "o0"}],
                               "properties": {"p0": PROP}}, headers={})
    registry.create_item("ns", "objects", {"name": "o1"}, headers={})
    registry.create_item("ns", "properties", {"name": "p1", **PROP}, headers={})
    with raises(413, "A metadata definition namespace may hold at most 2 objects; "
                     "this request would make 3"):
        registry.create_item("ns", "objects", {"name": "o2"}, headers={})
    with raises(413):
        registry.create_item("ns", "properties", {"name": "p2", **PROP}, headers={})
    detail = registry.get_namespace("ns")
    assert ([o["name"] for o in detail["objects"]], sorted(detail["properties"])) == (
        ["o0", "o1"], ["p0", "p1"])


def test_tags_replaced_appended_and_one_by_one(registry):
    registry.create_namespace({"namespace": "ns", "tags": [{"name": "a"}, {"name": "b"}]},
                              headers={})
    names = lambda: sorted(t["name"] for t in registry.list_items("ns", "tags"))
    with raises(413):
        registry.create_tags("ns", {"tags": [{"name": n} for n in "wxyz"]}, headers={})
    with raises(413):
        registry.create_tags("ns", {"tags": [{"name": "c"}, {"name": "d"}]}, append=True,
                             headers={})
    assert names() == ["a", "b"]
    registry.create_tag("ns", "c", headers={})
    with raises(413):
        registry.create_tag("ns", "d", headers={})
    registry.create_tags("ns", {"tags": [{"name": n} for n in "xyz"]}, headers={})
    assert names() == ["x", "y", "z"]

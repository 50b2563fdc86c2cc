"""/v2/metadefs and /v2/schemas/metadefs under Flask's test client, on a real in-process
registry (SQLite in memory): the wire shapes Glance's clients read."""
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from contract.registry_support import InProcessRegistry, in_memory_app
from glance.api import create_app
from glance.store import StoreMap

NS = "/v2/metadefs/namespaces"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ALICE = {"X-Tenant-Id": "alice", "X-User-Id": "alice-user", "X-Roles": "member"}
OPERATOR = {"X-Tenant-Id": "ops", "X-User-Id": "op", "X-Roles": "admin"}
ANONYMOUS = {"X-Identity-Status": "Invalid"}
CPU = {"title": "vCPUs", "type": "integer", "minimum": 1}


@pytest.fixture(scope="module")
def registry_app():
    yield from in_memory_app()


@pytest.fixture
def make_api(registry_app, conf, fs_store):
    registry = InProcessRegistry(registry_app)
    registry.wipe()

    def make(**changes):
        stores = StoreMap({"file": fs_store}, "file", {"file": "file"})
        return create_app(conf.replace(**changes), registry=registry, stores=stores).test_client()
    return make


@pytest.fixture
def api(make_api):
    return make_api()


def make_namespace(api, name="ns", **values):
    response = api.post(NS, json={"namespace": name, **values}, headers=OPERATOR)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_every_schema_document_is_served_by_name(api):
    expected = {"namespace": "namespace", "namespaces": "namespaces", "object": "object",
                "objects": "objects", "property": "property", "properties": "properties",
                "tag": "tag", "tags": "tags", "resource_type": "resource_type_association",
                "resource_types": "resource_type_associations"}
    for path, name in expected.items():
        response = api.get(f"/v2/schemas/metadefs/{path}", headers=ALICE)
        assert response.status_code == 200 and response.get_json()["name"] == name, path
    namespace = api.get("/v2/schemas/metadefs/namespace").get_json()
    assert namespace["required"] == ["namespace"]
    assert namespace["additionalProperties"] is False
    assert namespace["properties"]["visibility"]["enum"] == ["public", "private"]
    assert namespace["properties"]["namespace"]["maxLength"] == 80
    prop = api.get("/v2/schemas/metadefs/property").get_json()
    assert sorted(prop["required"]) == ["name", "title", "type"]
    listing = api.get("/v2/schemas/metadefs/properties").get_json()
    assert listing["properties"]["properties"]["additionalProperties"]["required"] == [
        "type", "title"]
    assert api.get("/v2/schemas/metadefs/nothing").status_code == 404


def test_answers_validate_against_the_schemas(api):
    jsonschema = pytest.importorskip("jsonschema")
    made = make_namespace(api, visibility="public", description="d", properties={"cpu": CPU},
                          objects=[{"name": "o", "properties": {"cpu": CPU}}],
                          tags=[{"name": "t"}],
                          resource_type_associations=[{"name": "OS::Glance::Image"}])
    schema = lambda name: api.get(f"/v2/schemas/metadefs/{name}").get_json()
    jsonschema.validate(made, schema("namespace"))
    jsonschema.validate(api.get(NS, headers=ALICE).get_json(), schema("namespaces"))
    jsonschema.validate(api.get(f"{NS}/ns/objects/o").get_json(), schema("object"))
    jsonschema.validate(api.get(f"{NS}/ns/properties").get_json(), schema("properties"))
    associations = api.get(f"{NS}/ns/resource_types").get_json()
    jsonschema.validate(associations, schema("resource_types"))


def test_create_answers_201_with_location_and_only_the_attributes_that_have_values(api):
    response = api.post(NS, json={"namespace": "FredCo::Some Category", "display_name": "Fred",
                                  "description": "Mine"}, headers=OPERATOR)
    assert response.status_code == 201
    assert response.headers["Location"] == \
        "http://localhost/v2/metadefs/namespaces/FredCo%3A%3ASome%20Category"
    made = response.get_json()
    assert set(made) == {"namespace", "display_name", "description", "visibility", "protected",
                         "owner", "created_at", "updated_at", "self", "schema"}
    assert (made["visibility"], made["protected"], made["owner"]) == ("private", False, "ops")
    assert made["self"] == f"{NS}/FredCo::Some Category"
    assert made["schema"] == "/v2/schemas/metadefs/namespace"
    assert ISO.match(made["created_at"]) and ISO.match(made["updated_at"])
    bare = make_namespace(api, "bare")
    assert "display_name" not in bare and "description" not in bare


def test_the_detail_carries_what_the_namespace_holds(api):
    make_namespace(api, visibility="public", properties={"cpu": CPU},
                   objects=[{"name": "CPU Limits", "required": ["cpu"],
                             "properties": {"cpu": CPU}}],
                   tags=[{"name": "t"}],
                   resource_type_associations=[{"name": "OS::Nova::Flavor", "prefix": "hw:"}])
    detail = api.get(f"{NS}/ns", headers=ALICE).get_json()
    assert detail["properties"] == {"cpu": CPU}
    assert detail["tags"] == [{"name": "t"}]
    [obj] = detail["objects"]
    assert obj["self"] == f"{NS}/ns/objects/CPU Limits"
    assert obj["schema"] == "/v2/schemas/metadefs/object"
    [association] = detail["resource_type_associations"]
    assert set(association) == {"name", "prefix", "created_at", "updated_at"}
    prefixed = api.get(f"{NS}/ns?resource_type=OS::Nova::Flavor", headers=ALICE).get_json()
    assert list(prefixed["properties"]) == ["hw:cpu"]
    assert prefixed["objects"][0]["required"] == ["hw:cpu"]
    prop = api.get(f"{NS}/ns/properties/hw:cpu?resource_type=OS::Nova::Flavor", headers=ALICE)
    assert prop.get_json() == {"name": "cpu", **CPU}
    empty = make_namespace(api, "empty")
    shown = api.get(f"{NS}/empty", headers=OPERATOR).get_json()
    assert not {"properties", "objects", "tags", "resource_type_associations"} & set(shown)
    assert shown == {**empty, "updated_at": shown["updated_at"]}


def test_the_list_links_first_and_next_pages_keeping_the_query(api):
    for n in range(3):
        make_namespace(api, f"n{n}", visibility="public")
    query = "sort_key=namespace&sort_dir=asc&limit=2&visibility=public"
    first = api.get(f"{NS}?{query}", headers=ALICE).get_json()
    assert [ns["namespace"] for ns in first["namespaces"]] == ["n0", "n1"]
    assert first["schema"] == "/v2/schemas/metadefs/namespaces"
    assert first["first"] == f"{NS}?{query}"
    link = urlsplit(first["next"])
    assert link.path == NS
    assert dict(parse_qsl(link.query)) == {**dict(parse_qsl(query)), "marker": "n1"}
    second = api.get(first["next"], headers=ALICE).get_json()
    assert [ns["namespace"] for ns in second["namespaces"]] == ["n2"]
    assert "next" not in second
    assert second["first"] == f"{NS}?{query}"
    assert api.get(NS, headers=ALICE).get_json()["first"] == NS


def test_objects_properties_and_tags_are_shaped_as_glance_answers(api):
    make_namespace(api)
    made = api.post(f"{NS}/ns/objects", json={"name": "o", "description": "d"},
                    headers=OPERATOR)
    assert made.status_code == 201
    assert set(made.get_json()) == {"name", "description", "required", "properties",
                                    "created_at", "updated_at", "self", "schema"}
    listing = api.get(f"{NS}/ns/objects", headers=OPERATOR).get_json()
    assert listing["schema"] == "/v2/schemas/metadefs/objects"
    assert [o["name"] for o in listing["objects"]] == ["o"]
    prop = api.post(f"{NS}/ns/properties", json={"name": "cpu", **CPU}, headers=OPERATOR)
    assert (prop.status_code, prop.get_json()) == (201, {"name": "cpu", **CPU})
    assert api.get(f"{NS}/ns/properties").get_json() == {"properties": {"cpu": CPU}}
    tag = api.post(f"{NS}/ns/tags/first", headers=OPERATOR)
    assert tag.status_code == 201 and set(tag.get_json()) == {"name", "created_at",
                                                               "updated_at"}
    tags = api.post(f"{NS}/ns/tags", json={"tags": [{"name": "a"}]},
                    headers={**OPERATOR, "X-Openstack-Append": "True"})
    assert (tags.status_code, tags.get_json()) == (201, {"tags": [{"name": "a"}]})
    listed = api.get(f"{NS}/ns/tags?sort_key=name&sort_dir=asc").get_json()
    assert listed == {"tags": [{"name": "a"}, {"name": "first"}]}
    api.post(f"{NS}/ns/tags", json={"tags": [{"name": "b"}]}, headers=OPERATOR)   # replaces
    assert api.get(f"{NS}/ns/tags").get_json() == {"tags": [{"name": "b"}]}
    for path in ("objects/o", "properties/cpu", "tags/b"):
        assert api.delete(f"{NS}/ns/{path}", headers=OPERATOR).status_code == 204
    assert api.delete(f"{NS}/ns/tags", headers=OPERATOR).status_code == 204


def test_resource_types_and_associations(api):
    make_namespace(api)
    types = api.get("/v2/metadefs/resource_types", headers=ALICE).get_json()["resource_types"]
    assert types[0]["name"] == "OS::Glance::Image" and ISO.match(types[0]["created_at"])
    made = api.post(f"{NS}/ns/resource_types", json={"name": "OS::Cinder::Volume",
                                                    "prefix": "hw_",
                                                    "properties_target": "image"},
                    headers=OPERATOR)
    assert made.status_code == 201
    assert set(made.get_json()) == {"name", "prefix", "properties_target", "created_at",
                                    "updated_at"}
    listed = api.get(f"{NS}/ns/resource_types", headers=OPERATOR).get_json()
    assert [a["name"] for a in listed["resource_type_associations"]] == ["OS::Cinder::Volume"]
    gone = api.delete(f"{NS}/ns/resource_types/OS::Cinder::Volume", headers=OPERATOR)
    assert gone.status_code == 204


@pytest.mark.parametrize("method, path, kwargs, status", [
    ("POST", NS, {"data": "namespace=x", "content_type": "text/plain"}, 415),
    ("POST", NS, {"data": "{", "content_type": "application/json"}, 400),
    ("POST", NS, {"json": ["namespace"]}, 400),
    ("POST", NS, {"data": b"", "content_type": "application/json"}, 400),
    ("GET", f"{NS}/ns", {"data": "{}", "content_type": "application/json"}, 400),
    ("DELETE", f"{NS}/ns", {"data": "{}", "content_type": "application/json"}, 400),
    ("POST", f"{NS}/ns/tags/t", {"json": {"name": "t"}}, 400),
    ("POST", NS, {"json": {"namespace": "x" * 2000}}, 413),
])
def test_bad_requests_are_refused_and_change_nothing(make_api, method, path, kwargs, status):
    api = make_api(max_json_body=1024)
    make_namespace(api)
    before = api.get(f"{NS}/ns", headers=OPERATOR).get_json()
    response = api.open(path, method=method, headers=OPERATOR, **kwargs)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == status and error["message"]
    assert api.get(f"{NS}/ns", headers=OPERATOR).get_json() == before
    assert [ns["namespace"] for ns in api.get(NS).get_json()["namespaces"]] == ["ns"]


def test_callers_who_may_not_are_told_so_in_json(api):
    make_namespace(api, "private")
    cases = [("GET", NS, ANONYMOUS, 401), ("POST", NS, ALICE, 403),
             ("GET", f"{NS}/private", ALICE, 404), ("DELETE", f"{NS}/private", ALICE, 404),
             ("GET", "/v2/metadefs/resource_types", ANONYMOUS, 401)]
    for method, path, headers, status in cases:
        response = api.open(path, method=method, headers=headers,
                            json={"namespace": "x"} if method == "POST" else None)
        assert response.status_code == status, (method, path)
        assert response.get_json()["error"]["code"] == status
    assert api.get(f"{NS}/private", headers=OPERATOR).status_code == 200


def test_a_method_a_route_does_not_take_is_405_with_allow(api):
    response = api.patch(f"{NS}/ns", headers=OPERATOR)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PUT", "DELETE"}

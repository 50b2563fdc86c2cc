"""The metadata definitions catalog (/v2/metadefs) against real glance-api and glance-registry.

Callers are noauth's trusted identity headers: an admin of project "ops", tenant
"alpha" (a member, owner of namespaces an admin made for it), tenant "gamma" (a
stranger) and anonymous; then python-glanceclient's metadefs client.  (With real
Keystone tokens: ``test_v2_clients_keystone.py``.)
"""
import uuid

import pytest

from v2client import ANONYMOUS, V2, tenant

NS = "/v2/metadefs/namespaces"
OPS = tenant("ops", "admin")
ALPHA, GAMMA = tenant("alpha", "member"), tenant("gamma", "member")
CPU = {"title": "vCPUs", "type": "integer", "minimum": 1}


def _name(prefix="ns"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def admin(api_server):
    return V2(api_server.url, OPS)


def _ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _catalog(admin, owner="alpha", visibility="private", **values):
    """A namespace with one of everything, made by the admin for ``owner``."""
    body = {"namespace": _name(), "owner": owner, "visibility": visibility,
            "properties": {"cpu": CPU}, "objects": [{"name": "o1", "properties": {"cpu": CPU}}],
            "tags": [{"name": "t1"}],
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}],
            **values}
    return _ok(admin.request("POST", NS, json=body), 201)


def _state(admin, name):
    """Everything the admin reads about a namespace."""
    return {path: admin.request("GET", f"{NS}/{name}{path}").json()
            for path in ("", "/objects", "/properties", "/tags", "/resource_types")}


def _every_request(name):
    """(method, path, body) of every metadefs route on namespace ``name``, writes first."""
    return [
        ("POST", NS, {"namespace": _name()}),
        ("PUT", f"{NS}/{name}", {"namespace": name, "visibility": "public"}),
        ("DELETE", f"{NS}/{name}/objects", None), ("DELETE", f"{NS}/{name}/properties", None),
        ("DELETE", f"{NS}/{name}/tags", None),
        ("POST", f"{NS}/{name}/objects", {"name": "o2"}),
        ("PUT", f"{NS}/{name}/objects/o1", {"name": "o1", "description": "changed"}),
        ("DELETE", f"{NS}/{name}/objects/o1", None),
        ("POST", f"{NS}/{name}/properties", {"name": "ram", **CPU}),
        ("PUT", f"{NS}/{name}/properties/cpu", {"name": "cpu", **CPU, "title": "x"}),
        ("DELETE", f"{NS}/{name}/properties/cpu", None),
        ("POST", f"{NS}/{name}/tags", {"tags": [{"name": "t2"}]}),
        ("POST", f"{NS}/{name}/tags/t3", None),
        ("PUT", f"{NS}/{name}/tags/t1", {"name": "t4"}),
        ("DELETE", f"{NS}/{name}/tags/t1", None),
        ("POST", f"{NS}/{name}/resource_types", {"name": "OS::Nova::Flavor"}),
        ("DELETE", f"{NS}/{name}/resource_types/OS::Glance::Image", None),
        ("DELETE", f"{NS}/{name}", None),
        ("GET", f"{NS}/{name}", None), ("GET", f"{NS}/{name}/objects/o1", None),
        ("GET", f"{NS}/{name}/properties", None), ("GET", f"{NS}/{name}/tags/t1", None),
        ("GET", f"{NS}/{name}/resource_types", None),
    ]


def test_tempests_admin_flows(admin):
    """What tempest.api.image.v2.admin.test_images_metadefs_* do, in one go."""
    resource_type = _ok(admin.request("GET", "/v2/metadefs/resource_types"))[
        "resource_types"][0]["name"]
    name = _name()
    made = _ok(admin.request("POST", NS, json={
        "namespace": name, "visibility": "public", "description": "Tempest",
        "display_name": name, "resource_type_associations": [{"name": resource_type}],
        "protected": True}), 201)
    assert made["owner"] == "ops"
    assert name in [ns["namespace"] for ns in _ok(admin.request("GET", NS))["namespaces"]]
    assert _ok(admin.request("GET", f"{NS}/{name}"))["visibility"] == "public"
    _ok(admin.request("DELETE", f"{NS}/{name}"), 403)
    updated = _ok(admin.request("PUT", f"{NS}/{name}", json={
        "namespace": name, "description": "Tempest", "visibility": "private",
        "display_name": name, "protected": False}))
    assert (updated["visibility"], updated["protected"]) == ("private", False)
    # objects
    _ok(admin.request("POST", f"{NS}/{name}/objects", json={"name": "obj"}), 201)
    assert _ok(admin.request("PUT", f"{NS}/{name}/objects/obj", json={"name": "obj2"}))[
        "name"] == "obj2"
    _ok(admin.request("DELETE", f"{NS}/{name}/objects/obj2"), 204)
    assert _ok(admin.request("GET", f"{NS}/{name}/objects"))["objects"] == []
    # properties, named after the resource type as tempest does
    prop = {"name": resource_type, "title": "p", "type": "string", "enum": ["xen", "kvm"]}
    assert _ok(admin.request("POST", f"{NS}/{name}/properties", json=prop), 201)["title"] == "p"
    assert _ok(admin.request("GET", f"{NS}/{name}/properties/{resource_type}"))[
        "name"] == resource_type
    assert _ok(admin.request("PUT", f"{NS}/{name}/properties/{resource_type}",
                             json={**prop, "title": "q"}))["title"] == "q"
    _ok(admin.request("DELETE", f"{NS}/{name}/properties/{resource_type}"), 204)
    # tags
    tags = [{"name": f"sample-tag{n}"} for n in (1, 2, 3)]
    _ok(admin.request("POST", f"{NS}/{name}/tags", json={"tags": tags}), 201)
    assert len(_ok(admin.request("GET", f"{NS}/{name}/tags"))["tags"]) == 3
    _ok(admin.request("POST", f"{NS}/{name}/tags/one"), 201)
    assert _ok(admin.request("PUT", f"{NS}/{name}/tags/one", json={"name": "two"}))[
        "name"] == "two"
    _ok(admin.request("DELETE", f"{NS}/{name}/tags/two"), 204)
    _ok(admin.request("DELETE", f"{NS}/{name}/tags"), 204)
    assert _ok(admin.request("GET", f"{NS}/{name}/tags"))["tags"] == []
    # resource type associations (already associated at creation: 409)
    _ok(admin.request("POST", f"{NS}/{name}/resource_types", json={"name": resource_type}), 409)
    _ok(admin.request("DELETE", f"{NS}/{name}/resource_types/{resource_type}"), 204)
    assert _ok(admin.request("GET", f"{NS}/{name}/resource_types"))[
        "resource_type_associations"] == []
    _ok(admin.request("DELETE", f"{NS}/{name}"), 204)
    _ok(admin.request("GET", f"{NS}/{name}"), 404)
    for schema in ("namespace", "namespaces", "resource_type", "resource_types", "object",
                   "objects", "property", "properties", "tag", "tags"):
        _ok(admin.as_(ALPHA).request("GET", f"/v2/schemas/metadefs/{schema}"))


@pytest.mark.parametrize("visibility", ["public", "private"])
def test_callers_who_may_not_change_nothing(admin, visibility):
    name = _catalog(admin, visibility=visibility)["namespace"]
    before = _state(admin, name)
    expected = {  # caller: (writes, reads)
        "alpha (owner, not admin)": (ALPHA, 403, 200),
        "gamma (another tenant)": (GAMMA, 403 if visibility == "public" else 404,
                                   200 if visibility == "public" else 404),
        "anonymous": (ANONYMOUS, 401, 401),
    }
    for who, (headers, write, read) in expected.items():
        caller = admin.as_(headers)
        for method, path, body in _every_request(name):
            status = read if method == "GET" else write
            if method == "POST" and path == NS and who != "anonymous":
                status = 403                 # creating a namespace needs no lookup
            response = caller.request(method, path, json=body)
            assert response.status_code == status, (who, method, path, response.text)
            if status >= 400:
                assert response.json()["error"]["code"] == status
    assert _state(admin, name) == before
    listed = {who: [ns["namespace"] for ns in
                    admin.as_(headers).request("GET", NS).json().get("namespaces", [])]
              for who, (headers, _, _) in expected.items()}
    assert name in listed["alpha (owner, not admin)"]
    assert (name in listed["gamma (another tenant)"]) == (visibility == "public")


def test_python_glanceclients_metadefs_client(api_server):
    glanceclient = pytest.importorskip("glanceclient")
    client = glanceclient.Client(endpoint=f"{api_server.url}/v2", token="anything")   # noauth admin
    name = _name("gc")
    made = client.metadefs_namespace.create(namespace=name, display_name="GC",
                                            visibility="public")
    assert (made["namespace"], made["visibility"]) == (name, "public")
    client.metadefs_resource_type.associate(name, name="OS::Glance::Image", prefix="hw_")
    assert [rt["name"] for rt in client.metadefs_resource_type.get(name)] == [
        "OS::Glance::Image"]
    client.metadefs_property.create(name, name="cpu", title="vCPUs", type="integer")
    prop = client.metadefs_property.update(name, "cpu", title="CPUs")
    assert (prop["name"], prop["title"]) == ("cpu", "CPUs")
    client.metadefs_object.create(name, name="obj", properties={"cpu": CPU})
    obj = client.metadefs_object.update(name, "obj", description="described")
    assert obj["description"] == "described"
    tags = [tag["name"] for tag in client.metadefs_tag.create_multiple(name, tags=["a", "b"])]
    assert tags == ["a", "b"]
    # (create_multiple(append=True) fails in the client itself: it sends a bool as a header.)
    client.metadefs_tag.create(name, "c")
    assert sorted(t["name"] for t in client.metadefs_tag.list(name)) == ["a", "b", "c"]
    # The update sends back the detail it read, objects and associations included.
    updated = client.metadefs_namespace.update(name, description="now described")
    assert updated["description"] == "now described"
    detail = client.metadefs_namespace.get(name, resource_type="OS::Glance::Image")
    assert list(detail["properties"]) == ["hw_cpu"]
    assert [o["name"] for o in detail["objects"]] == ["obj"]
    assert name in [ns["namespace"] for ns in client.metadefs_namespace.list(page_size=1)]
    # Horizon asks for the namespaces of one resource type so.
    unrelated = client.metadefs_namespace.create(namespace=_name("gc"), visibility="public")
    found = client.metadefs_namespace.list(filters={"resource_types": ["OS::Glance::Image"],
                                                    "visibility": "public"})
    found = list(found)
    assert name in [ns["namespace"] for ns in found]
    assert unrelated["namespace"] not in [ns["namespace"] for ns in found]
    assert all(ns["visibility"] == "public" and "OS::Glance::Image" in
               [rt["name"] for rt in ns["resource_type_associations"]] for ns in found)
    client.metadefs_resource_type.deassociate(name, "OS::Glance::Image")
    client.metadefs_namespace.delete(name)
    client.metadefs_namespace.delete(unrelated["namespace"])
    with pytest.raises(glanceclient.exc.HTTPNotFound):
        client.metadefs_namespace.get(name)


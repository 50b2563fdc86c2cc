"""/v2/tasks, /v2/images/<id>/tasks, /v2/cache and /v2/info/usage under Flask's test client,
on a real in-process registry (SQLite in memory) and the filesystem store: the wire shapes
Glance's clients read, and the callers who must not succeed."""
import datetime
import re
import time
import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa

from glance.api import create_app
from glance.store import StoreMap
from glance.store.http import HTTPStore

ALICE = {"X-Tenant-Id": "alice", "X-User-Id": "alice-user", "X-Roles": "member"}
BOB = {"X-Tenant-Id": "bob", "X-User-Id": "bob-user", "X-Roles": "member"}
OPERATOR = {"X-Tenant-Id": "ops", "X-User-Id": "op", "X-Roles": "admin"}
ANONYMOUS = {"X-Identity-Status": "Invalid"}
OCTET = {"Content-Type": "application/octet-stream"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REQUEST_ID = re.compile(r"^req-[0-9a-f-]{36}$")
MIB = 1024 * 1024


@pytest.fixture
def make_api(registry, conf, fs_store):
    """glance-api on conftest's real in-process registry, with the HTTP store too."""
    def make(**changes):
        conf_now = conf.replace(**changes)
        stores = StoreMap({"file": fs_store, "http": HTTPStore.from_config(conf_now)}, "file",
                          {"file": "file", "http": "http", "https": "http"})
        return create_app(conf_now, registry=registry, stores=stores).test_client()
    return make


@pytest.fixture
def api(make_api):
    return make_api()


def new_image(api, headers=ALICE, **body):
    response = api.post("/v2/images", json={"disk_format": "raw", "container_format": "bare",
                                            **body}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def staged(api, data=b"staged data", headers=ALICE, **body):
    image = new_image(api, headers, **body)
    response = api.put(f"/v2/images/{image['id']}/stage", data=data,
                       headers={**headers, **OCTET})
    assert response.status_code == 204, response.get_json()
    return image


def glance_direct(api, image_id, headers=ALICE):
    return api.post(f"/v2/images/{image_id}/import", headers=headers,
                    json={"method": {"name": "glance-direct"}})


def task_rows(registry):
    with registry.engine.connect() as conn:
        return conn.execute(sa.text("SELECT id, status FROM tasks ORDER BY id")).all()


# --- the task of each import -------------------------------------------------------

def test_a_glance_direct_import_records_its_task(api):
    image = staged(api, visibility="shared")
    response = glance_direct(api, image["id"])
    assert response.status_code == 202
    request_id = response.headers["x-openstack-request-id"]
    assert REQUEST_ID.match(request_id)
    listed = api.get(f"/v2/images/{image['id']}/tasks", headers=ALICE)
    assert listed.status_code == 200
    [task] = listed.get_json()["tasks"]
    assert {k: task[k] for k in ("type", "status", "owner", "image_id", "user_id",
                                 "request_id", "result", "message", "deleted",
                                 "deleted_at")} == {
        "type": "api_image_import", "status": "success", "owner": "alice",
        "image_id": image["id"], "user_id": "alice-user", "request_id": request_id,
        "result": {"image_id": image["id"]}, "message": "", "deleted": False,
        "deleted_at": None}
    assert task["input"] == {"image_id": image["id"], "backend": [None],
                             "import_req": {"method": {"name": "glance-direct"}}}
    expires = datetime.datetime.fromisoformat(task["expires_at"])
    updated = datetime.datetime.fromisoformat(task["updated_at"])
    assert expires - updated == datetime.timedelta(hours=48)
    assert api.get(f"/v2/images/{image['id']}", headers=ALICE).get_json()["status"] == "active"
    # the admin sees it too, through the task API
    shown = api.get(f"/v2/tasks/{task['id']}", headers=OPERATOR).get_json()
    assert shown["status"] == "success" and shown["self"] == f"/v2/tasks/{task['id']}"
    assert ISO_Z.match(shown["created_at"]) and ISO_Z.match(shown["expires_at"])


def test_an_images_tasks_are_404_to_whoever_may_not_see_it(api, registry):
    image = staged(api, visibility="private")
    assert glance_direct(api, image["id"]).status_code == 202
    before = task_rows(registry)
    for caller in (BOB, ANONYMOUS):
        assert api.get(f"/v2/images/{image['id']}/tasks", headers=caller).status_code == 404
    assert api.get(f"/v2/images/{uuid.uuid4()}/tasks", headers=OPERATOR).status_code == 404
    assert len(api.get(f"/v2/images/{image['id']}/tasks",
                       headers=OPERATOR).get_json()["tasks"]) == 1
    assert task_rows(registry) == before


def test_a_refused_import_leaves_no_task(api, registry):
    queued = new_image(api)
    assert glance_direct(api, queued["id"]).status_code == 409       # nothing staged
    image = staged(api)
    assert glance_direct(api, image["id"], headers=BOB).status_code == 404
    for uri in ("file:///etc/passwd", "swift://example.com/glance/x", "http://127.0.0.1/x",
                "http://[::1"):
        refused = api.post(f"/v2/images/{queued['id']}/import", headers=ALICE,
                           json={"method": {"name": "web-download", "uri": uri}})
        assert refused.status_code == 400, (uri, refused.get_json())
    assert task_rows(registry) == []
    assert api.get(f"/v2/images/{image['id']}", headers=ALICE).get_json()["status"] == \
        "uploading"
    assert api.get(f"/v2/images/{queued['id']}", headers=ALICE).get_json()["status"] == "queued"


# --- the task API: admins only -----------------------------------------------------

IMPORT = {"type": "import", "input": {"import_from": "http://127.0.0.1:9/image.qcow2",
                                      "import_from_format": "qcow2",
                                      "image_properties": {"name": "t", "disk_format": "raw",
                                                           "container_format": "bare"}}}


def test_only_admins_use_the_task_api_and_nothing_changes(api, registry):
    image = staged(api)
    assert glance_direct(api, image["id"]).status_code == 202
    [(task_id, _)] = before = task_rows(registry)
    images = registry.list(detail=True)
    calls = (("post", "/v2/tasks", IMPORT), ("get", "/v2/tasks", None),
             ("get", f"/v2/tasks/{task_id}", None), ("delete", f"/v2/tasks/{task_id}", None))
    for method, path, body in calls:
        for caller, status in ((ALICE, 403), (BOB, 403), (ANONYMOUS, 401)):
            response = getattr(api, method)(path, json=body, headers=caller)
            assert response.status_code == status, (method, path, caller)
            assert response.get_json()["error"]["code"] == status
    refused = api.delete(f"/v2/tasks/{task_id}", headers=OPERATOR)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET"
    assert task_rows(registry) == before
    assert registry.list(detail=True) == images


def test_a_legacy_import_task_is_checked_before_anything_is_made(api, registry):
    bad = [
        ({"input": IMPORT["input"]}, 400), ({"type": "import"}, 400),
        ({**IMPORT, "color": "red"}, 400), ({**IMPORT, "type": "api_image_import"}, 400),
        ({**IMPORT, "input": []}, 400),
        ({**IMPORT, "input": {**IMPORT["input"], "import_from": "file:///etc/passwd"}}, 400),
        ({**IMPORT, "input": {**IMPORT["input"],
                              "import_from": "swift://example.com/glance/x"}}, 400),
        ({**IMPORT, "input": {**IMPORT["input"], "import_from": "http://169.254.169.254/"}},
         400),
        ({**IMPORT, "input": {"import_from": "http://example.com/"}}, 400),
        ({**IMPORT, "input": {**IMPORT["input"],
                              "image_properties": {"status": "active"}}}, 403),
        ({**IMPORT, "input": {**IMPORT["input"],
                              "image_properties": {"disk_format": "floppy"}}}, 400),
    ]
    for body, status in bad:
        response = api.post("/v2/tasks", json=body, headers=OPERATOR)
        assert response.status_code == status, (body, response.get_json())
    assert api.post("/v2/tasks", data="x", headers={**OPERATOR, "Content-Type": "text/plain"}
                    ).status_code == 415
    assert task_rows(registry) == [] and registry.list(detail=True) == []


def test_task_lists_page_filter_and_refuse_bad_parameters(api, registry):
    made = [registry.create_task({"type": kind, "input": {}, "owner": "ops"}, headers={})
            for kind in ("import", "api_image_import") * 3]
    registry.update_task(made[0]["id"], "failure", message="m", headers={})
    first = api.get("/v2/tasks?limit=4&sort_dir=asc", headers=OPERATOR)
    assert first.status_code == 200
    page = first.get_json()
    assert page["schema"] == "/v2/schemas/tasks"
    assert page["first"] == "/v2/tasks?limit=4&sort_dir=asc"
    assert [set(task) for task in page["tasks"]] == [
        {"id", "type", "status", "owner", "created_at", "updated_at", "self", "schema"}
        | ({"expires_at"} if task["status"] == "failure" else set())
        for task in page["tasks"]]
    following = urlsplit(page["next"])
    assert dict(parse_qsl(following.query))["marker"] == page["tasks"][-1]["id"]
    rest = api.get(page["next"], headers=OPERATOR).get_json()
    assert "next" not in rest
    assert sorted(t["id"] for t in page["tasks"] + rest["tasks"]) == \
        sorted(t["id"] for t in made)
    failed = api.get("/v2/tasks?status=failure", headers=OPERATOR).get_json()["tasks"]
    assert [t["id"] for t in failed] == [made[0]["id"]]
    for query in ("sort_key=owner", "sort_dir=sideways", "status=done", "type=copy",
                  "limit=x", f"marker={uuid.uuid4()}"):
        assert api.get(f"/v2/tasks?{query}", headers=OPERATOR).status_code == 400, query
    assert api.get(f"/v2/tasks/{uuid.uuid4()}", headers=OPERATOR).status_code == 404


def test_answers_validate_against_the_task_schemas(api, registry):
    jsonschema = pytest.importorskip("jsonschema")
    image = staged(api)
    glance_direct(api, image["id"])
    schema = api.get("/v2/schemas/task", headers=ALICE).get_json()
    assert schema["name"] == "task" and schema["properties"]["status"]["enum"] == [
        "pending", "processing", "success", "failure"]
    listing = api.get("/v2/schemas/tasks", headers=ALICE).get_json()
    assert listing["name"] == "tasks" and "input" not in \
        listing["properties"]["tasks"]["items"]["properties"]
    tasks = api.get("/v2/tasks", headers=OPERATOR).get_json()
    jsonschema.validate(tasks, listing)
    jsonschema.validate(api.get(tasks["tasks"][0]["self"], headers=OPERATOR).get_json(),
                        {**schema, "additionalProperties": False})


def test_an_expired_task_is_gone(api, registry):
    image = staged(api)
    glance_direct(api, image["id"])
    [(task_id, _)] = task_rows(registry)
    with registry.engine.begin() as conn:
        conn.execute(sa.text("UPDATE tasks SET expires_at = :t").bindparams(
            sa.bindparam("t", type_=sa.DateTime())), {"t": datetime.datetime(2020, 1, 1)})
    assert api.get(f"/v2/images/{image['id']}/tasks", headers=ALICE).get_json() == {"tasks": []}
    assert api.get(f"/v2/tasks/{task_id}", headers=OPERATOR).status_code == 404
    assert api.get("/v2/tasks", headers=OPERATOR).get_json()["tasks"] == []


# --- /v2/cache ----------------------------------------------------------------------

@pytest.fixture
def cached_api(make_api, tmp_path):
    return make_api(image_cache_enabled=True, image_cache_datadir=str(tmp_path / "cache"))


def active_image(api, data=b"cached bytes"):
    image = new_image(api, OPERATOR, visibility="public")
    assert api.put(f"/v2/images/{image['id']}/file", data=data,
                   headers={**OPERATOR, **OCTET}).status_code == 204
    return image


def cache_state(api):
    response = api.get("/v2/cache", headers=OPERATOR)
    assert response.status_code == 200
    state = response.get_json()
    return sorted(e["image_id"] for e in state["cached_images"]), state["queued_images"]


def test_the_cache_cycle_tempest_runs(cached_api):
    api = cached_api
    assert cache_state(api) == ([], [])
    assert api.put(f"/v2/cache/{uuid.uuid4()}", headers=OPERATOR).status_code == 404
    queued = new_image(api, OPERATOR)
    assert api.put(f"/v2/cache/{queued['id']}", headers=OPERATOR).status_code == 400
    image = active_image(api)
    assert api.put(f"/v2/cache/{image['id']}", headers=OPERATOR).status_code == 202
    deadline = time.monotonic() + 30
    while cache_state(api)[0] != [image["id"]] and time.monotonic() < deadline:
        time.sleep(0.05)
    [entry] = api.get("/v2/cache", headers=OPERATOR).get_json()["cached_images"]
    assert entry["size"] == len(b"cached bytes") and entry["hits"] is None
    assert set(entry) == {"image_id", "size", "last_accessed", "last_modified", "hits"}
    assert cache_state(api) == ([image["id"]], [])
    refused = api.delete("/v2/cache", headers={**OPERATOR,
                                               "x-image-cache-clear-target": "invalid"})
    assert refused.status_code == 400
    assert cache_state(api) == ([image["id"]], [])
    assert api.delete("/v2/cache", headers=OPERATOR).status_code == 204
    assert cache_state(api) == ([], [])
    assert api.delete(f"/v2/cache/{image['id']}", headers=OPERATOR).status_code == 204
    assert api.delete(f"/v2/cache/{uuid.uuid4()}", headers=OPERATOR).status_code == 404


def test_clear_targets_the_cache_or_the_queue(cached_api):
    api = cached_api
    cached, waiting = active_image(api), active_image(api, b"other")
    api.get(f"/v2/images/{cached['id']}/file", headers=OPERATOR)        # a download fills it
    node = api.application.extensions["glance"]["cache"]
    node.queue(waiting["id"])
    assert cache_state(api) == ([cached["id"]], [waiting["id"]])
    assert api.delete("/v2/cache", headers={**OPERATOR, "x-image-cache-clear-target": "queue"}
                      ).status_code == 204
    assert cache_state(api) == ([cached["id"]], [])
    node.queue(waiting["id"])
    assert api.delete("/v2/cache", headers={**OPERATOR, "x-image-cache-clear-target": "Cache"}
                      ).status_code == 204
    assert cache_state(api) == ([], [waiting["id"]])
    assert api.delete(f"/v2/cache/{waiting['id']}", headers=OPERATOR).status_code == 204
    assert cache_state(api) == ([], [])


def test_only_admins_manage_the_cache_and_nothing_changes(cached_api):
    api = cached_api
    image = active_image(api)
    api.get(f"/v2/images/{image['id']}/file", headers=OPERATOR)
    other = active_image(api, b"other")
    before = cache_state(api)
    assert before == ([image["id"]], [])
    calls = (("get", "/v2/cache"), ("put", f"/v2/cache/{other['id']}"),
             ("delete", f"/v2/cache/{image['id']}"), ("delete", "/v2/cache"))
    for method, path in calls:
        for caller, status in ((ALICE, 403), (ANONYMOUS, 401)):
            assert getattr(api, method)(path, headers=caller).status_code == status, path
    assert cache_state(api) == before


def test_without_the_cache_the_routes_are_404_to_admins(api):
    image = active_image(api)
    for method, path in (("get", "/v2/cache"), ("put", f"/v2/cache/{image['id']}"),
                         ("delete", f"/v2/cache/{image['id']}"), ("delete", "/v2/cache")):
        assert getattr(api, method)(path, headers=OPERATOR).status_code == 404, path
        assert getattr(api, method)(path, headers=ALICE).status_code == 403, path


# --- /v2/info/usage -----------------------------------------------------------------

def test_usage_is_the_callers_project_and_has_no_limits(api):
    staged(api, data=b"x" * (2 * MIB))
    new_image(api)
    done = new_image(api)
    api.put(f"/v2/images/{done['id']}/file", data=b"y" * (3 * MIB + 1),
            headers={**ALICE, **OCTET})
    new_image(api, BOB)
    usage = api.get("/v2/info/usage", headers=ALICE)
    assert usage.status_code == 200
    assert usage.get_json() == {"usage": {
        "image_size_total": {"limit": -1, "usage": 3},
        "image_count_total": {"limit": -1, "usage": 3},
        "image_stage_total": {"limit": -1, "usage": 2},
        "image_count_uploading": {"limit": -1, "usage": 1}}}
    assert api.get("/v2/info/usage", headers=BOB).get_json()["usage"][
        "image_count_total"]["usage"] == 1
    assert api.get("/v2/info/usage", headers=ANONYMOUS).status_code == 401


def test_every_answer_names_its_request(api):
    answers = [api.get("/v2/images", headers=ALICE), api.get("/v2/tasks", headers=ALICE),
               api.get("/v1/images")]
    ids = [answer.headers["x-openstack-request-id"] for answer in answers]
    assert all(REQUEST_ID.match(i) for i in ids) and len(set(ids)) == 3

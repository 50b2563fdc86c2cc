"""Tasks, the v2 cache API and usage against real glance-api and glance-registry processes.

One glance-api with ``http_store_allow_private`` (web-download and import tasks
read its own image URLs) and the image cache on.  Callers are noauth identity
headers: an admin of project "ops", tenants "alpha" and "gamma", anonymous; then
python-glanceclient's task calls.  Every refused call is followed by a look at
what it would have changed.
"""
import datetime
import hashlib
import os
import subprocess
import sys
import time
import uuid

import pytest
import sqlalchemy as sa

from servers import APP, free_port, write_conf
from v2client import ANONYMOUS, V2, tenant

OPS = tenant("ops", "admin")
ALPHA, GAMMA = tenant("alpha", "member"), tenant("gamma", "member")
DATA = os.urandom(256 * 1024 + 7)
OCTET = {"Content-Type": "application/octet-stream"}


@pytest.fixture(scope="module")
def server(start_api, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return start_api(http_store_allow_private="true", image_cache_enabled="true",
                     image_cache_datadir=str(cache))


@pytest.fixture(scope="module")
def admin(server):
    return V2(server.url, OPS)


@pytest.fixture(scope="module")
def alpha(server):
    return V2(server.url, ALPHA)


def uploaded(client, data=DATA, **body):
    image = client.new(name=f"t-{uuid.uuid4().hex[:8]}", **body)
    assert client.upload(image["id"], data).status_code == 204
    return image


def wait(fetch, done, timeout=30):
    """``fetch()`` until ``done(result)``; returns the last result."""
    deadline = time.monotonic() + timeout
    result = fetch()
    while not done(result) and time.monotonic() < deadline:
        time.sleep(0.1)
        result = fetch()
    return result


def image_tasks(client, image_id):
    response = client.request("GET", f"/v2/images/{image_id}/tasks")
    assert response.status_code == 200, response.text
    return response.json()["tasks"]


def every_task(admin):
    return sorted(t["id"] for t in admin.request("GET", "/v2/tasks?limit=1000").json()["tasks"])


def test_each_import_is_a_task_of_its_image(server, admin, alpha):
    source = uploaded(admin, visibility="public")          # publishing is an admin's
    fetched = alpha.new(name="fetched")
    go = alpha.request("POST", f"/v2/images/{fetched['id']}/import", json={
        "method": {"name": "web-download",
                   "uri": f"{server.url}/v2/images/{source['id']}/file"}})
    assert go.status_code == 202, go.text
    [task] = wait(lambda: image_tasks(alpha, fetched["id"]),
                  lambda tasks: tasks and tasks[0]["status"] == "success")
    assert task["status"] == "success", task
    assert task["request_id"] == go.headers["x-openstack-request-id"]
    assert task["input"]["import_req"]["method"]["name"] == "web-download"
    assert (task["owner"], task["user_id"], task["result"]) == (
        "alpha", "alpha-user", {"image_id": fetched["id"]})
    shown = alpha.show(fetched["id"]).json()
    assert shown["status"] == "active"
    assert alpha.download(fetched["id"]).content == DATA

    staged = alpha.new(name="staged")
    assert alpha.upload(staged["id"], DATA, path="stage").status_code == 204
    go = alpha.request("POST", f"/v2/images/{staged['id']}/import",
                       json={"method": {"name": "glance-direct"}})
    assert go.status_code == 202
    [task] = image_tasks(alpha, staged["id"])
    assert (task["status"], task["request_id"]) == ("success",
                                                    go.headers["x-openstack-request-id"])


def test_a_failed_web_download_is_a_failed_task(admin, alpha):
    image = alpha.new(name="nowhere")
    go = alpha.request("POST", f"/v2/images/{image['id']}/import", json={
        "method": {"name": "web-download",
                   "uri": f"http://who:secret@127.0.0.1:{free_port()}/x"}})
    assert go.status_code == 202, go.text
    [task] = wait(lambda: image_tasks(alpha, image["id"]),
                  lambda tasks: tasks[0]["status"] != "processing")
    assert task["status"] == "failure", task
    assert task["message"].startswith("BackendError: "), task["message"]
    assert "secret" not in str(task) and "who" not in task["input"]["import_req"]["method"]["uri"]
    assert alpha.show(image["id"]).json()["status"] == "killed"


def test_who_sees_an_images_tasks(admin, alpha):
    image = alpha.new(name="private", visibility="private")
    alpha.upload(image["id"], DATA, path="stage")
    alpha.request("POST", f"/v2/images/{image['id']}/import",
                  json={"method": {"name": "glance-direct"}})
    assert len(image_tasks(alpha, image["id"])) == 1
    assert len(image_tasks(admin, image["id"])) == 1
    for caller in (GAMMA, ANONYMOUS):
        refused = alpha.as_(caller).request("GET", f"/v2/images/{image['id']}/tasks")
        assert refused.status_code == 404, caller


def test_a_legacy_import_task_makes_an_image_from_a_url(server, admin, alpha):
    source = uploaded(admin, visibility="public")          # publishing is an admin's
    created = admin.request("POST", "/v2/tasks", json={"type": "import", "input": {
        "import_from": f"{server.url}/v2/images/{source['id']}/file",
        "import_from_format": "raw",
        "image_properties": {"name": "from-task", "disk_format": "raw",
                             "container_format": "bare", "visibility": "public"}}})
    assert created.status_code == 201, created.text
    task = wait(lambda: admin.request("GET", created.headers["Location"]).json(),
                lambda t: t["status"] in ("success", "failure"))
    assert task["status"] == "success", task
    assert task["type"] == "import" and task["owner"] == "ops"
    image = admin.show(task["result"]["image_id"]).json()
    assert (image["name"], image["status"], image["owner"], image["size"]) == (
        "from-task", "active", "ops", len(DATA))
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()
    assert admin.download(image["id"]).content == DATA
    assert task["id"] in every_task(admin)


def test_a_legacy_import_from_nowhere_fails_and_leaves_a_killed_image(admin, registry_server):
    name = f"never-{uuid.uuid4().hex[:8]}"
    created = admin.request("POST", "/v2/tasks", json={"type": "import", "input": {
        "import_from": f"http://127.0.0.1:{free_port()}/dummy.qcow2",
        "import_from_format": "qcow2",
        "image_properties": {"name": name, "disk_format": "qcow2",
                             "container_format": "bare"}}})
    assert created.status_code == 201, created.text
    task = wait(lambda: admin.request("GET", created.headers["Location"]).json(),
                lambda t: t["status"] in ("success", "failure"))
    assert task["status"] == "failure" and task["message"], task
    engine = sa.create_engine(registry_server.options["sql_connection"])
    try:
        with engine.connect() as conn:       # killed images are in no list: ask the database
            found = conn.execute(sa.text("SELECT status, location FROM images WHERE name = :n"),
                                 {"n": name}).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in found] == [("killed", None)]


def test_callers_who_may_not_use_the_task_api_change_nothing(admin, alpha):
    before_tasks = every_task(admin)
    before_images = admin.ids(limit=1000)
    body = {"type": "import", "input": {"import_from": "http://example.com/x",
                                        "import_from_format": "raw", "image_properties": {}}}
    for caller, status in ((ALPHA, 403), (GAMMA, 403), (ANONYMOUS, 401)):
        client = admin.as_(caller)
        assert client.request("POST", "/v2/tasks", json=body).status_code == status
        assert client.request("GET", "/v2/tasks").status_code == status
        if before_tasks:
            assert client.request("GET", f"/v2/tasks/{before_tasks[0]}").status_code == status
    assert every_task(admin) == before_tasks
    assert admin.ids(limit=1000) == before_images


def scrub(tmp_path, registry_server, server, *args):
    conf = write_conf(tmp_path / "glance-scrubber.conf", {
        "sql_connection": registry_server.options["sql_connection"],
        "filesystem_store_datadir": server.datadir, "verbose": "true"})
    return subprocess.run([sys.executable, "-m", "glance.cmd.scrubber", str(conf), *args],
                          env=dict(os.environ, PYTHONPATH=APP), capture_output=True, text=True,
                          timeout=60)


def test_glance_scrubber_fails_stale_tasks_and_deletes_expired_ones(tmp_path, registry_server,
                                                                   server, admin, alpha):
    done, stale, fresh = (alpha.new(name=n) for n in ("done", "stale", "fresh"))
    for image in (done, stale, fresh):
        alpha.upload(image["id"], DATA, path="stage")
        alpha.request("POST", f"/v2/images/{image['id']}/import",
                      json={"method": {"name": "glance-direct"}})
    done_task, stale_task, fresh_task = (image_tasks(alpha, image["id"])[0]["id"]
                                         for image in (done, stale, fresh))
    long_ago = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - \
        datetime.timedelta(hours=49)
    engine = sa.create_engine(registry_server.options["sql_connection"])
    try:
        with engine.begin() as conn:        # as 49 hours passing would leave them
            conn.execute(sa.text("UPDATE tasks SET expires_at = :t WHERE id = :id").bindparams(
                sa.bindparam("t", type_=sa.DateTime())), {"t": long_ago, "id": done_task})
            conn.execute(sa.text("UPDATE tasks SET status = 'processing', expires_at = NULL, "
                                 "updated_at = :t WHERE id = :id").bindparams(
                sa.bindparam("t", type_=sa.DateTime())), {"t": long_ago, "id": stale_task})
    finally:
        engine.dispose()
    before = every_task(admin)
    dry = scrub(tmp_path, registry_server, server, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Would fail 1 unfinished tasks" in dry.stdout
    assert "Would delete 1 expired tasks" in dry.stdout
    assert every_task(admin) == before
    real = scrub(tmp_path, registry_server, server)
    assert real.returncode == 0, real.stderr
    assert image_tasks(alpha, done["id"]) == []
    [failed] = image_tasks(alpha, stale["id"])
    assert failed["status"] == "failure" and "no progress for 48 hours" in failed["message"]
    assert image_tasks(alpha, fresh["id"])[0]["id"] == fresh_task
    assert image_tasks(alpha, fresh["id"])[0]["status"] == "success"


# --- /v2/cache -------------------------------------------------------------------

def cache_state(admin):
    response = admin.request("GET", "/v2/cache")
    assert response.status_code == 200, response.text
    state = response.json()
    return sorted(e["image_id"] for e in state["cached_images"]), state["queued_images"]


def test_the_cache_cycle_tempest_runs_and_refused_callers_change_nothing(admin, alpha):
    image = uploaded(admin, visibility="public")
    assert admin.request("PUT", f"/v2/cache/{uuid.uuid4()}").status_code == 404
    assert admin.request("PUT", f"/v2/cache/{admin.new()['id']}").status_code == 400
    assert admin.request("PUT", f"/v2/cache/{image['id']}").status_code == 202
    state = wait(lambda: cache_state(admin), lambda s: image["id"] in s[0])
    assert image["id"] in state[0]
    before = cache_state(admin)
    for caller, status in ((ALPHA, 403), (ANONYMOUS, 401)):
        client = admin.as_(caller)
        for method, path in (("GET", "/v2/cache"), ("PUT", f"/v2/cache/{image['id']}"),
                             ("DELETE", f"/v2/cache/{image['id']}"), ("DELETE", "/v2/cache")):
            assert client.request(method, path).status_code == status, (caller, method, path)
    assert cache_state(admin) == before
    assert admin.request("DELETE", "/v2/cache",
                         headers={"x-image-cache-clear-target": "invalid"}).status_code == 400
    assert cache_state(admin) == before
    assert admin.request("DELETE", "/v2/cache").status_code == 204
    assert cache_state(admin) == ([], [])
    assert admin.request("DELETE", f"/v2/cache/{image['id']}").status_code == 204


# --- /v2/info/usage ----------------------------------------------------------------

def test_usage_is_per_project(admin):
    carol = admin.as_(tenant(f"carol-{uuid.uuid4().hex[:6]}", "member"))
    empty = carol.request("GET", "/v2/info/usage").json()["usage"]
    assert {k: v["usage"] for k, v in empty.items()} == {
        "image_size_total": 0, "image_count_total": 0, "image_stage_total": 0,
        "image_count_uploading": 0}
    uploaded(carol, data=b"z" * (2 * 1024 * 1024))
    carol.new()
    usage = carol.request("GET", "/v2/info/usage").json()["usage"]
    assert usage["image_count_total"] == {"limit": -1, "usage": 2}
    assert usage["image_size_total"] == {"limit": -1, "usage": 2}
    assert admin.as_(ANONYMOUS).request("GET", "/v2/info/usage").status_code == 401


# --- python-glanceclient ----------------------------------------------------------

def test_glanceclient_creates_lists_and_shows_tasks(server):
    glanceclient = pytest.importorskip("glanceclient")
    gc = glanceclient.Client(endpoint=f"{server.url}/v2", token="anything", identity_headers={
        "X-Tenant-Id": "ops", "X-User-Id": "op", "X-Roles": "admin"})
    task = gc.tasks.create(type="import", input={
        "import_from": f"http://127.0.0.1:{free_port()}/x.qcow2",
        "import_from_format": "qcow2", "image_properties": {}})
    assert task.type == "import" and task.owner == "ops"
    assert task.id in [t.id for t in gc.tasks.list(filters={"type": "import"})]
    shown = wait(lambda: gc.tasks.get(task.id), lambda t: t.status == "failure")
    assert shown.status == "failure" and shown.input["import_from_format"] == "qcow2"

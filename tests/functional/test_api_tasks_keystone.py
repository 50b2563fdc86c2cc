"""Tasks and usage with real Keystone tokens: glance-api records a member's import with
glance's service token, naming the member's project; the task API stays the admin's."""
import os

import requests

DATA = os.urandom(64 * 1024 + 5)


def call(keystone_glance, user, method, path, **kw):
    headers = {"X-Auth-Token": keystone_glance.token(user)} if user else {}
    return requests.request(method, keystone_glance.api.url + path, timeout=30,
                            headers={**headers, **kw.pop("headers", {})}, **kw)


def test_a_members_import_is_its_projects_task(keystone_glance):
    owner = keystone_glance.keystone.accounts["owner"]
    made = call(keystone_glance, "owner", "POST", "/v2/images", json={
        "name": "ks-task", "disk_format": "raw", "container_format": "bare",
        "visibility": "private"})
    assert made.status_code == 201, made.text
    image_id = made.json()["id"]
    staged = call(keystone_glance, "owner", "PUT", f"/v2/images/{image_id}/stage", data=DATA,
                  headers={"Content-Type": "application/octet-stream"})
    assert staged.status_code == 204, staged.text
    go = call(keystone_glance, "owner", "POST", f"/v2/images/{image_id}/import",
              json={"method": {"name": "glance-direct"}})
    assert go.status_code == 202, go.text
    tasks = call(keystone_glance, "owner", "GET", f"/v2/images/{image_id}/tasks")
    assert tasks.status_code == 200, tasks.text
    [task] = tasks.json()["tasks"]
    assert (task["status"], task["owner"], task["user_id"], task["request_id"]) == (
        "success", owner["project_id"], owner["user_id"], go.headers["x-openstack-request-id"])
    for user, status in (("other", 404), (None, 404)):
        assert call(keystone_glance, user, "GET", f"/v2/images/{image_id}/tasks"
                    ).status_code == status, user
    for user, status in (("owner", 403), (None, 401)):
        assert call(keystone_glance, user, "GET", "/v2/tasks").status_code == status, user
        assert call(keystone_glance, user, "GET", f"/v2/tasks/{task['id']}"
                    ).status_code == status, user
    shown = call(keystone_glance, "admin", "GET", f"/v2/tasks/{task['id']}")
    assert shown.status_code == 200 and shown.json()["status"] == "success"
    usage = call(keystone_glance, "owner", "GET", "/v2/info/usage").json()["usage"]
    assert usage["image_count_total"]["usage"] >= 1
    assert call(keystone_glance, "other", "GET", "/v2/info/usage").json()["usage"][
        "image_count_total"]["usage"] == 0
    assert call(keystone_glance, None, "GET", "/v2/info/usage").status_code == 401

"""Odd input is a 4xx, never a 5xx, and changes nothing.

Times that overflow when turned into UTC, web-download URIs that do not parse; on
MariaDB, names and tags differing only in case or trailing space, and owners and
members compared exactly (``tests/security/test_odd_input_mariadb.py``).
"""
import pytest

from v2client import V2, tenant

ALICE = tenant("alice")


@pytest.fixture(scope="module")
def v2(api_server):  # noqa: F811
    return V2(api_server.url, ALICE)


@pytest.fixture(scope="module")
def admin(api_server):  # noqa: F811
    return V2(api_server.url, {})


@pytest.mark.parametrize("field", ["created_at", "updated_at"])
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-23:59", "lt:9999-12-31T23:59:59-23:59",
                                   "0001-01-01T00:00:00+23:59", "gte:0001-01-01T00:00:00+01:00",
                                   "9999-12-31T23:59:59.999999-00:01"])
def test_a_time_out_of_range_in_utc_is_a_400(v2, field, value):
    v2.new(name="listed")
    response = v2.list(**{field: value})
    assert response.status_code == 400, response.text
    assert v2.list().status_code == 200


@pytest.mark.parametrize("uri", ["http://[::1", "http://[::1/x", "https://[zz]/x",
                                 "http://[::1]:99999/x", "http://host:port/x",
                                 "http://exa mple.com/x", "http://\u0000/x", "http:///x",
                                 "http://"])
def test_a_web_download_uri_that_does_not_parse_is_a_400(v2, uri):
    image = v2.new(name="import")
    response = v2.request("POST", f"/v2/images/{image['id']}/import",
                          json={"method": {"name": "web-download", "uri": uri}})
    assert response.status_code == 400, response.text
    assert v2.show(image["id"]).json() == image
    tasks = v2.request("GET", f"/v2/images/{image['id']}/tasks").json()["tasks"]
    assert tasks == []


@pytest.mark.parametrize("uri", ["http://[::1", "http://[::1]:99999/x", "http://host:port/x"])
def test_a_legacy_import_task_uri_that_does_not_parse_is_a_400(admin, uri):
    before = admin.ids()
    response = admin.request("POST", "/v2/tasks", json={"type": "import", "input": {
        "import_from": uri, "import_from_format": "raw",
        "image_properties": {"disk_format": "raw", "container_format": "bare"}}})
    assert response.status_code == 400, response.text
    assert admin.ids() == before

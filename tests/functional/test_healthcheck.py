"""GET /healthcheck: what a load balancer asks glance-api (as oslo.middleware answers it).

200 ``OK`` (HEAD: 204); 503 ``DISABLED BY FILE`` while ``disable_by_file_path``
exists, so an operator drains a node; no registry call, no token (keystone mode:
``test_keystone_mode.py``).
"""
import os

import pytest
import requests

from servers import free_port, wait_for


@pytest.fixture(scope="module")
def node(start_api, tmp_path_factory):
    flag = tmp_path_factory.mktemp("drain") / "healthcheck_disable"
    server = start_api(disable_by_file_path=str(flag))
    server.flag = flag
    yield server
    flag.unlink(missing_ok=True)


def test_healthy_node_answers_ok(node):
    got = requests.get(node.url + "/healthcheck", timeout=10)
    assert got.status_code == 200
    assert got.text == "OK"
    assert got.headers["Content-Type"] == "text/plain; charset=UTF-8"
    head = requests.head(node.url + "/healthcheck", timeout=10)
    assert head.status_code == 204 and head.content == b""


def test_json_when_asked(node):
    got = requests.get(node.url + "/healthcheck", timeout=10,
                       headers={"Accept": "application/json"})
    assert got.status_code == 200
    assert got.json() == {"detailed": False, "reasons": ["OK"]}


def test_the_file_drains_the_node_and_its_removal_brings_it_back(node):
    node.flag.write_text("")
    try:
        got = requests.get(node.url + "/healthcheck", timeout=10)
        assert got.status_code == 503 and got.text == "DISABLED BY FILE"
        assert requests.head(node.url + "/healthcheck", timeout=10).status_code == 503
        # draining refuses new balanced traffic only: the API itself still answers
        assert requests.get(node.url + "/v1/images", timeout=10).status_code == 200
    finally:
        node.flag.unlink()
    assert requests.get(node.url + "/healthcheck", timeout=10).status_code == 200


def test_only_get_and_head(node):
    for method in ("POST", "PUT", "DELETE"):
        got = requests.request(method, node.url + "/healthcheck", timeout=10, data=b"x")
        assert got.status_code == 405, method
        assert got.headers["Allow"] == "GET, HEAD"
    assert not os.path.exists(node.flag), "a refused call created the drain file"
    assert requests.get(node.url + "/healthcheck", timeout=10).text == "OK"


def test_answers_without_the_registry(start_api):
    """Cheap: the registry is never asked (here it is not even there)."""
    alone = start_api(registry_port=free_port(), registry_wait_timeout=1)
    assert requests.get(alone.url + "/healthcheck", timeout=10).text == "OK"
    assert requests.get(alone.url + "/v1/images", timeout=30).status_code == 503
    assert wait_for(lambda: "glance-scrubber" in alone.logtext())

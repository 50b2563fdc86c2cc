"""Clients that trickle a request body take no worker for long (issue 18, item 3).

Anonymous callers are refused before their body is read; an identified caller
gets 408 once ``json_body_timeout`` has passed, however steadily it sends.  Meanwhile
other clients are served at once, and the image is unchanged.
"""
import json
import time

import pytest
import requests

from servers import Server
from slowloris import SlowBodies
from v2client import PATCH_TYPE, V2, tenant

DEADLINE = 3
OWNER = tenant("slowowner")
# A small body trickled at 2 bytes a second: about 100 s to send in full.
BODY = json.dumps([{"op": "replace", "path": "/name", "value": "x" * 150}]).encode()


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("slow-bodies")
    registry = Server("glance-registry", tmp, {"sql_connection": f"sqlite:///{tmp}/r.sqlite"})
    registry.start()
    server = Server("glance-api", tmp, {
        "registry_host": "127.0.0.1", "registry_port": registry.port,
        "filesystem_store_datadir": str(tmp / "images"), "workers": "1",
        "json_body_timeout": str(DEADLINE), "body_timeout": "30"}).start()
    yield server
    assert server.stop() == 0
    assert registry.stop() == 0


def served_meanwhile(api, image_id):
    """Another client lists, reads and changes an image, each at once."""
    owner = V2(api.url, OWNER)
    for call in (lambda: owner.list(), lambda: owner.show(image_id),
                 lambda: owner.patch(image_id, [{"op": "add", "path": "/seen", "value": "1"}])):
        began = time.monotonic()
        answer = call()
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - began < 2


@pytest.mark.parametrize("count", [24])
def test_anonymous_trickled_patches_are_refused_before_the_body(api, count):
    owner = V2(api.url, OWNER)
    image = owner.new(name="target")
    headers = {"X-Identity-Status": "Invalid", "Content-Type": PATCH_TYPE}
    with SlowBodies(api.port, "PATCH", f"/v2/images/{image['id']}", headers, BODY,
                    count=count) as slow:
        time.sleep(1)
        served_meanwhile(api, image["id"])
        assert slow.wait_closed(DEADLINE + 5), f"{len(slow.closed_after)} of {count} closed"
    assert all(answer.startswith(b"HTTP/1.1 401") for answer in slow.answers.values())
    assert max(slow.closed_after.values()) < DEADLINE + 5
    shown = owner.show(image["id"]).json()
    assert shown["name"] == "target" and shown["seen"] == "1"


def test_an_identified_client_that_trickles_gets_408_at_the_deadline(api):
    owner = V2(api.url, OWNER)
    image = owner.new(name="target")
    with SlowBodies(api.port, "PATCH", f"/v2/images/{image['id']}",
                    {**OWNER, "Content-Type": PATCH_TYPE}, BODY, count=16) as slow:
        time.sleep(1)
        served_meanwhile(api, image["id"])
        assert slow.wait_closed(DEADLINE + 5), f"{len(slow.closed_after)} of 16 closed"
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in slow.answers.values())
    assert DEADLINE - 0.5 < min(slow.closed_after.values())
    assert max(slow.closed_after.values()) < DEADLINE + 5
    assert owner.show(image["id"]).json()["name"] == "target"


def test_a_trickled_v1_member_list_is_refused_at_the_deadline(api):
    owner = V2(api.url, OWNER)
    image = owner.new(name="shared")
    body = json.dumps({"memberships": [{"member_id": "m" * 50}] * 4}).encode()
    with SlowBodies(api.port, "PUT", f"/v1/images/{image['id']}/members",
                    {**OWNER, "Content-Type": "application/json"}, body, count=16) as slow:
        assert slow.wait_closed(DEADLINE + 5)
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in slow.answers.values())
    assert requests.get(f"{api.url}/v2/images/{image['id']}/members", headers=OWNER,
                        timeout=30).json()["members"] == []

"""Which v2 minor versions glance-api lists, and the media types it answers with 300."""
import logging
import re

import pytest

from glance.api import versions
from glance.api.versions import V2_HISTORY, VersionNegotiation, offered_minors
from glance.config import Config

ROUTE = re.compile(r"^(GET|PUT|POST|PATCH|DELETE) /v2/\S*$")
WORDS = {"stores", "cache", "import-to-stores", "import-progress", "cache-put-202"}


def conf(**values):
    return Config("glance-api", values)


def routes_of(*minors):
    """The (method, rule) pairs that versions ``minors`` need, as a blueprint would name them."""
    return [tuple(need.split(" ", 1)) for minor in V2_HISTORY if minor.number in minors
            for need in minor.needs if " " in need]


def test_every_need_is_a_route_or_a_known_word():
    for minor in V2_HISTORY:
        for need in minor.needs:
            assert ROUTE.match(need) or need in WORDS, (minor.number, need)
    assert [minor.number for minor in V2_HISTORY] == list(range(18))


def test_a_plain_server_offers_2_0_to_2_7_and_2_9():
    # 2.9 (stores, all_stores on import) needs no multiple stores: one store ignores them
    assert offered_minors(conf(), []) == (9, 7, 6, 5, 4, 3, 2, 1, 0)


def test_the_app_today_lists_2_17_as_current(client):
    # the location API's routes are always there (2.17), as Glance lists it without a cache
    listed = client.get("/versions").get_json()["versions"]
    assert [v["id"] for v in listed] == ["v2.17", "v2.9"] + [
        f"v2.{n}" for n in range(7, -1, -1)] + ["v1.1", "v1.0"]
    assert [v["status"] for v in listed][:2] == ["CURRENT", "SUPPORTED"]


def test_a_version_is_offered_once_its_routes_exist():
    # The location API (2.17) needs no setting: its two routes are enough,
    # whatever their placeholders are called.
    rules = [("POST", "/v2/images/<image_id>/locations"), ("GET", "/v2/images/<id>/locations")]
    assert offered_minors(conf(), rules)[0] == 17
    assert 17 not in offered_minors(conf(), rules[:1])


def test_store_and_cache_versions_need_their_setting_too():
    rules = routes_of(8, 10, 12, 13, 14)
    assert offered_minors(conf(), rules) == (9, 7, 6, 5, 4, 3, 2, 1, 0)
    assert offered_minors(conf(enabled_backends="a:file,b:file"), rules)[:6] == (
        13, 12, 11, 10, 9, 8)
    # 2.16 (PUT /v2/cache/<id> answers 202) comes with 2.14's routes and the cache.
    assert offered_minors(conf(image_cache_enabled=True), rules)[:2] == (16, 14)


def test_behaviours_without_a_route_are_offered_only_when_declared(monkeypatch):
    monkeypatch.setattr(versions, "BEHAVIOURS", frozenset())
    assert 9 not in offered_minors(conf(), [])
    monkeypatch.setattr(versions, "BEHAVIOURS", frozenset({"import-to-stores"}))
    assert offered_minors(conf(), [])[0] == 9


def _answer(accept, path="/images", minors=lambda: versions.BASE):
    seen, statuses = {}, []

    def app(environ, start_response):
        seen["path"] = environ["PATH_INFO"]
        start_response("200 OK", [])
        return [b""]

    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "HTTP_HOST": "h:1",
               "HTTP_ACCEPT": accept}
    body = VersionNegotiation(app, minors)(environ, lambda status, headers: statuses.append(status))
    return seen.get("path") or (statuses[0], b"".join(body))


@pytest.mark.parametrize("accept", [
    "application/vnd.openstack.images-v3",
    "application/vnd.openstack.compute-v1",
    "application/vnd.openstack.images-v2.8",     # not offered without multiple stores
    "application/vnd.openstack.images-v1.2",
    "text/html, application/vnd.openstack.compute-v1.1+json",
])
def test_an_accept_naming_what_is_not_served_gets_the_version_list(accept, caplog):
    with caplog.at_level(logging.INFO, logger="glance.api"):
        status, body = _answer(accept)
    assert status == "300 Multiple Choices"
    assert b'"v2.7"' in body and b'"v1.0"' in body
    assert "Unknown accept header" in caplog.text
    assert _answer(accept, path="/")[0] == "300 Multiple Choices"


@pytest.mark.parametrize("accept, routed", [
    ("application/vnd.openstack.images-v1", "/v1/images"),
    ("application/vnd.openstack.images-v1.1", "/v1/images"),
    ("application/vnd.openstack.images-v2", "/v2/images"),
    ("application/vnd.openstack.images-v2.7+json", "/v2/images"),
    ("application/json", "/v1/images"),
    ("*/*", "/v1/images"),
])
def test_an_accept_naming_a_served_version_or_none_is_routed(accept, routed):
    assert _answer(accept) == routed


def test_the_version_list_follows_what_is_offered():
    status, body = _answer("application/vnd.openstack.images-v3", minors=lambda: (17, 7, 0))
    assert status == "300 Multiple Choices"
    assert b'{"id": "v2.17", "status": "CURRENT"' in body
    assert _answer("application/vnd.openstack.images-v2.17", minors=lambda: (17, 7, 0)) \
        == "/v2/images"
    assert _answer("x", path="/v2.17/images/1", minors=lambda: (17, 7, 0)) == "/v2/images/1"
    assert _answer("x", path="/v2.17/images/1")[0] == "300 Multiple Choices"

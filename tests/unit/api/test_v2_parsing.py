"""v2 pieces that need no server: JSON-patch parsing and version negotiation."""
import pytest

from glance.errors import BadRequest
from glance.api.v2 import patch
from glance.api.versions import VersionNegotiation


def test_patch_operations_and_pointers():
    ops = patch.parse([{"op": "add", "path": "/a~1b", "value": "1"},
                       {"op": "replace", "path": "/name", "value": "x"},
                       {"op": "remove", "path": "/t~0x"}])
    assert ops == [("add", "a/b", "1"), ("replace", "name", "x"), ("remove", "t~x", None)]


@pytest.mark.parametrize("document, error", [
    ({"op": "add"}, BadRequest),                                  # not a list
    (["add"], BadRequest),                                        # not an object
    ([{"op": "move", "from": "/a", "path": "/b"}], BadRequest),   # unsupported op
    ([{"op": "add", "path": "/a"}], BadRequest),                  # no value
    ([{"op": "remove"}], BadRequest),                             # no path
    ([{"op": "add", "path": "a", "value": "1"}], BadRequest),     # not a pointer
    ([{"op": "add", "path": "/a/b", "value": "1"}], BadRequest),  # nested
    ([{"op": "add", "path": "/a~2", "value": "1"}], BadRequest),  # bad escape
    ([{"op": "add", "path": "/locations/0/url", "value": "x"}], BadRequest),  # nested
])
def test_patch_refusals(document, error):
    with pytest.raises(error):
        patch.parse(document)


def test_location_pointers_keep_their_position():
    """``/locations/<n>`` is parsed here; whether it is allowed (show_multiple_locations,
    the caller) is glance.api.v2.locations' decision."""
    assert patch.parse([{"op": "add", "path": "/locations/-", "value": {}},
                        {"op": "remove", "path": "/locations/1"}]) == [
        ("add", "locations/-", {}), ("remove", "locations/1", None)]


def _routed(path, accept=None):
    seen = {}

    def app(environ, start_response):
        seen["path"] = environ["PATH_INFO"]
        start_response("200 OK", [])
        return [b""]

    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "HTTP_HOST": "h:1"}
    if accept:
        environ["HTTP_ACCEPT"] = accept
    statuses = []
    VersionNegotiation(app)(environ, lambda status, headers: statuses.append(status))
    return seen.get("path") or statuses[0]


@pytest.mark.parametrize("path, accept, routed", [
    ("/v2/images", None, "/v2/images"),
    ("/v2.7/images/x/file", None, "/v2/images/x/file"),
    ("/v2.0/schemas/image", None, "/v2/schemas/image"),
    ("/v2.8/images", None, "300 Multiple Choices"),
    ("/v2", None, "300 Multiple Choices"),
    ("/images", None, "/v1/images"),
    ("/images", "application/vnd.openstack.images-v2", "/v2/images"),
    ("/images/detail", "application/vnd.openstack.images-v1", "/v1/images/detail"),
    ("/", "application/vnd.openstack.images-v2", "/v2/images"),
    ("/", None, "300 Multiple Choices"),
    ("/v1.1/images", "application/vnd.openstack.images-v2", "/v1/images"),
])
def test_version_negotiation(path, accept, routed):
    assert _routed(path, accept) == routed

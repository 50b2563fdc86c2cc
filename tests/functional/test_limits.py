"""Input limits, against real glance-api and glance-registry processes.

Every refusal is a 4xx with a message, and afterwards nothing has changed:
no image was created, the image updated keeps its name and properties, and
no data reached the store.
"""
import json

import pytest
import requests

# Sharing needs an identity (checked before a member body is read): an admin with one.
SHARER = {"X-Identity-Status": "Confirmed", "X-Tenant": "ops", "X-User": "ops", "X-Roles": "admin"}

COUNTS = ("size", "min_ram", "min_disk")
# Python's int() takes every one of these; none is a plain number.
NOT_PLAIN = ["\u0661\u0662", "+5", "5_0", "0x10", "1e3", "\u00b2", "-1", str(2 ** 63),
             "9" * 400]


@pytest.fixture(scope="module")
def registry_url(registry_server):
    return registry_server.url


def all_images(registry_url):
    """Every undeleted image, straight from the registry (admin, public or not)."""
    answer = requests.get(registry_url + "/images/detail",
                          params={"is_public": "none", "limit": 1000}, timeout=30)
    assert answer.status_code == 200
    return {image["id"]: image for image in answer.json()["images"]}


def registry_image(registry_url, image_id):
    return requests.get(f"{registry_url}/images/{image_id}", timeout=30).json()["image"]


def wire(headers):
    """Header values as UTF-8 bytes, as clients send them."""
    return {k: v.encode("utf-8") if isinstance(v, str) else v for k, v in headers.items()}


def props(count, key="p", value="v"):
    return {f"x-image-meta-property-{key}{n}": value for n in range(count)}


@pytest.fixture
def unchanged(api, registry_url):
    """Checks after the test that no image appeared and no data was stored."""
    before, files = all_images(registry_url), api.files()
    yield before
    assert all_images(registry_url).keys() == before.keys()
    assert api.files() == files


def refused(answer, status, words):
    assert answer.status_code == status, answer.text
    assert words in answer.text
    assert "Traceback" not in answer.text


def test_too_many_headers_is_400_and_the_upload_is_refused(api, unchanged):
    extra = {f"X-Extra-{n}": "x" for n in range(300)}
    answer = api.request("POST", "/v1/images", data=b"a" * 4096,
                         headers={"x-image-meta-name": "many", **extra,
                                  "Content-Type": "application/octet-stream"})
    refused(answer, 400, "Too many request headers")
    assert answer.headers["Connection"] == "close"


def test_headers_over_max_header_size_are_413(api, unchanged):
    answer = api.request("POST", "/v1/images", data=b"a" * 4096,
                         headers={"x-image-meta-name": "big", "X-Padding": "p" * 140000,
                                  "Content-Type": "application/octet-stream"})
    refused(answer, 413, "exceed")


@pytest.mark.parametrize("headers, status, words", [
    (props(129), 413, "at most 128 properties"),
    ({"x-image-meta-name": "n" * 256}, 400, "Image name is too long: 256"),
    (props(1, key="k" * 255), 400, "Property name 'kkkk"),
    (props(1, value="v" * 256), 400, "Value of property 'p0' is too long: 256"),
    ({"x-image-meta-is_public": "yes"}, 400, "is_public: it must be true or false"),
    ({"x-image-meta-protected": "2"}, 400, "protected: it must be true or false"),
])
def test_create_over_a_limit_is_refused_before_any_data(api, unchanged, headers, status, words):
    answer = api.request("POST", "/v1/images", data=b"a" * 4096,
                         headers=wire({"x-image-meta-name": "x", **headers,
                                       "Content-Type": "application/octet-stream"}))
    refused(answer, status, words)


@pytest.mark.parametrize("field", COUNTS)
@pytest.mark.parametrize("value", NOT_PLAIN)
def test_counts_that_are_not_plain_digits_are_400(api, unchanged, field, value):
    answer = api.request("POST", "/v1/images",
                         headers=wire({"x-image-meta-name": "n", f"x-image-meta-{field}": value}))
    assert answer.status_code == 400, answer.text
    assert field in answer.text


def test_values_at_the_limits_are_accepted(api, registry_url):
    headers = {"x-image-meta-name": "n" * 255, "x-image-meta-min_ram": str(2 ** 31 - 1),
               "x-image-meta-is_public": "False", **props(127, value="v" * 255),
               "x-image-meta-property-" + "k" * 255: "x"}
    answer = api.request("POST", "/v1/images", headers=headers)
    assert answer.status_code == 201, answer.text
    image = registry_image(registry_url, answer.json()["image"]["id"])
    assert len(image["properties"]) == 128 and image["name"] == "n" * 255
    assert image["is_public"] is False


@pytest.fixture
def image_with_100(api, registry_url):
    answer = api.request("POST", "/v1/images", headers={"x-image-meta-name": "hundred",
                                                         **props(100)})
    assert answer.status_code == 201
    image_id = answer.json()["image"]["id"]
    return image_id, registry_image(registry_url, image_id)


def test_update_counts_existing_and_new_properties(api, registry_url, image_with_100):
    image_id, before = image_with_100
    answer = api.request("PUT", f"/v1/images/{image_id}",
                         headers={"x-glance-registry-purge-props": "false",
                                  "x-image-meta-name": "renamed", **props(29, key="q")})
    refused(answer, 413, "this request would give it 129")
    assert registry_image(registry_url, image_id) == before
    # 28 more fit; replacing them all (purge, the default) with 128 fits too.
    answer = api.request("PUT", f"/v1/images/{image_id}",
                         headers={"x-glance-registry-purge-props": "false", **props(28, key="q")})
    assert answer.status_code == 200, answer.text
    answer = api.request("PUT", f"/v1/images/{image_id}", headers=props(128, key="r"))
    assert answer.status_code == 200, answer.text
    assert sorted(registry_image(registry_url, image_id)["properties"]) == \
        sorted(f"r{n}" for n in range(128))


@pytest.mark.parametrize("headers, words", [
    ({"x-image-meta-is_public": "yes"}, "is_public"),
    ({"x-image-meta-min_disk": "+1"}, "min_disk"),
    ({"x-image-meta-name": "n" * 256}, "Image name is too long"),
    ({"x-image-meta-property-" + "k" * 256: "v"}, "Property name"),
])
def test_update_over_a_limit_changes_nothing(api, registry_url, image_with_100, headers, words):
    image_id, before = image_with_100
    answer = api.request("PUT", f"/v1/images/{image_id}", data=b"a" * 1024,
                         headers={**headers, "Content-Type": "application/octet-stream"})
    refused(answer, 400, words)
    assert registry_image(registry_url, image_id) == before


@pytest.mark.parametrize("params, words", [
    ({"size_min": "+5"}, "size_min"), ({"size_max": "\u0661"}, "size_max"),
    ({"min_ram": "5_0"}, "min_ram"), ({"min_disk": str(2 ** 63)}, "min_disk"),
    ({"is_public": "yes"}, "is_public must be None, True, or False"),
    ({"limit": "1e3"}, "limit param must be an integer"),
    ({f"property-p{n}": "v" for n in range(33)}, "Too many filters in the query: 33"),
])
@pytest.mark.parametrize("path", ["/v1/images", "/v1/images/detail"])
def test_bad_list_filters_are_400(api, path, params, words):
    refused(api.request("GET", path, params=params), 400, words)


# The registry checks the same on its own: a client may reach it directly.

def registry_post(registry_url, image):
    return requests.post(registry_url + "/images", data=json.dumps({"image": image}),
                         headers={"Content-Type": "application/json"}, timeout=30)


def registry_refused(answer, status, words):
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]["message"]


@pytest.mark.parametrize("image, status, words", [
    ({"properties": {f"p{n}": "v" for n in range(129)}}, 413, "at most 128 properties"),
    ({"name": "n" * 256}, 400, "Image name is too long"),
    ({"properties": {"k" * 256: "v"}}, 400, "Property name"),
    ({"properties": {"k": "v" * 256}}, 400, "Value of property 'k'"),
    ({"size": "\u0661\u0662"}, 400, "size"), ({"size": "\u00b2"}, 400, "size"),
    ({"min_ram": "+5"}, 400, "min_ram"), ({"min_disk": " 5"}, 400, "min_disk"),
    ({"size": 2 ** 63}, 400, "size"), ({"is_public": "yes"}, 400, "is_public"),
])
def test_registry_refuses_the_same(api, registry_url, unchanged, image, status, words):
    registry_refused(registry_post(registry_url, {"name": "x", **image}), status, words)


def test_registry_update_counts_existing_properties(registry_url, image_with_100):
    image_id, before = image_with_100
    answer = requests.put(f"{registry_url}/images/{image_id}",
                          data=json.dumps({"image": {"name": "renamed", "properties":
                                                     {f"q{n}": "v" for n in range(29)}}}),
                          timeout=30)
    registry_refused(answer, 413, "would give it 129")
    assert registry_image(registry_url, image_id) == before


@pytest.mark.parametrize("params, words", [
    ({"size_min": "+5"}, "size_min"), ({"min_ram": "\u0661"}, "min_ram"),
    ({"is_public": "maybe"}, "is_public"),
    ({f"property-p{n}": "v" for n in range(33)}, "Too many filters"),
])
def test_registry_refuses_bad_list_filters(registry_url, params, words):
    registry_refused(requests.get(registry_url + "/images", params=params, timeout=30), 400,
                     words)


def test_registry_limits_header_count_and_size(registry_url):
    answer = requests.get(registry_url + "/images", timeout=30,
                          headers={f"X-Extra-{n}": "x" for n in range(300)})
    registry_refused(answer, 400, "Too many request headers")
    # waitress answers this one itself, with the status made for it.
    answer = requests.get(registry_url + "/images", headers={"X-Padding": "p" * 140000},
                          timeout=30)
    assert answer.status_code == 431 and "Request Header Fields Too Large" in answer.text


# Found by the fuzzing (tests/fuzzing.py): each was a 5xx.

def test_control_characters_in_header_values_are_400(api, registry_url, unchanged):
    answer = api.request("POST", "/v1/images", headers={"x-image-meta-name": b"a\x01b"})
    refused(answer, 400, "Invalid value in header X-Image-Meta-Name")
    answer = requests.get(registry_url + "/images", headers={"X-Tenant": b"t\x01"}, timeout=30)
    assert answer.status_code == 400 and "Invalid" in answer.text    # waitress or the app


def test_identity_headers_reach_the_registry_byte_for_byte(api, image_with_100):
    # requests refused to forward text starting with NBSP: "503 Registry unavailable".
    image_id, _ = image_with_100
    answer = api.request("GET", f"/v1/images/{image_id}/members",
                         headers={"X-Auth-Token": "t", "X-Identity-Status": "Confirmed",
                                  "X-Tenant": b"\xa0tenant", "X-Roles": b"\xa0admin"})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("body", [b"[" * 50000 + b"]" * 50000,
                                  b'{"image": {"name": "\\ud800"}}',
                                  b'{"image": {"properties": {"\\udfff": "v"}}}'])
def test_registry_json_too_deep_or_not_unicode_is_400(registry_url, unchanged, body):
    answer = requests.post(registry_url + "/images", data=body, timeout=30)
    registry_refused(answer, 400, "Request body must be a JSON object")


def test_members_body_nested_too_deeply_is_400(api, image_with_100):
    image_id, _ = image_with_100
    answer = api.request("PUT", f"/v1/images/{image_id}/members",
                         data=b"[" * 50000 + b"]" * 50000, headers=SHARER)
    refused(answer, 400, "Malformed JSON in request body")

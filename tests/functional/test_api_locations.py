"""Image locations over HTTP (README "Image locations"), against real glance-registry and
glance-api processes and a real web server on 127.0.0.1:

* ``show_multiple_locations`` off: no ``locations`` key, PATCH on /locations is 403;
* on: the owner and admins see and add http(s) locations; another tenant, an anonymous
  caller, a hostile URL are refused and nothing changes (re-read as admin); a location
  added through the API serves its bytes, and deleting the image leaves them;
* v2.17: POST /v2/images/<id>/locations (background hashes that stop when the image is
  deleted) and GET /v2/images/<id>/locations (service role and admins only).
"""
import hashlib
import http.server
import os
import threading
import time
import uuid

import pytest
import requests

from integration.store.backends import Listener
from servers import wait_for
from v2client import ADMIN, ANONYMOUS, V2, tenant

DATA = os.urandom(300 * 1024 + 5)
OWNER, OTHER = tenant("owner", "member"), tenant("other", "member")
SERVICE = tenant("service", "service")


class WebServer:
    """An HTTP server on 127.0.0.1 serving ``files`` ({path: bytes}, GET and HEAD);
    a path in ``slow`` sends 64 KiB every 0.1 s (``hung_up`` is set when its reader
    goes away).  ``gets`` counts the GETs per path."""

    def __init__(self, files, slow=()):
        self.files, self.gets, self.hung_up = files, {}, threading.Event()
        web = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _head(self):
                body = web.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return None
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return body

            def do_HEAD(self):
                self._head()

            def do_GET(self):
                web.gets[self.path] = web.gets.get(self.path, 0) + 1
                body = self._head()
                if body is None:
                    return
                if self.path not in slow:
                    self.wfile.write(body)
                    return
                try:
                    for i in range(0, len(body), 65536):
                        self.wfile.write(body[i:i + 65536])
                        self.wfile.flush()
                        time.sleep(0.1)
                except OSError:
                    web.hung_up.set()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def web():
    # big.raw takes over a minute to send: its hash is still being computed when a test
    # deletes its image (the reader checks for that between 1 MiB chunks)
    server = WebServer({"/image.raw": DATA, "/big.raw": bytes(48 * 1024 * 1024)},
                       slow=("/big.raw",))
    yield server
    server.close()


@pytest.fixture(scope="module")
def on(start_api):
    """show_multiple_locations on; the HTTP store may read 127.0.0.1 (the web server)."""
    return V2(start_api(show_multiple_locations="true", http_store_allow_private="true").url,
              ADMIN)


@pytest.fixture(scope="module")
def guarded(start_api):
    """show_multiple_locations on, the HTTP store's address guard on (the default)."""
    return V2(start_api(show_multiple_locations="true").url, ADMIN)


@pytest.fixture(scope="module")
def off(start_api):
    return V2(start_api(http_store_allow_private="true").url, ADMIN)


def new_image(api, **body):
    return api.as_(OWNER).new(name=f"loc-{uuid.uuid4().hex[:8]}", **body)


def add(api, image_id, url, who=OWNER, **extra):
    return api.as_(who).patch(image_id, [{"op": "add", "path": "/locations/-",
                                          "value": {"url": url, "metadata": {}, **extra}}])


def as_admin(api, image_id):
    answer = api.show(image_id)
    assert answer.status_code == 200, answer.text
    return answer.json()


def post_location(api, image_id, url, who=OWNER, **validation):
    body = {"url": url}
    if validation:
        body["validation_data"] = validation
    return api.as_(who).request("POST", f"/v2/images/{image_id}/locations", json=body)


def wait_status(api, image_id, status, timeout=20):
    assert wait_for(lambda: as_admin(api, image_id)["status"] == status, timeout=timeout)
    return as_admin(api, image_id)


# --- option off ---------------------------------------------------------------------

def test_off_no_locations_key_and_patch_is_403(off, web):
    image = new_image(off)
    assert "locations" not in image
    for ops in ([{"op": "add", "path": "/locations/-",
                  "value": {"url": web.url + "/image.raw", "metadata": {}}}],
                [{"op": "replace", "path": "/locations", "value": []}]):
        answer = off.as_(OWNER).patch(image["id"], ops)
        assert answer.status_code == 403, answer.text
    after = as_admin(off, image["id"])
    assert after["status"] == "queued" and "locations" not in after


# --- show_multiple_locations on -----------------------------------------------------

def test_owner_adds_a_web_location_that_serves_its_bytes_and_survives_delete(on, web):
    image = new_image(on)
    assert image["locations"] == []
    url = web.url + "/image.raw"
    answer = add(on, image["id"], url, metadata={"speed": "88mph"})
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["status"] == "active" and shown["size"] == len(DATA)
    assert shown["locations"] == [{"url": url, "metadata": {"speed": "88mph"}}]
    assert shown["os_hash_algo"] is None            # PATCH reads no data (as Glance)
    download = on.as_(OWNER).download(image["id"])
    assert download.status_code == 200 and download.content == DATA
    assert on.as_(OWNER).delete(image["id"]).status_code == 204
    assert on.show(image["id"]).status_code == 404
    assert web.files["/image.raw"] == DATA           # the web server's data is left alone


def test_others_see_no_locations(on, web):
    image = new_image(on, visibility="community")
    assert add(on, image["id"], web.url + "/image.raw").status_code == 200
    assert len(on.as_(OWNER).show(image["id"]).json()["locations"]) == 1
    assert on.as_(OTHER).show(image["id"]).json()["locations"] == []
    assert on.as_(ANONYMOUS).show(image["id"]).json()["locations"] == []
    listed = [i for i in on.as_(OTHER).list(visibility="community").json()["images"]
              if i["id"] == image["id"]]
    assert listed and listed[0]["locations"] == []


def test_uploaded_image_shows_its_store_location_without_credentials(on):
    image = new_image(on)
    assert on.as_(OWNER).upload(image["id"], DATA).status_code == 204
    (location,) = on.as_(OWNER).show(image["id"]).json()["locations"]
    assert location["url"].startswith("file://") and "@" not in location["url"]


@pytest.mark.parametrize("who, visibility, status", [
    (OTHER, "shared", 404), (OTHER, "community", 403), (ANONYMOUS, "community", 401)])
def test_strangers_change_no_location(on, web, who, visibility, status):
    image = new_image(on, visibility=visibility)
    assert add(on, image["id"], web.url + "/image.raw").status_code == 200
    before = as_admin(on, image["id"])
    url2 = web.url + "/image.raw#2"
    for ops in ([{"op": "add", "path": "/locations/-", "value": {"url": url2, "metadata": {}}}],
                [{"op": "replace", "path": "/locations",
                  "value": [{"url": before["locations"][0]["url"], "metadata": {"a": "b"}}]}],
                [{"op": "remove", "path": "/locations/0"}]):
        answer = on.as_(who).patch(image["id"], ops)
        assert answer.status_code == status, answer.text
    assert as_admin(on, image["id"]) == before


def test_replace_changes_metadata_only_and_remove_is_for_admins(on, web):
    image = new_image(on)
    first, second = web.url + "/image.raw", web.url + "/image.raw#new"
    assert add(on, image["id"], first).status_code == 200
    assert add(on, image["id"], second, metadata={"speed": "88mph"}).status_code == 200
    locations = on.as_(OWNER).show(image["id"]).json()["locations"]
    assert [loc["url"] for loc in locations] == [first, second]
    locations[0]["metadata"]["date"] = "2015-10-15"
    answer = on.as_(OWNER).patch(image["id"], [{"op": "replace", "path": "/locations",
                                                 "value": locations}])
    assert answer.status_code == 200 and answer.json()["locations"] == locations
    before = as_admin(on, image["id"])
    for value in ([locations[0]],                                      # removes one
                  [locations[0], {"url": first + "#3", "metadata": {}}]):  # changes a URL
        answer = on.as_(OWNER).patch(image["id"], [{"op": "replace", "path": "/locations",
                                                     "value": value}])
        assert answer.status_code == 400, answer.text
    answer = on.as_(OWNER).patch(image["id"], [{"op": "remove", "path": "/locations/1"}])
    assert answer.status_code == 403
    assert as_admin(on, image["id"]) == before
    answer = on.patch(image["id"], [{"op": "remove", "path": "/locations/1"}])
    assert answer.status_code == 200 and answer.json()["locations"] == [locations[0]]
    answer = on.patch(image["id"], [{"op": "remove", "path": "/locations/0"}])
    assert answer.status_code == 403, answer.text       # never the last one
    assert on.as_(OWNER).download(image["id"]).content == DATA


def test_validation_data_sets_hashes_once_and_must_match(on, web):
    image = new_image(on)
    values = {"checksum": hashlib.md5(DATA).hexdigest(),
              "os_hash_algo": "sha512", "os_hash_value": hashlib.sha512(DATA).hexdigest()}
    url = web.url + "/image.raw"
    assert add(on, image["id"], url, validation_data=values).status_code == 200
    before = as_admin(on, image["id"])
    assert {k: before[k] for k in values} == values
    for key, wrong in (("checksum", "2" * 32), ("os_hash_value", "be" * 64),
                       ("os_hash_algo", "sha256")):
        answer = add(on, image["id"], url + "#x", validation_data={**values, key: wrong})
        assert answer.status_code == 409, answer.text
    assert as_admin(on, image["id"]) == before


HOSTILE_SCHEMES = ["file:///etc/passwd", "s3+http://127.0.0.1:9/glance/other-image",
                   "swift+http://127.0.0.1:9/auth/v1.0/glance/other-image",
                   "swift://127.0.0.1/glance/other", "gopher://info.cern.ch/",
                   "http://user:key@127.0.0.1:9/image.raw"]


def _hostile_addresses(registry_port, listener):
    return [f"http://127.0.0.1:{registry_port}/", f"http://127.0.0.1:{listener.port}/x",
            "http://[::1]/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"]


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def test_hostile_urls_are_400_and_nothing_is_read(on, guarded, registry_server, listener):
    """Store schemes and credentials even with the address guard off; private and
    link-local addresses with it on.  Neither PATCH nor POST reads them."""
    cases = [(on, url) for url in HOSTILE_SCHEMES] + [
        (guarded, url) for url in _hostile_addresses(registry_server.port, listener)]
    for api, url in cases:
        image = new_image(api)
        before = as_admin(api, image["id"])
        answer = add(api, image["id"], url)
        assert answer.status_code == 400, (url, answer.text)
        answer = post_location(api, image["id"], url)
        assert answer.status_code == 400, (url, answer.text)
        assert as_admin(api, image["id"]) == before, url
        assert api.request("GET", f"/v2/images/{image['id']}/tasks").json()["tasks"] == []
    assert listener.requests == []


# --- v2.17 --------------------------------------------------------------------------

def test_v2_17_is_listed(off):
    versions = [v["id"] for v in off.request("GET", "/versions").json()["versions"]]
    assert versions[0] == "v2.17"


def test_post_location_hashes_in_the_background(off, web):
    """The location API needs no show_multiple_locations; do_secure_hash is on."""
    image = new_image(off)
    url = web.url + "/image.raw"
    answer = post_location(off, image["id"], url)
    assert answer.status_code == 202, answer.text
    assert wait_for(lambda: as_admin(off, image["id"]).get("os_hash_value"), timeout=20)
    done = as_admin(off, image["id"])
    assert done["status"] == "active" and done["size"] == len(DATA)
    assert done["checksum"] == hashlib.md5(DATA).hexdigest()
    assert (done["os_hash_algo"], done["os_hash_value"]) == (
        "sha512", hashlib.sha512(DATA).hexdigest())
    tasks = off.request("GET", f"/v2/images/{image['id']}/tasks").json()["tasks"]
    assert [(t["type"], t["status"]) for t in tasks] == [("location_import", "success")]
    assert off.as_(OWNER).download(image["id"]).content == DATA
    again = post_location(off, image["id"], url)
    assert again.status_code == 409                   # only a queued image
    located = off.as_(SERVICE).request("GET", f"/v2/images/{image['id']}/locations")
    assert located.status_code == 200 and located.json() == [{"url": url, "metadata": {}}]


def test_post_location_with_a_wrong_hash_puts_the_image_back(off, web):
    image = new_image(off)
    answer = post_location(off, image["id"], web.url + "/image.raw",
                           os_hash_algo="sha256", os_hash_value="be" * 32)
    assert answer.status_code == 202, answer.text
    assert wait_for(lambda: [t["status"] for t in off.request(
        "GET", f"/v2/images/{image['id']}/tasks").json()["tasks"]] == ["failure"], timeout=20)
    after = as_admin(off, image["id"])
    assert after["status"] == "queued"
    assert (after["checksum"], after["os_hash_algo"], after["os_hash_value"]) == (None,) * 3


@pytest.mark.parametrize("validation", [
    {"os_hash_algo": "sha512", "os_hash_value": "ab" * 15},       # wrong size
    {"os_hash_value": "ab" * 64},                                  # no algorithm
    {"os_hash_algo": "sha123", "os_hash_value": "ab" * 64},        # unknown algorithm
    {"os_hash_algo": "sha512", "os_hash_value": "ab" * 32},        # another's size
    {"os_hash_algo": "sha512", "os_hash_value": "zz" * 64},        # not hex
    {"size": 3},                                                   # unknown key
])
def test_post_location_refuses_bad_validation_data(off, web, validation):
    image = new_image(off)
    answer = post_location(off, image["id"], web.url + "/image.raw", **validation)
    assert answer.status_code == 400, answer.text
    assert as_admin(off, image["id"])["status"] == "queued"


@pytest.mark.parametrize("who, status", [(OTHER, 404), (ANONYMOUS, 401)])
def test_strangers_post_no_location(off, web, who, status):
    image = new_image(off)
    before = as_admin(off, image["id"])
    answer = post_location(off, image["id"], web.url + "/image.raw", who=who)
    assert answer.status_code == status, answer.text
    time.sleep(0.5)
    assert as_admin(off, image["id"]) == before


def test_another_tenant_cannot_post_to_a_public_image(off, web):
    image = off.new(name="admin's", visibility="public")
    answer = post_location(off, image["id"], web.url + "/image.raw", who=OTHER)
    assert answer.status_code == 403, answer.text
    assert as_admin(off, image["id"])["status"] == "queued"


@pytest.mark.parametrize("who, status", [(OWNER, 403), (OTHER, 403), (ANONYMOUS, 401)])
def test_get_locations_is_for_services_and_admins(off, who, status):
    image = new_image(off)
    assert off.as_(OWNER).upload(image["id"], DATA).status_code == 204
    answer = off.as_(who).request("GET", f"/v2/images/{image['id']}/locations")
    assert answer.status_code == status, answer.text
    assert "file://" not in answer.text
    assert off.request("GET", f"/v2/images/{image['id']}/locations").status_code == 200
    missing = off.as_(OWNER).request("GET", f"/v2/images/{uuid.uuid4()}/locations")
    assert missing.status_code == 403                 # no one else learns what exists


def test_deleting_the_image_stops_its_hash(off, start_api, web):
    """Deleted through another glance-api node (as Tempest's HashCalculationRemoteDeletion
    test does): the reader notices through the registry and hangs up."""
    other_node = V2(start_api(http_store_allow_private="true").url, ADMIN)
    image = new_image(off)
    assert post_location(off, image["id"], web.url + "/big.raw").status_code == 202
    done = wait_status(off, image["id"], "active")
    assert done["os_hash_algo"] == "sha512" and done["os_hash_value"] is None
    assert other_node.as_(OWNER).delete(image["id"]).status_code == 204
    assert web.hung_up.wait(15)                        # the reader went away
    assert off.show(image["id"]).status_code == 404
    assert "/big.raw" in web.files                     # nothing deleted on the web server


def test_a_seed_location_with_credentials_is_shown_without_them(on, registry_server):
    """The seed wrote Swift locations with ``user:key@``; none reaches a client."""
    image = new_image(on)
    where = f"swift+http://glance:secret-key@127.0.0.1:9/auth/v1.0/glance/{image['id']}"
    answer = requests.put(f"{registry_server.url}/images/{image['id']}", timeout=10,
                          json={"image": {"location": where, "status": "active", "size": 3}})
    assert answer.status_code == 200, answer.text
    for who in (OWNER, ADMIN):
        shown = on.as_(who).show(image["id"])
        assert shown.json()["locations"] == [
            {"url": f"swift+http://127.0.0.1:9/auth/v1.0/glance/{image['id']}",
             "metadata": {}}]
        assert "secret-key" not in shown.text
    located = on.as_(SERVICE).request("GET", f"/v2/images/{image['id']}/locations")
    assert located.status_code == 200 and "secret-key" not in located.text

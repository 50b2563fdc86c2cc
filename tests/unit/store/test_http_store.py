"""The HTTP store against a local threaded web server, plus its address checks."""
import http.server
import os
import threading

import pytest

from contract.store import ReadOnlyStoreContract
from glance.config import load_config
from glance.store import base
from glance.store.http import HTTPStore

CONTENT = os.urandom(300_000)


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves /image (honest, ignores Range), /short (lies about its length), redirects."""

    protocol_version = "HTTP/1.1"

    def do_HEAD(self):
        self.do_GET(body=False)

    def do_GET(self, body=True):
        if self.path == "/image":
            self._send(200, CONTENT, body)
        elif self.path == "/short":
            # Announces the whole image, sends half, then hangs up.
            self._send(200, CONTENT, body, sent=CONTENT[:len(CONTENT) // 2])
            self.close_connection = True
        elif self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", self.path[len("/redirect"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/broken":
            self._send(500, b"oops", body)
        else:
            self._send(404, b"not here", body)

    def _send(self, status, data, body, sent=None):
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data if sent is None else sent)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def make_store(allow_private):
    conf = load_config("glance-api", overrides={"http_store_allow_private": allow_private,
                                                "http_store_timeout": 5})
    return HTTPStore.from_config(conf)


class TestHTTPStore(ReadOnlyStoreContract):

    @pytest.fixture
    def store(self):
        return make_store(True)

    @pytest.fixture
    def location(self, server):
        return server + "/image"

    @pytest.fixture
    def content(self):
        return CONTENT

    @pytest.fixture
    def missing_location(self, server):
        return server + "/nothing"


def test_redirects_are_followed(server):
    chunks, size = make_store(True).get(server + "/redirect/image")
    assert size == len(CONTENT) and b"".join(chunks) == CONTENT


def test_short_body_fails_the_download_instead_of_ending_it(server, caplog):
    chunks, size = make_store(True).get(server + "/short")
    assert size == len(CONTENT)
    got = bytearray()
    with pytest.raises(base.BackendError):
        for chunk in chunks:
            got += chunk
    assert len(got) < len(CONTENT)
    assert "failed after" in caplog.text


def test_server_error_is_a_backend_error(server):
    with pytest.raises(base.BackendError, match="500"):
        make_store(True).get(server + "/broken")


def test_unreachable_server_is_a_backend_error(server):
    closed = server.rsplit(":", 1)[0] + ":1"
    with pytest.raises(base.BackendError):
        make_store(True).get(closed + "/image")


@pytest.mark.parametrize("uri", [
    "http://127.0.0.1/image", "http://localhost:8080/image", "http://10.1.2.3/image",
    "http://192.168.0.1/image", "http://172.16.5.4/image", "http://169.254.169.254/latest",
    "http://[::1]/image", "http://[fe80::1]/image", "http://[::ffff:127.0.0.1]/image",
    "http://0.0.0.0/image", "http://100.64.0.1/image",
])
def test_private_addresses_are_refused(uri):
    with pytest.raises(base.BadLocation, match="not allowed"):
        make_store(False).check_location(uri)
    with pytest.raises(base.BadLocation):
        make_store(False).get(uri)


def test_private_address_is_refused_before_any_request(server):
    with pytest.raises(base.BadLocation):
        make_store(False).get(server + "/image")


@pytest.mark.parametrize("uri", ["ftp://example.com/x", "http:///nohost", "file:///etc/passwd"])
def test_other_urls_are_refused(uri):
    with pytest.raises(base.BadLocation):
        make_store(True).check_location(uri)


def test_public_address_is_accepted():
    make_store(False).check_location("https://93.184.216.34/images/cirros.img")


def test_credentials_in_the_location_stay_out_of_messages(server):
    uri = server.replace("http://", "http://user:s3cret@") + "/broken"
    with pytest.raises(base.BackendError) as error:
        make_store(True).get(uri)
    assert "s3cret" not in str(error.value)

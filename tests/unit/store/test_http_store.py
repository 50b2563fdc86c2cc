"""The HTTP store against a local threaded web server, plus its address checks."""
import http.server
import ipaddress
import os
import socketserver
import threading
import time

import pytest

from contract.store import ReadOnlyStoreContract
from glance.config import load_config
from glance.store import base, build_stores
from glance.store.http import HTTPStore, allowed

CONTENT = os.urandom(300_000)
STOP = threading.Event()           # ends the trickling servers when the module is done


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
        elif self.path == "/token":
            self._send(200, self.headers.get("X-Auth-Token", "none").encode(), body)
        elif self.path.startswith("/away/"):        # the same server, by another name
            self.send_response(302)
            port = self.server.server_address[1]
            self.send_header("Location", f"http://localhost:{port}{self.path[len('/away'):]}")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/broken":
            self._send(500, b"oops", body)
        elif self.path == "/bad-redirect":
            self.send_response(302)
            self.send_header("Location", "http://[::1")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/trickle":
            # 1 KiB every 50 ms: each read is quick, the whole would take minutes.
            self.send_response(200)
            self.send_header("Content-Length", str(len(CONTENT)))
            self.end_headers()
            for start in range(0, len(CONTENT), 1024):
                if STOP.wait(0.05):
                    break
                self.wfile.write(CONTENT[start:start + 1024])
                self.wfile.flush()
            self.close_connection = True
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
    STOP.set()
    httpd.shutdown()
    httpd.server_close()


class SlowHeaders(socketserver.BaseRequestHandler):
    """Answers with a status line, then one header byte every 50 ms."""

    def handle(self):
        self.request.sendall(b"HTTP/1.1 200 OK\r\n")
        try:
            while not STOP.wait(0.05):
                self.request.sendall(b"X")
        except OSError:
            pass


@pytest.fixture(scope="module")
def slow_headers():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SlowHeaders)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/image"
    STOP.set()
    server.shutdown()
    server.server_close()


def make_store(allow_private, **options):
    conf = load_config("glance-api", overrides={"http_store_allow_private": allow_private,
                                                "http_store_timeout": 5, **options})
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


def test_a_callers_token_goes_to_the_same_host_only(server):
    store = make_store(True)
    for path, seen in (("/token", b"secret"), ("/redirect/token", b"secret"),
                       ("/away/token", b"none")):
        chunks, _ = store.get_as(server + path, {"X-Auth-Token": "secret"})
        assert b"".join(chunks) == seen, path


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


# Every address that is not global unicast, by range; an IPv6 address that carries an
# IPv4 one is judged by it.
REFUSED = {
    "IPv4 loopback": "127.0.0.1", "IPv4 private": "10.1.2.3", "IPv4 private 172": "172.16.0.1",
    "IPv4 private 192": "192.168.1.1", "IPv4 link-local": "169.254.169.254",
    "IPv4 shared": "100.64.0.1", "IPv4 this network": "0.0.0.0",
    "IPv4 multicast": "224.0.0.1", "IPv4 broadcast": "255.255.255.255",
    "IPv4 reserved": "240.0.0.1", "IPv4 protocol assignments": "192.0.0.1",
    "IPv4 benchmarking": "198.18.0.1", "IPv4 documentation": "192.0.2.1",
    "IPv6 unspecified": "::", "IPv6 loopback": "::1", "IPv6 link-local": "fe80::1",
    "IPv6 unique local": "fc00::1", "IPv6 multicast": "ff02::1", "IPv6 discard": "100::1",
    "IPv6 documentation": "2001:db8::1",
    "NAT64 of loopback": "64:ff9b::7f00:1", "NAT64 of private": "64:ff9b::a00:1",
    "NAT64 of link-local": "64:ff9b::a9fe:a9fe",
    "NAT64 local use": "64:ff9b:1::808:808",
    "IPv4-compatible loopback": "::127.0.0.1", "IPv4-compatible link-local": "::169.254.169.254",
    "IPv4-mapped loopback": "::ffff:127.0.0.1", "IPv4-mapped private": "::ffff:10.0.0.1",
    "IPv4-translated loopback": "::ffff:0:127.0.0.1",
    "IPv4-translated link-local": "::ffff:0:169.254.169.254",
    "6to4 of loopback": "2002:7f00:1::1", "6to4 of link-local": "2002:a9fe:a9fe::1",
    "6to4 of private": "2002:c0a8:101::1",
    "Teredo": "2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo prefix": "2001::1",
    "site-local": "fec0::1",
}
ACCEPTED = {
    "IPv4 global": "93.184.216.34", "IPv6 global": "2606:4700::1111",
    "NAT64 of a global address": "64:ff9b::808:808",
    "IPv4-mapped global": "::ffff:8.8.8.8", "IPv4-translated global": "::ffff:0:8.8.8.8",
    "IPv4-compatible global": "::8.8.8.8", "6to4 of a global address": "2002:808:808::1",
}


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
def test_every_non_global_range_is_refused(address):
    assert allowed(ipaddress.ip_address(address)) is False
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(base.BadLocation, match="not allowed"):
        make_store(False).check_location(f"http://{host}/image")


@pytest.mark.parametrize("address", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_global_addresses_are_accepted(address):
    assert allowed(ipaddress.ip_address(address)) is True
    host = f"[{address}]" if ":" in address else address
    assert make_store(False).check_location(f"http://{host}/image") is None


@pytest.mark.parametrize("uri", ["http://2130706433/image", "http://0x7f000001/image",
                                 "http://127.1/image", "http://017700000001/image"])
def test_other_spellings_of_loopback_are_refused(uri):
    with pytest.raises(base.BadLocation, match="not allowed"):
        make_store(False).check_location(uri)


@pytest.mark.parametrize("uri", ["http://[::1", "http://[::1]:99999/image",
                                 "http://example.com:port/image"])
def test_invalid_urls_are_bad_locations(uri):
    with pytest.raises(base.BadLocation, match="not a valid URL"):
        make_store(False).check_location(uri)
    with pytest.raises(base.BadLocation):
        make_store(True).get(uri)
    stores = build_stores(load_config("glance-api"), names=["file", "http"])
    with pytest.raises(base.BadLocation):
        stores.for_uri(uri).check_location(uri)
    assert stores.owns(uri, "x") is False


def test_redirect_to_an_invalid_url_is_a_backend_error(server):
    with pytest.raises(base.BackendError, match="invalid answer: Invalid IPv6 URL"):
        make_store(True).get(server + "/bad-redirect")


def test_a_trickling_body_is_cut_at_the_transfer_timeout(server):
    store = make_store(True, http_store_transfer_timeout=1)
    began = time.monotonic()
    chunks, size = store.get(server + "/trickle")
    assert size == len(CONTENT)
    with pytest.raises(base.BackendError, match="http_store_transfer_timeout"):
        for _ in chunks:
            pass
    assert time.monotonic() - began < 3          # not the minutes the server would take


def test_trickling_headers_are_cut_at_the_transfer_timeout(slow_headers):
    store = make_store(True, http_store_transfer_timeout=1)
    began = time.monotonic()
    for call in (store.get, store.get_size):
        with pytest.raises(base.BackendError, match="http_store_transfer_timeout"):
            call(slow_headers)
    assert time.monotonic() - began < 5


def test_credentials_in_the_location_stay_out_of_messages(server):
    uri = server.replace("http://", "http://user:s3cret@") + "/broken"
    with pytest.raises(base.BackendError) as error:
        make_store(True).get(uri)
    assert "s3cret" not in str(error.value)

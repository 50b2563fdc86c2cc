"""HTTP store: read-only images that live on some web server.

An image registered with ``x-image-meta-location: http(s)://…`` is streamed
from there on download; its size is the server's Content-Length.  Unless
``http_store_allow_private`` is on, a location whose host resolves to a
loopback, link-local, private or otherwise non-global address is refused,
at registration (``check_location``) and again on every request and every
redirect, so the API cannot be used to reach the internal network.  An IPv6
address that carries an IPv4 one (IPv4-mapped, -compatible or -translated,
NAT64, 6to4) is judged by that IPv4 address (:func:`allowed`).

One read (a download, a web-download) waits at most ``http_store_timeout``
seconds for a connection, an answer or the next bytes, and takes at most
``http_store_transfer_timeout`` seconds in all: a watchdog then cuts the
connection, so a server that trickles bytes holds no thread for longer.

The name is resolved once per request (and per redirect) and the connection
goes to the address that was checked: the URL is rewritten to that address,
the Host header keeps the name, and for https the SNI and the certificate
check use the name.  A DNS answer that changes between the check and the
connection (DNS rebinding) therefore cannot point the request elsewhere.
Proxies from the environment are not used, for the same reason.
"""
import functools
import ipaddress
import socket
import threading
from contextlib import contextmanager
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from glance.store.base import (
    CHUNK_SIZE, BackendError, BadLocation, NotFound, ReadOnly, StoreError)
from glance.store.common import range_header
from glance.store.segment import checked_stream, closing

MAX_REDIRECTS = 5
# IPv6 ranges that carry an IPv4 address, and the shift that brings it to the low 32 bits.
CARRIES_IPV4 = tuple((ipaddress.ip_network(network), shift) for network, shift in (
    ("::ffff:0:0/96", 0),           # IPv4-mapped
    ("::ffff:0:0:0/96", 0),         # IPv4-translated (SIIT)
    ("64:ff9b::/96", 0),            # NAT64, well-known prefix
    ("::/96", 0),                   # IPv4-compatible (deprecated); also :: and ::1
    ("2002::/16", 80),              # 6to4
))
# IPv6 ranges that are not global whatever this Python's ipaddress says.
NOT_GLOBAL = tuple(ipaddress.ip_network(network) for network in (
    "64:ff9b:1::/48",               # NAT64, local use: any IPv4 address may hide behind it
    "2001::/32",                    # Teredo
    "fec0::/10",                    # site-local (deprecated)
))


def allowed(address):
    """May the HTTP store connect to ``address`` (an :mod:`ipaddress` address)?

    Global unicast addresses only; an IPv6 address that carries an IPv4 one
    is judged by that IPv4 address.
    """
    if address.version == 6:
        for network, shift in CARRIES_IPV4:
            if address in network:
                return allowed(ipaddress.IPv4Address((int(address) >> shift) & 0xFFFFFFFF))
        if any(address in network for network in NOT_GLOBAL):
            return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _host_of(uri):
    """The host name of ``uri`` (never its user or password), for messages."""
    try:
        return urlsplit(uri).hostname or "?"
    except ValueError:
        return "?"


class HTTPStore:
    """Read-only access to images on web servers; see the module docstring."""

    name = "http"
    description = "HTTP store (read-only)"
    schemes = ("http", "https")
    read_only = True

    def __init__(self, *, allow_private, timeout, transfer_timeout, ca_file):
        self.allow_private = allow_private
        self.timeout = timeout
        self.transfer_timeout = transfer_timeout
        self.verify = ca_file or True

    @classmethod
    def from_config(cls, conf):
        """Build from ``http_store_*`` options; needs nothing else."""
        return cls(allow_private=conf.http_store_allow_private,
                   timeout=conf.http_store_timeout,
                   transfer_timeout=conf.http_store_transfer_timeout,
                   ca_file=conf.http_store_ca_file)

    def holds(self, uri):
        """Any http(s) URL is this store's to read (its address guard still applies)."""
        return True

    def check_location(self, uri):
        """Accept ``uri`` only if it is http(s) and its host is allowed.

        :raises BadLocation: wrong scheme, no host, unresolvable, or a
            non-global address while ``http_store_allow_private`` is off.
        """
        self._addresses(uri)

    def _addresses(self, uri):
        """Resolve the host of ``uri`` once and check every address.

        :returns: the addresses to connect to, in resolver order; ``[]`` when
            ``http_store_allow_private`` is on (any address will do).
        :raises BadLocation: see :meth:`check_location`.
        """
        try:
            parts = urlsplit(uri)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise BadLocation("Image location is not a valid URL") from None
        if parts.scheme not in self.schemes or not parts.hostname:
            raise BadLocation("Image location must be an http:// or https:// URL with a host")
        if self.allow_private:
            return []
        try:
            infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            raise BadLocation(f"Cannot resolve the host {parts.hostname} of the image location") from None
        found = []
        for info in infos:
            address = info[4][0].split("%", 1)[0]
            if not allowed(ipaddress.ip_address(address)):
                raise BadLocation(f"Image location host {parts.hostname} resolves to a loopback, "
                                  "link-local, private or otherwise non-global address; "
                                  "this is not allowed")
            if address not in found:
                found.append(address)
        return found

    def _send(self, method, url, headers):
        """One request for ``url`` (no redirects), to an address checked just now."""
        import requests  # lazy, like the other stores' clients
        addresses = self._addresses(url)
        headers = {**(headers or {}), **ONE_SHOT}
        if not addresses:       # allow_private: no address rule to keep
            with _session() as session:
                return session.request(method, url, headers=headers, stream=True,
                                       allow_redirects=False, timeout=self.timeout,
                                       verify=self.verify)
        for number, address in enumerate(addresses, 1):
            try:
                return self._send_to(address, method, url, headers)
            except requests.ConnectionError:
                if number == len(addresses):
                    raise
        raise AssertionError("unreachable")

    def _send_to(self, address, method, url, headers):
        """``method url`` over a connection to ``address``; Host, SNI and certificate
        checks use the URL's host name."""
        parts = urlsplit(url)
        host = f"[{address}]" if ":" in address else address
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = urlunsplit((parts.scheme, f"{host}:{port}", parts.path or "/", parts.query, ""))
        auth = None
        if parts.username is not None:      # requests would take it from the URL
            auth = (unquote(parts.username), unquote(parts.password or ""))
        with _session(parts.hostname if parts.scheme == "https" else None) as session:
            return session.request(method, target, stream=True, allow_redirects=False,
                                   timeout=self.timeout, verify=self.verify, auth=auth,
                                   headers={**headers, "Host": parts.netloc.rpartition("@")[2]})

    def _request(self, method, uri, headers, watchdog):
        """Send ``method`` and follow redirects, checking every hop; every connection
        is cut when ``watchdog`` fires."""
        import requests  # lazy, like the other stores' clients
        url = uri
        for _ in range(MAX_REDIRECTS + 1):
            try:
                with watchdog.watching():
                    resp = self._send(method, url, headers)
                if resp.is_redirect and resp.headers.get("location"):
                    resp.close()
                    hop = urljoin(url, resp.headers["location"])
                    if headers and urlsplit(hop).netloc != urlsplit(url).netloc:
                        # a caller's token never goes to another host
                        headers = {k: v for k, v in headers.items()
                                   if k.lower() != "x-auth-token"}
                    url = hop
                    continue
            except requests.RequestException as exc:
                if watchdog.fired:
                    raise self._too_slow(uri) from None
                raise BackendError(f"Cannot fetch the image from {_host_of(url)} "
                                   f"({type(exc).__name__})") from None
            except ValueError as exc:       # e.g. a redirect to "http://[::1"
                raise BackendError(f"{_host_of(url)} sent an invalid answer: {exc}") from None
            if watchdog.fired:              # the headers never ended
                resp.close()
                raise self._too_slow(uri)
            if resp.status_code == 404:
                resp.close()
                raise NotFound(f"The image is not at its location on {_host_of(url)} (404)")
            if resp.status_code >= 400:
                resp.close()
                raise BackendError(f"{_host_of(url)} answered {resp.status_code} for the image")
            return resp
        raise BackendError(f"Too many redirects fetching the image from {_host_of(uri)}")

    @staticmethod
    def _length(resp, uri):
        try:
            return int(resp.headers["content-length"])
        except (KeyError, ValueError):
            resp.close()
            raise BackendError(f"{_host_of(uri)} did not send the image's Content-Length") from None

    def get(self, uri, offset=0, length=None):
        """Stream the image from its URL; the iterator raises if it ends short.

        :raises NotFound: the server answered 404.
        :raises BackendError: unreachable, an error status, no Content-Length,
            or slower than ``http_store_transfer_timeout`` (also while streaming).
        """
        return self._get(uri, offset, length)

    def get_as(self, uri, headers):
        """:meth:`get` the whole of ``uri`` with more request headers (glance-download:
        the caller's token, which no redirect takes to another host)."""
        return self._get(uri, 0, None, headers)

    def _get(self, uri, offset=0, length=None, headers=None):
        """Stream the image from its URL; the iterator raises if it ends short.

        :raises NotFound: the server answered 404.
        :raises BackendError: unreachable, an error status, no Content-Length,
            or slower than ``http_store_transfer_timeout`` (also while streaming).
        """
        headers = {**(headers or {}), "Accept-Encoding": "identity",
                   **range_header(offset, length)}
        watchdog = Watchdog(self.transfer_timeout)
        try:
            resp = self._request("GET", uri, headers, watchdog)
            size = self._length(resp, uri)
        except BaseException:
            watchdog.cancel()
            raise
        chunks = resp.raw.stream(CHUNK_SIZE, decode_content=False)
        if "Range" in headers and resp.status_code != 206:
            # The server ignored the range: cut it out ourselves.
            chunks = _slice(chunks, offset, length)
            size = max(0, size - offset) if length is None else max(0, min(length, size - offset))

        def error(exc):
            return self._too_slow(uri) if watchdog.fired else self._error(exc)

        return checked_stream(watchdog.until(closing(chunks, resp)), size,
                              f"the image on {_host_of(uri)}", error), size

    def get_size(self, uri):
        """:raises NotFound: the server answered 404."""
        watchdog = Watchdog(self.transfer_timeout)
        try:
            resp = self._request("HEAD", uri, None, watchdog)
        finally:
            watchdog.cancel()
        resp.close()
        return self._length(resp, uri)

    def _too_slow(self, uri):
        return BackendError(f"Reading the image from {_host_of(uri)} took longer than "
                            f"http_store_transfer_timeout ({self.transfer_timeout} s)")

    def add(self, image_id, data, size=None, checksum=None):
        """:raises ReadOnly: always."""
        raise ReadOnly("The http store is read-only: images cannot be uploaded to it")

    def owns(self, uri, image_id):
        """Never: this store writes nothing."""
        return False

    def leftovers(self, cutoff):
        """Nothing: this store writes nothing."""
        return iter(())

    def delete(self, uri):
        """:raises ReadOnly: always; the image stays on its web server."""
        raise ReadOnly("The http store is read-only: images cannot be deleted from it")

    @staticmethod
    def _error(exc):
        if isinstance(exc, StoreError):
            return exc
        return BackendError(f"The image download failed ({type(exc).__name__})")


class Watchdog:
    """Cut every connection of one read ``seconds`` from now, unless cancelled first:
    a request or read blocked on one of them then fails at once."""

    current = threading.local()          # the watchdog of this thread's request, if any

    def __init__(self, seconds):
        self.fired = False
        self.sockets = []
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self._cut)
        self.timer.daemon = True
        self.timer.start()

    @contextmanager
    def watching(self):
        """Connections opened in this thread meanwhile are watched."""
        Watchdog.current.watchdog = self
        try:
            yield
        finally:
            Watchdog.current.watchdog = None

    def watch(self, sock):
        with self.lock:
            self.sockets.append(sock)
            if self.fired:
                _shutdown(sock)

    def _cut(self):
        with self.lock:
            self.fired = True
            for sock in self.sockets:
                _shutdown(sock)

    def cancel(self):
        self.timer.cancel()

    def until(self, chunks):
        """Yield ``chunks`` (a generator); the watchdog stops with them, however they
        end, and closes them: raising out of the loop would leave them open."""
        try:
            for chunk in chunks:
                if self.fired:
                    raise BackendError("transfer deadline passed")   # see HTTPStore.get
                yield chunk
        finally:
            self.cancel()
            chunks.close()


def _shutdown(sock):
    # shutdown, not close: close leaves a read blocked in another thread waiting.
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# Each session serves one request: a connection kept for reuse would stay open until
# the garbage collector found it.  The session is closed as soon as the request is sent;
# the streamed response keeps its connection, which is closed (not pooled) when the
# response is.
ONE_SHOT = {"Connection": "close"}


def _session(hostname=None):
    """A requests session without proxies (they would resolve the name again) whose
    connections the current thread's Watchdog watches; with ``hostname``, TLS sends
    SNI for that name and checks the certificate against it, whatever address the
    URL names."""
    import requests
    session = requests.Session()
    session.trust_env = False
    adapter = _watched_adapter()(hostname)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@functools.cache
def _watched_adapter():
    """The requests adapter class of :func:`_session` (built once, on first use)."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def watched(connection_class):
        class Watched(connection_class):
            def connect(self):
                super().connect()
                watchdog = getattr(Watchdog.current, "watchdog", None)
                if watchdog is not None:
                    watchdog.watch(self.sock)
        return Watched

    class Pool(HTTPConnectionPool):
        ConnectionCls = watched(HTTPConnection)

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = watched(HTTPSConnection)

    class Adapter(HTTPAdapter):
        def __init__(self, hostname):
            self.hostname = hostname
            super().__init__()

        def init_poolmanager(self, *args, **kwargs):
            if self.hostname:
                kwargs.update(server_hostname=self.hostname, assert_hostname=self.hostname)
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}

    return Adapter


def _slice(chunks, offset, length):
    """Skip ``offset`` bytes of ``chunks``, then yield at most ``length``."""
    left = length
    for chunk in chunks:
        if offset >= len(chunk):
            offset -= len(chunk)
            continue
        chunk, offset = chunk[offset:], 0
        if left is not None:
            chunk, left = chunk[:left], left - min(left, len(chunk))
        if chunk:
            yield chunk
        if left == 0:
            return

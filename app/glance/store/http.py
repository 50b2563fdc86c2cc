"""HTTP store: read-only images that live on some web server.

An image registered with ``x-image-meta-location: http(s)://…`` is streamed
from there on download; its size is the server's Content-Length.  Unless
``http_store_allow_private`` is on, a location whose host resolves to a
loopback, link-local, private or otherwise non-global address is refused,
at registration (``check_location``) and again on every request and every
redirect, so the API cannot be used to reach the internal network.

The name is resolved once per request (and per redirect) and the connection
goes to the address that was checked: the URL is rewritten to that address,
the Host header keeps the name, and for https the SNI and the certificate
check use the name.  A DNS answer that changes between the check and the
connection (DNS rebinding) therefore cannot point the request elsewhere.
Proxies from the environment are not used, for the same reason.
"""
import ipaddress
import socket
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from glance.store.base import (
    CHUNK_SIZE, BackendError, BadLocation, NotFound, ReadOnly, StoreError)
from glance.store.common import range_header
from glance.store.segment import checked_stream, closing

MAX_REDIRECTS = 5


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

    def __init__(self, *, allow_private, timeout, ca_file):
        self.allow_private = allow_private
        self.timeout = timeout
        self.verify = ca_file or True

    @classmethod
    def from_config(cls, conf):
        """Build from ``http_store_*`` options; needs nothing else."""
        return cls(allow_private=conf.http_store_allow_private,
                   timeout=conf.http_store_timeout, ca_file=conf.http_store_ca_file)

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
            address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            address = getattr(address, "ipv4_mapped", None) or address
            if not address.is_global or address.is_multicast:
                raise BadLocation(f"Image location host {parts.hostname} resolves to a loopback, "
                                  "link-local or private address; this is not allowed")
            if str(address) not in found:
                found.append(str(address))
        return found

    def _send(self, method, url, headers):
        """One request for ``url`` (no redirects), to an address checked just now."""
        import requests  # lazy, like the other stores' clients
        addresses = self._addresses(url)
        if not addresses:       # allow_private: no address rule to keep
            with requests.Session() as session:
                session.trust_env = False
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
        import requests
        parts = urlsplit(url)
        host = f"[{address}]" if ":" in address else address
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = urlunsplit((parts.scheme, f"{host}:{port}", parts.path or "/", parts.query, ""))
        auth = None
        if parts.username is not None:      # requests would take it from the URL
            auth = (unquote(parts.username), unquote(parts.password or ""))
        session = requests.Session()
        session.trust_env = False           # a proxy would resolve the name again
        if parts.scheme == "https":
            session.mount("https://", _named_tls(parts.hostname))
        resp = session.request(method, target, stream=True, allow_redirects=False,
                               timeout=self.timeout, verify=self.verify, auth=auth,
                               headers={**(headers or {}),
                                        "Host": parts.netloc.rpartition("@")[2]})
        return resp

    def _request(self, method, uri, headers=None):
        """Send ``method`` and follow redirects, checking every hop."""
        import requests  # lazy, like the other stores' clients
        url = uri
        for _ in range(MAX_REDIRECTS + 1):
            try:
                resp = self._send(method, url, headers)
            except requests.RequestException as exc:
                raise BackendError(f"Cannot fetch the image from {_host_of(url)} "
                                   f"({type(exc).__name__})") from None
            if resp.is_redirect and resp.headers.get("location"):
                resp.close()
                url = urljoin(url, resp.headers["location"])
                continue
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
        :raises BackendError: unreachable, an error status, or no Content-Length.
        """
        headers = {"Accept-Encoding": "identity", **range_header(offset, length)}
        resp = self._request("GET", uri, headers)
        size = self._length(resp, uri)
        chunks = resp.raw.stream(CHUNK_SIZE, decode_content=False)
        if "Range" in headers and resp.status_code != 206:
            # The server ignored the range: cut it out ourselves.
            chunks = _slice(chunks, offset, length)
            size = max(0, size - offset) if length is None else max(0, min(length, size - offset))
        return checked_stream(closing(chunks, resp), size, f"the image on {_host_of(uri)}",
                              self._error), size

    def get_size(self, uri):
        """:raises NotFound: the server answered 404."""
        resp = self._request("HEAD", uri)
        resp.close()
        return self._length(resp, uri)

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


def _named_tls(hostname):
    """A requests adapter whose TLS connections send SNI for ``hostname`` and check
    the certificate against it, whatever address the URL names."""
    from requests.adapters import HTTPAdapter

    class NamedTLS(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs.update(server_hostname=hostname, assert_hostname=hostname)
            super().init_poolmanager(*args, **kwargs)

    return NamedTLS()


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

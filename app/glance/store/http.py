"""HTTP store: read-only images that live on some web server.

An image registered with ``x-image-meta-location: http(s)://…`` is streamed
from there on download; its size is the server's Content-Length.  Unless
``http_store_allow_private`` is on, a location whose host resolves to a
loopback, link-local, private or otherwise non-global address is refused,
at registration (``check_location``) and again on every request and every
redirect, so the API cannot be used to reach the internal network.
"""
import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

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
    schemes = ("http", "https")
    read_only = True

    def __init__(self, allow_private=False, timeout=60):
        self.allow_private = allow_private
        self.timeout = timeout

    @classmethod
    def from_config(cls, conf):
        """Build from ``http_store_*`` options; needs nothing else."""
        return cls(allow_private=conf.get("http_store_allow_private", False),
                   timeout=conf.get("http_store_timeout", 60))

    def check_location(self, uri):
        """Accept ``uri`` only if it is http(s) and its host is allowed.

        :raises BadLocation: wrong scheme, no host, unresolvable, or a
            non-global address while ``http_store_allow_private`` is off.
        """
        try:
            parts = urlsplit(uri)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise BadLocation("Image location is not a valid URL") from None
        if parts.scheme not in self.schemes or not parts.hostname:
            raise BadLocation("Image location must be an http:// or https:// URL with a host")
        if self.allow_private:
            return
        try:
            infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            raise BadLocation(f"Cannot resolve the host {parts.hostname} of the image location") from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            address = getattr(address, "ipv4_mapped", None) or address
            if not address.is_global or address.is_multicast:
                raise BadLocation(f"Image location host {parts.hostname} resolves to a loopback, "
                                  "link-local or private address; this is not allowed")

    def _request(self, method, uri, headers=None):
        """Send ``method`` and follow redirects, checking every hop."""
        import requests  # lazy, like the other stores' clients
        url = uri
        for _ in range(MAX_REDIRECTS + 1):
            self.check_location(url)
            try:
                resp = requests.request(method, url, headers=headers, stream=True,
                                        allow_redirects=False, timeout=self.timeout)
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

    def delete(self, uri):
        """:raises ReadOnly: always; the image stays on its web server."""
        raise ReadOnly("The http store is read-only: images cannot be deleted from it")

    @staticmethod
    def _error(exc):
        if isinstance(exc, StoreError):
            return exc
        return BackendError(f"The image download failed ({type(exc).__name__})")


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

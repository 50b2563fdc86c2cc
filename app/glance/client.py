"""A small Python client for the glance-api v1 API (``glance.client.Client``).

It speaks the same protocol as python-glanceclient's v1 client: metadata in
``x-image-meta-*`` headers, data streamed both ways (file objects and
iterators are never read into memory), JSON for lists and members.  Errors
are typed exceptions that carry the server's message.

    client = Client("127.0.0.1", 9292)
    with open("disk.img", "rb") as f:
        image = client.add_image({"name": "disk", "disk_format": "raw",
                                  "container_format": "bare"}, f)
    meta, chunks = client.get_image(image["id"])
"""
import http.client
import json
import os
from urllib.parse import quote, urlencode

from glance import errors

CHUNK_SIZE = 1024 * 1024
BOOLEANS = ("is_public", "protected", "deleted")
INTEGERS = ("size", "min_ram", "min_disk")


# The seed's names for the classes of :mod:`glance.errors`: every error a
# server answers is a ``ClientError`` with ``status`` and the server's ``message``.
ClientError = errors.StatusError
BadRequest = errors.BadRequest
NotAuthorized = errors.Unauthorized
Forbidden = errors.Forbidden
NotFound = errors.NotFound
Duplicate = errors.Conflict
StorageFull = errors.TooLarge


class ServerError(errors.StatusError):
    """A 5xx answer (registry or store unavailable, internal error)."""


def meta_to_headers(meta):
    """``{"name": ..., "properties": {...}}`` -> x-image-meta-* headers."""
    headers = {}
    for key, value in (meta or {}).items():
        if key == "properties":
            for name, prop in (value or {}).items():
                headers[f"x-image-meta-property-{name}"] = _header(prop)
        else:
            headers[f"x-image-meta-{key}"] = _header(value)
    return headers


def _header(value):
    if value is None:
        return ""
    return str(value).encode("utf-8").decode("latin-1")


def meta_from_headers(headers):
    """x-image-meta-* response headers -> an image dict with typed values."""
    meta, properties = {}, {}
    for name, value in headers:
        lower = name.lower()
        value = value.encode("latin-1").decode("utf-8", "replace")
        if lower.startswith("x-image-meta-property-"):
            properties[lower[len("x-image-meta-property-"):]] = value
        elif lower.startswith("x-image-meta-"):
            meta[lower[len("x-image-meta-"):]] = value
    for key in BOOLEANS:
        if key in meta:
            meta[key] = meta[key].lower() == "true"
    for key in INTEGERS:
        if meta.get(key):
            meta[key] = int(meta[key])
    for key, value in list(meta.items()):
        if value == "":
            meta[key] = None
    meta["properties"] = properties
    return meta


def _file_size(data):
    """The bytes left in a seekable file, or None."""
    try:
        if hasattr(data, "fileno"):
            return os.fstat(data.fileno()).st_size - data.tell()
        if hasattr(data, "seek") and hasattr(data, "tell"):
            here = data.tell()
            end = data.seek(0, os.SEEK_END)
            data.seek(here)
            return end - here
    except (OSError, ValueError, AttributeError):
        pass
    return None


def _file_chunks(data):
    while True:
        chunk = data.read(CHUNK_SIZE)
        if not chunk:
            return
        yield chunk


class Client:
    """Client of one glance-api server.

    :param auth_token: sent as X-Auth-Token when given.
    :param headers: extra headers for every request (e.g. the identity
        headers an auth proxy would add: X-Identity-Status, X-Tenant, ...).
    :param timeout: socket timeout in seconds.
    """

    def __init__(self, host, port=9292, *, auth_token=None, headers=None, timeout=60,
                 doc_root="/v1"):
        self.host, self.port, self.timeout = host, port, timeout
        self.auth_token = auth_token
        self.headers = dict(headers or {})
        self.doc_root = doc_root.rstrip("/")

    # -- plumbing ---------------------------------------------------------

    def _send(self, method, path, headers=None, body=None, size=None):
        headers = {**self.headers, **(headers or {})}
        if self.auth_token:
            headers["X-Auth-Token"] = self.auth_token
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                          blocksize=CHUNK_SIZE)
        try:
            if hasattr(body, "read"):
                size = _file_size(body) if size is None else size
                body = _file_chunks(body)
            if body is not None and not isinstance(body, (bytes, str)):
                headers["Content-Type"] = "application/octet-stream"
                if size is not None:
                    headers["Content-Length"] = str(size)
                conn.request(method, self.doc_root + path, body=body, headers=headers,
                             encode_chunked=size is None)
            else:
                conn.request(method, self.doc_root + path, body=body, headers=headers)
            response = conn.getresponse()
        except OSError:
            conn.close()
            raise
        if response.status >= 400:
            message = response.read().decode("utf-8", "replace").strip()
            conn.close()
            message = message or response.reason
            if response.status >= 500:
                raise ServerError(message, response.status)
            raise errors.for_status(response.status, message)
        return conn, response

    def _json(self, method, path, headers=None, body=None, size=None):
        conn, response = self._send(method, path, headers, body, size)
        try:
            raw = response.read()
        finally:
            conn.close()
        return json.loads(raw) if raw.strip() else None

    @staticmethod
    def _query(filters=None, **params):
        pairs = dict(filters or {})
        pairs.update({k: v for k, v in params.items() if v is not None})
        return "?" + urlencode(pairs) if pairs else ""

    # -- images -----------------------------------------------------------

    def get_images(self, filters=None, marker=None, limit=None, sort_key=None, sort_dir=None):
        """Brief list of images (id, name, formats, checksum, size).

        :param filters: e.g. ``{"name": "x", "size_min": 10, "property-distro": "ubuntu"}``.
        :raises BadRequest: a bad filter, marker, limit or sort value.
        """
        query = self._query(filters, marker=marker, limit=limit, sort_key=sort_key,
                            sort_dir=sort_dir)
        return self._json("GET", "/images" + query)["images"]

    def get_images_detailed(self, filters=None, marker=None, limit=None, sort_key=None,
                            sort_dir=None):
        """Full records of images, with properties; same parameters as :meth:`get_images`."""
        query = self._query(filters, marker=marker, limit=limit, sort_key=sort_key,
                            sort_dir=sort_dir)
        return self._json("GET", "/images/detail" + query)["images"]

    def get_image_meta(self, image_id):
        """Metadata of one image (a HEAD request). :raises NotFound:"""
        conn, response = self._send("HEAD", f"/images/{quote(image_id)}")
        conn.close()
        return meta_from_headers(response.getheaders())

    def get_image(self, image_id, chunk_size=CHUNK_SIZE):
        """Metadata and data of one image.

        :returns: ``(meta, chunks)``; iterate ``chunks`` to stream the data.
        :raises NotFound: unknown image, not active, or data missing.
        """
        conn, response = self._send("GET", f"/images/{quote(image_id)}")
        meta = meta_from_headers(response.getheaders())

        def chunks():
            try:
                while True:
                    chunk = response.read(chunk_size)
                    if not chunk:
                        return
                    yield chunk
            finally:
                conn.close()
        return meta, chunks()

    def add_image(self, image_meta=None, image_data=None):
        """Create an image; upload ``image_data`` (bytes, a file object or an iterator).

        A file's size is sent as Content-Length and x-image-meta-size; data of
        unknown size goes chunked.

        :returns: the new image record.
        :raises BadRequest: :raises Duplicate: :raises StorageFull:
        """
        meta = dict(image_meta or {})
        size = None
        if hasattr(image_data, "read"):
            size = _file_size(image_data)
        elif isinstance(image_data, bytes):
            size = len(image_data)
        if size is not None and image_data is not None:
            meta.setdefault("size", size)
        return self._json("POST", "/images", meta_to_headers(meta),
                          self._body(image_data), size)["image"]

    def update_image(self, image_id, image_meta=None, image_data=None, purge_props=None):
        """Change metadata, or upload data to a queued image.

        :param purge_props: True drops properties not named in ``image_meta``;
            None leaves the server's default (purge unless data is sent).
        :raises NotFound: :raises Duplicate: data sent to a non-queued image.
        """
        headers = meta_to_headers(image_meta)
        if purge_props is not None:
            headers["x-glance-registry-purge-props"] = "true" if purge_props else "false"
        size = len(image_data) if isinstance(image_data, bytes) else None
        return self._json("PUT", f"/images/{quote(image_id)}", headers,
                          self._body(image_data), size)["image"]

    @staticmethod
    def _body(data):
        if isinstance(data, bytes):
            return iter([data]) if data else None
        return data

    def delete_image(self, image_id):
        """Delete an image. :raises NotFound: :raises Forbidden: protected."""
        self._json("DELETE", f"/images/{quote(image_id)}")

    # -- members ----------------------------------------------------------

    def get_image_members(self, image_id):
        """``[{"member_id", "can_share"}]`` of an image."""
        return self._json("GET", f"/images/{quote(image_id)}/members")["members"]

    def get_member_images(self, member):
        """``[{"image_id", "can_share"}]`` shared with ``member``."""
        return self._json("GET", f"/shared-images/{quote(member)}")["shared_images"]

    def replace_members(self, image_id, memberships):
        """Set the member list to ``memberships`` ([{"member_id", "can_share"?}])."""
        body = json.dumps({"memberships": list(memberships)})
        self._json("PUT", f"/images/{quote(image_id)}/members",
                   {"Content-Type": "application/json"}, body)

    def add_member(self, image_id, member, can_share=None):
        """Share the image with ``member`` (and set can_share when given)."""
        body = None
        headers = {}
        if can_share is not None:
            body = json.dumps({"member": {"can_share": bool(can_share)}})
            headers["Content-Type"] = "application/json"
        self._json("PUT", f"/images/{quote(image_id)}/members/{quote(member)}", headers, body)

    def delete_member(self, image_id, member):
        """Stop sharing the image with ``member``."""
        self._json("DELETE", f"/images/{quote(image_id)}/members/{quote(member)}")

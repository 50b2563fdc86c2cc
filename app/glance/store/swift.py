"""Swift store: one object per image, large images as a Static Large Object.

Locations hold no credentials: ``swift+http://host:port/auth/v1.0/<container>/<id>``
(the auth URL, then container and object).  Any glance-api node reads and
deletes them with its own ``swift_store_user``/``swift_store_key``, so no key
can leak through a location, a log line or an error message.

The configured credentials go only to the configured auth URL and container:
a location naming another host, auth URL or container is a BadLocation (400
when it is registered) and no request is sent for it.  Seed-era locations
with ``user:key@`` came only from the seed's own writes: they are read and
deleted with the configured credentials (the embedded ones are ignored, never
sent), and registering a new location that carries credentials is refused.

Large images are written as segments ``<id>-00001``… streamed straight from
the request body, then an SLO manifest ``<id>``.  SLO rather than DLO: the
manifest lists every segment with its size and ETag, so Swift refuses to
assemble (and never serves) an image whose segments are missing, and one
``DELETE ?multipart-manifest=delete`` removes the segments with it.
"""
import json
import logging
import re
import threading
from urllib.parse import quote

from glance.store.base import (
    CHUNK_SIZE, BackendError, Duplicate, HashingReader, StoreError)
from glance.store.common import (
    ObjectStore, http_error, range_header, require, timestamp, upload_error)
from glance.store.segment import Peekable, SegmentReader, checked_stream, closing, expect_end

LOG = logging.getLogger(__name__)
MiB = 1024 * 1024
REQUIRED = ("swift_store_auth_address", "swift_store_user", "swift_store_key",
            "swift_store_container")
SEGMENT = re.compile(r"^(.+)-\d{5}$")     # see segment_name


def segment_name(image_id, number):
    """The name of segment ``number`` (from 1) of a large image."""
    return f"{image_id}-{number:05d}"


def image_of(name):
    """The image an object belongs to: its own name, or that of a segment's image."""
    match = SEGMENT.match(name)
    return match.group(1) if match else name


class SwiftStore(ObjectStore):
    """Images in a Swift container; see the module docstring."""

    name = "swift"
    description = "OpenStack Swift"
    service = "Swift"
    schemes = ("swift", "swift+http", "swift+https")
    kind = "container"
    endpoint_name = "authurl"

    def __init__(self, auth_address, user, key, *, auth_version, tenant, container,
                 create_container, large_object_size, chunk_size, retries, timeout):
        super().__init__(auth_address, container)   # the endpoint is the auth URL
        self.user, self.key = user, key
        self.auth_version = str(auth_version)
        self.tenant = tenant
        self.create_container = create_container
        self.large_object_size = large_object_size
        self.chunk_size = chunk_size
        self.retries, self.timeout = retries, timeout
        self._tokens = {}              # (auth_url, user) -> (storage_url, token)
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, conf):
        """Build from ``swift_store_*`` options without contacting Swift.

        :raises NotConfigured: names the missing required options.
        """
        require(conf, REQUIRED, "Swift")
        return cls(conf.swift_store_auth_address, conf.swift_store_user, conf.swift_store_key,
                   auth_version=conf.swift_store_auth_version,
                   tenant=conf.swift_store_tenant,
                   container=conf.swift_store_container,
                   create_container=conf.swift_store_create_container_on_put,
                   large_object_size=int(conf.swift_store_large_object_size * MiB),
                   chunk_size=int(conf.swift_store_large_object_chunk_size * MiB),
                   retries=conf.swift_store_retries, timeout=conf.swift_store_timeout)

    # -- connections -------------------------------------------------------

    def _connect(self):
        from swiftclient import client  # lazy: keeps glance-api small when unused
        # Debug logs would show the first characters of X-Auth-Key.
        client.logger_settings["reveal_sensitive_prefix"] = 0
        auth_url, user, key = self.endpoint, self.user, self.key
        tenant, options = self.tenant, {}
        if self.auth_version != "1":
            if not tenant and ":" in user:
                tenant, user = user.split(":", 1)
            options = {"tenant_name": tenant, "project_name": tenant,
                       "user_domain_name": "Default", "project_domain_name": "Default"}
        with self._lock:
            url, token = self._tokens.get((auth_url, user), (None, None))
        return client.Connection(
            authurl=auth_url, user=user, key=key, auth_version=self.auth_version,
            tenant_name=tenant or None, os_options=options, retries=self.retries,
            starting_backoff=0.5, max_backoff=8, preauthurl=url, preauthtoken=token,
            timeout=self.timeout)

    def _keep_token(self, conn):
        # Reuse the token across requests: tempauth/keystone are not hit per call.
        if conn.url and conn.token:
            with self._lock:
                self._tokens[(conn.authurl, conn.user)] = (conn.url, conn.token)

    def _error(self, exc, what):
        """Turn a client exception into a StoreError whose text holds no secret."""
        if isinstance(exc, StoreError):
            return exc
        status = getattr(exc, "http_status", None)
        if status:
            return http_error("Swift", what, {status}, f"{status} {getattr(exc, 'http_reason', '')}",
                              bad_credentials=status == 401)
        if type(exc).__name__ == "ClientException":   # e.g. keystoneclient missing for auth v2/v3
            text = str(exc).replace(self.key, "***") if self.key else str(exc)
            return BackendError(f"Swift request failed for {what}: {text[:200]}")
        return BackendError(f"Swift request failed ({type(exc).__name__}) for {what}")

    # -- the Store interface -------------------------------------------------

    def add(self, image_id, data, size=None, checksum=None):
        """Stream ``data`` into ``<container>/<image_id>``, segmented when large.

        :raises Duplicate: the object exists already.
        :raises BackendError: Swift failed; every object written is removed.
        """
        reader = HashingReader(data, size, checksum)
        source = Peekable(reader)
        conn, written = self._connect(), []
        what = f"{self.container}/{image_id}"
        try:
            self._prepare(conn, image_id)
            if size is not None and size >= self.large_object_size:
                self._put_large(conn, image_id, reader, source, size, [], written)
            elif size is not None:
                written.append(image_id)
                self._put(conn, image_id, SegmentReader(source, size, exact=True), size)
                expect_end(source)
            else:
                self._put_unknown(conn, image_id, reader, source, written)
            self._keep_token(conn)
            return reader.result(self.location(image_id))
        except Exception as exc:
            error = upload_error(self._error(exc, what), "Swift", what)
            self._remove(conn, written)
            raise error from None
        finally:
            conn.close()    # its sockets would otherwise wait for the garbage collector

    def _prepare(self, conn, image_id):
        try:
            conn.head_container(self.container)
        except Exception as exc:
            if getattr(exc, "http_status", None) != 404:
                raise
            if not self.create_container:
                raise BackendError(f"Swift container {self.container} does not exist and "
                                   "swift_store_create_container_on_put is off") from None
            conn.put_container(self.container)
        try:
            conn.head_object(self.container, image_id)
        except Exception as exc:
            if getattr(exc, "http_status", None) == 404:
                return
            raise
        raise Duplicate(f"Swift already has an object for image {image_id}")

    def _put(self, conn, name, body, length):
        return conn.put_object(self.container, name, body, content_length=length,
                               chunk_size=CHUNK_SIZE, content_type="application/octet-stream")

    def _put_unknown(self, conn, image_id, reader, source, written):
        """Chunked upload: a plain object unless it reaches the large size."""
        first = SegmentReader(source, self.large_object_size)
        written.append(image_id)
        etag = self._put(conn, image_id, first, None)
        if not first.full or not source.more():
            return
        # It turned out large: the object already written becomes segment 1.
        name = segment_name(image_id, 1)
        written.append(name)
        copy_from = f"/{quote(self.container)}/{quote(image_id)}"
        conn.put_object(self.container, name, None, content_length=0,
                        headers={"X-Copy-From": copy_from})
        segments = [{"path": f"/{self.container}/{name}", "etag": etag, "size_bytes": first.count}]
        self._put_large(conn, image_id, reader, source, None, segments, written)

    def _put_large(self, conn, image_id, reader, source, size, segments, written):
        """Stream segments of ``chunk_size`` bytes from ``source``, then the SLO manifest."""
        done = sum(seg["size_bytes"] for seg in segments)
        while True:
            if size is None and not source.more():
                break
            length = None if size is None else min(self.chunk_size, size - done)
            if length == 0:
                expect_end(source)
                break
            name = segment_name(image_id, len(segments) + 1)
            part = SegmentReader(source, length or self.chunk_size, exact=length is not None)
            written.append(name)
            etag = self._put(conn, name, part, length)   # length None: chunked transfer
            segments.append({"path": f"/{self.container}/{name}", "etag": etag,
                             "size_bytes": part.count})
            done += part.count
        reader.verify()              # size and checksum, before the image becomes visible
        written.append(image_id)
        conn.put_object(self.container, image_id, json.dumps(segments),
                        query_string="multipart-manifest=put",
                        content_type="application/octet-stream")

    def _remove(self, conn, names):
        """Delete what a failed upload wrote; stop at the first delete Swift fails.

        Each delete is retried with backoff: with Swift down, trying the other
        segments too held the upload's thread for minutes.  glance-scrubber
        removes what is left once the image is killed.
        """
        for done, name in enumerate(reversed(names)):
            try:
                conn.delete_object(self.container, name)
            except Exception as exc:
                if getattr(exc, "http_status", None) == 404:
                    continue            # already gone
                LOG.error("Could not remove %s/%s and %d more objects after a failed "
                          "upload (glance-scrubber removes them once the image is killed): "
                          "%s", self.container, name, len(names) - done - 1,
                          self._error(exc, name))
                return

    def get(self, uri, offset=0, length=None):
        """Stream the object; the iterator raises BackendError if it ends short.

        :raises NotFound: no such object.
        """
        loc = self._scoped(uri)
        conn = self._connect()
        try:
            resp, body = conn.get_object(loc.container, loc.name, resp_chunk_size=CHUNK_SIZE,
                                         headers=range_header(offset, length))
        except Exception as exc:
            conn.close()
            raise self._error(exc, str(loc)) from None
        self._keep_token(conn)
        size = int(resp.get("content-length", 0))
        return checked_stream(closing(body, conn), size, f"Swift object {loc}",
                              lambda exc: self._error(exc, str(loc))), size

    def get_size(self, uri):
        """:raises NotFound: no such object."""
        loc = self._scoped(uri)
        conn = self._connect()
        try:
            return int(conn.head_object(loc.container, loc.name).get("content-length", 0))
        except Exception as exc:
            raise self._error(exc, str(loc)) from None
        finally:
            conn.close()

    def delete(self, uri):
        """Remove the object, and its segments when it is a manifest.

        :raises NotFound: no such object.
        """
        loc = self._scoped(uri)
        conn = self._connect()
        try:
            head = conn.head_object(loc.container, loc.name)
            if str(head.get("x-static-large-object", "")).lower() == "true":
                conn.delete_object(loc.container, loc.name, query_string="multipart-manifest=delete")
                return
            manifest = head.get("x-object-manifest")    # a DLO written by the seed
            container, _, prefix = (manifest or "").partition("/")
            # The seed's segments are <container>/<id>-NNNNN: never follow a manifest
            # into another container or onto other images' objects.
            if container == self.container and prefix.startswith(loc.name):
                for item in conn.get_container(container, prefix=prefix, full_listing=True)[1]:
                    conn.delete_object(container, item["name"])
            conn.delete_object(loc.container, loc.name)
        except Exception as exc:
            raise self._error(exc, str(loc)) from None
        finally:
            conn.close()

    def _objects(self):
        """``(name, last changed)`` of every object in the container; none if it is missing."""
        conn = self._connect()
        try:
            listing = conn.get_container(self.container, full_listing=True)[1]
        except Exception as exc:
            if getattr(exc, "http_status", None) == 404:
                return []
            raise self._error(exc, self.container) from None
        finally:
            conn.close()
        return [(item["name"], timestamp(item["last_modified"])) for item in listing]

    def _image_of(self, name):
        return image_of(name)

    def _delete_object(self, name):
        """Remove one object; already gone is no error."""
        conn = self._connect()
        try:
            conn.delete_object(self.container, name)
        except Exception as exc:
            if getattr(exc, "http_status", None) != 404:
                raise self._error(exc, name) from None
        finally:
            conn.close()

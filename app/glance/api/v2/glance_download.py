"""The glance-download import method: an image's data and metadata from another
region's glance (v2.14's method; the region may be this one).

``{"method": {"name": "glance-download", "glance_image_id": ..., "glance_region": ...,
"glance_service_interface": "public"}}``: the image service of that region and
interface is looked up in the caller's service catalog (``X-Service-Catalog``, set
by keystonemiddleware; noauth trusts it as it trusts identity headers), and the
remote image is read there with the caller's own token, so the caller gets only what
they may read in the other region.

In a background thread: the remote image's record (it must be active), then the
local image takes its disk and container formats and the properties named by
``glance_download_properties`` (while still queued), then the data is streamed in
as web-download does.  A failure before the data moves (no such region, no such
image) leaves the image queued with its properties, and the task failed.

Requests go through the HTTP store, so its address guard applies to the other
glance (``http_store_allow_private`` for one on a private network).
"""
import json
import logging
import threading
import uuid

from glance.api import context
from glance.api.upload import Upload, reading
from glance.api.v2.wire import BASE
from glance.errors import BadRequest, Conflict
from glance.rules import ACTIVE, IMPORTING, QUEUED, is_reserved
from glance.store.base import BackendError

LOG = logging.getLogger("glance.api")
MAX_RECORD = 1024 * 1024         # the remote image's JSON record, in bytes


def check_params(method):
    """The id, region and interface of a glance-download body.  :raises BadRequest:"""
    image_id = method.get("glance_image_id")
    try:
        uuid.UUID(str(image_id))
    except ValueError:
        raise BadRequest("Remote image id does not look like a UUID: "
                         f"{str(image_id)[:40]!r}") from None
    region = method.get("glance_region")
    interface = method.get("glance_service_interface") or "public"
    if not isinstance(region, str) or not region or not isinstance(interface, str):
        raise BadRequest("glance-download needs glance_region (and may name "
                         "glance_service_interface)")
    return str(image_id), region, interface


def endpoint(catalog, region, interface):
    """The URL of the image service of ``region`` and ``interface`` in a service
    catalog (Keystone v3's or v2's form), or None."""
    for service in catalog if isinstance(catalog, list) else ():
        if not isinstance(service, dict) or service.get("type") != "image":
            continue
        for point in service.get("endpoints") or ():
            if not isinstance(point, dict):
                continue
            where = point.get("region_id") or point.get("region")
            if where != region:
                continue
            if point.get("interface") == interface and point.get("url"):
                return point["url"].rstrip("/")
            if point.get(f"{interface}URL"):           # v2 form
                return point[f"{interface}URL"].rstrip("/")
    return None


def wanted(record, prefixes):
    """The properties of a remote v2 image record whose names start with a prefix."""
    return {key: value for key, value in record.items()
            if key not in BASE and not is_reserved(key) and isinstance(value, str)
            and key.startswith(prefixes)}


def start(image, method, task, target, copier=None):
    """Check the request and start the import on a thread (the caller answers 202).

    :raises BadRequest: bad parameters.  :raises Conflict: the image is not queued.
    """
    remote_id, region, interface = check_params(method)
    if image["status"] != QUEUED:
        raise Conflict(f"Image {image['id']} is {image['status']}: only a queued image "
                       "can be imported")
    from flask import request
    # keystone: keystonemiddleware's (it drops a client's own); noauth trusts identity
    # headers, this one too (the HTTP store's address guard applies either way)
    catalog = request.headers.get("X-Service-Catalog")
    conf = context.conf()
    prefixes = tuple(p.strip() for p in conf.glance_download_properties.split(",")
                     if p.strip())
    job = _Job(image["id"], remote_id, region, interface, context.auth_headers(), catalog,
               prefixes,
               Upload.to(image["id"], target, IMPORTING), context.stores(),
               context.registry(), context.service_auth(), task, copier)
    if copier:
        copier.begin()
    threading.Thread(target=job.run, daemon=True,
                     name=f"glance-download-{image['id'][:8]}").start()


class _Job:
    def __init__(self, image_id, remote_id, region, interface, identity, catalog, prefixes,
                 upload, stores, registry, service, task, copier):
        self.image_id, self.remote_id = image_id, remote_id
        self.region, self.interface = region, interface
        # the caller's token (keystone) or identity headers (noauth): the other glance
        # answers what the caller may read there
        self.headers = dict(identity)
        self.catalog, self.prefixes = catalog, prefixes
        self.upload, self.stores, self.registry, self.service = upload, stores, registry, service
        self.task, self.copier = task, copier

    def run(self):
        error = None
        try:
            self._run()
        except Exception as exc:
            error = exc
            LOG.warning("glance-download of image %s failed: %s", self.image_id, exc)
            if self.copier:
                self.copier.abandon()
        finally:
            self.task.finish(error)

    def _run(self):
        try:
            catalog = json.loads(self.catalog) if self.catalog else None
        except ValueError:
            catalog = None
        if catalog is None:
            raise BadRequest("glance-download needs the caller's service catalog "
                             "(X-Service-Catalog)")
        base = endpoint(catalog, self.region, self.interface)
        if base is None:
            raise BadRequest(f"No image service in region {self.region[:64]!r} with "
                             f"interface {self.interface[:32]!r}")
        if not base.endswith("/v2"):
            base += "/v2"
        if not base.startswith(("http://", "https://")):
            raise BadRequest("The image service's URL in the catalog is not http(s)")
        self.http = self.stores.for_uri(base)       # the HTTP store, with its address guard
        record = self._record(f"{base}/images/{self.remote_id}")
        if record.get("status") != ACTIVE:
            raise Conflict(f"Remote image {self.remote_id} is {record.get('status')}, "
                           "not active")
        changes = {"disk_format": record.get("disk_format"),
                   "container_format": record.get("container_format"),
                   "properties": wanted(record, self.prefixes)}
        self.registry.update(self.image_id, changes, headers=self.service.headers(),
                             expect_status=QUEUED, api="v2")
        self.upload.reserve()
        chunks, size = self.http.get_as(f"{base}/images/{self.remote_id}/file",
                                        self.headers)
        with reading(chunks) as reader:
            stored = self.upload.write(reader, size)
        self.upload.activate(stored)
        if self.copier:
            self.copier.first_done()
            self.copier.run()

    def _record(self, url):
        chunks, size = self.http.get_as(url, {**self.headers, "Accept": "application/json"})
        if size > MAX_RECORD:
            raise BackendError(f"The record of remote image {self.remote_id} is too large")
        body = b"".join(chunks)
        try:
            record = json.loads(body)
        except ValueError:
            raise BackendError(f"The record of remote image {self.remote_id} is not "
                               "JSON") from None
        if not isinstance(record, dict):
            raise BackendError(f"The record of remote image {self.remote_id} is not "
                               "an object")
        return record

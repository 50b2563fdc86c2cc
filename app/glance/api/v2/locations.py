"""An image's locations in v2: shown and managed with ``show_multiple_locations``, and
the v2.17 location API (``POST`` and ``GET /v2/images/<id>/locations``).

The registry keeps the locations as it did: ``location`` (the primary one, read
first) then ``copies``; ``location_metadata`` holds each location's metadata,
keyed by URI.  Glance's default policies:

* the ``locations`` of an image's view: its owner project and admins
  (others see ``[]``);
* PATCH ``add`` and ``replace`` on ``/locations``, and ``POST .../locations``:
  the owner project and admins (``POST`` also the ``service`` role);
  PATCH ``remove``: admins only; ``GET .../locations``: the ``service`` role
  and admins.

A caller only ever adds an http(s) URL that the HTTP store's address guard
accepts: a store's own scheme (``file://``, ``swift+…://``, ``s3+…://``) would
make glance read, with its own keys, data it did not write for that image.
Deleting an image never deletes data at such a location (the HTTP store owns
nothing).
"""
import hashlib
import logging
import threading
import time
from urllib.parse import urlsplit

from flask import Blueprint, request

from glance.api import context
from glance.api import images as v1_images
from glance.api.heartbeat import heartbeat
from glance.api.json_body import json_body
from glance.api.v2.import_tasks import ImportTask, web_source, without_credentials
from glance.api.v2.wire import empty, json_response
from glance.errors import BadRequest, Conflict, Forbidden, NotFound, StatusError
from glance.rules import ACTIVE, DEACTIVATED, IMPORTING, QUEUED, READABLE, check_location_count
from glance.store.base import StoreError

LOG = logging.getLogger("glance.api")
bp = Blueprint("v2_locations", __name__)

SERVICE_ROLE = "service"
WEB_SCHEMES = ("http://", "https://")
VALIDATION_KEYS = ("checksum", "os_hash_algo", "os_hash_value")
# How often the background hash asks the registry whether its image is still there.
CANCEL_CHECK_SECONDS = 1.0


# --- reading ------------------------------------------------------------------------

def enabled():
    return context.conf().show_multiple_locations


def may_see(image):
    """Glance's ``get_image_location`` with the option on: the owner project and admins."""
    ctx = context.request_context()
    return ctx.is_admin or (not ctx.anonymous and ctx.owns(image))


def has_locations(image):
    """Does the image's status let its locations be shown?  Not while data is staged or
    written (``location`` is then where the upload goes); a queued image keeps the web
    location whose hash did not match (as Glance does)."""
    status, location = image.get("status"), image.get("location") or ""
    return status in READABLE or (status in (QUEUED, IMPORTING)
                                  and location.startswith(WEB_SCHEMES))


def stored(image):
    """``[(uri, metadata)]`` of an image read with glance's identity, primary first."""
    location = image.get("location")
    if not location or not has_locations(image):
        return []
    metadata = image.get("location_metadata") or {}
    uris = [location] + [uri for uri in image.get("copies") or () if uri != location]
    return [(uri, dict(metadata.get(uri) or {})) for uri in uris]


def shown(image):
    """The ``locations`` of the view: never a ``user:key@`` (glance refuses locations
    carrying one; this is the last guard)."""
    return [{"url": without_credentials(uri), "metadata": metadata}
            for uri, metadata in stored(image)]


def _record(entries):
    """The registry fields of a list of ``(uri, metadata)``, primary first."""
    return {"location": entries[0][0] if entries else None,
            "copies": [uri for uri, _ in entries[1:]],
            "location_metadata": {uri: metadata for uri, metadata in entries if metadata}}


# --- checks -------------------------------------------------------------------------

def check_web_location(url):
    """Only an http(s) URL, without credentials, whose host the HTTP store's guard
    accepts.  :returns: the HTTP store.  :raises BadRequest:"""
    if not isinstance(url, str) or not url.lower().startswith(WEB_SCHEMES):
        raise BadRequest("Only http:// and https:// locations may be added")
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        raise BadRequest("Location URL is not a valid URL") from None
    if "@" in netloc:
        raise BadRequest("A location URL must not carry credentials")
    try:
        return web_source(url)
    except StatusError as exc:
        if exc.status != 400:
            raise
        # Tempest (and clients) recognise this wording of Glance's.
        raise BadRequest(f"Location URL does not pass filtering: {exc}") from None


def _hex_of_size(name, value, size):
    """``value`` is ``size`` bytes of hex.  :raises ValueError: naming ``name``."""
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else None
    except ValueError:
        raw = None
    if raw is None or len(raw) != size:
        raise ValueError(f"{name} must be {size * 2} hexadecimal digits")


def _known_algorithm(algorithm):
    return isinstance(algorithm, str) and algorithm in hashlib.algorithms_guaranteed


def validation_data(data, error):
    """Well-formed ``validation_data``: only checksum, os_hash_algo and os_hash_value;
    a hash value with its algorithm, of that algorithm's size.

    :param error: the exception class to raise (PATCH answers 409 as Glance does, the
        v2.17 POST 400).
    """
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error("validation_data must be a JSON object")
    unknown = set(data) - set(VALIDATION_KEYS)
    if unknown:
        raise error(f"validation_data may not have {', '.join(sorted(unknown))}")
    try:
        if "checksum" in data:
            _hex_of_size("checksum", data["checksum"], 16)
        if "os_hash_value" in data or "os_hash_algo" in data:
            algorithm = data.get("os_hash_algo")
            if "os_hash_value" not in data or algorithm is None:
                raise ValueError("os_hash_algo and os_hash_value come together")
            if not _known_algorithm(algorithm):
                raise ValueError(f"Unknown hash algorithm {algorithm!r}")
            _hex_of_size("os_hash_value", data["os_hash_value"],
                         hashlib.new(algorithm).digest_size)
    except ValueError as exc:
        raise error(f"Invalid validation_data: {exc}") from None
    return {key: data[key].lower() if key != "os_hash_algo" else data[key]
            for key in VALIDATION_KEYS if key in data}


def _new_hash_values(image, data):
    """The image fields ``validation_data`` sets: those it has none of; a value that
    differs from the image's is a 409 (nothing is changed)."""
    new = {}
    for key, value in data.items():
        current = image.get(key)
        if current and current != value:
            raise Conflict(f"{key} is already set with a different value")
        if not current:
            new[key] = value
    if new and image.get("status") != QUEUED:
        raise Conflict(f"New value(s) for {', '.join(new)} may only be provided when the "
                       "image is queued")
    if "os_hash_algo" in new and new["os_hash_algo"] != context.conf().hashing_algorithm:
        raise Conflict(f"os_hash_algo must be {context.conf().hashing_algorithm}, not "
                       f"{new['os_hash_algo']}")
    return new


def _size_of(store, url):
    """The size the web server announces.  :raises BadRequest: it cannot be read."""
    try:
        return store.get_size(url)
    except StoreError as exc:
        raise BadRequest(f"Cannot read the location: {exc}") from None


# --- PATCH on /locations --------------------------------------------------------------

def is_location_op(key):
    return key == "locations" or key.startswith("locations/")


def _position(key, count, for_add):
    """The index of ``/locations/<n>`` or ``-`` (append, add only).  :raises BadRequest:"""
    where = key.partition("/")[2]
    if where == "-" and for_add:
        return count
    if where.isdigit() and int(where) <= (count if for_add else count - 1):
        return int(where)
    raise BadRequest(f"Invalid position for {'adding' if for_add else 'removing'} "
                     "a location")


def _entry(value):
    """``(url, metadata, validation_data)`` of a PATCH location value.  :raises BadRequest:"""
    if not isinstance(value, dict) or not isinstance(value.get("url"), str):
        raise BadRequest("A location is a JSON object with a 'url'")
    unknown = set(value) - {"url", "metadata", "validation_data"}
    if unknown:
        raise BadRequest(f"A location may not have {', '.join(sorted(unknown))}")
    metadata = value.get("metadata", {})
    if not isinstance(metadata, dict):
        raise BadRequest("A location's metadata must be a JSON object")
    return value["url"], metadata, validation_data(value.get("validation_data"), Conflict)


def plan_patch(image, ops):
    """Check every location operation of a PATCH and work out the registry change,
    reading nothing from the image's data and writing nothing.

    :param image: the image as glance sees it (:func:`v1_images.with_location`).
    :param ops: ``[(op, key, value)]`` with ``locations`` keys.
    :returns: ``(changes, removed)``: the registry fields to write (``{}``: none) and
        the URIs taken off the image.
    :raises Forbidden: the option is off; a remove by a non-admin; the last location.
    :raises Conflict: the image's status; validation_data against the image's hashes.
    :raises BadRequest: a position, a URL the guard refuses, a replace changing URLs.
    """
    if not enabled():
        raise Forbidden("It's not allowed to update locations if locations are invisible.")
    ctx = context.request_context()
    original = stored(image)
    before = [uri for uri, _ in original]
    # a queued image's web location whose hash did not match never served it: dropped
    entries = [] if image["status"] == QUEUED else list(original)
    image = dict(image)
    changes, conf = {}, context.conf()
    for op, key, value in ops:
        status = image["status"]
        if op == "remove":
            if not ctx.is_admin:
                raise Forbidden("Only an admin may remove a location of an image")
            if status != ACTIVE:
                raise Conflict(f"It's not allowed to remove locations if image status is "
                               f"{status}.")
            if len(entries) == 1:
                raise Forbidden("Cannot remove last location in the image.")
            entries.pop(_position(key, len(entries), for_add=False))
            continue
        if status not in (ACTIVE, QUEUED):
            raise Conflict(f"It's not allowed to change locations if image status is {status}.")
        if op == "add":
            position = _position(key, len(entries), for_add=True) if key != "locations" \
                else None
            if position is None:
                raise BadRequest("Locations are added at /locations/<n> or /locations/-")
            url, metadata, data = _entry(value)
            store = check_web_location(url)
            if url in (uri for uri, _ in entries):
                raise BadRequest("The image already has that location")
            check_location_count(len(entries) + 1, conf)
            new = _new_hash_values(image, data)
            size = _size_of(store, url)
            if image.get("size") and status == ACTIVE and size != image["size"]:
                raise BadRequest(f"The location holds {size} bytes; the image has "
                                 f"{image['size']}")
            entries.insert(position, (url, metadata))
            if status == QUEUED:
                new.update(status=ACTIVE, size=size)
            image.update(new)
            changes.update(new)
        else:                                   # replace /locations
            if key != "locations" or not isinstance(value, list):
                raise BadRequest("replace takes /locations and a list of locations")
            given = [_entry(item) for item in value]
            if sorted(url for url, _, _ in given) != sorted(uri for uri, _ in entries):
                raise BadRequest("Replacing locations may change their metadata and order, "
                                 "not add, remove or change their URLs")
            merged = {}
            for _, _, data in given:
                for k, v in data.items():
                    if merged.setdefault(k, v) != v:
                        raise Conflict(f"Conflicting values for {k}")
            new = _new_hash_values(image, merged)
            entries = [(url, metadata) for url, metadata, _ in given]
            image.update(new)
            changes.update(new)
    if entries != original:
        changes.update(_record(entries))
    removed = [uri for uri in before if uri not in {uri for uri, _ in entries}]
    return changes, removed


def apply_patch(image, changes, removed):
    """Write what :func:`plan_patch` worked out (glance's identity: the caller was
    authorised there), then remove the data of a removed location glance wrote.

    :raises Conflict: the image changed status meanwhile.
    """
    try:
        image = context.registry().update(image["id"], changes,
                                          headers=context.service_headers(),
                                          expect_status=image["status"])
    except Conflict:
        raise Conflict(f"Image {image['id']} changed status meanwhile; try again") from None
    for uri in removed:
        v1_images.delete_data(image["id"], uri)
    return image


# --- v2.17: POST and GET /v2/images/<id>/locations ----------------------------------

def _has_role(ctx, role):
    return any(r.lower() == role for r in ctx.roles)


def _image(image_id):
    from glance.api.v2.images import get_image      # images imports this module
    return get_image(image_id)


@bp.route("/v2/images/<image_id>/locations", methods=["POST"])
def add_location(image_id):
    """Glance's ``add_image_location``: the owner project, admins, the service role.

    202; the image goes importing, then (in the background) active with the location,
    its size, and, with do_secure_hash, its checksum and hash.
    """
    ctx = context.request_context()
    ctx.check_identity()
    image = _image(image_id)
    if not (ctx.can_modify(image) or _has_role(ctx, SERVICE_ROLE)):
        raise Forbidden("Only the image owner or a service may add a location")
    body = json_body()
    if not isinstance(body, dict) or set(body) - {"url", "validation_data"}:
        raise BadRequest('The body is {"url": ..., "validation_data": {...}}')
    data = validation_data(body.get("validation_data") or None, BadRequest)
    if image["status"] != QUEUED:
        raise Conflict(f"It's not allowed to add locations if image status is "
                       f"{image['status']}.")
    url = body.get("url")
    store = check_web_location(url)
    check_location_count(1, context.conf())
    registry, service = context.registry(), context.service_headers()
    try:        # the import lock: one location import (or upload) at a time
        registry.update(image_id, {"status": IMPORTING}, headers=service,
                        expect_status=QUEUED)
    except Conflict:
        raise Conflict(f"Image {image_id} is no longer queued") from None
    task_input = {"image_id": image_id, "loc_url": without_credentials(url),
                  "validation_data": data}
    try:
        task = ImportTask.begin("location_import", task_input, image_id)
    except Exception:
        registry.update(image_id, {"status": QUEUED}, headers=service,
                        expect_status=IMPORTING)
        raise
    job = LocationImport(image_id, url, data, store, task, registry,
                         context.service_auth(), context.conf())
    threading.Thread(target=job.run, daemon=True,
                     name=f"location-import-{image_id[:8]}").start()
    return empty(202)


@bp.route("/v2/images/<image_id>/locations", methods=["GET"])
def get_locations(image_id):
    """Glance's ``fetch_image_location``: the service role and admins only (checked
    before the image is looked up: no one else learns whether it exists)."""
    ctx = context.request_context()
    ctx.check_identity()
    if not (ctx.is_admin or _has_role(ctx, SERVICE_ROLE)):
        raise Forbidden("Only a service may read the locations of an image")
    try:
        image = context.registry().get(image_id, headers=context.service_headers())
    except NotFound:
        raise NotFound(f"No image found with ID {image_id}") from None
    if image.get("deleted"):
        raise NotFound(f"No image found with ID {image_id}")
    return json_response(shown(image))


class Cancelled(Exception):
    """The image was deleted (maybe through another node) while its data was read."""


class LocationImport:
    """The background part of ``POST .../locations`` (Glance's location_import flow).

    With ``do_secure_hash`` the location is read once: with validation_data the image
    stays importing until the hash matches (else queued again, without hashes, keeping
    the web location as Glance does); without, it is active at once with
    ``os_hash_algo`` set, and the checksum and hash follow.  Every second the reader
    asks the registry whether the image still exists and stops if not.
    """

    def __init__(self, image_id, url, data, store, task, registry, service_auth, conf):
        self.image_id, self.url, self.data, self.store = image_id, url, data, store
        self.task, self.registry, self.service_auth = task, registry, service_auth
        self.secure = conf.do_secure_hash
        self.beat = conf.upload_heartbeat_interval
        self.algorithm = data.get("os_hash_algo") or conf.hashing_algorithm

    def _update(self, values, expect):
        return self.registry.update(self.image_id, values, headers=self.service_auth.headers(),
                                    expect_status=expect)

    def run(self):
        error = None
        try:
            # importing, the image is touched as an upload's is: glance-scrubber and a
            # restarted glance-api kill only the importing images nobody works on
            with heartbeat(self.registry, self.image_id, self.service_auth.headers, self.beat,
                           status=IMPORTING):
                self._run()
        except Cancelled as exc:
            error = exc
            LOG.info("Location import of image %s stopped: the image was deleted",
                     self.image_id)
        except Exception as exc:           # recorded on the task; the image is put back
            error = exc
            LOG.warning("Location import of image %s failed: %s", self.image_id,
                        f"{type(exc).__name__}: {exc}" if isinstance(exc, StatusError)
                        else type(exc).__name__)
            self._back_to_queued()
        self.task.finish(error)

    def _run(self):
        size = self.store.get_size(self.url)
        placed = {"location": self.url, "copies": [], "location_metadata": {}, "size": size}
        if self.secure and self.data:
            self._update({**placed, "os_hash_algo": self.algorithm}, IMPORTING)
            checksum, value = self._hashes()
            if value != self.data["os_hash_value"] or \
                    self.data.get("checksum", checksum) != checksum:
                raise BadRequest(f"os_hash_value ({self.data['os_hash_value']}) does not "
                                 "match the data at the location")
            self._update({"checksum": checksum, "os_hash_value": value, "status": ACTIVE},
                         IMPORTING)
        elif self.secure:
            self._update({**placed, "os_hash_algo": self.algorithm, "status": ACTIVE},
                         IMPORTING)
            try:
                checksum, value = self._hashes()
            except StoreError as exc:       # Glance keeps the image active without them
                LOG.warning("Hash of image %s not computed: %s", self.image_id, exc)
                return
            self._update({"checksum": checksum, "os_hash_value": value}, ACTIVE)
        else:
            self._update({**placed, **self.data, "status": ACTIVE}, IMPORTING)

    def _hashes(self):
        """``(md5, hash)`` of the location's data.  :raises Cancelled: :raises StoreError:"""
        md5, multihash = hashlib.md5(usedforsecurity=False), hashlib.new(self.algorithm)
        chunks, _ = self.store.get(self.url)
        checked = time.monotonic()
        try:
            for chunk in chunks:
                md5.update(chunk)
                multihash.update(chunk)
                if time.monotonic() - checked >= CANCEL_CHECK_SECONDS:
                    self._check_not_deleted()
                    checked = time.monotonic()
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        self._check_not_deleted()
        return md5.hexdigest(), multihash.hexdigest()

    def _check_not_deleted(self):
        try:
            image = self.registry.get(self.image_id, headers=self.service_auth.headers())
        except NotFound:
            raise Cancelled() from None
        if image.get("deleted") or image.get("status") not in (IMPORTING, ACTIVE,
                                                                DEACTIVATED):
            raise Cancelled()

    def _back_to_queued(self):
        """Glance's revert: importing -> queued without hashes (the web location stays)."""
        try:
            self._update({"status": QUEUED, "os_hash_algo": None, "os_hash_value": None,
                          "checksum": None}, IMPORTING)
        except Exception as exc:           # deleted meanwhile, or active already
            LOG.info("Image %s not put back to queued: %s", self.image_id,
                     type(exc).__name__)

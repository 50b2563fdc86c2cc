"""An image's data in several stores (multiple stores only).

An image's ``location`` is where its data was first written; ``copies`` (a
registry field only glance-api writes) lists its copies in other stores.  An
import into several stores (``all_stores``, several names) writes the first
store as any import does and then copies; ``copy-image`` copies an active
image into more stores; ``DELETE /v2/stores/<store>/<id>`` removes one copy.

While copies are made the image shows Glance's ``os_glance_importing_to_stores``
(stores still to do) and ``os_glance_failed_import`` (stores that failed).

A copy is recorded only after its data is complete and its MD5 matches the
image's; a copy that fails, or whose image was deleted meanwhile, is removed
from its store, so no data is left that no image points at.
"""
import logging
import threading

from flask import Blueprint

from glance.api import context
from glance.api.upload import reading
from glance.api.v2.images import get_image
from glance.api.v2.wire import empty
from glance.errors import Conflict, NotFound, StatusError
from glance.rules import ACTIVE, IMPORT_STATE
from glance.store.base import NotFound as DataNotFound, StoreError

LOG = logging.getLogger("glance.api")
bp = Blueprint("v2_copies", __name__)
IMPORTING_TO, FAILED = IMPORT_STATE


def locations(image):
    """Every URI of the image's data: its location first, then its copies."""
    found = [image["location"]] if image.get("location") else []
    return found + [uri for uri in image.get("copies") or () if uri not in found]


def held_by(image, stores):
    """``{store name: uri}`` of the stores here holding the image's data."""
    held = {}
    for uri in locations(image):
        name = stores.name_of(uri)
        if name is not None:
            held.setdefault(name, uri)
    return held


class Copier:
    """Copies one image's data into stores, with glance's own identity.

    Built in the request (it keeps the registry, identity and stores), run
    there or on a thread.
    """

    def __init__(self, image_id, names, task=None, first=None):
        self.image_id = image_id
        self.names = list(names)
        self.task = task            # copy-image's task: finished when every copy is done
        # an import's own store, written before the copies: shown as to do, then done
        self.first = [first] if first else []
        self.registry = context.registry()
        self.service = context.service_auth()
        self.stores = context.stores()

    def _state(self, todo, failed):
        try:
            self.registry.update(self.image_id, {"properties": {
                IMPORTING_TO: ",".join(todo), FAILED: ",".join(failed)}},
                headers=self.service.headers())
        except StatusError as exc:
            LOG.warning("Could not record the copies of image %s: %s", self.image_id, exc)

    def begin(self):
        """Show every store as still to do (before the request answers)."""
        self._state(self.first + self.names, [])

    def first_done(self):
        """The import's own store has the data: only the copies are left."""
        self._state(self.names, [])

    def abandon(self):
        """The data never arrived: every store failed."""
        self._state([], self.first + self.names)

    def run(self):
        """Copy into each store in turn.  :returns: the names that failed."""
        todo, failed = list(self.names), []
        for name in self.names:
            try:
                self.copy_one(name)
            except Exception as exc:
                failed.append(name)
                if isinstance(exc, StatusError):
                    LOG.warning("Copying image %s into store %s failed: %s",
                                self.image_id, name, exc)
                else:
                    LOG.exception("Copying image %s into store %s failed", self.image_id, name)
            todo.remove(name)
            self._state(todo, failed)
        if self.task is not None:
            self.task.finish(StoreCopyError(f"Copying into {', '.join(failed)} failed")
                             if failed else None)
        return failed

    def start(self):
        """:meth:`run` on a thread."""
        thread = threading.Thread(target=self.run, daemon=True,
                                  name=f"copy-image-{self.image_id[:8]}")
        thread.start()

    def copy_one(self, name):
        """Write the active image's data into store ``name`` and record it there."""
        headers = self.service.headers
        image = self.registry.get(self.image_id, headers=headers())
        if image.get("status") != ACTIVE or image.get("deleted"):
            raise Conflict(f"Image {self.image_id} is {image.get('status')}: only an active "
                           "image is copied")
        if name in held_by(image, self.stores):
            return
        target = self.stores.by_name(name)
        source_uri = image["location"]
        chunks, size = self.stores.for_uri(source_uri).get(source_uri)
        with reading(chunks) as reader:
            stored = target.add(self.image_id, reader, size=size)
        try:
            if image.get("checksum") and stored.checksum != image["checksum"]:
                raise StoreCopyError(f"The copy of image {self.image_id} in store {name} "
                                     "does not match its checksum")
            self._record(stored.uri)
        except Exception:
            _remove(target, stored.uri, self.image_id)
            raise

    def _record(self, uri):
        """Add ``uri`` to the image's copies while it is still active (a deleted image
        gets a Conflict: its copy is then removed by the caller)."""
        image = self.registry.get(self.image_id, headers=self.service.headers())
        copies = [u for u in image.get("copies") or () if u != uri] + [uri]
        self.registry.update(self.image_id, {"copies": copies}, expect_status=ACTIVE,
                             headers=self.service.headers())


class StoreCopyError(StoreError):
    """A copy that does not hold the image's data."""


def _remove(store, uri, image_id):
    try:
        store.delete(uri)
    except DataNotFound:
        pass
    except StoreError as exc:
        LOG.error("Could not remove a copy of image %s from its store: %s", image_id, exc)


@bp.route("/v2/stores/<store_name>/<image_id>", methods=["DELETE"])
def delete_from_store(store_name, image_id):
    """Remove the image's data from one store; it keeps its other copies (204).

    404: no such store, or the image is not in it; 409: the image is not active, or
    that store holds its only copy (delete the image instead).
    """
    ctx = context.request_context()
    ctx.check_identity()
    stores = context.stores()
    if not stores.multiple or store_name not in stores.listed():
        raise NotFound(f"Unknown store {store_name}")
    image = get_image(image_id)
    ctx.check_stores()
    if image["status"] != ACTIVE:
        raise Conflict(f"Image {image_id} is {image['status']}: data is deleted from a "
                       "store only of an active image")
    held = held_by(image, stores)
    uri = held.get(store_name)
    if uri is None:
        raise NotFound(f"Image {image_id} is not in store {store_name}")
    rest = [u for u in locations(image) if u != uri]
    if not rest:
        raise Conflict(f"Store {store_name} holds the only copy of image {image_id}: "
                       "delete the image instead")
    # The record first: it never points at data that is gone.
    context.registry().update(image_id, {"location": rest[0], "copies": rest[1:]},
                              expect_status=ACTIVE, headers=context.service_headers())
    if stores.owns(uri, image_id):
        _remove(stores.by_name(store_name), uri, image_id)
    return empty(204)

"""glance-scrubber's work: deleted images' data, crashed uploads and what they left.

One run, in this order:

1. An image ``saving``, ``uploading`` or ``importing`` whose ``updated_at`` is
   older than ``saving_stale_time`` is a crashed upload (a live one touches its
   image every ``upload_heartbeat_interval`` seconds): it becomes ``killed``
   (:mod:`glance.stale`, shared with glance-api's start).
2. Every image ``pending_delete`` for ``scrub_time`` seconds (``delayed_delete``)
   has its data deleted and becomes ``deleted``.
3. Leftovers in the stores older than ``saving_stale_time`` (each store's
   ``leftovers``): ``.part`` files and incomplete S3 multipart uploads of images
   no upload holds, and files, objects and Swift segments of killed or deleted
   images.  Data of active, queued, pending_delete and busy (saving, uploading,
   importing) images is never touched.
4. Tasks: one left pending or processing for ``task_time_to_live`` hours (its
   glance-api died) fails; one past its ``expires_at`` is deleted.

Only data an image stored itself is deleted (``StoreMap.owns``): a location
registered from elsewhere stays.  Like Glance's, the scrubber reads the
registry database directly.  With
``dry_run`` it only reports (through ``report``) what it would do.
"""
import datetime
import logging
import time

import sqlalchemy as sa

from glance import stale
from glance.registry import db
from glance.registry.models import Image, utcnow
from glance.registry.serialize import load
from glance.registry.task_models import Task
from glance.rules import DELETED, KILLED, PENDING_DELETE, SAVING
from glance.store import build_stores
from glance.store.base import NotFound, StoreError
from glance.task_rules import FAILURE, NEXT

LOG = logging.getLogger(__name__)
GONE = (KILLED, DELETED)      # images whose whole files and objects may go


class Scrubber:
    """One scrubber: a database engine and the stores of the configuration.

    :param dry_run: report what would be done, change nothing.
    :param report: called with one line per action (done or, with dry_run, planned).
    """

    def __init__(self, conf, engine=None, stores=None, dry_run=False, report=None):
        self.scrub_time = conf.scrub_time
        self.stale_time = conf.saving_stale_time
        self.task_ttl = conf.task_time_to_live
        self.engine = engine or db.make_engine(conf.sql_connection, conf.sql_idle_timeout)
        self.stores = stores or build_stores(conf)
        self.dry_run = dry_run
        self.report = report or (lambda line: LOG.info("%s", line))

    def _do(self, verb, done, what, action):
        """Run ``action`` and report ``<done> <what>``; a dry run reports ``Would <verb> <what>``."""
        if self.dry_run:
            self.report(f"Would {verb} {what}")
            return
        action()
        self.report(f"{done} {what}")

    def run(self):
        """One whole scrub (see the module docstring).

        :returns: ``(done, failed)`` counts of actions.
        """
        killed = self.kill_stale_uploads()
        scrubbed, failed = self.scrub()
        removed, not_removed = self.remove_leftovers()
        tasks = self.expire_tasks()
        return killed + scrubbed + removed + tasks, failed + not_removed

    # -- 1. crashed uploads ------------------------------------------------------

    def kill_stale_uploads(self):
        """Kill every busy image whose heartbeat stopped (:mod:`glance.stale`);
        returns how many (a dry run: would)."""
        count = 0
        images = DatabaseImages(self.engine, write=not self.dry_run)
        for image_id, status, updated_at in stale.kill_stale_uploads(images, self.stale_time):
            verb = "Would kill" if self.dry_run else "Killed"
            self.report(f"{verb} image {image_id}: {status} and untouched since "
                        f"{updated_at:%Y-%m-%d %H:%M:%S}")
            count += 1
        return count

    # -- 2. delayed deletes --------------------------------------------------------

    def due(self):
        """Images whose data may now be removed: ``(id, [uri, ...])`` pairs, the
        location first, then its copies in other stores."""
        cutoff = utcnow() - datetime.timedelta(seconds=self.scrub_time)
        query = (sa.select(Image.id, Image.location, Image.copies)
                 .where(Image.status == PENDING_DELETE, Image.deleted_at <= cutoff)
                 .order_by(Image.deleted_at))
        with self.engine.connect() as conn:
            return [(image_id, ([location] if location else []) + load(copies, []))
                    for image_id, location, copies in conn.execute(query)]

    def scrub(self):
        """Delete the data of every due image.

        :returns: ``(scrubbed, failed)`` counts; a failed image stays
            ``pending_delete`` and is tried again next time.
        """
        scrubbed = failed = 0
        for image_id, uris in self.due():
            try:
                self._do("scrub", "Scrubbed", f"image {image_id}",
                         lambda image_id=image_id, uris=uris:
                         self._scrub_one(image_id, uris))
            except StoreError as exc:
                LOG.error("Could not delete data of image %s: %s", image_id, exc)
                failed += 1
                continue
            scrubbed += 1
        return scrubbed, failed

    def _scrub_one(self, image_id, locations):
        for location in locations:
            try:
                if self.stores.owns(location, image_id):
                    self.stores.for_uri(location).delete(location)
                else:
                    LOG.info("Image %s did not store the data at its location: left in place",
                             image_id)
            except NotFound:
                LOG.info("Data of image %s was already gone", image_id)
        with self.engine.begin() as conn:
            conn.execute(sa.update(Image).where(Image.id == image_id,
                                                Image.status == PENDING_DELETE)
                         .values(status=DELETED))

    # -- 3. leftovers ------------------------------------------------------------

    def leftovers(self):
        """Every leftover the scrubber may remove now."""
        cutoff = time.time() - self.stale_time
        found = []
        for name, store in self.stores.configured().items():
            try:
                found.extend(store.leftovers(cutoff))
            except StoreError as exc:
                LOG.error("Cannot list the %s store: %s", name, exc)
        statuses = self._statuses({item.image_id for item in found})
        return [item for item in found if _removable(item, statuses.get(item.image_id))]

    def _statuses(self, image_ids):
        if not image_ids:
            return {}
        query = sa.select(Image.id, Image.status).where(Image.id.in_(sorted(image_ids)))
        with self.engine.connect() as conn:
            return dict(conn.execute(query).all())

    def remove_leftovers(self):
        """Remove what :meth:`leftovers` finds; returns ``(removed, failed)``."""
        removed = failed = 0
        for item in self.leftovers():
            try:
                self._do("remove", "Removed", f"{item.what} (image {item.image_id})", item.remove)
                removed += 1
            except Exception as exc:      # one stuck object must not stop the rest
                LOG.error("Could not remove %s: %s", item.what, exc)
                failed += 1
        return removed, failed

    # -- 4. tasks ------------------------------------------------------------------

    def expire_tasks(self, now=None):
        """Fail the tasks left unfinished ``task_time_to_live`` hours, delete the expired.

        :returns: how many tasks were (or, with dry_run, would be) failed or deleted.
        """
        now = now or utcnow()
        hours = datetime.timedelta(hours=self.task_ttl)
        unfinished = sa.and_(Task.status.in_(list(NEXT)), Task.updated_at <= now - hours)
        expired = Task.expires_at <= now
        with self.engine.connect() as conn:
            counts = [conn.execute(sa.select(sa.func.count()).select_from(Task).where(which)
                                   ).scalar_one() for which in (unfinished, expired)]
        message = (f"The task made no progress for {self.task_ttl} hours: the glance-api "
                   "running it stopped")

        def fail():
            with self.engine.begin() as conn:
                conn.execute(sa.update(Task).where(unfinished).values(
                    status=FAILURE, message=message, updated_at=now, expires_at=now + hours))

        def delete():
            with self.engine.begin() as conn:
                conn.execute(sa.delete(Task).where(expired))

        if counts[0]:
            self._do("fail", "Failed", f"{counts[0]} unfinished tasks", fail)
        if counts[1]:
            self._do("delete", "Deleted", f"{counts[1]} expired tasks", delete)
        return sum(counts)


class DatabaseImages:
    """The images as :func:`glance.stale.kill_stale_uploads` reads and kills them, in
    the registry database.

    :param write: False (a dry run): ``kill`` only says it would.
    """

    def __init__(self, engine, write=True):
        self.engine = engine
        self.write = write

    def untouched(self, status, cutoff):
        query = (sa.select(Image.id, Image.updated_at, Image.location)
                 .where(Image.status == status, Image.deleted == sa.false(),
                        Image.updated_at <= cutoff))
        with self.engine.connect() as conn:
            return [(image_id, updated_at, bool(location))
                    for image_id, updated_at, location in conn.execute(query)]

    def kill(self, image_id, status, cutoff):
        if not self.write:
            return True
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(Image).where(
                Image.id == image_id, Image.status == status, Image.deleted == sa.false(),
                Image.updated_at <= cutoff).values(status=KILLED, updated_at=utcnow()))
        return done.rowcount == 1


def _removable(item, status):
    """Partial data of an image no upload holds; whole data only of killed or deleted ones.

    An unknown image (no row) is left alone: the store may be shared.  A busy
    image's data is never touched, however old: a long stage or web-download
    keeps one multipart upload for as long as it runs.
    """
    if status is None or status in stale.BUSY:
        return False
    return item.partial or status in GONE

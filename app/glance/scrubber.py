"""glance-scrubber's work: deleted images' data, crashed uploads and what they left.

One run, in this order:

1. An image ``saving`` whose ``updated_at`` is older than ``saving_stale_time``
   is a crashed upload (a live one touches its image every
   ``upload_heartbeat_interval`` seconds): it becomes ``killed``.
2. Every image ``pending_delete`` for ``scrub_time`` seconds (``delayed_delete``)
   has its data deleted and becomes ``deleted``.
3. Leftovers in the stores older than ``saving_stale_time``: stale ``.part``
   files and incomplete S3 multipart uploads of any image that is not
   ``saving``, and files, objects and Swift segments of killed or deleted images.
   Data of active, queued, saving and pending_delete images is never touched.
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

from glance.registry import db
from glance.registry.models import Image, utcnow
from glance.registry.task_models import Task
from glance.store import build_stores
from glance.store import leftovers as store_leftovers
from glance.store.base import NotFound, StoreError
from glance.task_rules import FAILURE, NEXT

LOG = logging.getLogger(__name__)
GONE = ("killed", "deleted")      # images whose whole files and objects may go


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

    def stale_uploads(self):
        """``(id, updated_at)`` of saving images untouched for ``saving_stale_time``."""
        cutoff = utcnow() - datetime.timedelta(seconds=self.stale_time)
        query = (sa.select(Image.id, Image.updated_at)
                 .where(Image.status == "saving", Image.deleted == sa.false(),
                        Image.updated_at <= cutoff))
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query)]

    def kill_stale_uploads(self):
        """Set every stale ``saving`` image ``killed``; returns how many."""
        count = 0
        for image_id, updated_at in self.stale_uploads():
            self._do("kill", "Killed", f"image {image_id}: saving and untouched since "
                     f"{updated_at:%Y-%m-%d %H:%M:%S}", lambda image_id=image_id: self._kill(image_id))
            count += 1
        return count

    def _kill(self, image_id):
        cutoff = utcnow() - datetime.timedelta(seconds=self.stale_time)
        with self.engine.begin() as conn:
            # Conditional: a heartbeat that came meanwhile keeps the upload alive.
            conn.execute(sa.update(Image).where(Image.id == image_id, Image.status == "saving",
                                                Image.updated_at <= cutoff)
                         .values(status="killed", updated_at=utcnow()))

    # -- 2. delayed deletes --------------------------------------------------------

    def due(self):
        """Images whose data may now be removed: ``(id, location)`` pairs."""
        cutoff = utcnow() - datetime.timedelta(seconds=self.scrub_time)
        query = (sa.select(Image.id, Image.location)
                 .where(Image.status == "pending_delete", Image.deleted_at <= cutoff)
                 .order_by(Image.deleted_at))
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query)]

    def scrub(self):
        """Delete the data of every due image.

        :returns: ``(scrubbed, failed)`` counts; a failed image stays
            ``pending_delete`` and is tried again next time.
        """
        scrubbed = failed = 0
        for image_id, location in self.due():
            try:
                self._do("scrub", "Scrubbed", f"image {image_id}",
                         lambda image_id=image_id, location=location:
                         self._scrub_one(image_id, location))
            except StoreError as exc:
                LOG.error("Could not delete data of image %s: %s", image_id, exc)
                failed += 1
                continue
            scrubbed += 1
        return scrubbed, failed

    def _scrub_one(self, image_id, location):
        try:
            if location and self.stores.owns(location, image_id):
                self.stores.for_uri(location).delete(location)
            elif location:
                LOG.info("Image %s did not store the data at its location: left in place",
                         image_id)
        except NotFound:
            LOG.info("Data of image %s was already gone", image_id)
        with self.engine.begin() as conn:
            conn.execute(sa.update(Image).where(Image.id == image_id,
                                                Image.status == "pending_delete")
                         .values(status="deleted"))

    # -- 3. leftovers ------------------------------------------------------------

    def leftovers(self):
        """Every leftover the scrubber may remove now."""
        cutoff = time.time() - self.stale_time
        found = []
        for store in self.stores.stores.values():
            if isinstance(store, Exception) or store.read_only:
                continue
            try:
                found.extend(store_leftovers.find(store, cutoff))
            except (StoreError, OSError) as exc:
                LOG.error("Cannot list the %s store: %s", store.name, exc)
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
        stale = sa.and_(Task.status.in_(list(NEXT)), Task.updated_at <= now - hours)
        expired = Task.expires_at <= now
        with self.engine.connect() as conn:
            counts = [conn.execute(sa.select(sa.func.count()).select_from(Task).where(which)
                                   ).scalar_one() for which in (stale, expired)]
        message = (f"The task made no progress for {self.task_ttl} hours: the glance-api "
                   "running it stopped")

        def fail():
            with self.engine.begin() as conn:
                conn.execute(sa.update(Task).where(stale).values(
                    status=FAILURE, message=message, updated_at=now, expires_at=now + hours))

        def delete():
            with self.engine.begin() as conn:
                conn.execute(sa.delete(Task).where(expired))

        if counts[0]:
            self._do("fail", "Failed", f"{counts[0]} unfinished tasks", fail)
        if counts[1]:
            self._do("delete", "Deleted", f"{counts[1]} expired tasks", delete)
        return sum(counts)


def _removable(item, status):
    """Partial data of any image not uploading; whole data only of killed or deleted ones.

    An unknown image (no row) is left alone: the store may be shared.
    """
    if status is None:
        return False
    if item.partial:
        return status != "saving"
    return status in GONE


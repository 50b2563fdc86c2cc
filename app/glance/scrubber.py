"""Remove the data of images deleted with ``delayed_delete``.

glance-api marks such images ``pending_delete`` and leaves their data in the
store.  The scrubber, like Glance's, reads the registry database directly:
every image that has been ``pending_delete`` for ``scrub_time`` seconds has
its data deleted and becomes ``deleted``.  Only data the image stored itself
is deleted (``StoreMap.owns``): a location registered from elsewhere stays.
"""
import datetime
import logging

import sqlalchemy as sa

from glance.registry import db
from glance.registry.models import Image, utcnow
from glance.store import build_stores
from glance.store.base import NotFound, StoreError

LOG = logging.getLogger(__name__)


class Scrubber:
    """One scrubber: a database engine and the stores of the configuration."""

    def __init__(self, conf, engine=None, stores=None):
        self.scrub_time = conf.scrub_time
        self.engine = engine or db.make_engine(conf.sql_connection, conf.sql_idle_timeout)
        self.stores = stores or build_stores(conf)

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
                if location and self.stores.owns(location, image_id):
                    self.stores.for_uri(location).delete(location)
                elif location:
                    LOG.info("Image %s did not store the data at its location: left in place",
                             image_id)
            except NotFound:
                LOG.info("Data of image %s was already gone", image_id)
            except StoreError as exc:
                LOG.error("Could not delete data of image %s: %s", image_id, exc)
                failed += 1
                continue
            with self.engine.begin() as conn:
                conn.execute(sa.update(Image).where(Image.id == image_id,
                                                    Image.status == "pending_delete")
                             .values(status="deleted"))
            LOG.info("Scrubbed image %s", image_id)
            scrubbed += 1
        return scrubbed, failed

"""Uploads that died: found and killed alike by glance-api at start and glance-scrubber.

An upload holds its image in a busy status (``saving``: v1 and v2 ``PUT /file``;
``uploading``: v2 stage; ``importing``: v2 web-download) and touches it every
``upload_heartbeat_interval`` seconds (:mod:`glance.api.heartbeat`).  An image
busy and untouched for ``saving_stale_time`` has no live upload any more: it is
killed, by a compare-and-set on its status *and* on its staleness, so an upload
whose heartbeat arrives meanwhile keeps its image.  A staged image (``uploading``
with its data recorded) waits for its import and is not an upload: it stays.

Only a killed image's partial data may be removed (glance-scrubber does, after
this); the data of an image still busy is never touched.  SQL-free: glance-api
reaches the images through the registry, glance-scrubber through the database.
"""
import datetime

from glance.rules import BUSY, UPLOADING


def utcnow():
    """Naive UTC now, as the registry keeps ``updated_at``."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def kill_stale_uploads(images, stale_time, now=None):
    """Kill every busy image whose heartbeat is older than ``stale_time`` seconds,
    one after the other as the caller iterates (so it reports each at once).

    :param images: the images, through two calls:
        ``untouched(status, cutoff)`` lists ``(id, updated_at, has_data)`` of the
        undeleted images in ``status`` whose ``updated_at`` is at or before
        ``cutoff``; ``kill(id, status, cutoff)`` sets one ``killed`` only if it is
        still so, and returns whether it did.
    :param now: naive UTC; default now.
    :yields: ``(id, status, updated_at)`` of each image killed.
    """
    cutoff = (now or utcnow()) - datetime.timedelta(seconds=stale_time)
    for status in BUSY:
        for image_id, updated_at, has_data in images.untouched(status, cutoff):
            if status == UPLOADING and has_data:
                continue                # staged: waits for POST /import
            if images.kill(image_id, status, cutoff):
                yield image_id, status, updated_at

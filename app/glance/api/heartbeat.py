"""Keep a busy image's ``updated_at`` fresh while its upload runs.

An image whose upload died with its glance-api (SIGKILL, power loss) stays
busy (``saving``, v2 ``uploading`` or ``importing``) and stops being touched;
glance-scrubber and the next glance-api start kill it once it has been
untouched for ``saving_stale_time`` seconds (:mod:`glance.stale`).
A live upload therefore touches its image every ``upload_heartbeat_interval``
seconds, from a thread of its own so that a slow client or store does not
delay the beat.
"""
import logging
import threading
from contextlib import contextmanager

from glance.errors import Conflict
from glance.rules import SAVING

LOG = logging.getLogger("glance.api")


def touch(registry, image_id, headers, status=SAVING):
    """Refresh ``updated_at`` of a ``saving`` (``status``) image.

    :param headers: gives the headers to send.
    :returns: False if the image is no longer ``saving`` (deleted or killed).
    """
    try:
        registry.update(image_id, {}, headers=headers(), expect_status=status)
    except Conflict:
        return False
    except Exception as exc:     # registry or Keystone briefly down: try again next beat
        LOG.warning("Heartbeat of image %s failed: %s", image_id, exc)
    return True


@contextmanager
def heartbeat(registry, image_id, headers, interval, status=SAVING):
    """Touch the image every ``interval`` seconds until the block ends (0: never).

    :param headers: gives the headers of each touch (glance's identity; a
        Keystone token may be renewed during a long upload).
    :param status: the status the upload holds the image in (v2 import: uploading, importing).
    """
    if not interval or interval <= 0:
        yield
        return
    stop = threading.Event()

    def beat():
        while not stop.wait(interval):
            if not touch(registry, image_id, headers, status):
                LOG.info("Image %s left '%s' during its upload", image_id, status)
                return

    thread = threading.Thread(target=beat, daemon=True, name=f"heartbeat-{image_id[:8]}")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)

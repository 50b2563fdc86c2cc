"""At glance-api start: kill the uploads that died with a previous glance-api.

An image busy (``saving``, ``uploading``, ``importing``) with no heartbeat for
``saving_stale_time`` has no glance-api uploading it any more (see
:mod:`glance.stale`).  glance-api kills such images through the registry when
it starts, so users see them fail rather than hang; glance-scrubber does the
same and removes their partial data.
"""
import datetime
import logging
import threading

from glance import stale
from glance.errors import Conflict
from glance.rules import KILLED

LOG = logging.getLogger("glance.api")
PAGE = 100


def service_headers(app):
    """Headers glance-api's own writes to the registry carry ({} without a service user)."""
    service = app.extensions["glance"].get("service_auth")
    return service.headers() if service is not None else {}


class RegistryImages:
    """The images as :func:`glance.stale.kill_stale_uploads` reads and kills them, through
    the registry with glance-api's own identity."""

    def __init__(self, registry, headers):
        self.registry = registry
        self.headers = headers

    def untouched(self, status, cutoff):
        found, marker = [], None
        while True:
            params = [("status", status), ("is_public", "none"), ("limit", str(PAGE)),
                      ("sort_key", "id"),
                      ("sort_dir", "asc")] + ([("marker", marker)] if marker else [])
            page = self.registry.list(detail=True, params=params, headers=self.headers)
            for image in page:
                updated_at = datetime.datetime.fromisoformat(image["updated_at"])
                if updated_at <= cutoff:
                    found.append((image["id"], updated_at, bool(image.get("location"))))
            if len(page) < PAGE:
                return found
            marker = page[-1]["id"]

    def kill(self, image_id, status, cutoff):
        try:
            self.registry.update(image_id, {"status": KILLED}, headers=self.headers,
                                 expect_status=status, untouched_since=cutoff)
        except Conflict:           # its upload came back to life, or it moved on
            return False
        return True


def kill_stale_uploads(app):
    """Kill every busy image whose heartbeat stopped; never raises.

    :returns: the ids killed.
    """
    ext = app.extensions["glance"]
    stale_time = ext["conf"].saving_stale_time
    killed = []
    try:
        images = RegistryImages(ext["registry"], service_headers(app))
        for image_id, status, _ in stale.kill_stale_uploads(images, stale_time):
            LOG.warning("Image %s was %s with no heartbeat for over %d s (its upload "
                        "died): set to 'killed'", image_id, status, stale_time)
            killed.append(image_id)
    except Exception as exc:     # registry down: the scrubber does it later
        LOG.error("Could not check for crashed uploads: %s", exc)
    return killed


def start_recovery(app):
    """Run :func:`kill_stale_uploads` in the background: start-up does not wait for it."""
    conf = app.extensions["glance"]["conf"]
    if not 0 < conf.upload_heartbeat_interval * 2 <= conf.saving_stale_time:
        LOG.warning("upload_heartbeat_interval (%d s) should be at most half of "
                    "saving_stale_time (%d s), else live uploads may be killed",
                    conf.upload_heartbeat_interval, conf.saving_stale_time)
    thread = threading.Thread(target=kill_stale_uploads, args=(app,), daemon=True,
                              name="recovery")
    thread.start()
    return thread

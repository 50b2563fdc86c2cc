"""glance-api at start: wait for glance-registry, then check for crashed uploads.

``make run`` and a package start launch glance-api while glance-registry may
still be opening its database.  glance-api serves at once (requests that need
the registry get 503 until it answers); its check for uploads that died with a
previous glance-api (:func:`glance.api.recovery.kill_stale_uploads`) waits
until the registry's port takes connections, at most ``registry_wait_timeout``
seconds, saying once that it waits.  It runs once per node start: in a thread
of the one process with ``workers = 0``, else in one short-lived process the
parent starts beside its workers.
"""
import logging
import socket
import threading
import time
from urllib.parse import urlsplit

from glance.api.recovery import kill_stale_uploads

LOG = logging.getLogger("glance.api")
PROBE_TIMEOUT = 1.0        # seconds one connection attempt may take
PROBE_INTERVAL = 0.5       # seconds between attempts


def registry_address(app):
    """``(host, port)`` glance-api's registry client connects to."""
    base = urlsplit(app.extensions["glance"]["registry"].base)
    return base.hostname, base.port


def answers(address):
    try:
        with socket.create_connection(address, timeout=PROBE_TIMEOUT):
            return True
    except OSError:
        return False


def wait_for_registry(address, timeout, clock=time.monotonic, sleep=time.sleep):
    """Wait until ``address`` takes connections; at most ``timeout`` seconds.

    :returns: whether it does.
    """
    began = clock()
    where = "%s:%s" % address
    waiting = False
    while not answers(address):
        waited = clock() - began
        if waited >= timeout:
            LOG.warning("glance-registry at %s did not answer within %d s: glance-api serves, "
                        "and crashed uploads are left to glance-scrubber", where, timeout)
            return False
        if not waiting:
            LOG.info("Waiting up to %d s for glance-registry at %s to check for crashed "
                     "uploads", timeout, where)
            waiting = True
        sleep(min(PROBE_INTERVAL, timeout - waited))
    if waiting:
        LOG.info("glance-registry at %s answers after %.1f s", where, clock() - began)
    return True


def check_crashed_uploads(app):
    """Once the registry answers, kill the uploads that died (never raises)."""
    conf = app.extensions["glance"]["conf"]
    if not 0 < conf.upload_heartbeat_interval * 2 <= conf.saving_stale_time:
        LOG.warning("upload_heartbeat_interval (%d s) should be at most half of "
                    "saving_stale_time (%d s), else live uploads may be killed",
                    conf.upload_heartbeat_interval, conf.saving_stale_time)
    if wait_for_registry(registry_address(app), conf.registry_wait_timeout):
        kill_stale_uploads(app)


def check_in_background(app):
    """:func:`check_crashed_uploads` in a thread: serving does not wait for it."""
    thread = threading.Thread(target=check_crashed_uploads, args=(app,), daemon=True,
                              name="crashed-uploads")
    thread.start()
    return thread

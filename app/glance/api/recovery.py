"""At glance-api start: kill the uploads that died with a previous glance-api.

An image ``saving`` whose ``updated_at`` is older than ``saving_stale_time``
has had no heartbeat for that long (see :mod:`glance.api.heartbeat`), so no
glance-api is uploading it any more.  glance-api sets such images ``killed``
through the registry when it starts, so users see them fail rather than hang;
glance-scrubber removes their partial data.  A v2 web-download import
(``importing``) has the same heartbeat and is settled the same way; a staged
image (``uploading``) may rightly wait for its import, so it is left alone.
"""
import datetime
import logging

LOG = logging.getLogger("glance.api")
PAGE = 100
BUSY = ("saving", "importing")      # statuses an upload holds with its heartbeat


def service_headers(app):
    """Headers glance-api's own writes to the registry carry ({} without a service user)."""
    service = app.extensions["glance"].get("service_auth")
    return service.headers() if service is not None else {}


def stale_uploads(registry, headers, stale_time, now=None, status="saving"):
    """Ids of ``status`` (saving) images untouched for ``stale_time`` seconds."""
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    cutoff = now - datetime.timedelta(seconds=stale_time)
    found, marker = [], None
    while True:
        params = [("status", status), ("is_public", "none"), ("limit", str(PAGE)),
                  ("sort_key", "id"),
                  ("sort_dir", "asc")] + ([("marker", marker)] if marker else [])
        page = registry.list(detail=True, params=params, headers=headers)
        found += [image["id"] for image in page
                  if datetime.datetime.fromisoformat(image["updated_at"]) <= cutoff]
        if len(page) < PAGE:
            return found
        marker = page[-1]["id"]


def kill_stale_uploads(app):
    """Set every stale ``saving`` (or ``importing``) image ``killed``; never raises.

    :returns: the ids killed.
    """
    ext = app.extensions["glance"]
    registry, stale_time = ext["registry"], ext["conf"].saving_stale_time
    killed = []
    try:
        headers = service_headers(app)
        for status in BUSY:
            for image_id in stale_uploads(registry, headers, stale_time, status=status):
                registry.update(image_id, {"status": "killed"}, headers=headers,
                                expect_status=status)
                LOG.warning("Image %s was %s with no heartbeat for over %d s (its upload "
                            "died): set to 'killed'", image_id, status, stale_time)
                killed.append(image_id)
    except Exception as exc:     # registry down: the scrubber does it later
        LOG.error("Could not check for crashed uploads: %s", exc)
    return killed


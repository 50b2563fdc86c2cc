"""What the object stores share: locations, required options, errors.

Both keep an image as an object in a container (a bucket for S3) behind an
HTTP endpoint, so they parse the same kind of location and turn the same
HTTP answers into the same StoreErrors.
"""
from urllib.parse import urlsplit

from glance.store.base import (
    BackendError, BadLocation, NotConfigured, NotFound, StorageFull, WriteDenied)


def parse_location(uri, schemes, wrong_scheme, malformed):
    """Split ``scheme://[credentials@]host[/path]/<container>/<object>``.

    ``<scheme>+http`` means http, any other scheme https.

    :param wrong_scheme: the BadLocation message when ``uri`` has another scheme.
    :param malformed: the BadLocation message when a part is missing.
    :returns: ``(credentials or None, endpoint URL, container, object)``.
    """
    scheme, sep, rest = uri.partition("://")
    if scheme not in schemes or not sep:
        raise BadLocation(wrong_scheme)
    credentials = None
    if "@" in rest:
        # A secret may contain "/": split at the last "@".
        credentials, _, rest = rest.rpartition("@")
    parts = rest.split("/")
    if len(parts) < 3 or not all(parts[-2:]) or not parts[0]:
        raise BadLocation(malformed)
    http = "http" if scheme.endswith("+http") else "https"
    return credentials, f"{http}://" + "/".join(parts[:-2]), parts[-2], parts[-1]


def endpoint_key(url):
    """What makes two endpoint URLs the same: scheme, host, port and path, normalised."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port, parts.path.rstrip("/")


def check_scope(service, endpoint, container, own_endpoint, own_container, kind):
    """Our credentials go to our endpoint and container only.

    :raises BadLocation: ``endpoint``/``container`` differ from the configured ones;
        the message names neither host nor credentials.
    """
    if endpoint_key(endpoint) != endpoint_key(own_endpoint) or container != own_container:
        raise BadLocation(f"{service} location is not in this store: only the configured "
                          f"endpoint and {kind} are used with the configured credentials")


class ScopedLocations:
    """``check_location`` and ``owns`` of an object store.

    The store defines ``service`` and ``_scoped(uri)``, which parses ``uri``,
    raises BadLocation outside the configured endpoint and container, and
    returns a location with ``credentials`` (seed-era ``user:key@``, or None)
    and ``name`` (the object's).
    """

    service = ""

    def check_location(self, uri):
        """Accept a location to register: in this store, without credentials.

        :raises BadLocation: not this store's kind of location, another endpoint
            or container, or ``user:key@`` in it.
        """
        if self._scoped(uri).credentials is not None:
            raise BadLocation(f"{self.service} locations must not carry credentials: the "
                              "store uses its configured ones")

    def owns(self, uri, image_id):
        """Is ``uri`` the object ``add(image_id)`` writes (seed-era credentials ignored)?"""
        try:
            return self._scoped(uri).name == image_id
        except BadLocation:
            return False


def require(conf, names, service):
    """:raises NotConfigured: naming every option of ``names`` that is unset."""
    missing = [name for name in names if not conf.get(name)]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise NotConfigured(
            f"{service} store is not configured: {', '.join(missing)} {verb} required")


def range_header(offset, length):
    """``{"Range": ...}`` for ``length`` bytes from ``offset``; ``{}`` for the whole object."""
    if not offset and length is None:
        return {}
    end = "" if length is None else offset + length - 1
    return {"Range": f"bytes={offset}-{end}"}


def http_error(service, what, statuses, answer, bad_credentials=False):
    """The StoreError for an HTTP error answer of ``service``; its text holds no secret.

    :param statuses: the HTTP status and any status the backend's error code stands for.
    :param answer: the status as the backend gave it, for the message of other errors.
    :param bad_credentials: the backend refused the credentials.
    """
    if 404 in statuses:
        return NotFound(f"{service} could not find {what}")
    if statuses & {413, 507}:
        return StorageFull(f"{service} is out of space storing {what}")
    if bad_credentials:
        return BackendError(f"{service} refused the configured credentials")
    if 403 in statuses:
        return WriteDenied(f"{service} denied access to {what}")
    return BackendError(f"{service} answered {answer} for {what}")


def upload_error(error, service, what):
    """``error`` as an upload reports it: NotFound means the container vanished meanwhile."""
    if isinstance(error, NotFound):
        return BackendError(f"{service} lost {what} during the upload")
    return error

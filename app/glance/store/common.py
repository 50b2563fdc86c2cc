"""What the object stores share: locations, leftovers, required options, errors.

Both keep an image as an object in a container (a bucket for S3) behind an
HTTP endpoint, so they make and parse the same kind of location, list what
they hold the same way and turn the same HTTP answers into the same StoreErrors.
"""
import datetime
import functools
from urllib.parse import urlsplit

from glance.store.base import (
    BackendError, BadLocation, Leftover, NotConfigured, NotFound, StorageFull, WriteDenied)


class ObjectLocation:
    """A parsed ``<prefix>+http(s)://[credentials@]host[/path]/<container>/<name>``.

    ``endpoint`` is the URL before the container (Swift's auth URL, S3's
    endpoint): ``<prefix>+http`` means http, any other scheme https.
    ``credentials`` is a seed-era ``user:key@``, or None; it is never used.
    """

    def __init__(self, credentials, endpoint, container, name):
        self.credentials = credentials
        self.endpoint = endpoint
        self.container = container
        self.name = name

    @classmethod
    def parse(cls, uri, store):
        """:raises BadLocation: not one of ``store.schemes``, or a part is missing."""
        scheme, sep, rest = uri.partition("://")
        if scheme not in store.schemes or not sep:
            raise BadLocation(f"Not a location of the {store.service} store")
        credentials = None
        if "@" in rest:
            # A secret may contain "/": split at the last "@".
            credentials, _, rest = rest.rpartition("@")
        parts = rest.split("/")
        if len(parts) < 3 or not all(parts[-2:]) or not parts[0]:
            raise BadLocation(f"{store.service} location must be {store.schemes[0]}+http(s)://"
                              f"{store.endpoint_name}/{store.kind}/object")
        http = "http" if scheme.endswith("+http") else "https"
        return cls(credentials, f"{http}://" + "/".join(parts[:-2]), parts[-2], parts[-1])

    def __str__(self):
        return f"{self.container}/{self.name}"


def endpoint_key(url):
    """What makes two endpoint URLs the same: scheme, host, port and path, normalised."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port, parts.path.rstrip("/")


class ObjectStore:
    """Locations of an object store (Swift, S3): made, parsed, checked and owned.

    The store sets ``service`` ("Swift"), ``schemes`` (the first is the
    location prefix), ``kind`` ("container"), ``endpoint_name`` ("authurl"),
    and on each instance ``endpoint`` and ``container``.  Locations hold no
    credentials, and the configured ones go to that endpoint and container
    only: any other location is a BadLocation and no request is sent for it.
    """

    service = kind = endpoint_name = ""
    schemes = ()
    read_only = False

    def __init__(self, endpoint, container):
        if "://" not in endpoint:
            endpoint = "https://" + endpoint     # the seed's default scheme
        self.endpoint = endpoint.rstrip("/")
        self.container = container

    def location(self, image_id):
        """The location ``add(image_id)`` writes."""
        http, _, hostpath = self.endpoint.partition("://")
        return f"{self.schemes[0]}+{http}://{hostpath}/{self.container}/{image_id}"

    def _scoped(self, uri):
        """Parse ``uri``.

        :raises BadLocation: not this store's kind of location, or another endpoint or
            container; the message names neither host nor credentials.
        """
        loc = ObjectLocation.parse(uri, self)
        if (endpoint_key(loc.endpoint) != endpoint_key(self.endpoint)
                or loc.container != self.container):
            raise BadLocation(f"{self.service} location is not in this store: only the "
                              f"configured endpoint and {self.kind} are used with the "
                              "configured credentials")
        return loc

    def check_location(self, uri):
        """Accept a location to register: in this store, without credentials.

        :raises BadLocation: not this store's kind of location, another endpoint
            or container, or ``user:key@`` in it.
        """
        if self._scoped(uri).credentials is not None:
            raise BadLocation(f"{self.service} locations must not carry credentials: the "
                              "store uses its configured ones")

    def holds(self, uri):
        """Is ``uri`` in this store's endpoint and container (of two stores of one kind,
        which reads it)?"""
        try:
            self._scoped(uri)
        except BadLocation:
            return False
        return True

    def owns(self, uri, image_id):
        """Is ``uri`` the object ``add(image_id)`` writes (seed-era credentials ignored)?"""
        try:
            return self._scoped(uri).name == image_id
        except BadLocation:
            return False

    def leftovers(self, cutoff):
        """Objects last changed before ``cutoff``, and the driver's partial uploads.

        :raises StoreError: the listing failed.
        """
        for name, changed in self._objects():
            if changed < cutoff:
                yield Leftover(self._image_of(name),
                               f"{self.service} object {self.container}/{name}", False,
                               functools.partial(self._delete_object, name))
        yield from self._partial_uploads(cutoff)

    def _partial_uploads(self, cutoff):
        return ()

    def _image_of(self, name):
        return name


def timestamp(value):
    """A listing's time (naive UTC ISO text, or a datetime) as a POSIX timestamp."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.timestamp()


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

"""The caller as glance-api sees it, and the headers it sends to glance-registry.

The decisions themselves live in :mod:`glance.context`; glance-api asks
them before it acts, and glance-registry asks them again for what reaches it.
"""
from flask import current_app, g, request

from glance.context import IDENTITY_HEADERS, KEYSTONE, for_request


class NoAuthService:
    """glance-api's own identity towards the registry under noauth.

    The user ``glance`` of the project ``service`` with the admin role, as its
    service user is under keystone: it writes what only glance writes (status,
    location, checksum, size) and the memberships of a caller without identity
    (see :func:`glance.api.v2.members.writer_headers`).  glance-registry must
    name the same ``admin_role``.
    """

    USER, PROJECT = "glance", "service"

    def __init__(self, admin_role):
        self.admin_role = admin_role

    def headers(self):
        return {"X-Identity-Status": "Confirmed", "X-User-Id": self.USER,
                "X-Project-Id": self.PROJECT, "X-Roles": self.admin_role}


def request_context():
    """The :class:`glance.context.RequestContext` of the current request."""
    ctx = g.get("glance_ctx")
    if ctx is None:
        ctx = g.glance_ctx = for_request(request.headers, conf())
    return ctx


def auth_headers():
    """The caller's identity, as forwarded to the registry for the caller's own requests.

    keystone: only the token (the registry validates it itself and trusts no
    identity header).  noauth: the identity headers, which are trusted there.
    """
    headers = request.headers
    if conf().auth_strategy == KEYSTONE:
        token = headers.get("X-Auth-Token")
        return {"X-Auth-Token": token} if token else {}
    names = ("X-Identity-Status",) + IDENTITY_HEADERS
    return {name: headers[name] for name in names if name in headers}


def service_auth():
    """glance-api's own identity: ``headers()`` for what only glance writes (status,
    location, checksum, size).  :raises ServiceAuthError: (from ``headers()``) Keystone down."""
    return current_app.extensions["glance"]["service_auth"]


def service_headers():
    """The headers of :func:`service_auth`."""
    return service_auth().headers()


def registry():
    return current_app.extensions["glance"]["registry"]


def stores():
    return current_app.extensions["glance"]["stores"]


def multiple_stores():
    """Glance's multiple stores (``enabled_backends``) are on.  Without them, as in
    Glance, /v2/info/stores is 404 and an import's ``stores``/``all_stores`` are ignored."""
    return stores().multiple


def notifier():
    """The :class:`glance.notifier.Notifier` of image events."""
    return current_app.extensions["glance"]["notifier"]


def cache():
    """This node's :class:`glance.cache.ImageCache`, or None (image_cache_enabled off)."""
    return current_app.extensions["glance"].get("cache")


def conf():
    return current_app.extensions["glance"]["conf"]

"""Every error that goes with an HTTP status: one hierarchy, the status on the class.

glance-api and glance-registry raise these to answer a request, and each
renders every one of them with a single handler.  The registry client
raises the same classes for an error answer (:func:`for_status`), so
``except NotFound`` means the same thing on both sides of the wire.  Store
errors (:mod:`glance.store.base`) derive from :class:`StatusError` too.

No imports: ``glance.client`` stays free of the servers' dependencies.
"""


class StatusError(Exception):
    """A readable ``message`` for the client and the HTTP ``status`` it goes with.

    :param status: another status than the class's (an error answer with an
        unusual one); normally left out.
    :param headers: ``(name, value)`` pairs the answer carries (``Allow``,
        ``Content-Range``, ``Connection: close``).
    """

    status = 500

    def __init__(self, message, status=None, headers=()):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = list(headers)


class BadRequest(StatusError):
    """Input that breaks a rule: a wrong type, value or limit."""

    status = 400


class Unauthorized(StatusError):
    """The request needs an identity and has none."""

    status = 401


class Forbidden(StatusError):
    status = 403


class NotFound(StatusError):
    status = 404


class RequestTimeout(StatusError):
    """The client took too long to send its request (a JSON body past its deadline)."""

    status = 408


class Conflict(StatusError):
    """The resource is not in the state the request needs (a failed compare-and-set)."""

    status = 409


class TooLarge(StatusError):
    """Request entity too large: a body, or more properties or tags than the quota."""

    status = 413


class UnsupportedMediaType(StatusError):
    status = 415


class RangeNotSatisfiable(StatusError):
    status = 416


class BadGateway(StatusError):
    """A backend glance depends on failed."""

    status = 502


class ServiceUnavailable(StatusError):
    """A service glance needs (the registry, Keystone) cannot be reached."""

    status = 503


CLIENT_ERRORS = (BadRequest, Unauthorized, Forbidden, NotFound, RequestTimeout, Conflict,
                 TooLarge, UnsupportedMediaType, RangeNotSatisfiable)


def by_status(*classes):
    """``{status: class}``: which exception an error answer becomes."""
    return {cls.status: cls for cls in classes}


BY_STATUS = by_status(*CLIENT_ERRORS)


def for_status(status, message):
    """The exception of an error answer with ``status`` and ``message``.

    A status without a class of its own keeps its number on a :class:`StatusError`.
    """
    cls = BY_STATUS.get(status)
    return cls(message) if cls is not None else StatusError(message, status)

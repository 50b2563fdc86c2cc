"""Turning registry, store and request errors into HTTP answers.

Under ``/v1`` every error body is ``text/plain`` holding one readable message,
as the v1 API answered; python-glanceclient shows that text to its user.
Under ``/v2`` the same errors are JSON, ``{"error": {"code", "title", "message"}}``.
"""
import json
import logging

from flask import Response, has_request_context, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from glance.errors import StatusError
from glance.registry.client import RegistryError
from glance.store import base as store

LOG = logging.getLogger("glance.api")

# Store errors -> HTTP status (the image is killed by the upload path).
STORE_STATUS = [
    (store.StorageFull, 413),
    (store.WriteDenied, 503),
    (store.NotFound, 404),
    (store.Duplicate, 409),
    (store.NotConfigured, 400),
    (store.BadLocation, 400),       # includes UnknownScheme
    (store.ReadOnly, 400),
    (store.SizeMismatch, 400),
    (store.ChecksumMismatch, 400),
    (store.ClientDisconnected, 400),
    (store.BackendError, 502),
]


class APIError(StatusError):
    """An error the API itself raises: ``status`` and a message for the client."""

    def __init__(self, message, status=None, headers=None):
        super().__init__(message, status)
        self.headers = headers or []


class BadRequest(APIError):
    status = 400


class NotFound(APIError):
    status = 404


class Conflict(APIError):
    status = 409


class Forbidden(APIError):
    status = 403


class Unauthorized(APIError):
    status = 401


class UnsupportedMediaType(APIError):
    status = 415


def status_for_store_error(exc):
    for cls, status in STORE_STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def status_line(code):
    """``201`` -> ``"201 Created"`` (Werkzeug would send ``201 CREATED``)."""
    return f"{code} {HTTP_STATUS_CODES.get(code, 'Unknown')}"


def text_response(status, message, headers=()):
    """The error answer: JSON for a v2 request, text for everything else."""
    if has_request_context() and request.path.startswith("/v2/"):
        return json_error(status, message, headers)
    return Response(message.rstrip("\n") + "\n", status=status_line(status),
                    mimetype="text/plain", headers=list(headers))


def json_error(status, message, headers=()):
    title = HTTP_STATUS_CODES.get(status, "Unknown")
    body = json.dumps({"error": {"code": status, "title": title, "message": message}})
    return Response(body, status=status_line(status), mimetype="application/json",
                    headers=list(headers))


def init_app(app):
    """Register the handlers that render every error (text/plain, JSON under /v2)."""

    @app.errorhandler(APIError)
    def api_error(exc):
        return text_response(exc.status, exc.message, exc.headers)

    @app.errorhandler(RegistryError)
    def registry_error(exc):
        if exc.status >= 500:
            LOG.error("Registry error: %s", exc.message)
        return text_response(exc.status, exc.message, getattr(exc, "headers", ()))

    @app.errorhandler(store.StoreError)
    def store_error(exc):
        status = status_for_store_error(exc)
        if status >= 500:
            LOG.error("Store error: %s: %s", type(exc).__name__, exc)
        return text_response(status, str(exc), getattr(exc, "headers", ()))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        allow = [h for h in exc.get_headers() if h[0].lower() == "allow"]
        return text_response(exc.code, exc.description or exc.name, allow)

    @app.errorhandler(Exception)
    def unexpected(exc):
        LOG.exception("Unhandled error")
        return text_response(500, "Internal server error")

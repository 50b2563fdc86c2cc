"""Rendering every error as an HTTP answer: one handler for :class:`glance.errors.StatusError`.

Under ``/v1`` every error body is ``text/plain`` holding one readable message,
as the v1 API answered; python-glanceclient shows that text to its user.
Under ``/v2`` the same errors are JSON, ``{"error": {"code", "title", "message"}}``.
Registry, store and Keystone errors carry their own status (:mod:`glance.errors`).
"""
import json
import logging

from flask import Response, has_request_context, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from glance.errors import StatusError

LOG = logging.getLogger("glance.api")


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

    @app.errorhandler(StatusError)
    def status_error(exc):
        if exc.status >= 500:
            LOG.error("%s: %s", type(exc).__name__, exc.message)
        return text_response(exc.status, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        allow = [h for h in exc.get_headers() if h[0].lower() == "allow"]
        return text_response(exc.code, exc.description or exc.name, allow)

    @app.errorhandler(Exception)
    def unexpected(exc):
        LOG.exception("Unhandled error")
        return text_response(500, "Internal server error")

"""Errors of the registry, answered as JSON ``{"error": {"code", "message"}}``."""
import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from glance.errors import StatusError
from glance.limits import LimitError

LOG = logging.getLogger(__name__)


class RegistryHTTPError(StatusError):
    """An error the registry answers: ``status`` and ``message``."""


class BadRequest(RegistryHTTPError):
    status = 400


class Unauthorized(RegistryHTTPError):
    status = 401


class Forbidden(RegistryHTTPError):
    status = 403


class NotFound(RegistryHTTPError):
    status = 404


class Conflict(RegistryHTTPError):
    status = 409


def error_response(code, message):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = code
    return response


def init_app(app):
    """Install handlers so that every error, even a 404 route, is JSON."""

    @app.errorhandler(RegistryHTTPError)
    @app.errorhandler(LimitError)
    def _registry_error(exc):
        return error_response(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        return error_response(exc.code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        # Flask picks the handler of the nearest class, so HTTPExceptions
        # never come here.
        LOG.exception("Unhandled error")
        return error_response(500, "Internal error in glance-registry; see its log.")

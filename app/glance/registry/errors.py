"""Errors of the registry, answered as JSON ``{"error": {"code", "message"}}``."""
import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

LOG = logging.getLogger(__name__)


class RegistryHTTPError(Exception):
    code = 500

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(RegistryHTTPError):
    code = 400


class Unauthorized(RegistryHTTPError):
    code = 401


class Forbidden(RegistryHTTPError):
    code = 403


class NotFound(RegistryHTTPError):
    code = 404


class Conflict(RegistryHTTPError):
    code = 409


def error_response(code, message):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = code
    return response


def init_app(app):
    """Install handlers so that every error, even a 404 route, is JSON."""

    @app.errorhandler(RegistryHTTPError)
    def _registry_error(exc):
        return error_response(exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        return error_response(exc.code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        if isinstance(exc, HTTPException):   # Flask 2.2 routes these here too
            return _http_error(exc)
        LOG.exception("Unhandled error")
        return error_response(500, "Internal error in glance-registry; see its log.")

"""Errors of the registry, answered as JSON ``{"error": {"code", "message"}}``.

Every error the registry raises is a :class:`glance.errors.StatusError`
(validation included): one handler renders them all.
"""
import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from glance.errors import StatusError

LOG = logging.getLogger(__name__)


def error_response(code, message):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = code
    return response


def init_app(app):
    """Install handlers so that every error, even a 404 route, is JSON."""

    @app.errorhandler(StatusError)
    def _status_error(exc):
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

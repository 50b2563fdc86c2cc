"""``/healthcheck`` for load balancers, answered as oslo.middleware's healthcheck does.

It sits in front of authentication and version negotiation and asks nothing of
the registry, so it is cheap and needs no token: ``GET`` answers ``200`` with
``OK``, ``HEAD`` ``204``; while the file named by ``disable_by_file_path``
exists both answer ``503`` (``DISABLED BY FILE``), so an operator drains a node
by creating that file.  The body is ``text/plain``, or oslo's JSON
(``{"detailed": false, "reasons": [...]}``) for ``Accept: application/json``.
"""
import json
import os

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

PATH = "/healthcheck"
OFFERS = ("text/plain", "application/json")


class Healthcheck:
    """WSGI middleware answering :data:`PATH` before ``app`` sees anything.

    :param flask_app: the glance-api app, whose current configuration (SIGHUP
        replaces it) names the file.
    """

    def __init__(self, app, flask_app):
        self.app = app
        self.flask_app = flask_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH:
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            return self._respond(start_response, "405 Method Not Allowed", "text/plain",
                                 f"{method} is not allowed on {PATH}",
                                 [("Allow", "GET, HEAD")])
        path = self.flask_app.extensions["glance"]["conf"].disable_by_file_path
        healthy = not (path and os.path.exists(path))
        reason = "OK" if healthy else "DISABLED BY FILE"
        if method == "HEAD":
            status = "204 No Content" if healthy else "503 Service Unavailable"
            return self._respond(start_response, status, "text/plain", "")
        status = "200 OK" if healthy else "503 Service Unavailable"
        accept = parse_accept_header(environ.get("HTTP_ACCEPT"), MIMEAccept)
        kind = accept.best_match(OFFERS, default="text/plain")
        body = (json.dumps({"detailed": False, "reasons": [reason]}, indent=4)
                if kind == "application/json" else reason)
        return self._respond(start_response, status, kind, body)

    @staticmethod
    def _respond(start_response, status, kind, text, extra=()):
        body = text.encode()
        charset = "; charset=UTF-8" if kind.startswith("text/") else ""
        start_response(status, [("Content-Type", kind + charset),
                                ("Content-Length", str(len(body))), *extra])
        return [body]

"""Version negotiation: which URL prefixes reach the v1 API.

* ``/v1/...``, ``/v1.0/...`` and ``/v1.1/...`` are served as v1.
* Unversioned ``/images...`` and ``/shared-images/...`` are served as v1 too,
  as Cactus did (its documentation and clients use those paths).
* ``/``, ``/versions`` and any other ``/vN...`` answer 300 with the version list,
  except ``GET /`` with ``Accept: application/vnd.openstack.images-v1``,
  which lists images as Diablo did.

It works on the WSGI path before Flask routes it, so the image routes are
declared once, under ``/v1``.
"""
import json
import re

VERSIONED = re.compile(r"^/v(\d+)(?:\.(\d+))?(?=/|$)")
UNVERSIONED = re.compile(r"^/(images|shared-images)(?=/|$)")
SERVED = {(1, None), (1, 0), (1, 1)}
V1_MEDIA_TYPE = "application/vnd.openstack.images-v1"


def version_list(host):
    """The body of a 300 answer; links point at ``host`` (the request's Host)."""
    href = f"http://{host}/v1/"
    return {"versions": [
        {"id": "v1.1", "status": "CURRENT", "links": [{"rel": "self", "href": href}]},
        {"id": "v1.0", "status": "SUPPORTED", "links": [{"rel": "self", "href": href}]},
    ]}


def _host(environ):
    host = environ.get("HTTP_HOST")
    if host:
        return host
    return f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '9292')}"


class VersionNegotiation:
    """WSGI middleware that maps every accepted prefix onto ``/v1``."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        match = VERSIONED.match(path)
        if match:
            version = (int(match.group(1)), int(match.group(2)) if match.group(2) else None)
            if version not in SERVED:
                return self.versions(environ, start_response)
            rest = path[match.end():]
            if rest in ("", "/"):
                return self.versions(environ, start_response)
            path = "/v1" + rest
        elif UNVERSIONED.match(path):
            path = "/v1" + path
        elif path.rstrip("/") == "" and V1_MEDIA_TYPE in environ.get("HTTP_ACCEPT", ""):
            path = "/v1/images"
        elif path.rstrip("/") in ("", "/versions"):
            return self.versions(environ, start_response)
        if path != environ.get("PATH_INFO"):
            # A copy, so the request log still shows the path the client asked for.
            environ = dict(environ, PATH_INFO=path)
        return self.app(environ, start_response)

    def versions(self, environ, start_response):
        body = json.dumps(version_list(_host(environ))).encode()
        start_response("300 Multiple Choices", [("Content-Type", "application/json"),
                                                ("Content-Length", str(len(body)))])
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

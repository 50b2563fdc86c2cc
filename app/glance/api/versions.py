"""Version negotiation: which URL prefixes reach the v1 and the v2 API.

* ``/v1/...``, ``/v1.0/...`` and ``/v1.1/...`` are served as v1;
  ``/v2/...`` and ``/v2.<n>/...`` (a listed minor version) as v2.
* Unversioned ``/images...`` and ``/shared-images/...`` follow the
  ``Accept: application/vnd.openstack.images-vN`` header as Diablo did, and
  are served as v1 without one (Cactus documented those paths).
* ``/``, ``/versions``, a bare ``/v1`` or ``/v2`` and any other ``/vN...``
  answer 300 with the version list, except ``GET /`` with an images media
  type in Accept, which lists images as Diablo did.

It works on the WSGI path before Flask routes it, so the routes are declared
once, under ``/v1`` and ``/v2``.
"""
import json
import re

VERSIONED = re.compile(r"^/v(\d+)(?:\.(\d+))?(?=/|$)")
UNVERSIONED = re.compile(r"^/(images|shared-images)(?=/|$)")
MEDIA_TYPE = re.compile(r"application/vnd\.openstack\.images-v(\d+)")

# v2 as far as this server implements it: up to 2.7 (os_hidden, multihash,
# interoperable import); 2.8 and later need multiple stores or the cache.
V2_MINORS = range(0, 8)
SERVED = {(1, None): 1, (1, 0): 1, (1, 1): 1, (2, None): 2,
          **{(2, minor): 2 for minor in V2_MINORS}}


def version_list(host):
    """The body of a 300 answer; links point at ``host`` (the request's Host)."""
    def entry(version, status):
        major = version.split(".")[0]
        return {"id": f"v{version}", "status": status,
                "links": [{"rel": "self", "href": f"http://{host}/v{major}/"}]}

    latest = max(V2_MINORS)
    v2 = [entry(f"2.{minor}", "CURRENT" if minor == latest else "SUPPORTED")
          for minor in sorted(V2_MINORS, reverse=True)]
    return {"versions": v2 + [entry("1.1", "SUPPORTED"), entry("1.0", "SUPPORTED")]}


def _host(environ):
    host = environ.get("HTTP_HOST")
    if host:
        return host
    return f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '9292')}"


def _accepted_major(environ):
    """The major version an images media type in Accept asks for, or None."""
    match = MEDIA_TYPE.search(environ.get("HTTP_ACCEPT", ""))
    return int(match.group(1)) if match else None


class VersionNegotiation:
    """WSGI middleware that maps every accepted prefix onto ``/v1`` or ``/v2``."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        match = VERSIONED.match(path)
        asked = _accepted_major(environ)
        if match:
            version = (int(match.group(1)), int(match.group(2)) if match.group(2) else None)
            major = SERVED.get(version)
            rest = path[match.end():]
            if major is None or rest in ("", "/"):
                return self.versions(environ, start_response)
            path = f"/v{major}" + rest
        elif UNVERSIONED.match(path):
            path = ("/v2" if asked == 2 else "/v1") + path
        elif path.rstrip("/") == "" and asked in (1, 2):
            path = f"/v{asked}/images"
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

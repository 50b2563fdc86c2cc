"""Version negotiation: which URL prefixes reach the v1 and the v2 API.

* ``/v1/...``, ``/v1.0/...`` and ``/v1.1/...`` are served as v1;
  ``/v2/...`` and ``/v2.<n>/...`` (a listed minor version) as v2.
* Unversioned ``/images...`` and ``/shared-images/...`` follow the
  ``Accept: application/vnd.openstack.images-vN`` header as Diablo did, and
  are served as v1 without one (Cactus documented those paths).  An Accept
  naming anything not served (``images-v3``, ``compute-v1``) gets the version
  list, as Diablo answered.
* ``/``, ``/versions``, a bare ``/v1`` or ``/v2`` and any other ``/vN...``
  answer 300 with the version list, except ``GET /`` with an images media
  type in Accept, which lists images as Diablo did.

It works on the WSGI path before Flask routes it, so the routes are declared
once, under ``/v1`` and ``/v2``.
"""
import json
import logging
import re
from dataclasses import dataclass

LOG = logging.getLogger("glance.api")

VERSIONED = re.compile(r"^/v(\d+)(?:\.(\d+))?(?=/|$)")
UNVERSIONED = re.compile(r"^/(images|shared-images)(?=/|$)")
MEDIA_TYPE = re.compile(r"application/vnd\.openstack\.([a-z0-9_]+)-v(\d+)(?:\.(\d+))?")
V1 = {(1, None), (1, 0), (1, 1)}


@dataclass(frozen=True)
class Minor:
    """One minor version of the v2 API, as Glance defines it.

    ``needs`` is what this server must have to list it: ``"<METHOD> <rule>"``
    is a route the app serves (the version's own route; placeholder names do
    not matter), ``stores`` several stores configured (Glance lists 2.8 and
    2.10-2.13 only then), ``cache`` the image cache on (2.14 and 2.16), and
    any other word a behaviour named in :data:`BEHAVIOURS`.
    """
    number: int
    adds: str
    needs: tuple = ()


V2_HISTORY = (
    Minor(0, "images, image data, tags, schemas"),
    Minor(1, "image members"),
    Minor(2, "Havana's compatible additions (no new call)"),
    Minor(3, "fields without a value shown as null"),
    Minor(4, "Newton's compatible additions (no new call)"),
    Minor(5, "community visibility; new images are shared by default"),
    Minor(6, "interoperable import: /stage, /import, /info/import"),
    Minor(7, "os_hidden; os_hash_algo and os_hash_value"),
    Minor(8, "multiple stores: /info/stores, X-Image-Meta-Store",
          ("stores", "GET /v2/info/stores")),
    Minor(9, "import into several stores: stores, all_stores, all_stores_must_succeed",
          ("import-to-stores",)),
    Minor(10, "deleting an image from one store",
          ("stores", "DELETE /v2/stores/<store>/<image>")),
    Minor(11, "import progress: os_glance_importing_to_stores, os_glance_failed_import",
          ("stores", "import-progress")),
    Minor(12, "an image's tasks", ("stores", "GET /v2/images/<image>/tasks")),
    Minor(13, "quota usage", ("stores", "GET /v2/info/usage")),
    Minor(14, "the cache API", ("cache", "GET /v2/cache", "PUT /v2/cache/<image>",
                                "DELETE /v2/cache/<image>", "DELETE /v2/cache")),
    Minor(15, "store details for admins", ("GET /v2/info/stores/detail",)),
    Minor(16, "PUT /v2/cache/<id> answers 202", ("cache", "cache-put-202")),
    Minor(17, "image locations for service users",
          ("POST /v2/images/<image>/locations", "GET /v2/images/<image>/locations")),
)

# Behaviours that versions need and this server has (they have no route of their own).
BEHAVIOURS = frozenset({
    "cache-put-202",            # glance.api.v2.cache
    "import-to-stores",         # glance.api.v2.image_data: stores, all_stores
    "import-progress",          # glance.api.v2.copies: os_glance_importing_to_stores
})

BASE = tuple(minor.number for minor in V2_HISTORY if not minor.needs)


def _plain(rule):
    return re.sub(r"<[^>]*>", "<>", rule)


def offered_minors(conf, rules):
    """The v2 minor versions this server offers, newest first.

    :param conf: the effective configuration (multiple stores, the image cache).
    :param rules: the app's routes as ``(method, rule)`` pairs.
    """
    have = {f"{method} {_plain(rule)}" for method, rule in rules} | BEHAVIOURS
    if conf.get("enabled_backends"):
        have.add("stores")
    if conf.get("image_cache_enabled"):
        have.add("cache")
    return tuple(sorted((minor.number for minor in V2_HISTORY
                         if all(_plain(need) in have for need in minor.needs)), reverse=True))


def flask_minors(app):
    """A callable giving ``offered_minors`` for a Flask app's routes and current config."""
    rules = [(method, rule.rule) for rule in app.url_map.iter_rules()
             for method in rule.methods]
    seen = {}

    def minors():
        conf = app.extensions["glance"]["conf"]
        if seen.get("conf") is not conf:       # a reload (SIGHUP) swaps the config
            seen.update(conf=conf, minors=offered_minors(conf, rules))
        return seen["minors"]
    return minors


def version_list(host, minors=BASE):
    """The body of a 300 answer; links point at ``host`` (the request's Host)."""
    def entry(version, status):
        major = version.split(".")[0]
        return {"id": f"v{version}", "status": status,
                "links": [{"rel": "self", "href": f"http://{host}/v{major}/"}]}

    latest = max(minors)
    v2 = [entry(f"2.{minor}", "CURRENT" if minor == latest else "SUPPORTED")
          for minor in sorted(minors, reverse=True)]
    return {"versions": v2 + [entry("1.1", "SUPPORTED"), entry("1.0", "SUPPORTED")]}


def _host(environ):
    host = environ.get("HTTP_HOST")
    if host:
        return host
    return f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '9292')}"


def _version(major, minor):
    return (int(major), int(minor) if minor is not None else None)


class VersionNegotiation:
    """WSGI middleware that maps every accepted prefix onto ``/v1`` or ``/v2``.

    :param minors: gives the v2 minor versions offered (default: those that
        need nothing beyond the base API).
    """

    def __init__(self, app, minors=lambda: BASE):
        self.app = app
        self.minors = minors

    def served(self, version):
        """The major version that serves ``(major, minor)``, or None."""
        if version in V1:
            return 1
        major, minor = version
        return 2 if major == 2 and (minor is None or minor in self.minors()) else None

    def _accepted(self, environ):
        """The major version an ``application/vnd.openstack.*`` Accept asks for:
        None without one, 0 when it names something not served."""
        match = MEDIA_TYPE.search(environ.get("HTTP_ACCEPT", ""))
        if not match:
            return None
        kind, major, minor = match.groups()
        served = self.served(_version(major, minor)) if kind == "images" else None
        if served is None:
            LOG.info("Unknown accept header %r: answering with the version list",
                     match.group(0))
            return 0
        return served

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        match = VERSIONED.match(path)
        if match:
            major = self.served(_version(*match.groups()))
            rest = path[match.end():]
            if major is None or rest in ("", "/"):
                return self.versions(environ, start_response)
            path = f"/v{major}" + rest
        elif UNVERSIONED.match(path):
            asked = self._accepted(environ)
            if asked == 0:
                return self.versions(environ, start_response)
            path = f"/v{asked or 1}" + path
        elif path.rstrip("/") == "":
            asked = self._accepted(environ)
            if not asked:
                return self.versions(environ, start_response)
            path = f"/v{asked}/images"
        elif path.rstrip("/") == "/versions":
            return self.versions(environ, start_response)
        if path != environ.get("PATH_INFO"):
            # A copy, so the request log still shows the path the client asked for.
            environ = dict(environ, PATH_INFO=path)
        return self.app(environ, start_response)

    def versions(self, environ, start_response):
        body = json.dumps(version_list(_host(environ), self.minors())).encode()
        start_response("300 Multiple Choices", [("Content-Type", "application/json"),
                                                ("Content-Length", str(len(body)))])
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

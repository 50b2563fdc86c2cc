"""glance-api: the v1 and v2 image APIs as one Flask application.

``create_app`` never reads files or opens sockets: the command
(:mod:`glance.cmd.api`) loads the configuration and serves it with cheroot,
and tests inject a fake registry or stores through the keyword arguments.
"""
from functools import cached_property

from flask import Flask, Request, request

from glance import keystone
from glance import cache as image_cache
from glance.api import (cached_images, context, errors, headers, image_writes, images,
                        members, request_id, versions)
from glance.api.body import RequestBody
from glance.api.healthcheck import Healthcheck
from glance.api.v2 import BLUEPRINTS as V2_BLUEPRINTS
from glance.notifier import build_notifier


class APIRequest(Request):
    """Flask's request, plus the :class:`~glance.api.body.RequestBody` uploads read."""

    @cached_property
    def body(self):
        return RequestBody.from_environ(self.environ)


def create_app(conf, *, registry=None, stores=None, service_auth=None, auth_token=None,
               notifier=None):
    """Build the glance-api WSGI application.

    :param conf: the effective :class:`glance.config.Config`.
    :param registry: a registry client; default: HTTP to registry_host:registry_port.
    :param stores: a :class:`glance.store.StoreMap`; default: built from ``conf``.
    :param service_auth: gives the headers of glance-api's own registry writes;
        default: glance's Keystone service token in keystone mode, none in noauth.
    :param auth_token: ``(wsgi_app, conf) -> wsgi_app`` that authenticates
        requests; default :func:`glance.keystone.protect` (keystonemiddleware in
        keystone mode, nothing in noauth).  Unit tests give one that trusts headers.
    :param notifier: a :class:`glance.notifier.Notifier`; default: from
        ``notifier_strategy``.  Whoever serves the app calls its ``close()`` at shutdown.
    :raises glance.config.ConfigError: keystone mode without keystonemiddleware
        or without the ``[keystone_authtoken]`` credentials; rabbit without kombu;
        an image cache directory that cannot be created.
    """
    registry = registry or _registry_client(conf)
    if stores is None:
        from glance.store import build_stores
        stores = build_stores(conf)
    if service_auth is None:
        service_auth = (keystone.service_auth(conf) if keystone.enabled(conf)
                        else context.NoAuthService(conf.admin_role))
    if notifier is None:
        notifier = build_notifier(conf)
    app = Flask("glance.api")
    app.request_class = APIRequest
    app.extensions["glance"] = {"conf": conf, "registry": registry, "stores": stores,
                                "service_auth": service_auth, "notifier": notifier,
                                "cache": image_cache.from_config(conf)}
    app.url_map.strict_slashes = False
    for blueprint in (images.bp, image_writes.bp, members.bp, cached_images.bp,
                      *V2_BLUEPRINTS):
        app.register_blueprint(blueprint)
    # v1 takes a trailing slash (/images/ lists); Glance's v2 does not (/v2/images/ is 404).
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/v2/"):
            rule.strict_slashes = True
    errors.init_app(app)
    request_id.init_app(app)

    @app.before_request
    def _limits():
        headers.check_request(request.environ, request.args.items(multi=True), conf)

    @app.after_request
    def _finish_body(response):
        """A body the answer leaves unread (a refusal, a failed upload) is read and
        dropped, up to 16 MiB within ``json_body_timeout`` seconds (a client that
        trickles it holds no thread for longer), so the connection can serve the
        next request; otherwise the answer closes the connection."""
        if response.headers.get("Connection", "").lower() == "close":
            request.body.close()
        elif not request.body.discard(context.conf().json_body_timeout):
            response.headers["Connection"] = "close"
        return response

    @app.teardown_request
    def _stop_body(exc):
        request.body.close()

    negotiation = versions.VersionNegotiation(app.wsgi_app, versions.flask_minors(app))
    protected = (auth_token or keystone.protect)(negotiation, conf)
    # Load balancers ask without a token: answered before authentication.
    app.wsgi_app = Healthcheck(protected, app)
    return app


def _registry_client(conf):
    from glance.registry.client import RegistryClient
    return RegistryClient(conf.registry_host, conf.registry_port, timeout=conf.registry_timeout)


def reconfigure(app, conf):
    """Apply a re-read configuration (SIGHUP) to a running app.

    The registry client and the stores are built anew from ``conf`` and swapped
    in with it in one assignment; requests already running finish with the old ones.
    """
    from glance.store import build_stores
    ext = app.extensions["glance"]
    app.extensions["glance"] = {**ext, "conf": conf, "registry": _registry_client(conf),
                                "stores": build_stores(conf),
                                "cache": image_cache.from_config(conf)}

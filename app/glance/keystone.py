"""``auth_strategy = keystone``: keystonemiddleware in front of a server, and glance's own token.

Both servers put keystonemiddleware's ``auth_token`` in front of their WSGI
app, configured by the ``[keystone_authtoken]`` section of their file, given
to the middleware as its local (paste-style) configuration.  The middleware
removes identity headers a client sent, validates ``X-Auth-Token`` and sets
``X-Identity-Status`` with the identity of a valid token.

glance-api writes the fields only glance may write (status, location,
checksum, size) with a token of its own service user, the one in
``[keystone_authtoken]`` (:class:`ServiceToken`).

keystonemiddleware and keystoneauth1 are optional: imported only in keystone mode.
"""
import importlib
import logging

from glance.config import ConfigError
from glance.errors import ServiceUnavailable

SECTION = "keystone_authtoken"
REQUIRED = ("auth_url", "username", "password")
LOG = logging.getLogger("glance.keystone")
INSTALL = ("install python3-keystonemiddleware (Debian) or the pip extra glance[keystone]")
# What glance sets when the section does not say.
DEFAULTS = {
    "auth_type": "password",
    # Let requests without a valid token through as anonymous: they may read public images.
    "delay_auth_decision": "true",
    # A service token (X-Service-Token) must carry the service role (the safe choice).
    "service_token_roles_required": "true",
}


class ServiceAuthError(ServiceUnavailable):
    """glance's service user could not get a token (Keystone down or refusing it): 503."""


def enabled(conf):
    return conf.get("auth_strategy") == "keystone"


def settings(conf):
    """The ``[keystone_authtoken]`` section of ``conf`` with glance's defaults.

    :raises ConfigError: a required key is missing.
    """
    values = {**DEFAULTS, **conf.section(SECTION)}
    missing = [key for key in REQUIRED if not values.get(key)]
    if missing:
        raise ConfigError(f"auth_strategy = keystone needs {', '.join(missing)} "
                          f"in the [{SECTION}] section of {conf.path or 'the configuration file'}")
    return values


def _import(module):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = (exc.name or module).split(".")[0]
        raise ConfigError(f"auth_strategy = keystone needs {missing}: {INSTALL}") from None


class _PluginOptionNotice(logging.Filter):
    """Drop keystonemiddleware's notice that an auth plugin option is "not known" to it.

    The plugin options (username, password, project_name...) are read by the
    auth plugin, not the middleware, which warns about each one it is given
    as local configuration.  Other warnings pass.
    """

    def filter(self, record):
        return "is not known to keystonemiddleware" not in record.getMessage()


def protect(wsgi_app, conf):
    """``wsgi_app`` behind keystonemiddleware's auth_token when ``conf`` says keystone.

    :param conf: the server's :class:`glance.config.Config`.
    :returns: ``wsgi_app`` itself in noauth mode.
    :raises ConfigError: keystonemiddleware is missing or the section is incomplete.
    """
    if not enabled(conf):
        return wsgi_app
    local = settings(conf)
    auth_token = _import("keystonemiddleware.auth_token")
    cfg = _import("oslo_config.cfg")
    logging.getLogger("keystonemiddleware._common.config").addFilter(_PluginOptionNotice())
    # An oslo.config object of our own: the middleware registers its options
    # there rather than in oslo.config's process-wide one.
    options = cfg.ConfigOpts()
    options([], project="glance", default_config_files=[], default_config_dirs=[])
    return auth_token.filter_factory({"oslo_config_config": options}, **local)(wsgi_app)


class ServiceToken:
    """Headers that authenticate glance-api's own writes to the registry.

    A keystoneauth1 session with the ``[keystone_authtoken]`` credentials.
    keystoneauth1 caches the token, fetches a new one when fewer than two
    minutes are left (under a lock, so concurrent requests share one fetch),
    and after a 401 from Keystone.
    """

    def __init__(self, settings_):
        loading = _import("keystoneauth1.loading")
        session = _import("keystoneauth1.session")
        exceptions = _import("keystoneauth1.exceptions")
        loader = loading.get_plugin_loader(settings_.get("auth_type", "password"))
        plugin = loader.load_from_options_getter(
            lambda opt: settings_.get(opt.dest, settings_.get(opt.name)))
        verify = settings_.get("cafile") or settings_.get("insecure", "").lower() != "true"
        self._session = session.Session(auth=plugin, verify=verify,
                                        timeout=float(settings_.get("http_connect_timeout") or 30))
        self._errors = exceptions.ClientException

    def headers(self):
        """``{"X-Auth-Token": <glance's token>}``.

        :raises ServiceAuthError: no token could be had from Keystone.
        """
        try:
            return {"X-Auth-Token": self._session.get_token()}
        except self._errors as exc:
            # The exception names Keystone's address: the log keeps it, the client gets none.
            LOG.error("glance cannot authenticate to Keystone: %s", exc)
            raise ServiceAuthError("glance cannot authenticate to Keystone; try again "
                                   "later") from None


def service_auth(conf):
    """The :class:`ServiceToken` of ``conf`` (keystone mode only).

    :raises ConfigError: keystoneauth1 is missing or the section is incomplete.
    """
    return ServiceToken(settings(conf))

"""What glance-cache-pruner, -reaper and -prefetcher share: glance-api.conf, the
node's cache, and glance's own identity towards the registry."""
from glance import cache as image_cache
from glance import config, keystone
from glance.cmd.common import fail, start
from glance.options import CACHE


def setup(command, description, argv):
    """Parse the command line and open the cache.

    :returns: ``(conf, cache)``; cache is None when image_cache_enabled is off.
    """
    parser = config.build_parser(CACHE, description)
    parser.prog = command
    parser.add_argument("config", nargs="?", help="glance-api's configuration file "
                                                  "(same as --config-file)")
    conf, _args = start(CACHE, argv, parser, positional="config")
    try:
        return conf, image_cache.from_config(conf)
    except config.ConfigError as exc:
        fail(str(exc))


def registry(conf):
    """``(client, headers)``: the registry, as glance itself (admin under noauth)."""
    from glance.registry.client import RegistryClient
    client = RegistryClient(conf.registry_host, conf.registry_port,
                            timeout=conf.registry_timeout)
    if keystone.enabled(conf):
        try:
            return client, keystone.service_auth(conf).headers
        except config.ConfigError as exc:
            fail(str(exc))
    return client, dict

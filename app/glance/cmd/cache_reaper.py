"""glance-cache-reaper: remove invalid and stalled cache entries, and deleted images."""
import logging

from glance.cmd.cache import registry, setup

LOG = logging.getLogger("glance.cache")


def main(argv=None):
    conf, cache = setup("glance-cache-reaper", "Remove from this node's image cache the "
                        "copies found corrupt, incomplete ones untouched for "
                        "image_cache_stall_timeout seconds, and images deleted since.", argv)
    if cache is None:
        LOG.info("The image cache is not enabled (image_cache_enabled): nothing to reap")
        return 0
    from glance.cache.jobs import reap
    client, headers = registry(conf)
    _removed, failed = reap(cache, client, headers)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

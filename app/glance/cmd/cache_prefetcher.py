"""glance-cache-prefetcher: cache the images queued with PUT /v1/cached_images/<id>."""
import logging

from glance.cmd.cache import registry, setup

LOG = logging.getLogger("glance.cache")


def main(argv=None):
    conf, cache = setup("glance-cache-prefetcher", "Fetch the images queued for this "
                        "node's image cache from their stores, verified, into the cache.",
                        argv)
    if cache is None:
        LOG.info("The image cache is not enabled (image_cache_enabled): nothing to prefetch")
        return 0
    from glance.api.images import _verified
    from glance.cache.jobs import prefetch
    from glance.store import build_stores
    client, headers = registry(conf)
    _done, failed = prefetch(cache, client, build_stores(conf), _verified, headers)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

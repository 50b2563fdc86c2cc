"""glance-cache-pruner: remove least recently used images until the cache fits its cap."""
import logging

from glance.cmd.cache import setup

LOG = logging.getLogger("glance.cache")


def main(argv=None):
    _conf, cache = setup("glance-cache-pruner", "Remove the least recently used images "
                         "from this node's image cache until it holds at most "
                         "image_cache_max_size_bytes, less image_cache_percent_extra_to_free.",
                         argv)
    if cache is None:
        LOG.info("The image cache is not enabled (image_cache_enabled): nothing to prune")
        return 0
    from glance.cache.jobs import prune
    prune(cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

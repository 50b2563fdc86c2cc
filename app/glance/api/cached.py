"""The image cache as glance-api's downloads use it (see :mod:`glance.cache`).

Authorisation is never the cache's business: every function here runs after
the registry has answered the caller's own request for the image.
"""
import logging

from glance.api import context
from glance.cache import stream
from glance.errors import NotFound
from glance.rules import GONE

LOG = logging.getLogger("glance.api")


def cache():
    """This node's :class:`glance.cache.ImageCache`, or None when the cache is off."""
    return context.cache()


def lookup(image, verify):
    """``(chunks, size)`` from this node's cache for an active image, or None."""
    node = cache()
    if node is None:
        return None
    found = node.open(image["id"], image.get("size"))
    if found is None:
        return None
    chunks, size = found
    LOG.debug("Serving image %s from the cache", image["id"])
    return stream.served(chunks, image, node, verify), size


def filling(chunks, image):
    """``chunks`` from the store, copied into the cache as they are sent."""
    node = cache()
    if node is None:
        return chunks
    return stream.filling(chunks, image, node)


def forget(image_id):
    """Drop the entry of an image that was deleted (here or on another node)."""
    node = cache()
    if node is not None and node.remove(image_id):
        LOG.info("Removed deleted image %s from the cache", image_id)


def forget_if_gone(image_id):
    """The caller got a 404: drop the entry if the image is really gone.

    Asked again as glance itself, so a caller who merely may not see the
    image cannot empty the cache.
    """
    node = cache()
    if node is None or not (node.is_cached(image_id) or image_id in node.queued()):
        return
    try:
        image = context.registry().get(image_id, headers=context.service_headers())
    except NotFound:
        image = None
    except Exception as exc:    # registry or Keystone down: the caller's 404 stands
        LOG.warning("Cannot tell whether cached image %s was deleted: %s", image_id, exc)
        return
    if image is None or image.get("deleted") or image.get("status") in GONE:
        forget(image_id)

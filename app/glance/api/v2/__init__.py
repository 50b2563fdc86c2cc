"""The Image API v2 beside v1: one small blueprint per resource, all under ``/v2``.

Every v2 route reads and writes through the same registry client, stores,
upload path and :class:`glance.context.RequestContext` as v1, so one image
is the same image through both APIs.
"""
from glance.api.v2 import discovery, identity, image_data, images, members, schemas, tags
from glance.api.v2 import metadef_items, metadef_schemas, metadefs
from glance.api.v2 import cache, copies, locations, task_schemas, tasks

BLUEPRINTS = (images.bp, image_data.bp, tags.bp, members.bp, schemas.bp, discovery.bp,
              identity.bp)
# The metadata definitions catalog (/v2/metadefs, /v2/schemas/metadefs).
BLUEPRINTS += (metadefs.bp, metadef_items.bp, metadef_schemas.bp)
# Tasks (/v2/tasks, /v2/images/<id>/tasks, /v2/schemas/task(s)) and the cache (/v2/cache).
BLUEPRINTS += (tasks.bp, task_schemas.bp, cache.bp)
# An image in several stores (DELETE /v2/stores/<store>/<id>).
BLUEPRINTS += (copies.bp,)
# Locations: v2.17's POST and GET /v2/images/<id>/locations.
BLUEPRINTS += (locations.bp,)

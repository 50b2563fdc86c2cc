"""``x-openstack-request-id``: every glance-api answer names its request, as Glance's do.

Clients log it, and the task of an import records it (``request_id``), so an
import's answer and its task can be matched.
"""
import uuid

from flask import g

HEADER = "x-openstack-request-id"


def current():
    """This request's id, ``req-<uuid>`` (made on first use)."""
    if "request_id" not in g:
        g.request_id = f"req-{uuid.uuid4()}"
    return g.request_id


def init_app(app):
    @app.after_request
    def _name_the_request(response):
        response.headers[HEADER] = current()
        return response

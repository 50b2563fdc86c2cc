"""The task that records an import: each v2 import, and the legacy import task.

Every ``POST /v2/images/<id>/import`` is an ``api_image_import`` task (what
``GET /v2/images/<id>/tasks`` lists), and ``POST /v2/tasks`` makes an
``import`` task; both go pending -> processing -> success (result: the image
id) or failure (a message).  An import refused before it started (a 4xx)
leaves no task, as in Glance.

glance-api writes tasks with its own identity, naming the caller as owner,
so that the registry's rule (the task API is for admins) still holds for
callers.  A URI's ``user:password@`` is never recorded.
"""
import logging
from urllib.parse import urlsplit, urlunsplit

from glance.api import context, request_id
from glance.errors import BadRequest, StatusError
from glance.task_rules import FAILURE, PROCESSING, SUCCESS

LOG = logging.getLogger("glance.api")
WEB_SCHEMES = ("http", "https")


def web_source(uri):
    """The HTTP store, once its address guard accepted ``uri``: the one source imports
    read.  Never the store of a location's own scheme (``swift://``, ``file://``...):
    that would copy data the caller may not read.

    :raises BadRequest: not an http(s) URI.  :raises BadLocation: (400) the guard
        refused the host (private address, unresolvable).
    """
    try:
        scheme = urlsplit(uri).scheme if isinstance(uri, str) else None
    except ValueError:          # e.g. an unclosed [IPv6 literal
        scheme = None
    if scheme not in WEB_SCHEMES:
        raise BadRequest("Imports read http:// or https:// URIs only")
    source = context.stores().for_uri(uri)
    source.check_location(uri)
    return source


def without_credentials(uri):
    """``uri`` without a ``user:password@`` part (anything else is kept as it came)."""
    if not isinstance(uri, str):
        return uri
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri.rpartition("@")[2] if "@" in uri else uri
    if "@" not in parts.netloc:
        return uri
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def describe(error):
    """Why a task failed, fit for its ``message``: an error written for clients says
    so itself; anything else may carry a path or a URL, so only its kind goes out."""
    if isinstance(error, StatusError):
        return f"{type(error).__name__}: {error}"
    return f"{type(error).__name__} (see the glance-api log)"


class ImportTask:
    """One task record.  :meth:`finish` and :meth:`discard` never raise: the import's
    own outcome stands whatever happens to its record (the registry logs why)."""

    def __init__(self, record, registry, service_auth, image_id):
        self.record = record
        self.id = record["id"]
        self.registry = registry
        self.service_auth = service_auth
        # The image the import fills: the task's result when it succeeds.
        self.image_id = image_id

    @classmethod
    def begin(cls, kind, task_input, image_id=None):
        """Record a pending task of the caller, then mark it processing.

        Kept objects (registry, service identity) let a background thread finish it.
        :raises RegistryError: the registry cannot record it (nothing was imported).
        """
        ctx = context.request_context()
        registry = context.registry()
        service_auth = context.service_auth()
        record = registry.create_task(
            {"type": kind, "input": task_input, "image_id": image_id, "owner": ctx.owner,
             "user_id": ctx.user, "request_id": request_id.current()},
            headers=service_auth.headers())
        task = cls(record, registry, service_auth, image_id)
        task.record = registry.update_task(task.id, PROCESSING, headers=service_auth.headers())
        return task

    @classmethod
    def for_image_import(cls, image, document):
        """The ``api_image_import`` task of ``POST /v2/images/<id>/import`` with ``document``."""
        request = dict(document)
        method = request.get("method")
        if isinstance(method, dict) and "uri" in method:
            request["method"] = {**method, "uri": without_credentials(method["uri"])}
        task_input = {"image_id": image["id"], "import_req": request, "backend": [None]}
        return cls.begin("api_image_import", task_input, image["id"])

    def finish(self, error=None):
        """success (the image id as result) or, with ``error``, failure with its message."""
        try:
            if error is None:
                self.record = self.registry.update_task(
                    self.id, SUCCESS, result={"image_id": self.image_id},
                    headers=self.service_auth.headers())
            else:
                self.record = self.registry.update_task(
                    self.id, FAILURE, message=describe(error),
                    headers=self.service_auth.headers())
        except Exception as exc:       # the registry or Keystone down: the import stands
            LOG.error("Could not record the end of task %s: %s", self.id, describe(exc))

    def discard(self):
        """Forget the task: its import was refused before anything happened."""
        try:
            self.registry.delete_task(self.id, headers=self.service_auth.headers())
        except Exception as exc:
            LOG.error("Could not remove task %s of a refused import: %s", self.id,
                      describe(exc))

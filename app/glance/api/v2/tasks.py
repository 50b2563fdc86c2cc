"""/v2/tasks (Glance's legacy task API, admin-only) and /v2/images/<id>/tasks (v2.12).

* ``POST /v2/tasks``: an ``import`` task creates an image from
  ``image_properties`` and imports its data from ``import_from`` as
  web-download does (http(s) only, behind the HTTP store's address guard).
* ``GET /v2/tasks`` lists (paged, ``status``/``type`` filters, sorted),
  ``GET /v2/tasks/<id>`` shows one; there is no DELETE: tasks expire.
* ``GET /v2/images/<id>/tasks``: the tasks of an image's imports, for
  whoever may see the image.

glance-registry keeps the tasks and applies the rules; this module checks
requests and shapes the answers as Glance does.
"""
from flask import Blueprint, request

from glance.api import context
from glance.api.json_body import json_body
from glance.api.v2.image_data import web_download
from glance.api.v2.images import create_image, image_record, page_links
from glance.api.v2.import_tasks import ImportTask, web_source, without_credentials
from glance.api.v2.metadefs import isotime
from glance.api.v2.task_schemas import TASK_PROPERTIES
from glance.api.v2.wire import json_response
from glance.errors import BadRequest, NotFound, StatusError

bp = Blueprint("v2_tasks", __name__)
LIST_PARAMS = ("limit", "marker", "sort_key", "sort_dir", "status", "type")
LEGACY_INPUT = ("import_from", "import_from_format", "image_properties")


def _times(record, view):
    for key in ("created_at", "updated_at"):
        view[key] = isotime(record[key])
    if record.get("expires_at"):
        view["expires_at"] = isotime(record["expires_at"])
    return view


def stub_view(record):
    """A task in a list (no input, result or message).  ``owner`` is left out for
    noauth's identity-less admin, who has none (the schema wants a string)."""
    view = {"id": record["id"], "type": record["type"], "status": record["status"],
            "self": f"/v2/tasks/{record['id']}", "schema": "/v2/schemas/task"}
    if record["owner"] is not None:
        view["owner"] = record["owner"]
    return _times(record, view)


def task_view(record):
    view = {**stub_view(record), "input": record["input"], "result": record["result"],
            "message": record["message"]}
    for key in ("image_id", "request_id", "user_id"):
        if record.get(key):
            view[key] = record[key]
    return view


IMAGE_TASK_FIELDS = ("id", "type", "status", "owner", "expires_at", "created_at", "updated_at",
                     "image_id", "request_id", "user_id", "input", "result", "message")


def image_task_view(record):
    """A task as Glance lists an image's: its database record, times without a zone."""
    return {**{key: record[key] for key in IMAGE_TASK_FIELDS}, "deleted_at": None,
            "deleted": False}


def _legacy_import(task_input):
    """What an ``import`` task needs, checked: ``(import_from, image record)``.

    :raises BadRequest: (or Forbidden) missing or wrong input, a URI that is no
        http(s) or that the address guard refuses, image properties v2 refuses.
    """
    if not isinstance(task_input, dict):
        raise BadRequest("Task 'input' must be a JSON object")
    for key in LEGACY_INPUT:
        if key not in task_input:
            raise BadRequest(f"Input does not contain '{key}' field")
    if not isinstance(task_input["import_from_format"], str):
        raise BadRequest("Task input 'import_from_format' must be a string")
    properties = task_input["image_properties"]
    if properties == {}:
        properties = {"disk_format": "qcow2", "container_format": "bare"}   # Glance's default
    record = image_record(properties)
    web_source(task_input["import_from"])
    return task_input["import_from"], record


@bp.route("/v2/tasks", methods=["POST"])
def create():
    context.request_context().check_tasks_api()
    document = json_body()
    if not isinstance(document, dict):
        raise BadRequest("Task body must be a JSON object")
    for key in ("type", "input"):
        if key not in document:
            raise BadRequest(f"Task '{key}' is required")
    unknown = sorted(set(document) - set(TASK_PROPERTIES))
    if unknown:
        raise BadRequest(f"Additional properties are not allowed ({unknown[0][:40]!r})")
    if document["type"] != "import":
        raise BadRequest("Only 'import' tasks can be created")
    uri, record = _legacy_import(document["input"])
    task_input = {**document["input"], "import_from": without_credentials(uri)}
    task = ImportTask.begin("import", task_input)
    try:
        image = create_image(record)
        task.image_id = image["id"]
        web_download(image, uri, task)       # the download finishes the task
    except Exception as exc:                  # recorded in the task, as Glance does
        task.finish(exc)
    view = task_view(task.record)
    return json_response(view, 201, [("Location", view["self"])])


@bp.route("/v2/tasks", methods=["GET"])
def index():
    context.request_context().check_tasks_api()
    params = [(k, v) for k, v in request.args.items(multi=True) if k in LIST_PARAMS]
    if not any(k == "limit" for k, _ in params):
        params.append(("limit", str(context.conf().limit_param_default)))
    found = context.registry().list_tasks(params=params, headers=context.auth_headers())
    return json_response({"tasks": [stub_view(task) for task in found],
                          **page_links("/v2/tasks", found), "schema": "/v2/schemas/tasks"})


@bp.route("/v2/tasks/<task_id>", methods=["GET"])
def show(task_id):
    context.request_context().check_tasks_api()
    try:
        record = context.registry().get_task(task_id, headers=context.auth_headers())
    except NotFound:
        raise NotFound(f"Task with the given ID {task_id} not found") from None
    return json_response(task_view(record))


@bp.route("/v2/tasks/<task_id>", methods=["DELETE"])
def delete(task_id):
    context.request_context().check_tasks_api()
    raise StatusError("This operation is currently not permitted on Glance Tasks. They are "
                      "auto deleted after reaching the time based on their expires_at property.",
                      405, headers=[("Allow", "GET")])


@bp.route("/v2/images/<image_id>/tasks", methods=["GET"])
def image_tasks(image_id):
    try:
        found = context.registry().image_tasks(image_id, headers=context.auth_headers())
    except NotFound:
        raise NotFound(f"No image found with ID {image_id}") from None
    return json_response({"tasks": [image_task_view(task) for task in found]})

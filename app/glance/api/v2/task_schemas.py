"""/v2/schemas/task and /v2/schemas/tasks: the JSON schemas of tasks, as Glance serves them."""
from flask import Blueprint

from glance.api.v2.schemas import UUID_PATTERN
from glance.api.v2.wire import json_response
from glance.task_rules import STATUSES

bp = Blueprint("v2_task_schemas", __name__)
TEXT, NULLABLE_TEXT, NULLABLE_OBJECT = "string", ["null", "string"], ["null", "object"]


def _prop(kind, description=None, **extra):
    return {"type": kind, **({"description": description} if description else {}), **extra}


TASK_PROPERTIES = {
    "id": _prop(TEXT, "An identifier for the task", pattern=UUID_PATTERN),
    "type": _prop(TEXT, "The type of task represented by this content",
                  enum=["import", "api_image_import", "location_import"]),
    "status": _prop(TEXT, "The current status of this task", enum=list(STATUSES)),
    "input": _prop(NULLABLE_OBJECT, "The parameters required by task, JSON blob"),
    "result": _prop(NULLABLE_OBJECT, "The result of current task, JSON blob"),
    "owner": _prop(TEXT, "An identifier for the owner of this task"),
    "message": _prop(TEXT, "Human-readable informative message only included when "
                     "appropriate (usually on failure)"),
    "image_id": _prop(TEXT, "Image associated with the task"),
    "request_id": _prop(TEXT, "Human-readable informative request-id"),
    "user_id": _prop(TEXT, "User associated with the task"),
    "expires_at": _prop(NULLABLE_TEXT, "Datetime when this resource would be subject to "
                        "removal"),
    "created_at": _prop(TEXT, "Datetime when this resource was created"),
    "updated_at": _prop(TEXT, "Datetime when this resource was updated"),
    "self": _prop(TEXT, readOnly=True),
    "schema": _prop(TEXT, readOnly=True),
}
# A task in a list leaves these out.
NOT_LISTED = ("input", "result", "message")


@bp.route("/v2/schemas/task", methods=["GET"])
def task():
    return json_response({"name": "task", "properties": TASK_PROPERTIES})


@bp.route("/v2/schemas/tasks", methods=["GET"])
def tasks():
    listed = {k: v for k, v in TASK_PROPERTIES.items() if k not in NOT_LISTED}
    return json_response({
        "name": "tasks",
        "properties": {"tasks": {"type": "array",
                                 "items": {"name": "task", "properties": listed}},
                       "schema": {"type": "string"}},
        "links": [{"rel": "describedby", "href": "{schema}"}]})

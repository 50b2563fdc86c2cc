"""/tasks: the records of imports, and /images/<id>/tasks, the tasks of one image.

Glance's default policy (``tasks_api_access``) gives the task API to admins
only; glance-api records the tasks of a caller's imports with its own
(admin) identity, naming the caller as owner.  An image's tasks are shown to
whoever may see the image: all of them to admins, to others the tasks of
their own project (and those without owner), as Glance does.  A task past
its ``expires_at`` is gone for every caller.
"""
import datetime

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import or_, select, update

from glance import rules
from glance.errors import BadRequest, Conflict, NotFound
from glance.registry import keyset
from glance.registry.images import json_object, load_undeleted, state
from glance.registry.metadefs import choice, page_query
from glance.registry.serialize import dump, load, timestamp
from glance.registry.models import utcnow
from glance.registry.task_models import Task
from glance.task_rules import FINISHED, NEXT, PENDING, SORT_KEYS, STATUSES, TYPES

bp = Blueprint("tasks", __name__)
# A TEXT column holds this much on MySQL/MariaDB; more would be cut or refused there.
TEXT_BYTES = 65535
STUB = ("id", "type", "status", "owner", "expires_at", "created_at", "updated_at")


def unexpired(now=None):
    return or_(Task.expires_at.is_(None), Task.expires_at > (now or utcnow()))


def task_record(row, whole=True):
    """The registry's record of a task; a list's (``whole=False``) leaves out input,
    result, message and the request's ids."""
    record = {key: getattr(row, key) for key in STUB}
    for key in ("expires_at", "created_at", "updated_at"):
        record[key] = timestamp(record[key])
    if whole:
        record.update(image_id=row.image_id, user_id=row.user_id, request_id=row.request_id,
                      input=load(row.input, None), result=load(row.result, None),
                      message=row.message)
    return record


def _text(name, value, most, required=False):
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value.encode("utf-8")) > most:
        raise BadRequest(f"Invalid task {name}: a string of at most {most} bytes")
    return value


def _document(name, value):
    """A JSON object (or null) as its column text.  :raises BadRequest:"""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid task {name}: it must be a JSON object or null")
    text = dump(value)
    if len(text.encode("utf-8")) > TEXT_BYTES:
        raise BadRequest(f"Task {name} is too large: at most {TEXT_BYTES} bytes of JSON")
    return text


def _new_task(body):
    """The row of a task to create, from its checked ``body``."""
    if body.get("type") not in TYPES:
        raise BadRequest(f"Invalid task type: one of {', '.join(TYPES)}")
    if body.get("status", PENDING) != PENDING:
        raise BadRequest("A task starts pending")
    image_id = body.get("image_id")
    if image_id is not None:
        image_id = rules.canonical_id(image_id)
        if image_id is None:
            raise BadRequest("Invalid task image_id: it must be a UUID")
    owner = body["owner"] if "owner" in body else g.ctx.owner
    user_id = body["user_id"] if "user_id" in body else g.ctx.user
    now = utcnow()
    return Task(id=rules.new_id(), type=body["type"], status=PENDING,
                owner=_text("owner", owner, 255), image_id=image_id,
                user_id=_text("user_id", user_id, 255),
                request_id=_text("request_id", body.get("request_id"), 64),
                input=_document("input", body.get("input")),
                message=_text("message", body.get("message", ""), TEXT_BYTES, True),
                created_at=now, updated_at=now)


@bp.post("/tasks")
def create():
    """A pending task (admins: glance-api, for the caller it names as owner)."""
    g.ctx.check_tasks_api()
    row = _new_task(json_object("task"))
    with state().Session() as session:
        session.add(row)
        session.commit()
        return jsonify({"task": task_record(row)}), 201


def _visible_row(session, task_id):
    """The unexpired task ``task_id``.  :raises NotFound:"""
    row = session.execute(select(Task).where(Task.id == str(task_id), unexpired())
                          ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"Task {task_id} was not found")
    return row


@bp.get("/tasks/<task_id>")
def show(task_id):
    g.ctx.check_tasks_api()
    with state().Session() as session:
        return jsonify({"task": task_record(_visible_row(session, task_id))})


@bp.get("/tasks")
def index():
    """A page of the unexpired tasks: ``limit``, ``marker``, ``sort_key``, ``sort_dir``,
    ``status`` and ``type`` filters."""
    g.ctx.check_tasks_api()
    conf = state().conf
    query = page_query(SORT_KEYS, conf.limit_param_default)
    stmt = select(Task).where(unexpired())
    for name, choices in (("status", STATUSES), ("type", TYPES)):
        value = choice(name, request.args.get(name), choices, None)
        if value is not None:
            stmt = stmt.where(getattr(Task, name) == value)
    with state().Session() as session:
        marker = None
        if query["marker"] is not None:
            marker = session.execute(select(Task).where(Task.id == query["marker"],
                                                        unexpired())).scalar_one_or_none()
            if marker is None:
                raise BadRequest(f"Invalid marker: task {query['marker'][:40]} was not found")
        dialect = session.get_bind().dialect.name
        rows = session.execute(keyset.page(stmt, Task, query, marker, dialect)).scalars()
        return jsonify({"tasks": [task_record(row, whole=False) for row in rows]})


@bp.put("/tasks/<task_id>")
def change(task_id):
    """Move a task on (pending -> processing -> success or failure) with its result or
    message; a finished task expires ``task_time_to_live`` hours later.

    :raises Conflict: the task is not in a status that may move to the one asked.
    """
    g.ctx.check_tasks_api()
    body = json_object("task")
    status = body.get("status")
    sources = [old for old, new in NEXT.items() if status in new]
    if not sources:
        raise BadRequest(f"Invalid task status: one of {', '.join(STATUSES[1:])}")
    now = utcnow()
    values = {"status": status, "updated_at": now}
    if "message" in body:
        values["message"] = _text("message", body["message"], TEXT_BYTES, True)
    if "result" in body:
        values["result"] = _document("result", body["result"])
    if status in FINISHED:
        hours = state().conf.task_time_to_live
        values["expires_at"] = now + datetime.timedelta(hours=hours)
    with state().Session() as session:
        # Conditional, so that of two requests moving one task only one wins.
        done = session.execute(update(Task).where(Task.id == str(task_id), unexpired(now),
                                                  Task.status.in_(sources)).values(**values))
        if done.rowcount != 1:
            session.rollback()
            row = _visible_row(session, task_id)
            raise Conflict(f"Task {task_id} is {row.status}: it cannot become {status}")
        session.commit()
        return jsonify({"task": task_record(_visible_row(session, task_id))})


@bp.delete("/tasks/<task_id>")
def delete(task_id):
    """Forget a task (glance-api: the import it was made for was refused)."""
    g.ctx.check_tasks_api()
    with state().Session() as session:
        session.delete(_visible_row(session, task_id))
        session.commit()
    return Response(status=204)


@bp.get("/images/<image_id>/tasks")
def image_tasks(image_id):
    """The unexpired tasks of an image the caller may see, oldest first.  :raises NotFound:"""
    with state().Session() as session:
        image = load_undeleted(session, image_id)
        stmt = (select(Task).where(Task.image_id == image.id, unexpired())
                .order_by(Task.created_at, Task.id))
        rows = session.execute(stmt).scalars()
        return jsonify({"tasks": [task_record(row) for row in rows if g.ctx.can_see_task(row)]})


"""RegistryTasksContract: the registry's tasks (/tasks, /images/<id>/tasks) and /usage.

Mixed into the registry's contract test classes, so it runs in process on
SQLite, over HTTP against glance-registry, and on MariaDB and PostgreSQL.
The task API is Glance's ``tasks_api_access`` (admins); glance-api records
the tasks of a caller's imports as admin, naming the caller.  Every refused
call is followed by a look at the tasks: nothing changed.
"""
import datetime
import uuid

import sqlalchemy as sa

from contract.registry import TS, as_user, image, raises

ADMIN = as_user("operators", roles="admin")
ALICE, BOB = as_user("alice"), as_user("bob")
ANONYMOUS = {"X-Auth-Token": "t", "X-Identity-Status": "Invalid"}
MIB = 1024 * 1024


def made(registry, kind="api_image_import", image_id=None, owner="alice", **extra):
    """A pending task recorded as glance-api records an import: admin, naming the caller."""
    body = {"type": kind, "input": {"image_id": image_id, "import_req": {"method": {
        "name": "glance-direct"}}}, "image_id": image_id, "owner": owner,
        "user_id": f"{owner}-user", "request_id": f"req-{uuid.uuid4()}", **extra}
    return registry.create_task(body, headers=ADMIN)


def ids(tasks):
    return [task["id"] for task in tasks]


def every_page(registry, **params):
    """All tasks, two per page, following the marker."""
    found, marker = [], None
    for _ in range(50):
        page = registry.list_tasks(params={**params, "limit": 2,
                                           **({"marker": marker} if marker else {})},
                                   headers=ADMIN)
        found += page
        if len(page) < 2:
            return found
        marker = page[-1]["id"]
    raise AssertionError(f"paging never ends: {ids(found)[:10]}...")


def age(registry, task_id, **columns):
    """Set a task's columns (times) in the database, as time passing would."""
    stmt = sa.text("UPDATE tasks SET " + ", ".join(f"{k} = :{k}" for k in columns)
                   + " WHERE id = :id").bindparams(
        *(sa.bindparam(k, type_=sa.DateTime()) for k in columns))
    with registry.engine.begin() as conn:
        conn.execute(stmt, {**columns, "id": task_id})


def parse(value):
    return datetime.datetime.fromisoformat(value)


class RegistryTasksContract:

    def test_a_task_is_recorded_for_the_caller_it_names(self, registry):
        img = registry.create(image(owner="alice"))
        task = made(registry, image_id=img["id"])
        assert {k: task[k] for k in ("type", "status", "owner", "image_id", "user_id",
                                     "result", "message", "expires_at")} == {
            "type": "api_image_import", "status": "pending", "owner": "alice",
            "image_id": img["id"], "user_id": "alice-user", "result": None, "message": "",
            "expires_at": None}
        assert task["input"]["import_req"] == {"method": {"name": "glance-direct"}}
        assert task["request_id"].startswith("req-")
        assert TS.match(task["created_at"]) and task["updated_at"] == task["created_at"]
        assert registry.get_task(task["id"], headers=ADMIN) == task
        by_admin = registry.create_task({"type": "import", "input": {}}, headers=ADMIN)
        assert (by_admin["owner"], by_admin["user_id"]) == ("operators", "user-of-operators")

    def test_a_task_moves_on_once_and_expires_task_time_to_live_after(self, registry):
        task = made(registry)
        with raises(409):
            registry.update_task(task["id"], "success", headers=ADMIN)    # not processing yet
        processing = registry.update_task(task["id"], "processing", headers=ADMIN)
        assert (processing["status"], processing["expires_at"]) == ("processing", None)
        done = registry.update_task(task["id"], "success", result={"image_id": "x"},
                                    headers=ADMIN)
        assert (done["status"], done["result"]) == ("success", {"image_id": "x"})
        kept = parse(done["expires_at"]) - parse(done["updated_at"])
        assert datetime.timedelta(hours=48) - kept <= datetime.timedelta(seconds=1)
        for status in ("failure", "processing", "success"):
            with raises(409):
                registry.update_task(task["id"], status, message="again", headers=ADMIN)
        assert registry.get_task(task["id"], headers=ADMIN) == done
        failed = made(registry)
        gone = registry.update_task(failed["id"], "failure", message="Not found", headers=ADMIN)
        assert (gone["status"], gone["message"], gone["result"]) == ("failure", "Not found", None)
        with raises(400):
            registry.update_task(failed["id"], "pending", headers=ADMIN)
        with raises(404):
            registry.update_task(str(uuid.uuid4()), "processing", headers=ADMIN)

    def test_only_admins_use_the_task_api_and_a_refused_call_changes_nothing(self, registry):
        task = made(registry)
        calls = {
            "create": lambda h: registry.create_task({"type": "import", "input": {}}, headers=h),
            "list": lambda h: registry.list_tasks(headers=h),
            "show": lambda h: registry.get_task(task["id"], headers=h),
            "move": lambda h: registry.update_task(task["id"], "processing", headers=h),
            "delete": lambda h: registry.delete_task(task["id"], headers=h),
        }
        for what, call in calls.items():
            for caller, status in ((ALICE, 403), (BOB, 403), (ANONYMOUS, 401)):
                with raises(status):
                    call(caller)
        assert registry.list_tasks(headers=ADMIN) == [
            {k: task[k] for k in ("id", "type", "status", "owner", "expires_at", "created_at",
                                  "updated_at")}]
        assert registry.get_task(task["id"], headers=ADMIN) == task
        registry.delete_task(task["id"], headers=ADMIN)
        with raises(404):
            registry.get_task(task["id"], headers=ADMIN)

    def test_bad_input_is_refused_and_nothing_is_recorded(self, registry):
        for body in ({"type": "bogus_import", "input": {}}, {"input": {}},
                     {"type": "import", "input": []}, {"type": "import", "status": "success"},
                     {"type": "import", "image_id": "not-a-uuid"},
                     {"type": "import", "owner": "o" * 256},
                     {"type": "import", "request_id": 5},
                     {"type": "import", "input": {"blob": "x" * 70000}}):
            with raises(400):
                registry.create_task(body, headers=ADMIN)
        task = made(registry)
        for status, extra in (("bogus", {}), ("failure", {"result": "not an object"}),
                              ("failure", {"message": 7})):
            with raises(400):
                registry.update_task(task["id"], status, headers=ADMIN, **extra)
        assert ids(registry.list_tasks(headers=ADMIN)) == [task["id"]]
        assert registry.get_task(task["id"], headers=ADMIN) == task

    def test_lists_page_sort_and_filter(self, registry):
        tasks = [made(registry, kind=kind) for kind in ("import", "api_image_import") * 3]
        registry.update_task(tasks[1]["id"], "processing", headers=ADMIN)
        registry.update_task(tasks[2]["id"], "failure", message="m", headers=ADMIN)
        registry.update_task(tasks[4]["id"], "failure", message="m", headers=ADMIN)
        for n, task in enumerate(tasks):          # distinct times, some equal
            age(registry, task["id"], created_at=datetime.datetime(2026, 1, 1 + n // 2),
                updated_at=datetime.datetime(2026, 2, 1 + n % 3))
        everything = set(ids(tasks))
        for key in ("created_at", "updated_at", "expires_at", "status", "type"):
            for direction in ("asc", "desc"):
                whole = registry.list_tasks(params={"sort_key": key, "sort_dir": direction},
                                            headers=ADMIN)
                assert set(ids(whole)) == everything, (key, direction)
                assert ids(every_page(registry, sort_key=key, sort_dir=direction)) == \
                    ids(whole), (key, direction)
                values = [(task[key] is not None, task[key] or "") for task in whole]
                assert values == sorted(values, reverse=direction == "desc"), (key, direction)
        newest = ids(registry.list_tasks(headers=ADMIN))      # created_at, newest first
        assert set(newest[:2]) == set(ids(tasks[4:])) and set(newest[-2:]) == set(ids(tasks[:2]))
        assert set(ids(registry.list_tasks(params={"status": "failure"}, headers=ADMIN))) == \
            {tasks[2]["id"], tasks[4]["id"]}
        assert set(ids(registry.list_tasks(params={"type": "import", "status": "pending"},
                                           headers=ADMIN))) == {tasks[0]["id"]}
        for params in ({"sort_key": "owner"}, {"sort_dir": "up"}, {"status": "done"},
                       {"type": "copy"}, {"limit": "-1"}, {"marker": str(uuid.uuid4())}):
            with raises(400):
                registry.list_tasks(params=params, headers=ADMIN)

    def test_an_images_tasks_are_shown_to_whoever_may_see_the_image(self, registry):
        private = registry.create(image(owner="alice", visibility="private"))
        public = registry.create(image(owner="alice", visibility="public"))
        alices = made(registry, image_id=private["id"])
        on_public = [made(registry, image_id=public["id"]),
                     made(registry, image_id=public["id"], owner="bob"),
                     made(registry, image_id=public["id"], owner=None)]
        made(registry)                                            # of no image
        shown = lambda image_id, h: ids(registry.image_tasks(image_id, headers=h))
        assert shown(private["id"], ALICE) == [alices["id"]]
        assert registry.image_tasks(private["id"], headers=ALICE)[0] == alices
        assert shown(private["id"], ADMIN) == [alices["id"]]
        for caller, status in ((BOB, 404), (ANONYMOUS, 404)):
            with raises(status):
                registry.image_tasks(private["id"], headers=caller)
        assert shown(public["id"], ADMIN) == ids(on_public)
        assert shown(public["id"], ALICE) == [on_public[0]["id"], on_public[2]["id"]]
        assert shown(public["id"], BOB) == ids(on_public[1:])
        assert shown(public["id"], ANONYMOUS) == [on_public[2]["id"]]
        registry.delete(private["id"])
        with raises(404):
            registry.image_tasks(private["id"], headers=ADMIN)
        with raises(404):
            registry.image_tasks(str(uuid.uuid4()), headers=ADMIN)

    def test_an_expired_task_is_gone(self, registry):
        img = registry.create(image(owner="alice"))
        task = made(registry, image_id=img["id"])
        registry.update_task(task["id"], "failure", message="m", headers=ADMIN)
        kept = made(registry, image_id=img["id"])
        age(registry, task["id"], expires_at=datetime.datetime(2020, 1, 1))
        assert ids(registry.list_tasks(headers=ADMIN)) == [kept["id"]]
        assert ids(registry.image_tasks(img["id"], headers=ALICE)) == [kept["id"]]
        with raises(404):
            registry.get_task(task["id"], headers=ADMIN)
        with raises(404):
            registry.update_task(task["id"], "processing", headers=ADMIN)
        with raises(400):
            registry.list_tasks(params={"marker": task["id"]}, headers=ADMIN)

    def test_usage_counts_the_callers_project_only(self, registry):
        for status, size, location in (("active", 3 * MIB, "file:///a"),
                                       ("active", 2 * MIB + 5, "file:///b"),
                                       ("deactivated", MIB, "file:///c"),
                                       ("queued", 0, None), ("saving", 7 * MIB, None),
                                       ("uploading", 4 * MIB, "file:///d"),
                                       ("importing", 0, None), ("killed", 9 * MIB, None)):
            registry.create(image(owner="alice", status=status, size=size, location=location))
        gone = registry.create(image(owner="alice", size=MIB, location="file:///e"))
        registry.delete(gone["id"])
        registry.create(image(owner="bob", size=MIB, location="file:///f"))
        assert registry.usage(headers=ALICE) == {
            "image_count_total": 7, "image_size_total": 6 * MIB + 5,
            "image_stage_total": 4 * MIB, "image_count_uploading": 3}
        assert registry.usage(headers=as_user("carol")) == {
            "image_count_total": 0, "image_size_total": 0, "image_stage_total": 0,
            "image_count_uploading": 0}
        assert registry.usage(headers=BOB)["image_size_total"] == MIB
        with raises(401):
            registry.usage(headers=ANONYMOUS)

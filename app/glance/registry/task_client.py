"""The registry client's calls for tasks and usage (mixed into RegistryClient).

Every call raises the client's errors: Invalid (400), Unauthorized,
Forbidden (the task API is for admins), NotFound, Duplicate (409: a task
that cannot move to the status asked).
"""
from glance.registry.metadef_client import _segment


class TaskClient:
    """Needs ``_request(method, path, *, body, params, headers)`` from its class."""

    def create_task(self, task, headers=None):
        """Record a pending task; returns it whole.

        :param task: ``type`` (import | api_image_import | location_import), ``input`` (an object),
            and, set by glance-api for the caller of an import, ``owner``,
            ``user_id``, ``request_id`` and ``image_id``.
        """
        return self._request("POST", "/tasks", body={"task": task}, headers=headers)["task"]

    def get_task(self, task_id, headers=None):
        """The unexpired task, whole.  :raises NotFound:"""
        return self._request("GET", f"/tasks/{_segment(task_id)}", headers=headers)["task"]

    def list_tasks(self, params=None, headers=None):
        """A page of unexpired tasks (without input, result and message).

        :param params: limit, marker, sort_key (created_at|expires_at|status|type|
            updated_at), sort_dir, status, type.
        :raises Invalid: a bad parameter, or a marker that is no task.
        """
        return self._request("GET", "/tasks", params=params, headers=headers)["tasks"]

    def update_task(self, task_id, status, result=None, message=None, headers=None):
        """Move a task to ``status`` (with its result or message); returns it.

        :raises Duplicate: the task is not in a status that may move to ``status``.
        """
        body = {"status": status}
        if result is not None:
            body["result"] = result
        if message is not None:
            body["message"] = message
        return self._request("PUT", f"/tasks/{_segment(task_id)}", body={"task": body},
                             headers=headers)["task"]

    def delete_task(self, task_id, headers=None):
        self._request("DELETE", f"/tasks/{_segment(task_id)}", headers=headers)

    def image_tasks(self, image_id, headers=None):
        """The unexpired tasks of an image the caller may see.  :raises NotFound:"""
        return self._request("GET", f"/images/{_segment(image_id)}/tasks",
                             headers=headers)["tasks"]

    def usage(self, headers=None):
        """``{image_count_total, image_size_total, image_stage_total, image_count_uploading}``
        of the caller's project (sizes in bytes)."""
        return self._request("GET", "/usage", headers=headers)["usage"]

"""The rules of tasks, for glance-api and glance-registry alike (no SQL here).

A task records asynchronous work: ``api_image_import`` for each v2 import,
``import`` for a legacy import task (POST /v2/tasks), ``location_import`` for
each POST /v2/images/<id>/locations.  It moves
pending -> processing -> success or failure, as Glance's do, and a finished
task never changes again.
"""
TYPES = ("import", "api_image_import", "location_import")
PENDING, PROCESSING, SUCCESS, FAILURE = "pending", "processing", "success", "failure"
STATUSES = (PENDING, PROCESSING, SUCCESS, FAILURE)
FINISHED = (SUCCESS, FAILURE)
NEXT = {PENDING: (PROCESSING, FAILURE), PROCESSING: (SUCCESS, FAILURE)}
# What /v2/tasks sorts by (Glance's list), each after ``id``.
SORT_KEYS = ("created_at", "expires_at", "status", "type", "updated_at")

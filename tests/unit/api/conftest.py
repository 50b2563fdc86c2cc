"""glance-api under Flask's test client, with an in-memory registry."""
import copy
import datetime
import uuid

import pytest

from glance.api import create_app
from glance.config import load_config
from glance import errors
from glance.store import StoreMap
from glance.store.filesystem import FilesystemStore


class FakeRegistry:
    """Enough of RegistryClient to drive the API: records calls, keeps images in a dict."""

    def __init__(self):
        self.images = {}
        self.calls = []
        self.members = {}

    def _now(self):
        return datetime.datetime.utcnow().isoformat()

    def list(self, detail=False, params=None, headers=None):
        self.calls.append(("list", detail, params, headers))
        found = [copy.deepcopy(i) for i in self.images.values() if not i["deleted"]]
        if detail:
            return found
        keys = ("id", "name", "disk_format", "container_format", "checksum", "size")
        return [{k: i[k] for k in keys} for i in found]

    def get(self, image_id, headers=None):
        self.calls.append(("get", image_id, headers))
        if image_id not in self.images:
            raise errors.NotFound(f"No image found with ID {image_id}")
        return copy.deepcopy(self.images[image_id])

    def create(self, image, headers=None):
        self.calls.append(("create", copy.deepcopy(image), headers))
        image_id = image.get("id") or str(uuid.uuid4())
        if image_id in self.images:
            raise errors.Conflict(f"Image with identifier {image_id} already exists!")
        if image.get("disk_format") not in (None, "raw", "qcow2", "ami"):
            raise errors.BadRequest(f"Invalid disk format '{image['disk_format']}' for image.")
        record = {"id": image_id, "name": None, "status": "queued", "size": 0,
                  "disk_format": None, "container_format": None, "min_disk": 0, "min_ram": 0,
                  "is_public": False, "checksum": None, "owner": None, "location": None,
                  "protected": False, "created_at": self._now(), "updated_at": None,
                  "deleted_at": None, "deleted": False, "properties": {}}
        record.update(copy.deepcopy(image))
        record["id"] = image_id
        self.images[image_id] = record
        return copy.deepcopy(record)

    def update(self, image_id, image, purge_props=False, headers=None, expect_status=None):
        self.calls.append(("update", image_id, copy.deepcopy(image), purge_props, headers))
        record = self.images.get(image_id)
        if record is None:
            raise errors.NotFound(f"No image found with ID {image_id}")
        if expect_status is not None and (record["status"] != expect_status
                                          or record.get("deleted")):
            raise errors.Conflict(f"Image {image_id} is no longer {expect_status}")
        changes = copy.deepcopy(image)
        properties = changes.pop("properties", None)
        record.update(changes)
        if purge_props:
            record["properties"] = dict(properties or {})
        elif properties:
            record["properties"].update(properties)
        return copy.deepcopy(record)

    def delete(self, image_id, headers=None):
        self.calls.append(("delete", image_id, headers))
        record = self.images[image_id]
        record["deleted"] = True
        if record["status"] != "pending_delete":    # as the registry: data still to remove
            record["status"] = "pending_delete" if record["location"] else "deleted"

    def statuses(self, image_id):
        return [c[2]["status"] for c in self.calls
                if c[0] == "update" and c[1] == image_id and "status" in c[2]]

    def get_members(self, image_id, headers=None):
        self.get(image_id)
        return self.members.get(image_id, [])

    def replace_members(self, image_id, memberships, headers=None):
        self.members[image_id] = memberships

    def add_member(self, image_id, member, can_share=None, headers=None):
        self.calls.append(("add_member", image_id, member, can_share))

    def delete_member(self, image_id, member, headers=None):
        self.calls.append(("delete_member", image_id, member))

    def get_shared_images(self, member, headers=None):
        return []


@pytest.fixture
def conf(tmp_path):
    return load_config("glance-api", overrides={"filesystem_store_datadir": str(tmp_path / "d")})


@pytest.fixture
def registry():
    return FakeRegistry()


@pytest.fixture
def fs_store(conf):
    return FilesystemStore.from_config(conf)


@pytest.fixture
def make_client(conf, registry, fs_store):
    def make(store=None, service_auth=None, auth_token=None, **changes):
        stores = StoreMap({"file": store or fs_store}, "file",
                          {"file": "file", "filesystem": "file"})
        app = create_app(conf.replace(**changes), registry=registry, stores=stores,
                         service_auth=service_auth, auth_token=auth_token)
        return app.test_client()
    return make


@pytest.fixture
def client(make_client):
    return make_client()

"""Image API v2 clients with a real Keystone: glance-api found in the catalog, never given.

python-glanceclient v2 (library on a keystoneauth session, and the ``glance`` CLI) and
python-openstackclient's ``openstack image`` commands authenticate as the test users of
:mod:`keystone_tools` and reach glance-api only through the ``image`` endpoints of the
token's catalog (``keystone_glance`` registers them). Other projects and anonymous callers
must fail, and the image must be unchanged afterwards.
"""
import hashlib
import io
import json
import os
import shutil
import sys
import uuid

import pytest

import cli
import requests

glanceclient = pytest.importorskip("glanceclient")
from glanceclient import exc  # noqa: E402
from keystoneauth1 import session as ks_session  # noqa: E402
from keystoneauth1.identity import v3  # noqa: E402

from test_glanceclient import _field as field  # noqa: E402  (reads the CLI's tables)

DATA = os.urandom(3 * 1024 * 1024 + 11)
MD5 = hashlib.md5(DATA).hexdigest()
SHA512 = hashlib.sha512(DATA).hexdigest()


def _name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _credentials(keystone_glance, user):
    account = keystone_glance.keystone.accounts[user]
    return ["--os-auth-url", keystone_glance.keystone.url,
            "--os-username", user, "--os-password", account["password"],
            "--os-project-name", account["project"],
            "--os-user-domain-name", "Default", "--os-project-domain-name", "Default"]


def _run(program, args, ok=True):
    command = shutil.which(program, path=os.path.dirname(sys.executable))
    if command is None:
        pytest.skip(f"the {program} command is not installed")
    # Nothing from the caller's environment (OS_IMAGE_URL, OS_AUTH_TOKEN...) may help.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    # Standard input closed, as at a terminal: the clients read a non-TTY one as image data.
    done = cli.run(command, args, env=env, timeout=180, stdin="closed")
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def glance(keystone_glance, user, *args, ok=True):
    """``glance --os-image-api-version 2`` as ``user``, with no --os-image-url."""
    return _run("glance", ["--os-image-api-version", "2",
                           *_credentials(keystone_glance, user), *args], ok=ok)


def openstack(keystone_glance, user, *args, ok=True):
    """``openstack`` as ``user`` (password auth, identity v3); JSON output parsed when -f json."""
    done = _run("openstack", ["--os-identity-api-version", "3", "--os-image-api-version", "2",
                              *_credentials(keystone_glance, user), *args], ok=ok)
    if ok and "json" in args:
        return json.loads(done.stdout) if done.stdout.strip() else None
    return done


def client(keystone_glance, user):
    """A glanceclient v2 Client on a keystoneauth session: the endpoint comes from the catalog."""
    account = keystone_glance.keystone.accounts[user]
    auth = v3.Password(auth_url=keystone_glance.keystone.url, username=user,
                       password=account["password"], project_name=account["project"],
                       user_domain_name="Default", project_domain_name="Default")
    return glanceclient.Client("2", session=ks_session.Session(auth=auth))


def _bytes(chunks):
    return b"".join(chunks)


# --- python-glanceclient v2, the library ------------------------------------------

def test_library_finds_glance_in_the_catalog(keystone_glance):
    owner, other = client(keystone_glance, "owner"), client(keystone_glance, "other")
    image = owner.images.create(name=_name("ks-v2-lib"), disk_format="qcow2",
                                container_format="bare", os_distro="cirros")
    assert image["status"] == "queued"
    assert image["owner"] == keystone_glance.keystone.accounts["owner"]["project_id"]
    owner.images.upload(image["id"], io.BytesIO(DATA), image_size=len(DATA))
    shown = owner.images.get(image["id"])
    assert shown["status"] == "active" and shown["size"] == len(DATA)
    assert shown["checksum"] == MD5
    assert shown["os_hash_algo"] == "sha512" and shown["os_hash_value"] == SHA512
    assert shown["os_distro"] == "cirros"
    assert _bytes(owner.images.data(image["id"])) == DATA

    # Another project neither sees, changes nor deletes it.
    assert image["id"] not in [i["id"] for i in other.images.list()]
    with pytest.raises(exc.HTTPNotFound):
        other.images.get(image["id"])
    with pytest.raises(exc.HTTPNotFound):
        other.images.update(image["id"], os_distro="stolen")
    with pytest.raises(exc.HTTPNotFound):
        other.images.delete(image["id"])
    # Nor does a caller without a token, straight at the catalog's URL.
    anonymous = requests.get(f"{keystone_glance.api.url}/v2/images/{image['id']}", timeout=30)
    assert anonymous.status_code == 404      # keystone mode: as if it did not exist
    after = owner.images.get(image["id"])
    assert after["os_distro"] == "cirros" and after["status"] == "active"
    assert after["updated_at"] == shown["updated_at"]

    # Shared with the other project: pending until accepted, then readable.
    other_project = keystone_glance.keystone.accounts["other"]["project_id"]
    member = owner.image_members.create(image["id"], other_project)
    assert member["status"] == "pending"
    assert other.images.get(image["id"])["id"] == image["id"]      # members may read
    assert image["id"] not in [i["id"] for i in other.images.list()]
    other.image_members.update(image["id"], other_project, "accepted")
    assert image["id"] in [i["id"] for i in other.images.list()]
    assert _bytes(other.images.data(image["id"])) == DATA
    with pytest.raises(exc.HTTPForbidden):
        other.images.delete(image["id"])                           # members do not own

    owner.images.update(image["id"], remove_props=["os_distro"], min_ram=256)
    owner.image_tags.update(image["id"], "golden")
    patched = owner.images.get(image["id"])
    assert "os_distro" not in patched and patched["min_ram"] == 256
    assert patched["tags"] == ["golden"]

    owner.images.delete(image["id"])
    with pytest.raises(exc.HTTPNotFound):
        owner.images.get(image["id"])
    assert image["id"] not in os.listdir(keystone_glance.datadir)


def test_library_schemas_and_paging(keystone_glance):
    owner = client(keystone_glance, "owner")
    # What Nova's GlanceImageServiceV2 reads before it writes properties.
    schema = owner.schemas.get("image")
    assert "os_hash_value" in schema.raw()["properties"]
    made = [owner.images.create(name=_name("ks-v2-page"), disk_format="raw",
                                container_format="bare", tags=["ks-page"])["id"]
            for _ in range(5)]
    try:
        # page_size 2: the client follows the links "next" through three pages.
        listed = [i["id"] for i in owner.images.list(page_size=2, filters={"tag": ["ks-page"]})]
        assert sorted(listed) == sorted(made)
    finally:
        for image_id in made:
            owner.images.delete(image_id)


# --- the glance CLI, v2 ------------------------------------------------------------

def test_glance_cli_v2_with_keystone_credentials(keystone_glance, tmp_path):
    path = tmp_path / "cirros.img"
    path.write_bytes(DATA)
    name = _name("ks-v2-cli")
    created = glance(keystone_glance, "owner", "image-create", "--name", name,
                     "--disk-format", "qcow2", "--container-format", "bare",
                     "--property", "os_distro=cirros", "--file", str(path)).stdout
    image_id = field(created, "id")
    assert field(created, "status") == "active"
    assert field(created, "checksum") == MD5
    assert field(created, "os_hash_algo") == "sha512"
    # The CLI's table wraps the 128 hex digits; the library reads them whole.
    assert SHA512.startswith(field(created, "os_hash_value"))
    assert client(keystone_glance, "owner").images.get(image_id)["os_hash_value"] == SHA512
    assert field(created, "visibility") == "shared"
    assert field(created, "owner") == keystone_glance.keystone.accounts["owner"]["project_id"]

    assert image_id in glance(keystone_glance, "owner", "image-list").stdout
    assert field(glance(keystone_glance, "owner", "image-show", image_id).stdout,
                 "os_distro") == "cirros"

    # The other project sees nothing of it and can change nothing.
    assert image_id not in glance(keystone_glance, "other", "image-list").stdout
    for args in (("image-show", image_id), ("image-delete", image_id),
                 ("image-update", "--property", "os_distro=stolen", image_id),
                 ("image-tag-update", image_id, "stolen")):
        assert glance(keystone_glance, "other", *args, ok=False).returncode != 0, args
    unchanged = glance(keystone_glance, "owner", "image-show", image_id).stdout
    assert field(unchanged, "os_distro") == "cirros" and field(unchanged, "tags") == "[]"

    glance(keystone_glance, "owner", "image-update", "--property", "release=12",
           "--min-ram", "128", image_id)
    glance(keystone_glance, "owner", "image-tag-update", image_id, "golden")
    shown = glance(keystone_glance, "owner", "image-show", image_id).stdout
    assert field(shown, "release") == "12" and field(shown, "min_ram") == "128"
    assert "golden" in field(shown, "tags")
    glance(keystone_glance, "owner", "image-tag-delete", image_id, "golden")
    assert "golden" not in field(
        glance(keystone_glance, "owner", "image-show", image_id).stdout, "tags")

    other_project = keystone_glance.keystone.accounts["other"]["project_id"]
    added = glance(keystone_glance, "owner", "member-create", image_id, other_project).stdout
    assert "pending" in added
    glance(keystone_glance, "other", "member-update", image_id, other_project, "accepted")
    assert "accepted" in glance(keystone_glance, "owner", "member-list",
                                "--image-id", image_id).stdout
    assert image_id in glance(keystone_glance, "other", "image-list").stdout
    target = tmp_path / "down.img"
    glance(keystone_glance, "other", "image-download", "--file", str(target), image_id)
    assert target.read_bytes() == DATA
    glance(keystone_glance, "owner", "member-delete", image_id, other_project)
    assert glance(keystone_glance, "other", "image-show", image_id, ok=False).returncode != 0

    glance(keystone_glance, "owner", "image-delete", image_id)
    assert image_id not in glance(keystone_glance, "owner", "image-list").stdout
    assert glance(keystone_glance, "owner", "image-show", image_id, ok=False).returncode != 0


# --- python-openstackclient --------------------------------------------------------

def test_openstack_image_commands_with_keystone(keystone_glance, tmp_path):
    path = tmp_path / "cirros.img"
    path.write_bytes(DATA)
    name = _name("ks-osc")
    created = openstack(keystone_glance, "owner", "image", "create", "--disk-format", "qcow2",
                        "--container-format", "bare", "--file", str(path),
                        "--property", "os_distro=cirros", name, "-f", "json")
    image_id = created["id"]
    assert created["status"] == "active" and created["checksum"] == MD5
    assert created["owner"] == keystone_glance.keystone.accounts["owner"]["project_id"]

    listed = openstack(keystone_glance, "owner", "image", "list", "-f", "json")
    assert image_id in [i["ID"] for i in listed]
    shown = openstack(keystone_glance, "owner", "image", "show", image_id, "-f", "json")
    assert shown["name"] == name and shown["size"] == len(DATA)
    assert shown["properties"]["os_distro"] == "cirros"
    assert shown["properties"]["os_hash_value"] == SHA512

    # The other project: not listed, not shown, not changed, not deleted.
    assert image_id not in [i["ID"] for i in openstack(keystone_glance, "other", "image",
                                                        "list", "-f", "json")]
    for args in (("image", "show", image_id), ("image", "delete", image_id),
                 ("image", "set", "--property", "os_distro=stolen", image_id),
                 ("image", "save", "--file", str(tmp_path / "stolen"), image_id)):
        assert openstack(keystone_glance, "other", *args, ok=False).returncode != 0, args
    assert not (tmp_path / "stolen").exists() or (tmp_path / "stolen").stat().st_size == 0

    openstack(keystone_glance, "owner", "image", "set", "--property", "release=12",
              "--tag", "golden", "--min-ram", "128", image_id)
    shown = openstack(keystone_glance, "owner", "image", "show", image_id, "-f", "json")
    assert shown["properties"]["release"] == "12" and shown["min_ram"] == 128
    assert shown["properties"]["os_distro"] == "cirros"
    assert "golden" in shown["tags"]

    saved = tmp_path / "saved.img"
    openstack(keystone_glance, "owner", "image", "save", "--file", str(saved), image_id)
    assert saved.read_bytes() == DATA

    # Shared: add project, the other project accepts, then it lists and saves the image.
    other_project = keystone_glance.keystone.accounts["other"]["project_id"]
    member = openstack(keystone_glance, "owner", "image", "add", "project", image_id,
                       other_project, "-f", "json")
    assert member["status"] == "pending"
    openstack(keystone_glance, "other", "image", "set", "--accept", image_id)
    assert image_id in [i["ID"] for i in openstack(keystone_glance, "other", "image", "list",
                                                   "--shared", "-f", "json")]
    theirs = tmp_path / "theirs.img"
    openstack(keystone_glance, "other", "image", "save", "--file", str(theirs), image_id)
    assert theirs.read_bytes() == DATA
    assert openstack(keystone_glance, "other", "image", "delete", image_id,
                     ok=False).returncode != 0

    openstack(keystone_glance, "owner", "image", "delete", image_id)
    assert image_id not in [i["ID"] for i in openstack(keystone_glance, "owner", "image",
                                                        "list", "-f", "json")]
    assert openstack(keystone_glance, "owner", "image", "show", image_id,
                     ok=False).returncode != 0
    assert image_id not in os.listdir(keystone_glance.datadir)


def test_openstack_with_a_wrong_password_fails_before_glance(keystone_glance):
    account = dict(keystone_glance.keystone.accounts["owner"])
    keystone_glance.keystone.accounts["owner"]["password"] = "wrong"
    try:
        done = openstack(keystone_glance, "owner", "image", "list", ok=False)
    finally:
        keystone_glance.keystone.accounts["owner"].update(account)
    assert done.returncode != 0
    assert "401" in done.stderr or "authenticat" in done.stderr.lower()
    assert "wrong" not in done.stdout


def test_metadefs_default_policy_with_keystone_tokens(keystone_glance):
    """/v2/metadefs: admins write, members read public namespaces, no token reads nothing."""
    url = keystone_glance.api.url
    NS = "/v2/metadefs/namespaces"
    as_user = lambda user: {"X-Auth-Token": keystone_glance.token(user)}
    call = lambda method, path, user=None, **kw: requests.request(
        method, url + path, headers=as_user(user) if user else {}, timeout=30, **kw)
    name = _name("ks-ns")
    assert call("POST", NS, "owner", json={"namespace": name}).status_code == 403
    assert call("POST", NS, json={"namespace": name}).status_code == 401
    made = call("POST", NS, "admin", json={"namespace": name, "tags": [{"name": "t"}]})
    assert made.status_code == 201, made.text
    assert call("GET", f"{NS}/{name}", "owner").status_code == 404      # private, not theirs
    assert call("GET", f"{NS}/{name}").status_code == 401
    public = {"namespace": name, "visibility": "public"}
    assert call("PUT", f"{NS}/{name}", "admin", json=public).status_code == 200
    assert call("GET", f"{NS}/{name}", "owner").json()["tags"] == [{"name": "t"}]
    assert call("DELETE", f"{NS}/{name}", "owner").status_code == 403
    assert call("GET", f"{NS}/{name}/tags", "admin").json() == {"tags": [{"name": "t"}]}
    assert call("DELETE", f"{NS}/{name}", "admin").status_code == 204


# --- tasks and usage ---------------------------------------------------------------

TASK_DATA = os.urandom(64 * 1024 + 5)


def _call(keystone_glance, user, method, path, **kw):
    headers = {"X-Auth-Token": keystone_glance.token(user)} if user else {}
    return requests.request(method, keystone_glance.api.url + path, timeout=30,
                            headers={**headers, **kw.pop("headers", {})}, **kw)


def test_a_members_import_is_its_projects_task(keystone_glance):
    """glance-api records a member's import with glance's service token, naming the
    member's project; the task API stays the admin's; usage counts each project's own."""
    owner = keystone_glance.keystone.accounts["owner"]
    counted = lambda user: _call(keystone_glance, user, "GET", "/v2/info/usage").json()[
        "usage"]["image_count_total"]["usage"]
    owners, others = counted("owner"), counted("other")
    made = _call(keystone_glance, "owner", "POST", "/v2/images", json={
        "name": "ks-task", "disk_format": "raw", "container_format": "bare",
        "visibility": "private"})
    assert made.status_code == 201, made.text
    image_id = made.json()["id"]
    staged = _call(keystone_glance, "owner", "PUT", f"/v2/images/{image_id}/stage",
                   data=TASK_DATA, headers={"Content-Type": "application/octet-stream"})
    assert staged.status_code == 204, staged.text
    go = _call(keystone_glance, "owner", "POST", f"/v2/images/{image_id}/import",
               json={"method": {"name": "glance-direct"}})
    assert go.status_code == 202, go.text
    tasks = _call(keystone_glance, "owner", "GET", f"/v2/images/{image_id}/tasks")
    assert tasks.status_code == 200, tasks.text
    [task] = tasks.json()["tasks"]
    assert (task["status"], task["owner"], task["user_id"], task["request_id"]) == (
        "success", owner["project_id"], owner["user_id"], go.headers["x-openstack-request-id"])
    for user, status in (("other", 404), (None, 404)):
        assert _call(keystone_glance, user, "GET", f"/v2/images/{image_id}/tasks"
                     ).status_code == status, user
    for user, status in (("owner", 403), (None, 401)):
        assert _call(keystone_glance, user, "GET", "/v2/tasks").status_code == status, user
        assert _call(keystone_glance, user, "GET", f"/v2/tasks/{task['id']}"
                     ).status_code == status, user
    shown = _call(keystone_glance, "admin", "GET", f"/v2/tasks/{task['id']}")
    assert shown.status_code == 200 and shown.json()["status"] == "success"
    assert (counted("owner"), counted("other")) == (owners + 1, others)
    assert _call(keystone_glance, None, "GET", "/v2/info/usage").status_code == 401

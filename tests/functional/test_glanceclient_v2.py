"""python-glanceclient (from PyPI) against glance-api's v2: the library, the calls
Nova's GlanceImageServiceV2 makes through it, and the ``glance`` CLI (noauth)."""
import hashlib
import io
import os
import shutil
import sys
import uuid

import pytest

import cli

glanceclient = pytest.importorskip("glanceclient")
from glanceclient import exc  # noqa: E402

DATA = os.urandom(300 * 1024 + 3)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def client(url, tenant=None):
    headers = {"X-Tenant-Id": tenant, "X-User-Id": f"{tenant}-user"} if tenant else None
    return glanceclient.Client(endpoint=f"{url}/v2", token="anything", identity_headers=headers)


@pytest.fixture(scope="module")
def gc(api_server):
    return client(api_server.url, "alpha")


@pytest.fixture(scope="module")
def admin(api_server):
    return client(api_server.url)


def test_library_create_upload_show_list_download_update_delete(gc):
    name = f"gc2-{uuid.uuid4().hex[:8]}"
    image = gc.images.create(name=name, disk_format="qcow2", container_format="bare",
                             min_ram=256, distro="debian", tags=["gc"])
    assert image.status == "queued" and image.distro == "debian"
    gc.images.upload(image.id, io.BytesIO(DATA), image_size=len(DATA))
    shown = gc.images.get(image.id)
    assert shown.status == "active" and shown.size == len(DATA)
    assert shown.checksum == hashlib.md5(DATA).hexdigest()
    assert shown.min_ram == 256 and shown.tags == ["gc"]

    assert [i.id for i in gc.images.list(filters={"name": name})] == [image.id]
    assert image.id in [i.id for i in gc.images.list(filters={"tag": ["gc"]})]
    assert b"".join(gc.images.data(image.id)) == DATA        # verified by the client

    updated = gc.images.update(image.id, name=name + "-x", arch="arm64",
                               remove_props=["distro"])
    assert updated.name == name + "-x" and updated.arch == "arm64"
    assert "distro" not in gc.images.get(image.id)
    gc.image_tags.update(image.id, "more")
    gc.image_tags.delete(image.id, "gc")
    assert gc.images.get(image.id).tags == ["more"]

    gc.images.delete(image.id)
    with pytest.raises(exc.HTTPNotFound):
        gc.images.get(image.id)


def test_library_paging_follows_next(gc):
    mark = uuid.uuid4().hex[:8]
    ids = {gc.images.create(name=f"{mark}-{n}", tags=[mark]).id for n in range(5)}
    seen = [i.id for i in gc.images.list(filters={"tag": [mark]}, page_size=2)]
    assert sorted(seen) == sorted(ids)


def test_library_members(api_server, gc):
    image = gc.images.create(name="shared", disk_format="raw", container_format="bare")
    gc.images.upload(image.id, io.BytesIO(DATA))
    member = gc.image_members.create(image.id, "beta")
    assert member.status == "pending"
    beta = client(api_server.url, "beta")
    assert image.id not in [i.id for i in beta.images.list()]
    with pytest.raises(exc.HTTPForbidden):
        gc.image_members.update(image.id, "beta", "accepted")       # the owner may not
    beta.image_members.update(image.id, "beta", "accepted")
    assert image.id in [i.id for i in beta.images.list()]
    assert [m.member_id for m in gc.image_members.list(image.id)] == ["beta"]
    gamma = client(api_server.url, "gamma")
    with pytest.raises(exc.HTTPNotFound):
        gamma.images.get(image.id)
    with pytest.raises(exc.HTTPNotFound):
        gamma.images.update(image.id, name="stolen")
    gc.image_members.delete(image.id, "beta")
    with pytest.raises(exc.HTTPNotFound):
        beta.images.get(image.id)
    assert gc.images.get(image.id).name == "shared"


# --- what Nova's GlanceImageServiceV2 does -----------------------------------------

def test_nova_sequence(admin):
    """get, list (filters + paging), data streamed, create+upload (incl. zero-size
    snapshot), update with purge_props, delete, schemas.get('image')."""
    schema = admin.schemas.get("image")
    disk_formats = schema.raw()["properties"]["disk_format"]["enum"]
    assert "qcow2" in disk_formats and "raw" in disk_formats

    mark = uuid.uuid4().hex[:8]
    # snapshot: create with properties, then upload the data
    snap = admin.images.create(name=f"{mark}-snap", disk_format="qcow2", container_format="bare",
                               visibility="private", instance_uuid=str(uuid.uuid4()),
                               image_type="snapshot", owner="alpha")
    admin.images.upload(snap.id, io.BufferedReader(io.BytesIO(DATA)))   # nova: an open file
    # a zero-size snapshot (volume-backed instance): empty data uploaded
    empty = admin.images.create(name=f"{mark}-empty", disk_format="raw", container_format="bare",
                                image_type="snapshot", bdm_v2="True")
    admin.images.upload(empty.id, io.BytesIO(b""), image_size=0)
    got = admin.images.get(empty.id)
    assert got.status == "active" and got.size == 0

    listed = list(admin.images.list(filters={"name": f"{mark}-snap", "status": "active"},
                                    page_size=1, sort_key="created_at", sort_dir="desc"))
    assert [i.id for i in listed] == [snap.id]
    chunks = admin.images.data(snap.id)
    assert chunks.wrapped is not None                 # nova refuses a 204 (no data)
    assert b"".join(chunks) == DATA
    queued = admin.images.create(name=f"{mark}-queued")
    assert admin.images.data(queued.id).wrapped is None

    # update with purge_props: nova removes what the new metadata no longer has
    current = admin.images.get(snap.id)
    keep = {"image_type": "snapshot", "os_distro": "debian"}
    remove = [k for k in ("instance_uuid",) if k in current]
    updated = admin.images.update(snap.id, remove_props=remove, **keep)
    assert updated.os_distro == "debian" and "instance_uuid" not in updated
    assert admin.images.get(snap.id).image_type == "snapshot"

    for image_id in (snap.id, empty.id, queued.id):
        admin.images.delete(image_id)
        with pytest.raises(exc.HTTPNotFound):
            admin.images.get(image_id)


# --- the glance command -------------------------------------------------------------

def _glance(url, *args, tenant=None):
    command = shutil.which("glance", path=os.path.dirname(sys.executable))
    if command is None:
        pytest.skip("the glance command of python-glanceclient is not installed")
    full = [command, "--os-image-api-version", "2", "--os-image-url", url,
            "--os-auth-token", "anything", *args]
    env = dict(os.environ)
    for name in [n for n in env if n.startswith("OS_")]:
        del env[name]
    # Standard input closed, as at a terminal: glanceclient sends a non-TTY one as data.
    done = cli.run(full[0], full[1:], env=env, timeout=120, stdin="closed")
    return done


def _ok(url, *args):
    done = _glance(url, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _json_field(table, name):
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] == name:
            return cells[1]
    raise AssertionError(f"{name} not in {table}")


def test_cli(api_server, tmp_path):
    url = api_server.url
    source = tmp_path / "img.raw"
    source.write_bytes(DATA)
    name = f"cli-{uuid.uuid4().hex[:8]}"
    out = _ok(url, "image-create", "--name", name, "--disk-format", "raw",
              "--container-format", "bare", "--visibility", "shared", "--file", str(source),
              "--property", "distro=debian")
    image_id = _json_field(out, "id")
    assert _json_field(out, "status") == "active"
    assert _json_field(out, "checksum") == hashlib.md5(DATA).hexdigest()

    assert image_id in _ok(url, "image-list")
    assert image_id in _ok(url, "image-list", "--property-filter", f"name={name}")
    shown = _ok(url, "image-show", image_id)
    assert _json_field(shown, "distro") == "debian"

    target = tmp_path / "out.raw"
    _ok(url, "image-download", "--file", str(target), image_id)
    assert target.read_bytes() == DATA

    updated = _ok(url, "image-update", "--name", name + "-new", "--property", "arch=x86_64",
                  "--remove-property", "distro", image_id)
    assert _json_field(updated, "name") == name + "-new"
    assert _json_field(updated, "arch") == "x86_64"
    assert "distro" not in _ok(url, "image-show", image_id)

    _ok(url, "image-tag-update", image_id, "blue")
    assert "blue" in _json_field(_ok(url, "image-show", image_id), "tags")
    _ok(url, "image-tag-delete", image_id, "blue")
    assert "blue" not in _json_field(_ok(url, "image-show", image_id), "tags")

    added = _ok(url, "member-create", image_id, "beta")
    assert "pending" in added
    assert "beta" in _ok(url, "member-list", "--image-id", image_id)
    # noauth's CLI caller is an admin, which Glance lets set a member's status
    assert "accepted" in _ok(url, "member-update", image_id, "beta", "accepted")
    assert "accepted" in _ok(url, "member-list", "--image-id", image_id)
    _ok(url, "member-delete", image_id, "beta")
    assert "beta" not in _ok(url, "member-list", "--image-id", image_id)

    _ok(url, "image-delete", image_id)
    assert _glance(url, "image-show", image_id).returncode != 0


def test_member_status_by_the_member_only(api_server):
    """The member sets its status; a stranger cannot, nor can the member remove itself."""
    gc = client(api_server.url, "alpha")
    image = gc.images.create(name="for-beta", disk_format="raw", container_format="bare")
    gc.image_members.create(image.id, "beta")
    beta, gamma = client(api_server.url, "beta"), client(api_server.url, "gamma")
    with pytest.raises(exc.HTTPNotFound):
        gamma.image_members.update(image.id, "beta", "accepted")
    beta.image_members.update(image.id, "beta", "rejected")
    assert [m.status for m in gc.image_members.list(image.id)] == ["rejected"]
    with pytest.raises(exc.HTTPForbidden):
        beta.image_members.delete(image.id, "beta")
    assert [m.status for m in gc.image_members.list(image.id)] == ["rejected"]


def test_cli_import_and_discovery(api_server, tmp_path):
    url = api_server.url
    assert "web-download" in _ok(url, "import-info")           # the table wraps long cells
    stores = _glance(url, "stores-info")              # one store: as Glance, no store list
    assert stores.returncode != 0 and "Multi Backend support is not enabled" in stores.stderr
    source = tmp_path / "img.raw"
    source.write_bytes(DATA)
    out = _ok(url, "image-create-via-import", "--name", "imported", "--disk-format", "raw",
              "--container-format", "bare", "--import-method", "glance-direct",
              "--file", str(source))
    image_id = _json_field(out, "id")
    gc = client(url)
    shown = gc.images.get(image_id)
    assert shown.status == "active" and shown.os_hash_algo == "sha512"
    assert b"".join(gc.images.data(image_id)) == DATA       # checks os_hash_value
    # web-download from a loopback address: the HTTP store's guard refuses it
    refused = _glance(url, "image-create-via-import", "--name", "fetched", "--disk-format",
                      "raw", "--container-format", "bare", "--import-method", "web-download",
                      "--uri", f"{url}/v2/images/{image_id}/file")
    assert refused.returncode != 0
    fetched = [i for i in gc.images.list(filters={"name": "fetched"})]
    assert all(i.status == "queued" for i in fetched)

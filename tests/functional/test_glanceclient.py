"""python-glanceclient (the real one from PyPI) against our glance-api: library and CLI."""
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

DATA = os.urandom(300 * 1024)


pytestmark = pytest.mark.filterwarnings("ignore:`version` keyword:DeprecationWarning")


@pytest.fixture(scope="module")
def gc(api_server):
    return glanceclient.Client(endpoint=f"{api_server.url}/v1", token="anything")


def test_library_create_show_list_download_update_delete(gc, tmp_path):
    path = tmp_path / "img.raw"
    path.write_bytes(DATA)
    name = f"gc-{uuid.uuid4().hex[:8]}"
    with open(path, "rb") as handle:
        image = gc.images.create(name=name, disk_format="qcow2", container_format="bare",
                                 is_public=True, min_ram=256, data=handle,
                                 properties={"distro": "debian", "release": "12"})
    assert image.status == "active"
    assert image.size == len(DATA)
    assert image.checksum == hashlib.md5(DATA).hexdigest()

    shown = gc.images.get(image.id)          # a HEAD
    assert shown.name == name
    assert shown.disk_format == "qcow2" and shown.container_format == "bare"
    assert shown.is_public is True
    assert shown.min_ram == 256
    assert shown.properties == {"distro": "debian", "release": "12"}

    listed = list(gc.images.list(filters={"name": name}))
    assert [i.id for i in listed] == [image.id]
    by_prop = list(gc.images.list(filters={"properties": {"release": "12"}}))
    assert image.id in [i.id for i in by_prop]

    body = b"".join(gc.images.data(image.id))       # checks the MD5 while reading
    assert body == DATA

    updated = gc.images.update(image.id, name=name + "-new", properties={"arch": "arm64"})
    assert updated.name == name + "-new"
    assert updated.properties == {"distro": "debian", "release": "12", "arch": "arm64"}
    purged = gc.images.update(image.id, properties={"arch": "x86"}, purge_props=True)
    assert purged.properties == {"arch": "x86"}

    gc.images.delete(image.id)
    with pytest.raises(exc.HTTPNotFound):
        b"".join(gc.images.data(image.id))


def test_library_parses_the_uri_of_lists_and_head(gc, api_server):
    image = gc.images.create(name=f"uri-{uuid.uuid4().hex[:8]}", is_public=True,
                             data=io.BytesIO(b"x"))
    uri = f"{api_server.url}/v1/images/{image.id}"
    assert gc.images.get(image.id).uri == uri          # x-image-meta-uri of a HEAD
    listed = next(i for i in gc.images.list(filters={"name": image.name}))
    assert (listed.id, listed.uri) == (image.id, uri)
    gc.images.delete(image.id)


def test_library_paging_walks_every_page(gc):
    tag = uuid.uuid4().hex[:8]
    made = {gc.images.create(name=f"{tag}-{n}", is_public=True, data=io.BytesIO(b"x")).id
            for n in range(5)}
    found = {i.id for i in gc.images.list(page_size=2) if i.name.startswith(tag)}
    assert found == made


def test_library_errors_carry_the_server_message(gc):
    with pytest.raises(exc.HTTPBadRequest) as info:
        gc.images.create(name="bad", disk_format="floppy")
    assert "disk format" in str(info.value).lower()
    with pytest.raises(exc.HTTPNotFound):
        gc.images.get(str(uuid.uuid4()))


def _glance(api_server, *args, script_stdin=False):
    command = shutil.which("glance", path=os.path.dirname(sys.executable))
    if command is None:
        pytest.skip("the glance command of python-glanceclient is not installed")
    full = [command, "--os-image-api-version", "1", "--os-image-url", api_server.url,
            "--os-auth-token", "anything", *args]
    # glanceclient sends standard input as image data when it is not a TTY
    # (and refuses image-update then).  Closed, it is ignored, as at a terminal;
    # script_stdin=True gives it an empty, non-TTY stdin as cron or CI would.
    if script_stdin:
        done = cli.run(full[0], full[1:], timeout=60, stdin="devnull")
    else:
        done = cli.run(full[0], full[1:], timeout=60, stdin="closed")
    assert done.returncode == 0, done.stderr
    return done.stdout


def _field(table, name):
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 2 and cells[1] == name:
            return cells[2]
    raise KeyError(name)


def test_cli_round_trip(api_server, tmp_path):
    path = tmp_path / "cli.img"
    path.write_bytes(DATA)
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = _glance(api_server, "image-create", "--name", name, "--disk-format", "raw",
                      "--container-format", "bare", "--is-public", "True", "--min-ram", "64",
                      "--property", "os=linux", "--file", str(path), "--progress")
    image_id = _field(created, "id")
    assert _field(created, "status") == "active"
    assert _field(created, "checksum") == hashlib.md5(DATA).hexdigest()

    listing = _glance(api_server, "image-list", "--name", name)
    assert image_id in listing
    shown = _glance(api_server, "image-show", image_id)
    assert _field(shown, "Property 'os'") == "linux"
    assert _field(shown, "min_ram") == "64"

    target = tmp_path / "down.img"
    _glance(api_server, "image-download", "--file", str(target), image_id)
    assert target.read_bytes() == DATA

    updated = _glance(api_server, "image-update", "--name", name + "-2", image_id)
    assert _field(updated, "name") == name + "-2"
    assert _field(updated, "Property 'os'") == "linux"

    _glance(api_server, "image-delete", image_id)
    assert image_id not in _glance(api_server, "image-list")


def test_cli_create_without_file_in_a_script_reserves_a_queued_image(api_server):
    created = _glance(api_server, "image-create", "--name", "placeholder", "--is-public", "True",
                      "--disk-format", "raw", "--container-format", "bare", script_stdin=True)
    assert _field(created, "status") == "queued"
    assert _field(created, "size") == "0"

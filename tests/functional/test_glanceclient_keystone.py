"""python-glanceclient's v1 CLI with Keystone credentials: glance-api found in the catalog."""
import hashlib
import os
import shutil
import sys
import uuid

import pytest

import cli

pytest.importorskip("glanceclient")
from test_glanceclient import _field as field  # noqa: E402  (reads the CLI's tables)

DATA = os.urandom(2 * 1024 * 1024 + 7)


def glance(keystone_glance, user, *args, ok=True):
    """Run ``glance --os-image-api-version 1`` as ``user``, with no --os-image-url."""
    command = shutil.which("glance", path=os.path.dirname(sys.executable))
    if command is None:
        pytest.skip("the glance command of python-glanceclient is not installed")
    account = keystone_glance.keystone.accounts[user]
    full = [command, "--os-image-api-version", "1",
            "--os-auth-url", keystone_glance.keystone.url,
            "--os-username", user, "--os-password", account["password"],
            "--os-project-name", account["project"],
            "--os-user-domain-name", "Default", "--os-project-domain-name", "Default", *args]
    # Nothing from the caller's environment (OS_IMAGE_URL, OS_AUTH_TOKEN...) may help.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    # Standard input closed, as at a terminal: glanceclient would send a non-TTY one as data.
    done = cli.run(full[0], full[1:], env=env, timeout=120, stdin="closed")
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def test_cli_with_keystone_credentials(keystone_glance, tmp_path):
    path = tmp_path / "cirros.img"
    path.write_bytes(DATA)
    name = f"ks-cli-{uuid.uuid4().hex[:8]}"
    created = glance(keystone_glance, "owner", "image-create", "--name", name,
                     "--disk-format", "qcow2", "--container-format", "bare",
                     "--property", "os_distro=cirros", "--file", str(path)).stdout
    image_id = field(created, "id")
    assert field(created, "status") == "active"
    assert field(created, "checksum") == hashlib.md5(DATA).hexdigest()
    assert field(created, "owner") == keystone_glance.keystone.accounts["owner"]["project_id"]
    assert field(created, "is_public") == "False"

    assert image_id in glance(keystone_glance, "owner", "image-list").stdout
    shown = glance(keystone_glance, "owner", "image-show", image_id).stdout
    assert field(shown, "Property 'os_distro'") == "cirros"

    # Another project's user, through the same catalog, sees nothing of it.
    assert image_id not in glance(keystone_glance, "other", "image-list").stdout
    refused = glance(keystone_glance, "other", "image-show", image_id, ok=False)
    assert refused.returncode != 0
    refused = glance(keystone_glance, "other", "image-delete", image_id, ok=False)
    assert refused.returncode != 0

    target = tmp_path / "down.img"
    glance(keystone_glance, "owner", "image-download", "--file", str(target), image_id)
    assert target.read_bytes() == DATA

    glance(keystone_glance, "owner", "image-delete", image_id)
    assert image_id not in glance(keystone_glance, "owner", "image-list").stdout
    gone = glance(keystone_glance, "admin", "image-show", image_id).stdout
    assert field(gone, "status") == "deleted"
    assert os.listdir(keystone_glance.datadir) == []


def test_cli_with_a_wrong_password_fails_before_glance(keystone_glance):
    account = dict(keystone_glance.keystone.accounts["owner"])
    keystone_glance.keystone.accounts["owner"]["password"] = "wrong"
    try:
        done = glance(keystone_glance, "owner", "image-list", ok=False)
    finally:
        keystone_glance.keystone.accounts["owner"].update(account)
    assert done.returncode != 0
    assert "401" in done.stderr or "authenticat" in done.stderr.lower()

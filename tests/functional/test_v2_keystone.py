"""The v2 API with a real Keystone: the ``glance`` CLI (image API 2) and
``openstack image`` find glance-api in the catalog and act as real projects."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

DATA = os.urandom(512 * 1024 + 9)


def _credentials(keystone_glance, user):
    account = keystone_glance.keystone.accounts[user]
    return ["--os-auth-url", keystone_glance.keystone.url, "--os-username", user,
            "--os-password", account["password"], "--os-project-name", account["project"],
            "--os-user-domain-name", "Default", "--os-project-domain-name", "Default"]


def _run(program, args, ok=True):
    command = shutil.which(program, path=os.path.dirname(sys.executable))
    if command is None:
        pytest.skip(f"{program} is not installed")
    # Nothing from the caller's environment (OS_IMAGE_URL, OS_AUTH_TOKEN...) may help.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    done = subprocess.run([command, *args], capture_output=True, text=True, timeout=180,
                          env=env, stdin=subprocess.DEVNULL)
    if ok:
        assert done.returncode == 0, f"{args[-4:]}: {done.stderr}"
    return done


def glance(keystone_glance, user, *args, ok=True):
    return _run("glance", ["--os-image-api-version", "2",
                           *_credentials(keystone_glance, user), *args], ok)


def openstack(keystone_glance, user, *args, ok=True):
    return _run("openstack", ["--os-identity-api-version", "3",
                              *_credentials(keystone_glance, user), *args], ok)


def _field(table, name):
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] == name:
            return cells[1]
    raise AssertionError(f"{name} not in {table}")


def test_glance_cli_v2_with_keystone(keystone_glance, tmp_path):
    accounts = keystone_glance.keystone.accounts
    source = tmp_path / "img.raw"
    source.write_bytes(DATA)
    name = f"ks2-{uuid.uuid4().hex[:8]}"
    created = glance(keystone_glance, "owner", "image-create", "--name", name,
                     "--disk-format", "qcow2", "--container-format", "bare",
                     "--property", "os_distro=cirros", "--file", str(source)).stdout
    image_id = _field(created, "id")
    assert _field(created, "status") == "active"
    assert _field(created, "owner") == accounts["owner"]["project_id"]
    shown_hash = _field(created, "os_hash_value")          # the table wraps long values
    assert len(shown_hash) >= 32 and hashlib.sha512(DATA).hexdigest().startswith(shown_hash)
    assert image_id in glance(keystone_glance, "owner", "image-list").stdout

    # another project sees nothing of it and cannot change it
    assert image_id not in glance(keystone_glance, "other", "image-list").stdout
    for args in (("image-show", image_id), ("image-update", "--name", "x", image_id),
                 ("image-delete", image_id)):
        assert glance(keystone_glance, "other", *args, ok=False).returncode != 0
    assert _field(glance(keystone_glance, "owner", "image-show", image_id).stdout,
                  "name") == name

    member = accounts["member"]["project_id"]
    glance(keystone_glance, "owner", "member-create", image_id, member)
    assert image_id not in glance(keystone_glance, "member", "image-list").stdout   # pending
    refused = glance(keystone_glance, "other", "member-update", image_id, member, "accepted",
                     ok=False)
    assert refused.returncode != 0
    glance(keystone_glance, "member", "member-update", image_id, member, "accepted")
    assert image_id in glance(keystone_glance, "member", "image-list").stdout
    target = tmp_path / "out.raw"
    glance(keystone_glance, "member", "image-download", "--file", str(target), image_id)
    assert target.read_bytes() == DATA
    glance(keystone_glance, "owner", "image-delete", image_id)
    assert glance(keystone_glance, "owner", "image-show", image_id, ok=False).returncode != 0


def test_openstack_image_with_keystone(keystone_glance, tmp_path):
    accounts = keystone_glance.keystone.accounts
    source = tmp_path / "img.raw"
    source.write_bytes(DATA)
    name = f"ks-osc-{uuid.uuid4().hex[:8]}"

    def as_json(user, *args):
        return json.loads(openstack(keystone_glance, user, *args, "-f", "json").stdout)

    created = as_json("owner", "image", "create", "--disk-format", "raw",
                      "--container-format", "bare", "--file", str(source), "--shared", name)
    image_id = created["id"]
    assert created["status"] == "active"
    assert created["owner"] == accounts["owner"]["project_id"]
    assert image_id in [r["ID"] for r in as_json("owner", "image", "list")]
    saved = tmp_path / "saved.raw"
    openstack(keystone_glance, "owner", "image", "save", "--file", str(saved), image_id)
    assert saved.read_bytes() == DATA
    openstack(keystone_glance, "owner", "image", "set", "--property", "arch=x86_64", image_id)
    assert as_json("owner", "image", "show", image_id)["properties"]["arch"] == "x86_64"
    assert openstack(keystone_glance, "other", "image", "set", "--name", "x", image_id,
                     ok=False).returncode != 0
    # a project user may not look projects up in Keystone: the id is given
    member = accounts["member"]["project_id"]
    added = as_json("owner", "image", "add", "project", image_id, member)
    assert added["member_id"] == member and added["status"] == "pending"
    assert as_json("owner", "image", "show", image_id)["name"] == name
    openstack(keystone_glance, "owner", "image", "delete", image_id)
    assert openstack(keystone_glance, "owner", "image", "show", image_id,
                     ok=False).returncode != 0

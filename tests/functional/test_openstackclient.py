"""python-openstackclient's ``openstack image ...`` against glance-api v2 in noauth mode
(``--os-auth-type none --os-endpoint``), as an operator without Keystone would run it."""
import hashlib
import json
import os
import shutil
import sys
import uuid

import pytest

import cli

DATA = os.urandom(256 * 1024 + 5)


def _command():
    command = shutil.which("openstack", path=os.path.dirname(sys.executable))
    if command is None:
        pytest.skip("python-openstackclient is not installed")
    return command


def openstack(url, *args, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["HOME"] = os.environ.get("HOME", "/tmp")
    full = [_command(), "--os-auth-type", "none", "--os-endpoint", url, *args]
    done = cli.run(full[0], full[1:], env=env, timeout=120, stdin="devnull")
    if check:
        assert done.returncode == 0, f"{args}: {done.stderr}"
    return done


def as_json(url, *args):
    return json.loads(openstack(url, *args, "-f", "json").stdout)


def test_openstack_image_commands(api_server, tmp_path):
    url = api_server.url
    source = tmp_path / "disk.raw"
    source.write_bytes(DATA)
    name = f"osc-{uuid.uuid4().hex[:8]}"

    created = as_json(url, "image", "create", "--disk-format", "qcow2",
                      "--container-format", "bare", "--file", str(source), "--property",
                      "distro=debian", "--min-ram", "128", "--shared", name)
    image_id = created["id"]
    assert created["status"] == "active" and created["size"] == len(DATA)
    assert created["checksum"] == hashlib.md5(DATA).hexdigest()
    assert created["visibility"] == "shared"

    listed = as_json(url, "image", "list", "--name", name)
    assert [row["ID"] for row in listed] == [image_id]
    assert image_id in [row["ID"] for row in as_json(url, "image", "list", "--shared")]

    shown = as_json(url, "image", "show", image_id)
    assert shown["name"] == name and shown["min_ram"] == 128
    assert shown["properties"]["distro"] == "debian"

    target = tmp_path / "saved.raw"
    openstack(url, "image", "save", "--file", str(target), image_id)
    assert target.read_bytes() == DATA

    openstack(url, "image", "set", "--name", name + "-2", "--property", "arch=arm64",
              "--tag", "blue", "--protected", image_id)
    shown = as_json(url, "image", "show", image_id)
    assert shown["name"] == name + "-2" and shown["properties"]["arch"] == "arm64"
    assert shown["tags"] == ["blue"] and shown["protected"] is True
    refused = openstack(url, "image", "delete", image_id, check=False)
    assert refused.returncode != 0                       # protected
    assert as_json(url, "image", "show", image_id)["status"] == "active"

    member = as_json(url, "image", "add", "project", image_id, "beta")
    assert member["member_id"] == "beta" and member["status"] == "pending"
    members = as_json(url, "image", "member", "list", image_id)
    assert [m["Member ID"] for m in members] == ["beta"]

    openstack(url, "image", "set", "--unprotected", "--public", image_id)
    assert as_json(url, "image", "show", image_id)["visibility"] == "public"
    openstack(url, "image", "delete", image_id)
    missing = openstack(url, "image", "show", image_id, check=False)
    assert missing.returncode != 0
    assert image_id not in [row["ID"] for row in as_json(url, "image", "list")]

"""SIGHUP re-reads the configuration file and applies it; a bad file keeps the old one.

Applied without a restart (glance-api): registry_host/port/timeout, every
store option, default_store, delayed_delete, owner_is_tenant, admin_role,
upload and scrubber times, server_timeout, shutdown_timeout, logging.
glance-registry: sql_connection, sql_idle_timeout, api_limit_max,
limit_param_default, owner_is_tenant, admin_role, logging.  Need a restart (a
new socket, thread pool or auth middleware; SIGHUP keeps the running value and
logs a warning): bind_host, bind_port, workers, server_threads, auth_strategy and
the [keystone_authtoken] settings.  With worker processes every worker re-reads
the file (``test_workers.py``).
"""
import signal

import pytest

from servers import Server, sqlite_registry, wait_for, write_conf


@pytest.fixture
def second_registry(tmp_path_factory):
    server = sqlite_registry(tmp_path_factory.mktemp("registry-b"))
    yield server
    server.stop()


def _reload(server, **changes):
    server.options.update(changes)
    write_conf(server.conf, server.options)
    server.proc.send_signal(signal.SIGHUP)


def test_glance_api_applies_a_new_registry_and_delayed_delete(start_api, api_for,
                                                            registry_server, second_registry):
    api = api_for(start_api())
    first = api.create(b"x" * 100, name="on-a").json()["image"]["id"]

    _reload(api.server, registry_port=second_registry.port, delayed_delete="true")
    assert wait_for(lambda: api.request("HEAD", f"/v1/images/{first}").status_code == 404)
    made = api.create(b"y" * 100, name="on-b")
    assert made.status_code == 201, made.text
    image_id = made.json()["image"]["id"]
    assert second_registry.get(f"/images/{image_id}").status_code == 200
    assert registry_server.get(f"/images/{image_id}").status_code == 404
    assert api.request("DELETE", f"/v1/images/{image_id}").status_code == 200
    assert api.status(image_id) == "pending_delete", "delayed_delete was not applied"
    assert image_id in api.files()


def test_bad_file_on_sighup_keeps_the_old_configuration_and_logs_one_line(
        start_api, api_for, registry_server):
    api = api_for(start_api())
    with open(api.server.conf, "a", encoding="utf-8") as handle:
        handle.write("registry_port = not-a-port\n[broken\n")
    before = api.server.logtext()
    api.server.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "Reload failed" in api.server.logtext())
    new = api.server.logtext()[len(before):].strip().splitlines()
    failed = [line for line in new if "Reload failed" in line]
    assert len(failed) == 1 and "keeping the old settings" in failed[0], new
    assert not any(line.startswith((" ", "\t", "Traceback", "[")) for line in new), new
    made = api.create(b"z" * 10, name="still-a")
    assert made.status_code == 201
    assert registry_server.get(f"/images/{made.json()['image']['id']}").status_code == 200
    assert api.server.proc.poll() is None


def test_glance_registry_applies_a_new_page_size(tmp_path):
    registry = Server("glance-registry", tmp_path,
                      {"sql_connection": f"sqlite:///{tmp_path}/registry.sqlite"}).start()
    try:
        for n in range(3):
            made = registry_post(registry, f"img{n}")
            assert made.status_code == 200, made.text
        assert len(registry.get("/images").json()["images"]) == 3
        _reload(registry, limit_param_default=2)
        assert wait_for(lambda: len(registry.get("/images").json()["images"]) == 2)
    finally:
        registry.stop()


def registry_post(registry, name):
    import requests
    return requests.post(registry.url + "/images", timeout=30, json={
        "image": {"name": name, "is_public": True, "status": "active"}})


def test_sighup_keeps_auth_strategy_until_a_restart(start_api, api_for):
    """Switching to keystone needs keystonemiddleware in front: never by SIGHUP alone."""
    api = api_for(start_api())
    private = api.create(b"x", name="private", is_public="False").json()["image"]["id"]
    _reload(api.server, auth_strategy="keystone", delayed_delete="true")
    assert wait_for(lambda: "auth_strategy changed" in api.server.logtext())
    listed = api.request("GET", "/v1/images/detail", params={"is_public": "none"})
    assert private in listed.text, "noauth (no identity: admin) must hold until a restart"

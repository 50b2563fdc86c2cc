"""keystone mode around the matrix: glance's service token, startup errors, what is logged."""
import os
import subprocess
import sys
import threading

import pytest
import requests

import keystone_tools
from glance import config, keystone
from servers import APP, free_port, wait_for_port, write_conf

MODULES = {"glance-api": "glance.cmd.api", "glance-registry": "glance.cmd.registry"}


@pytest.fixture(scope="module")
def debug_glance(keystone_server, tmp_path_factory):
    """glance in keystone mode, both servers logging at DEBUG."""
    glance = keystone_tools.KeystoneGlance(keystone_server, tmp_path_factory.mktemp("ks-debug"),
                                           registry_options={"debug": "true"}, debug="true")
    yield glance.start()
    glance.stop()


def service_token(keystone_server, **changes):
    section = {**keystone_server.authtoken_section(), **changes}
    conf = config.Config("glance-api", {"auth_strategy": "keystone"}, None,
                         {"keystone_authtoken": section})
    return keystone.service_auth(conf)


def token_info(keystone_server, token):
    answer = requests.get(keystone_server.url + "/auth/tokens", timeout=30, headers={
        "X-Auth-Token": keystone_server.admin_token(), "X-Subject-Token": token})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def test_service_token_is_glances_admin_token(keystone_server):
    token = service_token(keystone_server).headers()["X-Auth-Token"]
    info = token_info(keystone_server, token)
    assert info["user"]["name"] == "glance"
    assert info["project"]["name"] == "service"
    assert "admin" in {role["name"] for role in info["roles"]}


def test_service_token_is_shared_by_concurrent_requests(keystone_server):
    """Sixteen threads asking at once get one token: one authentication, not sixteen."""
    auth = service_token(keystone_server)
    start = threading.Barrier(16)
    seen = []

    def ask():
        start.wait()
        seen.append(auth.headers()["X-Auth-Token"])

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(seen) == 16 and len(set(seen)) == 1
    # Cached: asked again, the same token without a round trip.
    assert auth.headers()["X-Auth-Token"] == seen[0]


def test_service_token_is_renewed_before_it_expires(keystone_server):
    """A token with less life left than keystoneauth1's margin is replaced before use."""
    auth = service_token(keystone_server)
    first = auth.headers()["X-Auth-Token"]
    life = token_info(keystone_server, first)["expires_at"]
    # Keystone's tokens live an hour: a margin longer than that makes this one "expiring".
    auth._session.auth.MIN_TOKEN_LIFE_SECONDS = 2 * 3600
    second = auth.headers()["X-Auth-Token"]
    assert second != first
    assert token_info(keystone_server, second)["expires_at"] >= life


def test_service_token_without_keystone_is_a_503(keystone_server):
    dead = f"http://127.0.0.1:{free_port()}/v3"
    auth = service_token(keystone_server, auth_url=dead, http_connect_timeout="2")
    with pytest.raises(keystone.ServiceAuthError) as caught:
        auth.headers()
    assert caught.value.status == 503
    assert "glance-secret" not in str(caught.value)


def test_service_token_with_a_wrong_password_is_a_503(keystone_server):
    auth = service_token(keystone_server, password="not-glances")
    with pytest.raises(keystone.ServiceAuthError) as caught:
        auth.headers()
    assert "not-glances" not in str(caught.value)


def test_uploads_use_the_service_token(debug_glance):
    """A member-role user uploads: status, checksum and size are written as glance."""
    data = os.urandom(100_000)
    answer = requests.post(debug_glance.api.url + "/v1/images", data=data, timeout=60, headers={
        "X-Auth-Token": debug_glance.token("owner"), "Content-Type": "application/octet-stream",
        "x-image-meta-name": "by a member", "x-image-meta-disk_format": "raw",
        "x-image-meta-container_format": "bare"})
    assert answer.status_code == 201, answer.text
    image = answer.json()["image"]
    assert image["status"] == "active" and image["size"] == len(data)
    glance_user = debug_glance.keystone.accounts["glance"]["user_id"]
    assert f"user_id {glance_user}" in debug_glance.registry.logtext()


def test_debug_logs_hold_no_password_and_no_token(debug_glance):
    for user in ("owner", "admin"):
        requests.get(debug_glance.api.url + "/v1/images/detail", timeout=30,
                     headers={"X-Auth-Token": debug_glance.token(user)})
    for server in (debug_glance.api, debug_glance.registry):
        text = server.logtext()
        assert "keystone_authtoken.password = '***'" in text
        assert keystone_tools.GLANCE_PASSWORD not in text
        for user in ("owner", "admin"):
            assert debug_glance.token(user) not in text


def test_healthcheck_needs_no_token_and_reaches_neither_keystone_nor_the_registry(
        debug_glance):
    api, registry = debug_glance.api, debug_glance.registry
    refused = requests.post(api.url + "/v1/images", timeout=30, headers={"x-image-meta-name": "x"})
    assert refused.status_code == 401
    before_api, before_registry = len(api.logtext()), len(registry.logtext())
    for headers in ({}, {"X-Auth-Token": "forged-token"}):
        got = requests.get(api.url + "/healthcheck", timeout=10, headers=headers)
        assert (got.status_code, got.text) == (200, "OK")
    assert requests.head(api.url + "/healthcheck", timeout=10).status_code == 204
    new = api.logtext()[before_api:]
    assert "GET /healthcheck 200" in new
    assert "keystonemiddleware" not in new, new      # at DEBUG it logs every token it sees
    assert registry.logtext()[before_registry:] == ""
    # the same forged token anywhere else goes through keystonemiddleware
    requests.get(api.url + "/v1/images", timeout=30, headers={"X-Auth-Token": "forged-token"})
    assert "keystonemiddleware" in api.logtext()[before_api:]


def run(program, conf_path, hide_keystonemiddleware):
    """Run a server with ``conf_path`` (keystonemiddleware made unimportable if asked)."""
    hide = "sys.modules['keystonemiddleware'] = None; " if hide_keystonemiddleware else ""
    code = (f"import sys; {hide}from {MODULES[program]} import main; "
            f"main(['--config-file', {str(conf_path)!r}])")
    env = dict(os.environ, PYTHONPATH=APP)
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=os.path.dirname(conf_path))


@pytest.mark.parametrize("program", sorted(MODULES))
def test_missing_keystonemiddleware_is_one_line(tmp_path, keystone_server, program):
    conf = write_conf(tmp_path / f"{program}.conf", {
        "auth_strategy": "keystone", "bind_host": "127.0.0.1", "bind_port": free_port(),
        "sql_connection": f"sqlite:///{tmp_path}/r.sqlite",
        "filesystem_store_datadir": f"{tmp_path}/images"},
        sections={"keystone_authtoken": keystone_server.authtoken_section()})
    proc = run(program, conf, hide_keystonemiddleware=True)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err == ("ERROR: auth_strategy = keystone needs keystonemiddleware: install "
                   "python3-keystonemiddleware (Debian) or the pip extra glance[keystone]\n")


@pytest.mark.parametrize("program", sorted(MODULES))
def test_incomplete_section_is_one_line(tmp_path, program):
    conf = write_conf(tmp_path / f"{program}.conf", {
        "auth_strategy": "keystone", "bind_host": "127.0.0.1", "bind_port": free_port(),
        "sql_connection": f"sqlite:///{tmp_path}/r.sqlite",
        "filesystem_store_datadir": f"{tmp_path}/images"},
        sections={"keystone_authtoken": {"auth_url": "http://127.0.0.1:5000/v3"}})
    proc = run(program, conf, hide_keystonemiddleware=False)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err == (f"ERROR: auth_strategy = keystone needs username, password in the "
                   f"[keystone_authtoken] section of {conf}\n")


def test_noauth_never_imports_keystonemiddleware(tmp_path):
    port = free_port()
    conf = write_conf(tmp_path / "glance-api.conf", {
        "bind_host": "127.0.0.1", "bind_port": port,
        "filesystem_store_datadir": f"{tmp_path}/images"})
    proc = run("glance-api", conf, hide_keystonemiddleware=True)
    try:
        wait_for_port(port, proc)
        assert requests.get(f"http://127.0.0.1:{port}/versions", timeout=10).status_code == 300
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_keystone_down_is_a_503_for_uploads_and_loses_nothing(keystone_server, tmp_path):
    """glance's own token cannot be had while Keystone is down: v1 POST with data and
    v2 PUT /file answer 503 (not 500); the image stays queued, and no data is left.

    glance starts while Keystone is down, so it holds no service token; the user's
    token is validated (and cached by both servers) while Keystone is briefly up. Each
    worker process keeps its own token cache, so both servers run one process here.
    """
    glance = keystone_tools.KeystoneGlance(keystone_server, tmp_path, {"workers": 0}, workers=0)
    image_id = "5d6f1c84-8f5d-4a0e-9a43-2f3c1b0e7a11"
    octet = {"Content-Type": "application/octet-stream"}
    keystone_server.stop()
    try:
        glance.registry.start()
        glance.api.start()
        keystone_server.start()
        auth = {"X-Auth-Token": glance.token("owner")}
        listed = requests.get(glance.api.url + "/v1/images", headers=auth, timeout=30)
        assert listed.status_code == 200
        keystone_server.stop()
        posted = requests.post(glance.api.url + "/v1/images", data=b"d" * 300_000, timeout=60,
                               headers={**auth, **octet, "x-image-meta-id": image_id,
                                        "x-image-meta-disk_format": "raw",
                                        "x-image-meta-container_format": "bare"})
        assert posted.status_code == 503, posted.text
        assert "glance cannot authenticate to Keystone" in posted.text
        assert str(keystone_server.port) not in posted.text     # its address is logged only
        put = requests.put(f"{glance.api.url}/v2/images/{image_id}/file", data=b"e" * 300_000,
                           headers={**auth, **octet}, timeout=60)
        assert put.status_code == 503, put.text
        assert put.json()["error"]["code"] == 503
        keystone_server.start()
        shown = requests.get(f"{glance.api.url}/v2/images/{image_id}", headers=auth, timeout=30)
        assert shown.status_code == 200, shown.text
        assert (shown.json()["status"], shown.json()["size"]) == ("queued", None)
        stored = os.listdir(glance.datadir) if os.path.isdir(glance.datadir) else []
        assert stored == []
    finally:
        if not keystone_server.running():    # for the tests after this one
            keystone_server.start()
        glance.stop()

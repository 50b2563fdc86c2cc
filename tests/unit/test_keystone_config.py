"""auth_strategy = keystone without a Keystone: the config section, masking, the middleware's
header handling and the errors an operator sees.  The real Keystone tests are in
tests/functional/test_keystone_mode.py."""
import logging
import sys

import pytest

from glance import config, keystone
from glance.log import log_options

SECTION = """
[DEFAULT]
auth_strategy = keystone
debug = true
password = not-keystones

[keystone_authtoken]
www_authenticate_uri = http://keystone.example.com:5000/v3
auth_url = http://keystone.example.com:5000/v3
auth_type = password
username = glance
password = s3cret-Pass
project_name = service
user_domain_name = Default
project_domain_name = Default
memcache_secret_key = also-s3cret
delay_auth_decision = true
"""


@pytest.fixture
def conf_file(tmp_path):
    path = tmp_path / "glance-api.conf"
    path.write_text(SECTION)
    return path


@pytest.mark.parametrize("program", ["glance-api", "glance-registry"])
def test_section_read_whole_without_default(conf_file, program):
    conf = config.load_config(program, str(conf_file))
    section = conf.section("keystone_authtoken")
    assert conf.auth_strategy == "keystone"
    assert section["password"] == "s3cret-Pass"
    assert section["username"] == "glance"
    assert section["delay_auth_decision"] == "true"
    # [DEFAULT] keys are glance's, not the middleware's.
    assert "debug" not in section and "auth_strategy" not in section


def test_scrubber_reads_no_keystone_section(conf_file):
    assert config.load_config("glance-scrubber", str(conf_file)).section("keystone_authtoken") == {}


def test_missing_section_is_empty(tmp_path):
    path = tmp_path / "glance-api.conf"
    path.write_text("[DEFAULT]\n")
    assert config.load_config("glance-api", str(path)).section("keystone_authtoken") == {}


def test_reload_keeps_the_section(conf_file):
    conf = config.load_config("glance-api", str(conf_file)).replace(bind_port=1234)
    assert conf.section("keystone_authtoken")["username"] == "glance"


def test_password_never_logged(conf_file, caplog):
    conf = config.load_config("glance-api", str(conf_file))
    shown = conf.masked()
    assert shown["keystone_authtoken.password"] == "***"
    assert shown["keystone_authtoken.memcache_secret_key"] == "***"
    assert shown["keystone_authtoken.username"] == "glance"
    with caplog.at_level(logging.DEBUG):
        log_options(conf, logging.getLogger("test"))
    assert "keystone_authtoken.auth_url = 'http://keystone.example.com:5000/v3'" in caplog.text
    assert "s3cret" not in caplog.text


def test_sample_files_show_the_section():
    sample = config.sample_config("glance-registry")
    assert "#[keystone_authtoken]" in sample and "#auth_type = password" in sample
    assert "keystone_authtoken" not in config.sample_config("glance-scrubber")


def test_noauth_leaves_the_app_alone(tmp_path):
    conf = config.load_config("glance-api", None)
    app = object()
    assert keystone.protect(app, conf) is app


@pytest.mark.parametrize("missing", ["auth_url", "username", "password"])
def test_incomplete_section_is_one_clear_error(conf_file, missing):
    text = "\n".join(line for line in SECTION.splitlines()
                     if not line.startswith(f"{missing} ="))
    conf_file.write_text(text)
    conf = config.load_config("glance-api", str(conf_file))
    with pytest.raises(config.ConfigError) as caught:
        keystone.protect(object(), conf)
    assert str(caught.value) == (f"auth_strategy = keystone needs {missing} in the "
                                 f"[keystone_authtoken] section of {conf_file}")


def test_missing_library_is_one_clear_error(conf_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "keystonemiddleware", None)
    monkeypatch.setitem(sys.modules, "keystonemiddleware.auth_token", None)
    conf = config.load_config("glance-api", str(conf_file))
    with pytest.raises(config.ConfigError) as caught:
        keystone.protect(object(), conf)
    assert str(caught.value) == ("auth_strategy = keystone needs keystonemiddleware: install "
                                 "python3-keystonemiddleware (Debian) or the pip extra "
                                 "glance[keystone]")


def test_forged_identity_headers_are_removed(conf_file):
    """No token: the middleware drops what the client claimed and marks it Invalid.

    No request reaches Keystone (there is no token to validate).
    """
    pytest.importorskip("keystonemiddleware.auth_token")
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    conf = config.load_config("glance-api", str(conf_file))
    wrapped = keystone.protect(app, conf)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/images", "SERVER_NAME": "x",
               "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": None,
               "HTTP_X_IDENTITY_STATUS": "Confirmed", "HTTP_X_ROLES": "admin",
               "HTTP_X_ROLE": "admin", "HTTP_X_PROJECT_ID": "victim", "HTTP_X_TENANT": "victim",
               "HTTP_X_TENANT_ID": "victim", "HTTP_X_USER_ID": "root", "HTTP_X_USER": "root"}
    status = []
    body = b"".join(wrapped(environ, lambda code, headers, exc=None: status.append(code)))
    assert status == ["200 OK"] and body == b"ok"
    assert seen["HTTP_X_IDENTITY_STATUS"] == "Invalid"
    for forged in ("HTTP_X_ROLES", "HTTP_X_ROLE", "HTTP_X_PROJECT_ID", "HTTP_X_TENANT",
                   "HTTP_X_TENANT_ID", "HTTP_X_USER_ID", "HTTP_X_USER"):
        assert forged not in seen, forged

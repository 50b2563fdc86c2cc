"""A real Keystone for the tests (PyPI keystone on SQLite, ``tests/tools/keystone.sh``).

``Keystone(workdir).start()`` runs one on a free port with a bootstrapped
admin; the methods create projects, users, roles, services and endpoints
through Keystone's v3 REST API as that admin, and issue tokens.
:func:`accounts` makes the set the auth tests use.  When the tooling is
missing the tests are skipped, or fail when GLANCE_TEST_REQUIRE_ALL=1.
"""
import fcntl
import os
import shutil
import sqlite3
import subprocess

import pytest
import requests

from servers import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tests", "tools", "keystone.sh")
VENV = os.environ.get("GLANCE_KEYSTONE_VENV", os.path.join(ROOT, ".venv-keystone"))
ADMIN_PASSWORD = "admin-secret"
GLANCE_PASSWORD = "glance-secret"


def unavailable(reason):
    if os.environ.get("GLANCE_TEST_REQUIRE_ALL") == "1":
        pytest.fail(f"{reason} (GLANCE_TEST_REQUIRE_ALL=1)")
    pytest.skip(f"{reason}; run tests/tools/keystone.sh install")


class Keystone:
    """One Keystone process with its state in ``workdir``.

    ``template``: a directory shared by the processes of one test run (the xdist
    workers). The first Keystone bootstraps its database there, under a lock; every
    Keystone copies it and points its catalog at its own port, instead of each paying
    keystone-manage's db_sync and bootstrap (about a minute on a loaded machine).
    """

    def __init__(self, workdir, template=None):
        self.workdir = str(workdir)
        self.template = str(template) if template else None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v3"
        self._admin_token = None
        self.http = requests.Session()
        self.http.trust_env = False

    @staticmethod
    def available():
        return os.path.exists(os.path.join(VENV, "bin", "keystone-manage"))

    def _script(self, *args):
        env = dict(os.environ, KEYSTONE_ADMIN_PASSWORD=ADMIN_PASSWORD, GLANCE_KEYSTONE_VENV=VENV)
        done = subprocess.run([SCRIPT, *args], env=env, capture_output=True, text=True, timeout=300)
        if done.returncode:
            raise RuntimeError(f"keystone.sh {args[0]} failed:\n{done.stdout}{done.stderr}")

    def start(self):
        if (self.template and not os.environ.get("KEYSTONE_DATABASE_URL")
                and not os.path.exists(os.path.join(self.workdir, "bootstrapped"))):
            self._copy_template()
        self._script("start", self.workdir, str(self.port))
        return self

    def _copy_template(self):
        os.makedirs(self.template, exist_ok=True)
        source = os.path.join(self.template, "keystone")
        with open(os.path.join(self.template, "lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(os.path.join(source, "bootstrapped")):
                shutil.rmtree(source, ignore_errors=True)
                made = Keystone(source)
                made.start()
                made.stop()
        for name in ("keystone.db", "fernet", "cred", "bootstrapped"):
            copy = shutil.copytree if os.path.isdir(os.path.join(source, name)) else shutil.copy2
            copy(os.path.join(source, name), os.path.join(self.workdir, name))
        with open(os.path.join(source, "keystone.conf"), encoding="utf-8") as handle:
            conf = handle.read().replace(source, self.workdir)
        with open(os.path.join(self.workdir, "keystone.conf"), "w", encoding="utf-8") as handle:
            handle.write(conf)
        database = sqlite3.connect(os.path.join(self.workdir, "keystone.db"))
        with database:      # the identity endpoints bootstrap registered name the template's port
            database.execute("UPDATE endpoint SET url = ?", (self.url,))
        database.close()

    def stop(self):
        self._script("stop", self.workdir)

    def running(self):
        try:
            return self.http.get(self.url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    # --- tokens ---

    def token(self, user, password, project=None):
        """A token of ``user`` (scoped to ``project`` when given) and its response body.

        :returns: ``(token, body)``
        """
        auth = {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": password, "domain": {"id": "default"}}}}}
        if project:
            auth["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
        answer = self.http.post(self.url + "/auth/tokens", json={"auth": auth}, timeout=30)
        answer.raise_for_status()
        return answer.headers["X-Subject-Token"], answer.json()["token"]

    def revoke(self, token):
        answer = self.http.delete(self.url + "/auth/tokens", timeout=30, headers={
            "X-Auth-Token": self.admin_token(), "X-Subject-Token": token})
        answer.raise_for_status()

    def admin_token(self):
        if self._admin_token is None:
            self._admin_token = self.token("admin", ADMIN_PASSWORD, "admin")[0]
        return self._admin_token

    # --- the admin's REST calls ---

    def call(self, method, path, body=None):
        answer = self.http.request(method, self.url + path, json=body, timeout=30,
                                   headers={"X-Auth-Token": self.admin_token()})
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json() if answer.content else None

    def _find(self, collection, name):
        found = self.call("GET", f"/{collection}?name={name}")[collection]
        return found[0]["id"] if found else None

    def project(self, name):
        """The id of project ``name`` (created when missing)."""
        body = {"project": {"name": name, "domain_id": "default"}}
        return self._find("projects", name) or self.call("POST", "/projects", body)["project"]["id"]

    def role(self, name):
        return self._find("roles", name) or self.call(
            "POST", "/roles", {"role": {"name": name}})["role"]["id"]

    def user(self, name, password, project=None, roles=()):
        """The id of user ``name`` (created when missing), given ``roles`` in ``project``."""
        user_id = self._find("users", name) or self.call("POST", "/users", {"user": {
            "name": name, "password": password, "domain_id": "default",
            "default_project_id": self.project(project) if project else None}})["user"]["id"]
        for role in roles:
            self.call("PUT", f"/projects/{self.project(project)}/users/{user_id}"
                             f"/roles/{self.role(role)}")
        return user_id

    def service(self, kind, name, urls):
        """Register a service of type ``kind`` with the same URL for every interface."""
        service_id = self.call("POST", "/services", {"service": {
            "type": kind, "name": name, "enabled": True}})["service"]["id"]
        for interface in ("public", "internal", "admin"):
            self.call("POST", "/endpoints", {"endpoint": {
                "service_id": service_id, "interface": interface, "url": urls,
                "region_id": "RegionOne", "enabled": True}})
        return service_id

    def authtoken_section(self, username="glance", password=GLANCE_PASSWORD):
        """The ``[keystone_authtoken]`` section of a glance server using this Keystone."""
        return {"www_authenticate_uri": self.url, "auth_url": self.url, "auth_type": "password",
                "username": username, "password": password, "project_name": "service",
                "user_domain_name": "Default", "project_domain_name": "Default",
                "delay_auth_decision": "true"}


# name: (project, roles). Passwords are "<name>-secret".
USERS = {
    "owner": ("owner", ("member", "reader")),
    "other": ("other", ("member", "reader")),
    "member": ("member", ("member", "reader")),
    "admin": ("admin", ("admin",)),
    "glance": ("service", ("admin",)),
}


def password(name):
    return GLANCE_PASSWORD if name == "glance" else f"{name}-secret"


def accounts(keystone):
    """Projects owner, other, member and service; their users; the glance service user.

    :returns: ``{name: {"user_id", "project_id", "password"}}``
    """
    made = {}
    for name, (project, roles) in USERS.items():
        if name == "admin":
            user_id = keystone._find("users", "admin")
        else:
            user_id = keystone.user(name, password(name), project, roles)
        made[name] = {"user_id": user_id, "project_id": keystone.project(project),
                      "project": project, "password": password(name)}
    return made


class KeystoneGlance:
    """glance-registry and glance-api in keystone mode against ``keystone``.

    The ``image`` service's endpoints point at this glance-api (any earlier
    image service is removed, so the catalog names exactly one).
    """

    def __init__(self, keystone, workdir, registry_options=None, **api_options):
        from servers import Server
        self.keystone = keystone
        self.workdir = str(workdir)
        sections = {"keystone_authtoken": keystone.authtoken_section()}
        self.registry = Server("glance-registry", workdir, {
            "sql_connection": f"sqlite:///{workdir}/registry.sqlite",
            "auth_strategy": "keystone", **(registry_options or {})}, sections=sections)
        self.api = Server("glance-api", workdir, {
            "auth_strategy": "keystone", "registry_host": "127.0.0.1",
            "registry_port": self.registry.port,
            "filesystem_store_datadir": f"{workdir}/images", **api_options}, sections=sections)
        self.datadir = f"{workdir}/images"
        self._tokens = {}

    def start(self):
        self.registry.start()
        self.api.options["registry_port"] = self.registry.port   # a retry may have moved it
        self.api.start()
        for service in self.keystone.call("GET", "/services?type=image")["services"]:
            self.keystone.call("DELETE", f"/services/{service['id']}")
        self.keystone.service("image", "glance", self.api.url)
        return self

    def stop(self):
        self.api.stop()
        self.registry.stop()

    def token(self, name):
        """A project-scoped token of the test user ``name`` (see :data:`USERS`), cached."""
        if name not in self._tokens:
            self._tokens[name] = self.keystone.token(name, password(name), USERS[name][0])[0]
        return self._tokens[name]

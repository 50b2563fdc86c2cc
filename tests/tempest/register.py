"""Register glance in Keystone as the README's Keystone section does, in one process.

usage: register.py GLANCE_URL [REMOTE_URL]   (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD,
OS_PROJECT_NAME: the admin, as ``tests/tools/keystone.sh env`` prints them;
GLANCE_PASSWORD: glance's)

The same as ``openstack project create service``, ``user create glance``, ``role add
--project service --user glance admin``, ``service create --name glance image`` and
``endpoint create --region RegionOne image {public,internal,admin} GLANCE_URL``,
without starting the openstack command seven times (seconds each on a busy machine).
REMOTE_URL, a second glance-api node, is registered as the service type
``image_remote`` (Tempest's ``[image] alternate_image_endpoint``) the same way.
"""
import os
import sys

import requests

REGION = "RegionOne"


class Admin:
    def __init__(self, url, user, password, project):
        self.url = url.rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False
        auth = {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": password, "domain": {"id": "default"}}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}
        answer = self.http.post(self.url + "/auth/tokens", json={"auth": auth}, timeout=60)
        answer.raise_for_status()
        self.http.headers["X-Auth-Token"] = answer.headers["X-Subject-Token"]

    def call(self, method, path, body=None):
        answer = self.http.request(method, self.url + path, json=body, timeout=60)
        if answer.status_code >= 400:
            raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json() if answer.content else None

    def create(self, collection, body):
        kind = collection.rstrip("s")
        return self.call("POST", f"/{collection}", {kind: body})[kind]["id"]

    def find(self, collection, name):
        return self.call("GET", f"/{collection}?name={name}")[collection][0]["id"]

    def service(self, kind, name, url):
        """A service of type ``kind`` with ``url`` for every interface."""
        service = self.create("services", {"type": kind, "name": name, "enabled": True})
        for interface in ("public", "internal", "admin"):
            self.create("endpoints", {"service_id": service, "interface": interface,
                                      "url": url, "region_id": REGION, "enabled": True})


def main(glance_url, remote_url=None):
    env = os.environ
    admin = Admin(env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"],
                  env["OS_PROJECT_NAME"])
    project = admin.create("projects", {"name": "service", "domain_id": "default"})
    user = admin.create("users", {"name": "glance", "domain_id": "default",
                                  "password": env["GLANCE_PASSWORD"]})
    admin.call("PUT", f"/projects/{project}/users/{user}/roles/{admin.find('roles', 'admin')}")
    admin.service("image", "glance", glance_url)
    if remote_url:
        admin.service("image_remote", "glance-remote", remote_url)


if __name__ == "__main__":
    main(*sys.argv[1:])

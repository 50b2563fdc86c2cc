"""A small requests wrapper for the v2 API, with callers as noauth identity headers.

``V2(url)`` talks HTTP to a glance-api process; ``V2("", session=InProcess(app))``
sends the same calls through Flask's test client (no sockets), for the unit tier.
"""
import json as jsonlib
import uuid
from types import SimpleNamespace

import requests

PATCH_TYPE = "application/openstack-images-v2.1-json-patch"

# noauth trusts identity headers (an auth proxy would set them); none at all is admin.
ADMIN = {}
ANONYMOUS = {"X-Identity-Status": "Invalid"}


def tenant(name, *roles):
    headers = {"X-Tenant-Id": name, "X-User-Id": f"{name}-user"}
    if roles:
        headers["X-Roles"] = ",".join(roles)
    return headers


class InProcess:
    """The part of ``requests.Session`` that :class:`V2` uses, over Flask's test client."""

    def __init__(self, app):
        self.client = app.test_client()

    def request(self, method, url, params=None, json=None, data=None, headers=None,
                timeout=None):
        answer = self.client.open(url, method=method, query_string=params, json=json,
                                  data=data, headers=headers or {})
        return Answer(answer, SimpleNamespace(method=method, url=url))


class Answer:
    """A test-client response with the ``requests.Response`` attributes tests read."""

    def __init__(self, response, request):
        self.status_code = response.status_code
        self.headers = response.headers
        self.content = response.get_data()
        self.text = self.content.decode("utf-8", "replace")
        self.request = request

    def json(self):
        return jsonlib.loads(self.content)


class V2:
    def __init__(self, url, headers=None, session=None):
        self.url = url
        self.headers = dict(headers or {})
        self.session = session or requests.Session()

    def as_(self, headers):
        return V2(self.url, headers, self.session)

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        kw["headers"] = {**self.headers, **kw.get("headers", {})}
        return self.session.request(method, self.url + path, **kw)

    def create(self, **body):
        return self.request("POST", "/v2/images", json=body)

    def new(self, **body):
        """Create an image; return its document (asserting 201)."""
        body.setdefault("disk_format", "raw")
        body.setdefault("container_format", "bare")
        response = self.create(**body)
        assert response.status_code == 201, response.text
        return response.json()

    def uploaded(self, data, **body):
        """Create an image with ``data``; return its document (asserting each step)."""
        image = self.new(name=f"v2-{uuid.uuid4().hex[:8]}", **body)
        response = self.upload(image["id"], data)
        assert response.status_code == 204, response.text
        return self.show(image["id"]).json()

    def show(self, image_id):
        return self.request("GET", f"/v2/images/{image_id}")

    def patch(self, image_id, ops, content_type=PATCH_TYPE):
        return self.request("PATCH", f"/v2/images/{image_id}", json=ops,
                            headers={"Content-Type": content_type})

    def upload(self, image_id, data, path="file"):
        return self.request("PUT", f"/v2/images/{image_id}/{path}", data=data,
                            headers={"Content-Type": "application/octet-stream"})

    def download(self, image_id, **kw):
        return self.request("GET", f"/v2/images/{image_id}/file", **kw)

    def delete(self, image_id):
        return self.request("DELETE", f"/v2/images/{image_id}")

    def list(self, **params):
        return self.request("GET", "/v2/images", params=params)

    def ids(self, **params):
        response = self.list(**params)
        assert response.status_code == 200, response.text
        return [image["id"] for image in response.json()["images"]]

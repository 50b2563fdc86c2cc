"""Generated requests against real glance-api and glance-registry processes.

Hypothesis builds each request: header names and values in odd encodings
(UTF-8, latin-1, raw bytes, NUL), image ids with ``/``, ``..``, ``%00`` and
worse, long names, thousands of properties, numbers int() would take,
malformed and deeply nested JSON for the registry, bad query parameters, and
bodies cut short.  For the v2 API (:data:`v2_requests`): JSON image documents,
json-patch documents with odd ops, paths and values, list queries with
operators (``in:``, ``gt:``, dates out of range), import bodies, tags and members.  Requests are written byte by byte on a raw socket, so
nothing a client library would refuse to send is left out.

Every answer must be 2xx, 3xx or 4xx, carry a message when it is an error,
and never show a traceback.  :class:`Fuzzer` counts answers by status and
keeps every request that broke a rule; the servers' logs are checked too.
Used by ``tests/functional/test_fuzz.py`` (short) and ``bench/fuzz_servers.py``
(long).
"""
import collections
import http.client
import json
import socket
import string
from urllib.parse import quote

import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from servers import Server

# HEAD and GET answer one header per property (up to image_property_quota, 128);
# http.client stops at 100 by default.
http.client._MAXHEADERS = 1000

ODD_NUMBERS = ["-1", "+5", "\u0661\u0662", "5_0", " 5", "5 ", "0x10", "1e3", "\u00b2", "",
               str(2 ** 31), str(2 ** 63 - 1), str(2 ** 63), "9" * 30, "9" * 5000, "NaN",
               "0", "00", "1.5", "true", "None", "null"]
ODD_IDS = ["..", "../..", "%2e%2e", "%00", "a%00b", "%2F", "a/b", "..%2F..%2Fetc%2Fpasswd",
           "detail", "%", "%zz", "x" * 1000, "%E2%98%83", "%FF%FE", "members", ".", "%20",
           "00000000-0000-0000-0000-000000000000", "{id}", "%7Bid%7D", "a;b", "a?b=c"]
FIELDS = ["name", "id", "size", "min_ram", "min_disk", "is_public", "protected", "checksum",
          "disk_format", "container_format", "owner", "location", "store", "status",
          "deleted", "created_at"]
FILTERS = ["name", "status", "disk_format", "container_format", "size_min", "size_max",
           "min_ram", "min_disk", "is_public", "limit", "marker", "sort_key", "sort_dir",
           "changes-since", "property-distro", "protected"]
AUTH = ["X-Auth-Token", "X-Identity-Status", "X-Roles", "X-Role", "X-Tenant", "X-Tenant-Id",
        "X-Project-Id", "X-User", "X-User-Id", "X-Glance-Registry-Purge-Props", "Accept",
        "Expect", "Content-Type", "Host", "X-Image-Meta-Property-"]
NO_CRLF = st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",))


def _encoded(text):
    return st.sampled_from(["utf-8", "latin-1", "utf-16"]).map(
        lambda codec: text.encode(codec, "replace"))


def _bytes_without_crlf(max_size):
    return st.binary(max_size=max_size).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


header_values = st.one_of(
    st.sampled_from(ODD_NUMBERS).map(str.encode),
    st.text(NO_CRLF, max_size=40).flatmap(_encoded),
    _bytes_without_crlf(40),
    st.text(NO_CRLF, min_size=250, max_size=2000).map(lambda t: t.encode("utf-8")),
    st.sampled_from([b"true", b"True", b"FALSE", b"yes", b"1", b"0", b"raw", b"ami", b"bare",
                     b"file", b"swift", b"http://127.0.0.1:1/x", b"file:///etc/passwd",
                     b"queued", b"active", b"Confirmed", b"admin", b"application/json"]),
)
header_names = st.one_of(
    st.sampled_from(FIELDS).flatmap(lambda f: st.sampled_from(
        [f"x-image-meta-{f}", f"X-Image-Meta-{f.replace('_', '-')}", f"X-IMAGE-META-{f}"])),
    st.sampled_from(AUTH),
    st.text(NO_CRLF, min_size=1, max_size=40).map(lambda k: "x-image-meta-property-" + k),
    st.text(string.ascii_letters + "-_.", min_size=1, max_size=300).map(
        lambda k: "x-image-meta-property-" + k),
).flatmap(_encoded)
headers = st.lists(st.tuples(header_names, header_values), max_size=12)
many_properties = st.integers(100, 3000).map(
    lambda n: [(f"x-image-meta-property-p{i}".encode(), b"v") for i in range(n)])

ids = st.one_of(st.just("{id}"), st.just("{queued}"), st.uuids().map(str),
                st.sampled_from(ODD_IDS),
                st.text(max_size=60).map(lambda t: quote(t.encode("utf-8", "replace"),
                                                         safe="/%")),
                st.binary(max_size=30).map(lambda b: quote(b, safe="")))
queries = st.lists(st.tuples(st.one_of(st.sampled_from(FILTERS), st.text(max_size=20),
                                       st.text(string.ascii_lowercase, max_size=8).map(
                                           lambda k: "property-" + k)),
                             st.one_of(st.sampled_from(ODD_NUMBERS), st.text(max_size=30))),
                   max_size=40).map(
    lambda pairs: "&".join(quote(k.encode("utf-8", "replace"), safe="") + "="
                           + quote(v.encode("utf-8", "replace"), safe="") for k, v in pairs))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(ODD_NUMBERS),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=5),
    max_leaves=20)
image_documents = st.fixed_dictionaries({}, optional={
    **{field: json_values for field in FIELDS},
    "properties": st.one_of(json_values, st.dictionaries(st.text(max_size=300), json_values,
                                                         max_size=8),
                            st.integers(129, 3000).map(
                                lambda n: {f"p{i}": "v" for i in range(n)})),
})
json_bodies = st.one_of(
    image_documents.map(lambda image: json.dumps({"image": image}).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.builds(lambda m: json.dumps({"memberships": m}).encode(),
              st.one_of(json_values, st.lists(st.fixed_dictionaries(
                  {"member_id": json_values}, optional={"can_share": json_values}),
                  max_size=5))),
    st.builds(lambda m: json.dumps({"member": m}).encode(), json_values),
    st.binary(max_size=200),
    st.sampled_from([b"{", b'{"image": ', b"[" * 50000 + b"]" * 50000,
                     b'{"image": ' * 20000, b"\xff\xfe{}", b'{"image": {"name": "\\ud800"}}',
                     b'{"image": {"size": 1e400}}', b'{"image": {"size": NaN}}']),
)
bodies = st.one_of(st.none(), st.binary(max_size=4096), json_bodies)


class Request:
    """One generated request; ``target`` may hold ``{id}`` (an image that exists)."""

    def __init__(self, server, method, target, header_list, body=None, chunked=False,
                 cut=False):
        self.server, self.method, self.target = server, method, target
        self.headers, self.body, self.chunked, self.cut = header_list, body, chunked, cut

    def __repr__(self):
        names = b",".join(name[:40] for name, _ in self.headers[:8])
        return (f"{self.server} {self.method} {self.target[:200]!r} headers[{len(self.headers)}]"
                f"={names[:300]!r} body={None if self.body is None else self.body[:200]!r}"
                f"{' chunked' if self.chunked else ''}{' cut' if self.cut else ''}")


def _routes(server, prefix, list_paths, write_headers, write_bodies):
    """Every route of one server, with generated ids, headers, queries and bodies."""
    image_path = ids.map(lambda i: f"{prefix}/images/{i}")
    members_path = st.builds(lambda i, m: f"{prefix}/images/{i}/members{m}", ids,
                             st.one_of(st.just(""), ids.map(lambda m: "/" + m)))
    return [
        st.builds(Request, st.just(server), st.just("POST"), st.just(prefix + "/images"),
                  write_headers, write_bodies, st.booleans(), st.booleans()),
        st.builds(Request, st.just(server), st.just("PUT"), image_path,
                  write_headers, write_bodies, st.booleans(), st.booleans()),
        st.builds(Request, st.just(server), st.sampled_from(["GET", "HEAD", "DELETE"]),
                  image_path, headers),
        st.builds(Request, st.just(server), st.sampled_from(["GET", "DELETE", "PUT", "POST"]),
                  st.builds("{}?{}".format, st.sampled_from(list_paths), queries), headers),
        st.builds(Request, st.just(server), st.sampled_from(["GET", "PUT", "DELETE"]),
                  members_path, headers, json_bodies),
        st.builds(Request, st.just(server), st.just("GET"),
                  ids.map(lambda m: f"{prefix}/shared-images/{m}"), headers),
    ]


# --- v2 -----------------------------------------------------------------------------

V2_FIELDS = ["name", "id", "visibility", "protected", "os_hidden", "tags", "disk_format",
             "container_format", "min_ram", "min_disk", "owner", "status", "size",
             "checksum", "os_hash_value", "locations", "direct_url", "self", "file",
             "schema", "created_at", "os_glance_x", "kernel_id", "distro"]
V2_FILTERS = ["name", "status", "owner", "visibility", "member_status", "protected",
              "os_hidden", "size_min", "size_max", "id", "created_at", "updated_at",
              "checksum", "os_hash_value", "tag", "limit", "marker", "sort_key", "sort_dir",
              "sort", "disk_format", "container_format", "distro"]
OPERATORS = ["in:", "nin:", "eq:", "neq:", "gt:", "gte:", "lt:", "lte:", "in:a,b,", "gt:",
             "in:\"a,b\",c", "changes-since:", "bogus:"]
ODD_DATES = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2020-13-01",
             "2020-02-30T25:61:61Z", "now", "2020-01-01T00:00:00.9999999999Z", "1" * 40,
             "-1", "2020-01-01T00:00:00+99:99"]
v2_values = st.one_of(json_values, st.sampled_from(
    ["public", "private", "shared", "community", "all", "raw", "qcow2", "bare", "ami",
     "accepted", "pending", "rejected", "active", "queued", *ODD_DATES, *ODD_NUMBERS]))
v2_documents = st.dictionaries(st.one_of(st.sampled_from(V2_FIELDS), st.text(max_size=300)),
                               v2_values, max_size=10)
patch_paths = st.one_of(
    st.sampled_from(V2_FIELDS).map(lambda f: "/" + f),
    st.sampled_from(["", "/", "//", "/tags/-", "/tags/0", "/a~1b", "/~", "/~2", "/a/b",
                     "name", "/" + "p" * 300, "/locations/-", "/properties/x"]),
    st.text(max_size=40).map(lambda t: "/" + t))
patch_ops = st.fixed_dictionaries({}, optional={
    "op": st.sampled_from(["add", "replace", "remove", "move", "copy", "test", "ADD", ""]),
    "path": patch_paths, "value": v2_values, "from": patch_paths})
patch_documents = st.one_of(st.lists(patch_ops, max_size=6), v2_values)
import_documents = st.fixed_dictionaries({}, optional={
    "method": st.one_of(v2_values, st.fixed_dictionaries({}, optional={
        "name": st.one_of(st.sampled_from(["web-download", "glance-direct", "copy-image",
                                           "x"]), v2_values),
        "uri": st.one_of(st.sampled_from([
            "http://[::1", "http://127.0.0.1/x", "http://[64:ff9b::7f00:1]/x",
            "http://[::ffff:0:10.0.0.1]/", "s3+http://127.0.0.1/b/k", "swift://a/b/c",
            "file:///etc/passwd", "http://0x7f.1/", "http://%zz/", "http://a:b@127.0.0.1/",
            "https://[fe80::1%25eth0]/", "http://:80/", "", "ftp://127.0.0.1/"]),
            v2_values)})),
    "stores": v2_values, "all_stores": v2_values, "all_stores_must_succeed": v2_values})
v2_queries = st.lists(st.tuples(
    st.one_of(st.sampled_from(V2_FILTERS), st.text(max_size=20)),
    st.one_of(st.builds(str.__add__, st.sampled_from(OPERATORS),
                        st.one_of(st.sampled_from(ODD_DATES + ODD_NUMBERS), st.text(max_size=20))),
              st.sampled_from(ODD_DATES + ODD_NUMBERS), st.text(max_size=30))),
    max_size=12).map(
    lambda pairs: "&".join(quote(k.encode("utf-8", "replace"), safe="") + "="
                           + quote(v.encode("utf-8", "replace"), safe="") for k, v in pairs))
# Mostly a plain caller (admin, a tenant, a tenant's admin, anonymous), so requests reach
# the code behind the identity checks; sometimes odd identity headers.
CALLERS = [[], [(b"X-Tenant-Id", b"fuzzer"), (b"X-User-Id", b"fuzz")],
           [(b"X-Tenant-Id", b"fuzzadmin"), (b"X-Roles", b"admin")],
           [(b"X-Identity-Status", b"Invalid")]]
v2_headers = st.one_of(
    st.sampled_from(CALLERS), st.sampled_from(CALLERS), st.sampled_from(CALLERS),
    st.lists(st.tuples(st.sampled_from(AUTH[:9]).map(str.encode), header_values), max_size=4))
JSON_TYPE = [(b"Content-Type", b"application/json")]
PATCH_TYPE = [(b"Content-Type", b"application/openstack-images-v2.1-json-patch")]


def _json(value):
    return json.dumps(value).encode()


def _v2(method, path, headers_, body=st.none(), kind=()):
    return st.builds(lambda p, h, b: Request("api", method, p, list(kind) + h, b),
                     path, headers_, body)


# Mostly the seeded images, so requests get past the lookup.
v2_ids = st.one_of(st.just("{id}"), st.just("{queued}"), st.just("{id}"), ids)
v2_image = v2_ids.map(lambda i: f"/v2/images/{i}")
v2_requests = st.one_of(
    _v2("POST", st.just("/v2/images"), v2_headers,
        st.one_of(v2_documents.map(_json), json_bodies), JSON_TYPE),
    _v2("PATCH", v2_image, v2_headers,
        st.one_of(patch_documents.map(_json), json_bodies), PATCH_TYPE),
    _v2("GET", st.builds("/v2/images?{}".format, v2_queries), v2_headers),
    _v2("GET", st.builds("/v2/images/{}/members?{}".format, v2_ids, v2_queries), v2_headers),
    _v2("POST", v2_image.map(lambda p: p + "/import"), v2_headers,
        st.one_of(import_documents.map(_json), json_bodies), JSON_TYPE),
    _v2("POST", v2_image.map(lambda p: p + "/members"), v2_headers,
        st.one_of(st.fixed_dictionaries({"member": v2_values}).map(_json), json_bodies),
        JSON_TYPE),
    _v2("PUT", st.builds("/v2/images/{}/members/{}".format, v2_ids, ids), v2_headers,
        st.one_of(st.fixed_dictionaries({"status": v2_values}).map(_json), json_bodies),
        JSON_TYPE),
    _v2("PUT", st.builds("/v2/images/{}/tags/{}".format, v2_ids, ids), v2_headers),
    _v2("DELETE", st.builds("/v2/images/{}/tags/{}".format, v2_ids, ids), v2_headers),
    _v2("PUT", st.builds("/v2/images/{}/{}".format, v2_ids, st.sampled_from(["file", "stage"])),
        v2_headers, st.binary(max_size=512), [(b"Content-Type", b"application/octet-stream")]),
    _v2("GET", st.builds("/v2/images/{}/file".format, v2_ids), v2_headers),
    _v2("POST", st.builds("/v2/images/{}/actions/{}".format, v2_ids,
                          st.sampled_from(["deactivate", "reactivate", "x"])), v2_headers),
)

requests_strategy = st.one_of(
    *_routes("api", "/v1", ["/v1/images", "/v1/images/detail", "/images", "/", "/versions",
                            "/v2/images", "/v1.1/images"],
             st.one_of(headers, many_properties), bodies),
    *_routes("registry", "", ["/images", "/images/detail", "/"], headers, json_bodies))


def encode(request, image_ids):
    """The bytes of ``request`` on the wire, and how many of them to send."""
    target = request.target
    for name, image_id in image_ids.items():
        target = target.replace("{%s}" % name, image_id)
    lines = [f"{request.method} {target} HTTP/1.1".encode("utf-8", "replace"),
             b"Host: fuzz", b"Connection: close"]
    for name, value in request.headers:
        if name.lower() not in (b"host", b"content-length", b"transfer-encoding",
                                b"connection"):
            lines.append(name.replace(b":", b"") + b": " + value)
    body = request.body or b""
    if (request.server == "api" and request.body is not None
            and not any(name.lower() == b"content-type" for name, _ in request.headers)):
        lines.append(b"Content-Type: application/octet-stream")
    if request.body is not None and request.chunked:
        lines.append(b"Transfer-Encoding: chunked")
        payload = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    elif request.body is not None:
        lines.append(b"Content-Length: %d" % len(body))
        payload = body
    else:
        payload = b""
    raw = b"\r\n".join(lines) + b"\r\n\r\n" + payload
    # A cut request stops in the middle of its body, and the client goes away.
    return raw, (len(raw) - max(1, len(payload) // 2) if request.cut and payload else len(raw))


def exchange(port, raw, size, method, timeout=60):
    """Send ``raw[:size]``; the answer as ``(status, headers, body)``, or None when a cut
    request got none."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(raw[:size])
            if size < len(raw):
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass            # the server answered early and closed; read that answer
        response = http.client.HTTPResponse(sock, method=method)
        try:
            response.begin()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            if size < len(raw):
                return None
            raise
        return response.status, response.getheaders(), response.read()


class Fuzzer:
    """Send generated requests to ``ports`` (``{"api": port, "registry": port}``)."""

    def __init__(self, ports, image_ids):
        self.ports, self.image_ids = ports, image_ids
        self.sent = collections.Counter()
        self.statuses = collections.Counter()
        self.problems = []

    def check(self, request):
        raw, size = encode(request, self.image_ids)
        self.sent[request.server] += 1
        try:
            answer = exchange(self.ports[request.server], raw, size, request.method)
        except (OSError, http.client.HTTPException) as exc:
            self.problems.append((f"no answer: {type(exc).__name__}: {exc}", request))
            return
        if answer is None:
            self.statuses[(request.server, "cut, no answer")] += 1
            return
        status, _headers, body = answer
        self.statuses[(request.server, status // 100 * 100)] += 1
        text = body.decode("utf-8", "replace")
        if status >= 500:
            self.problems.append((f"{status}: {text[:300]}", request))
        elif status >= 400 and request.method != "HEAD" and not text.strip():
            self.problems.append((f"{status} without a message", request))
        if "Traceback" in text:
            self.problems.append((f"{status} with a traceback", request))

    def run(self, examples, strategy=None):
        """Send ``examples`` generated requests (one each) of ``strategy`` (default: v1
        and the registry; :data:`v2_requests` for the v2 API)."""
        @settings(max_examples=examples, deadline=None, database=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(strategy if strategy is not None else requests_strategy)
        def fuzz(request):
            self.check(request)
        fuzz()

    def summary(self):
        lines = [f"requests sent: {sum(self.sent.values())} ({dict(self.sent)})"]
        for (server, status), count in sorted(self.statuses.items(), key=str):
            lines.append(f"  {server:8} {status}: {count}")
        lines.append(f"problems: {len(self.problems)}")
        kinds = collections.OrderedDict()
        for problem, request in self.problems:
            kinds.setdefault((problem.splitlines()[0][:120], request.server, request.method),
                             []).append(request)
        for (problem, server, method), seen in kinds.items():
            lines.append(f"  {len(seen)} x {server} {method}: {problem} <- e.g. {seen[0]!r}")
        return "\n".join(lines)


def log_problems(text):
    """Lines of a server log that show an unhandled error."""
    return [line for line in text.splitlines()
            if "Traceback" in line or "Unhandled error" in line or "Internal error" in line]


def start_servers(workdir):
    """A glance-registry on SQLite and a glance-api on the file store, in ``workdir``."""
    registry = Server("glance-registry", workdir,
                      {"sql_connection": f"sqlite:///{workdir}/registry.sqlite"}).start()
    api = Server("glance-api", workdir, {"registry_host": "127.0.0.1",
                                         "registry_port": registry.port,
                                         "filesystem_store_datadir": f"{workdir}/images"})
    return api.start(), registry


def seed_images(api_url):
    """An active image with data and properties, and a queued one: ``{"id", "queued"}``."""
    active = requests.post(api_url + "/v1/images", data=b"fuzz" * 100, timeout=30,
                           headers={"x-image-meta-name": "fuzz", "x-image-meta-is_public": "true",
                                    "x-image-meta-property-distro": "debian",
                                    "Content-Type": "application/octet-stream"})
    queued = requests.post(api_url + "/v1/images", headers={"x-image-meta-name": "q"},
                           timeout=30)
    assert active.status_code == queued.status_code == 201
    return {"id": active.json()["image"]["id"], "queued": queued.json()["image"]["id"]}


def servers_healthy(api, registry):
    """Problems with the servers after a run: gone, not answering, or an error logged."""
    found = []
    for server, path in ((api, "/v1/images"), (registry, "/images")):
        if server.proc.poll() is not None:
            found.append(f"{server.program} exited with {server.proc.returncode}")
            continue
        if requests.get(server.url + path, timeout=10).status_code != 200:
            found.append(f"{server.program} does not answer GET {path}")
        found += [f"{server.program} log: {line}" for line in log_problems(server.logtext())]
    return found

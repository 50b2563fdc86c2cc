"""HTTP client of glance-registry, used by glance-api.

An error answer raises the :mod:`glance.errors` class of its status.

One ``http.client`` connection per thread is kept alive (the registry is
glance-api's own: no proxies, redirects or cookies to handle).  It costs
about a third of what a ``requests.Session`` did per call, which made up
half of glance-api's CPU per HEAD.  A kept connection the registry has
closed meanwhile is noticed before it is reused, and a GET or HEAD that
fails on a reused connection is sent once more on a new one.
"""
import collections
import http.client
import json
import logging
import select
import weakref
from urllib.parse import quote, urlencode

from glance.errors import NotFound, ServiceUnavailable, for_status
from glance.registry.metadef_client import MetadefClient
from glance.registry.task_client import TaskClient

LOG = logging.getLogger("glance.api")
JSON = "application/json"
# The whole of what a client learns when the registry cannot answer (the log says more).
UNAVAILABLE = "Registry unavailable: the image registry did not answer; try again later"


def segment(value):
    """``value`` quoted as one path segment: it can never name another registry route.

    Everything but unreserved characters is escaped (``/``, ``?``, ``#``, ``%``,
    NUL), and so are the dots of ``.`` and ``..``, which HTTP clients would
    otherwise resolve away.
    """
    quoted = quote(str(value), safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def error_for(status, message):
    """The exception for an error answer: ``status`` and the registry's ``message``.

    The classes are :mod:`glance.errors`' (the registry raised the same ones);
    any 5xx is :class:`~glance.errors.ServiceUnavailable`.
    """
    if status >= 500:
        LOG.error("Registry answered %s: %s", status, message)
        return ServiceUnavailable(UNAVAILABLE)
    return for_status(status, message)


def _error_for(status, reason, data):
    """Build the exception for a non-2xx answer."""
    try:
        message = json.loads(data)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = data.decode("utf-8", "replace").strip() or reason or str(status)
    return error_for(status, message)


def query(params):
    """``params`` (a dict or ``(name, value)`` pairs; a value may be a list) as a
    query string, as requests encodes them: None values are left out."""
    if not params:
        return ""
    pairs = params.items() if isinstance(params, dict) else params
    flat = []
    for name, values in pairs:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        flat.extend((name, value) for value in values if value is not None)
    return "?" + urlencode(flat) if flat else ""


def _dropped(conn):
    """Has the peer closed (or sent something unasked on) this idle kept connection?"""
    sock = conn.sock
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _api_headers(headers, api):
    """``headers`` with, for a v2 write, the header that tells the registry so."""
    sent = dict(headers or {})
    if api == "v2":
        sent["X-Glance-Registry-Api"] = "v2"
    return sent


def _wire(value):
    """A header value as the bytes a client sent: WSGI servers hand them over
    decoded as latin-1, and requests refuses text that starts with a Unicode
    space (NBSP, NEL) where bytes would be sent as they came."""
    if isinstance(value, str):
        try:
            return value.encode("latin-1")
        except UnicodeEncodeError:
            return value.encode("utf-8")
    return value


def _close_all(idle):
    while idle:
        try:
            idle.pop().close()
        except IndexError:      # another thread took the last one
            return


class RegistryClient(MetadefClient, TaskClient):
    """Talk to glance-registry at ``host:port`` with JSON over HTTP.

    ``headers`` on every method are the caller's auth headers (X-Auth-Token,
    X-Identity-Status, X-User, X-Tenant, X-Role) passed through to the registry.
    """

    def __init__(self, host, port, timeout=60):
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        self.base = f"http://{host}:{port}"
        self.host, self.port = host.strip("[]"), int(port)
        self.timeout = timeout
        # Idle kept-alive connections, the last used first: as many as calls ever ran at
        # once, not one per thread.  Each idle one costs the registry's event loop on
        # every turn, and glance-api runs a hundred threads and more.
        self._idle = collections.deque()
        # Closed when this client goes: a socket left to the garbage collector is a
        # ResourceWarning.
        weakref.finalize(self, _close_all, self._idle)

    def _take(self):
        """An idle kept connection the registry has not closed, or a new one."""
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            if not _dropped(conn):
                return conn
            conn.close()

    def idle_connections(self):
        """How many connections are kept open, waiting for the next call."""
        return len(self._idle)

    def close(self):
        """Close the kept connections (a later call opens a new one)."""
        _close_all(self._idle)

    def _exchange(self, method, target, data, sent):
        """Send one request on a kept connection: ``(status, reason, body)``."""
        for attempt in (1, 2):
            conn = self._take()
            reused = conn.sock is not None
            try:
                try:
                    conn.request(method, target, body=data, headers=sent)
                except (BrokenPipeError, ConnectionResetError):
                    # The registry may have answered (413: body too large) and closed
                    # before reading all of the body: read that answer, if it is there.
                    if conn.sock is None:
                        raise
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if reused and attempt == 1 and method in ("GET", "HEAD"):
                    continue        # the registry closed the kept connection meanwhile
                # Where the registry is (and why it failed) goes to the log, not to the client.
                LOG.error("Registry at %s unavailable: %s", self.base, exc)
                raise ServiceUnavailable(UNAVAILABLE) from None
            if response.will_close:
                conn.close()
            else:
                self._idle.append(conn)
            return response.status, response.reason, payload
        raise AssertionError("unreachable")

    def _request(self, method, path, *, body=None, params=None, headers=None):
        sent = {name: _wire(value) for name, value in (headers or {}).items()}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            sent["Content-Type"] = JSON
        try:
            target = path + query(params)
        except TypeError as exc:
            LOG.error("Registry request %s %s not sent: %s", method, path, exc)
            raise ServiceUnavailable(UNAVAILABLE) from None
        status, reason, payload = self._exchange(method, target, data, sent)
        if status >= 400:
            raise _error_for(status, reason, payload)
        if status == 204 or not payload:
            return None
        try:
            return json.loads(payload)
        except ValueError:
            LOG.error("Registry at %s answered %s with a body that is not JSON", self.base,
                      status)
            raise ServiceUnavailable(UNAVAILABLE) from None

    def list(self, detail=False, params=None, headers=None):
        """List images.

        :param detail: full records instead of the short index items.
        :param params: query parameters, passed unchanged (filters,
            ``property-<key>``, limit, marker, sort_key, sort_dir, is_public).
        :returns: a list of image dicts.
        :raises BadRequest: a bad filter, limit, marker or sort value.
        """
        path = "/images/detail" if detail else "/images"
        return self._request("GET", path, params=params, headers=headers)["images"]

    def list_v2(self, params=None, headers=None):
        """A page of the v2 list: full records (with ``visibility``, ``tags``...).

        :param params: query parameters as pairs or a dict: limit, marker,
            ``sort=k:dir,...`` (or repeated sort_key/sort_dir), visibility
            (public|community|shared|private|all; absent: own + public + shared
            with me), member_status (default accepted; ``all``), os_hidden
            (default false), ``tag`` (repeatable, all must match), owner,
            protected, min_ram, min_disk, ``in:a,b`` on id/name/status/
            container_format/disk_format, ``gt:|gte:|lt:|lte:|eq:|neq:`` on
            created_at/updated_at/size, size_min/size_max, ``property-<key>``.
        :raises BadRequest: a bad filter, limit, marker or sort value.
        """
        return self._request("GET", "/v2/images", params=params, headers=headers)["images"]

    def get(self, image_id, headers=None):
        """Return the image record ``{"id": ..., "properties": {...}, ...}``.

        :raises NotFound: no such image, or not visible to the caller; also an id
            that names another registry resource (``detail``: its list).
        """
        answer = self._request("GET", f"/images/{segment(image_id)}", headers=headers)
        if not isinstance(answer, dict) or not isinstance(answer.get("image"), dict):
            raise NotFound(f"No image found with ID {image_id}")
        return answer["image"]

    def create(self, image, headers=None, api="v1"):
        """Create an image from ``image`` (a dict of attributes) and return it.

        ``visibility`` wins over v1's ``is_public``; neither makes it ``shared``.
        ``tags`` (a list) sets the tags, on update too.

        :param api: "v2": without v1's rule that ami/ari/aki formats match.
        :raises BadRequest: validation failed. :raises Conflict: the id exists.
        """
        return self._request("POST", "/images", body={"image": image},
                             headers=_api_headers(headers, api))["image"]

    def update(self, image_id, image, purge_props=False, headers=None, expect_status=None,
               untouched_since=None, api="v1"):
        """Update attributes and merge properties; return the new record.

        :param purge_props: delete properties not named in ``image["properties"]``.
        :param expect_status: change the image only if it is in this status
            (and not deleted), in one conditional UPDATE.
        :param untouched_since: with ``expect_status``, and only if its ``updated_at``
            is at or before this time (naive UTC).
        :raises NotFound: :raises BadRequest:
        :raises Conflict: the image is not in ``expect_status`` (or deleted, or touched).
        """
        sent = _api_headers(headers, api)
        if purge_props:
            sent["X-Glance-Registry-Purge-Props"] = "true"
        if expect_status is not None:
            sent["X-Glance-Registry-Expect-Status"] = expect_status
        if untouched_since is not None:
            sent["X-Glance-Registry-Expect-Untouched-Since"] = untouched_since.isoformat()
        return self._request("PUT", f"/images/{segment(image_id)}", body={"image": image},
                             headers=sent)["image"]

    def delete(self, image_id, headers=None):
        """Soft-delete the image; return its record as it now is.

        :raises NotFound:
        """
        answer = self._request("DELETE", f"/images/{segment(image_id)}", headers=headers)
        return answer.get("image") if answer else None

    def add_tag(self, image_id, tag, headers=None):
        """Tag the image (no change if it has the tag).

        :raises BadRequest: empty or longer than 255. :raises Forbidden: not the owner's.
        :raises NotFound: :raises TooLarge: over ``image_tag_quota``.
        """
        self._request("PUT", f"/images/{segment(image_id)}/tags/{segment(tag)}",
                      headers=headers)

    def delete_tag(self, image_id, tag, headers=None):
        """Remove a tag.  :raises NotFound: no such image, or it has no such tag."""
        self._request("DELETE", f"/images/{segment(image_id)}/tags/{segment(tag)}",
                      headers=headers)

    def get_members(self, image_id, headers=None):
        """Return ``[{"member_id", "can_share", "status", "created_at", "updated_at"}, ...]``.

        :raises NotFound: :raises Forbidden: not the owner or an admin.
        """
        path = f"/images/{segment(image_id)}/members"
        return self._request("GET", path, headers=headers)["members"]

    def get_member(self, image_id, member, headers=None):
        """One membership (to the owner, an admin or the member itself).  :raises NotFound:"""
        path = f"/images/{segment(image_id)}/members/{segment(member)}"
        return self._request("GET", path, headers=headers)["member"]

    def update_member_status(self, image_id, member, status, headers=None):
        """The member sets its status (pending|accepted|rejected); returns the membership.

        :raises Forbidden: the caller is not that member. :raises NotFound: :raises BadRequest:
        """
        path = f"/images/{segment(image_id)}/members/{segment(member)}/status"
        return self._request("PUT", path, body={"status": status}, headers=headers)["member"]

    def replace_members(self, image_id, memberships, headers=None):
        """Replace the member list with ``memberships`` ([{"member_id", "can_share"?}]).

        :raises Unauthorized: no authenticated user. :raises Forbidden: not sharable.
        """
        self._request("PUT", f"/images/{segment(image_id)}/members",
                      body={"memberships": memberships}, headers=headers)

    def add_member(self, image_id, member, can_share=None, headers=None, status=None):
        """Add ``member`` (or set its can_share when given).

        :param status: None or ``pending``: every new membership starts pending
            (the registry refuses any other with 403); an existing one keeps its status.
        :raises Unauthorized: :raises Forbidden: :raises NotFound:
        """
        fields = {}
        if can_share is not None:
            fields["can_share"] = bool(can_share)
        if status is not None:
            fields["status"] = status
        body = {"member": fields} if fields else None
        self._request("PUT", f"/images/{segment(image_id)}/members/{segment(member)}",
                      body=body, headers=headers)

    def delete_member(self, image_id, member, headers=None):
        """Remove ``member`` from the image (no error if it was not one)."""
        self._request("DELETE", f"/images/{segment(image_id)}/members/{segment(member)}",
                      headers=headers)

    def get_shared_images(self, member, headers=None):
        """Return ``[{"image_id", "can_share"}, ...]`` shared with ``member``."""
        answer = self._request("GET", f"/shared-images/{segment(member)}", headers=headers)
        return answer["shared_images"]

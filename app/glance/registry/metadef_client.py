"""The registry client's calls for metadata definitions (mixed into RegistryClient).

Bodies go to glance-registry as the caller sent them: the registry checks
them, applies the rules, and answers with records (naive UTC times).  Every
call raises the errors of :mod:`glance.errors`: BadRequest, Unauthorized, Forbidden,
NotFound, Conflict (409), TooLarge (413) over a quota.
"""
from urllib.parse import quote

# Objects, properties and tags: one shape of routes each, and the key of one record.
ITEM_KEYS = {"objects": "object", "properties": "property", "tags": "tag"}


def _segment(value):
    quoted = quote(str(value), safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def _path(namespace=None, kind=None, name=None):
    path = "/metadefs/namespaces"
    for part in (namespace, kind, name):
        if part is not None:
            path += "/" + (part if part is kind else _segment(part))
    return path


class MetadefClient:
    """Needs ``_request(method, path, *, body, params, headers)`` from its class."""

    def list_namespaces(self, params=None, headers=None):
        """A page of namespaces: ``{"namespaces": [...], "next": marker or None}``.

        :param params: limit, marker, sort_key (created_at|updated_at|namespace),
            sort_dir, visibility (public|private), resource_types (comma-separated).
        :raises BadRequest: :raises NotFound: a marker the caller cannot see.
        """
        return self._request("GET", _path(), params=params, headers=headers)

    def create_namespace(self, namespace, headers=None):
        """Create a namespace (with what it starts with); returns its detail.

        :raises BadRequest: :raises Forbidden: not an admin. :raises Conflict:
        """
        return self._request("POST", _path(), body=namespace, headers=headers)["namespace"]

    def get_namespace(self, namespace, resource_type=None, headers=None):
        """The namespace with its associations, properties, objects and tags.

        :param resource_type: prefix property names with that association's prefix.
        :raises NotFound: none, or not visible to the caller.
        """
        params = {"resource_type": resource_type} if resource_type else None
        return self._request("GET", _path(namespace), params=params,
                             headers=headers)["namespace"]

    def update_namespace(self, namespace, values, headers=None):
        """Replace the namespace's attributes (``values`` may rename it)."""
        return self._request("PUT", _path(namespace), body=values,
                             headers=headers)["namespace"]

    def delete_namespace(self, namespace, headers=None):
        """Delete it and all it holds.  :raises Forbidden: protected, or not an admin."""
        self._request("DELETE", _path(namespace), headers=headers)

    def delete_namespace_items(self, namespace, kind, headers=None):
        """Delete all ``kind`` (objects, properties, tags) of a namespace."""
        self._request("DELETE", _path(namespace, kind), headers=headers)

    def list_items(self, namespace, kind, params=None, headers=None):
        """All objects (a list), properties (a dict by name) or a page of tags (a list).

        :param params: for tags: limit, marker, sort_key (created_at|updated_at|name), sort_dir.
        """
        return self._request("GET", _path(namespace, kind), params=params,
                             headers=headers)[kind]

    def create_item(self, namespace, kind, values, headers=None):
        """Create an object or a property from ``values``; returns it."""
        return self._request("POST", _path(namespace, kind), body=values,
                             headers=headers)[ITEM_KEYS[kind]]

    def get_item(self, namespace, kind, name, params=None, headers=None):
        """One object, property (``params``: resource_type) or tag.  :raises NotFound:"""
        return self._request("GET", _path(namespace, kind, name), params=params,
                             headers=headers)[ITEM_KEYS[kind]]

    def update_item(self, namespace, kind, name, values, headers=None):
        """Replace (and maybe rename) an object, property or tag; returns it."""
        return self._request("PUT", _path(namespace, kind, name), body=values,
                             headers=headers)[ITEM_KEYS[kind]]

    def delete_item(self, namespace, kind, name, headers=None):
        self._request("DELETE", _path(namespace, kind, name), headers=headers)

    def create_tag(self, namespace, name, headers=None):
        return self._request("POST", _path(namespace, "tags", name), headers=headers)["tag"]

    def create_tags(self, namespace, tags, append=False, headers=None):
        """Replace the namespace's tags with ``tags`` (``{"tags": [{"name"}]}``), or add them."""
        return self._request("POST", _path(namespace, "tags"), body=tags,
                             params={"append": "true" if append else "false"},
                             headers=headers)["tags"]

    def list_resource_types(self, headers=None):
        return self._request("GET", "/metadefs/resource_types",
                             headers=headers)["resource_types"]

    def list_associations(self, namespace, headers=None):
        return self._request("GET", _path(namespace, "resource_types"),
                             headers=headers)["resource_type_associations"]

    def create_association(self, namespace, values, headers=None):
        """Associate a resource type (created when new) with the namespace."""
        return self._request("POST", _path(namespace, "resource_types"), body=values,
                             headers=headers)["resource_type_association"]

    def delete_association(self, namespace, resource_type, headers=None):
        self._request("DELETE", _path(namespace, "resource_types", resource_type),
                      headers=headers)

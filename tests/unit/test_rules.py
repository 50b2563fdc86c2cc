"""glance.rules is the one place statuses are spelt: no other module of the app writes one."""
import ast
import pathlib

from glance import rules

APP = pathlib.Path(rules.__file__).parent


def _parents(tree):
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _is_field_name(node, parent):
    """``"deleted"`` is also the name of a field: ``image.get("deleted")``,
    ``row["deleted"]``, ``("is_public", "protected", "deleted")``; a dict key
    is always a field name."""
    if isinstance(parent, ast.Dict) and node in parent.keys:
        return True
    if node.value != rules.DELETED:
        return False
    if isinstance(parent, (ast.Call, ast.Subscript)):
        return True
    if isinstance(parent, (ast.Tuple, ast.List)):
        return not any(isinstance(e, ast.Constant) and e.value in rules.STATUSES and e is not node
                       for e in parent.elts)
    return False


def status_literals():
    found = []
    for path in sorted(APP.rglob("*.py")):
        if path.name == "rules.py" or "migrations" in path.parts:
            continue      # migrations keep the values of their day
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = _parents(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and node.value in rules.STATUSES
                    and not _is_field_name(node, parents.get(node))):
                found.append(f"{path.relative_to(APP)}:{node.lineno}: {node.value!r}")
    return found


def test_no_status_is_written_as_a_literal_outside_rules():
    assert status_literals() == []


def test_busy_statuses_are_statuses():
    assert set(rules.BUSY) <= set(rules.STATUSES)
    assert set(rules.GONE) <= set(rules.STATUSES)
    assert rules.QUEUED not in rules.BUSY and rules.ACTIVE not in rules.BUSY

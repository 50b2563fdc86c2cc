"""Check that every role variable is in defaults/main.yml, in meta/argument_specs.yml
(entry point main) and in the role's README.md, and nowhere only in one of them.

usage: python check-role-docs.py ROLES_DIR
"""
import pathlib
import sys

import yaml


def main(roles_dir):
    problems = []
    for role in sorted(p for p in pathlib.Path(roles_dir).iterdir() if p.is_dir()):
        defaults = yaml.safe_load((role / "defaults/main.yml").read_text()) or {}
        specs = yaml.safe_load((role / "meta/argument_specs.yml").read_text())
        options = specs["argument_specs"]["main"].get("options", {})
        readme = (role / "README.md").read_text()
        for name in sorted(set(defaults) - set(options)):
            problems.append(f"{role.name}: {name} is in defaults/main.yml but not in meta/argument_specs.yml")
        for name in sorted(set(options) - set(defaults)):
            problems.append(f"{role.name}: {name} is in meta/argument_specs.yml but not in defaults/main.yml")
        for name in sorted(defaults):
            if f"`{name}`" not in readme:
                problems.append(f"{role.name}: {name} is not documented in README.md")
        for name, spec in options.items():
            if "type" not in spec or "description" not in spec:
                problems.append(f"{role.name}: {name} needs a type and a description in meta/argument_specs.yml")
        print(f"{role.name}: {len(defaults)} variables")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "roles"))

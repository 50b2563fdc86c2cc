#!/bin/bash
# setup-ansible.sh [VENV]: create (idempotently) the Ansible/Molecule tool venv used by
# tests/deploy/run-molecule.sh. Default VENV: <repo>/.venv-ansible.
# Installs: ansible (ships community.docker, community.general, community.mysql),
# molecule, molecule-plugins, ansible-lint, yamllint, python-glanceclient (verify step).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
venv=${1:-$here/.venv-ansible}
py=${PYTHON:-python3}
pkgs=(ansible molecule molecule-plugins ansible-lint yamllint python-glanceclient)

stamp=$venv/.setup-ansible.stamp
want=$(printf '%s\n' "${pkgs[@]}" | sha256sum | cut -c1-16)
if [ -x "$venv/bin/molecule" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "setup-ansible: $venv is up to date"
    exit 0
fi
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "${pkgs[@]}"
"$venv/bin/ansible-galaxy" collection list community.docker >/dev/null
echo "$want" > "$stamp"
"$venv/bin/ansible" --version >/dev/null
# molecule runs ansible-config from PATH
PATH="$venv/bin:$PATH" "$venv/bin/molecule" --version
echo "setup-ansible: $venv ready"

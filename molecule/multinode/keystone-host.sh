#!/bin/bash
# keystone-host.sh start DIR BIND PORT | stop DIR
# The multinode scenario's identity service: a real Keystone (PyPI keystone, SQLite, Fernet
# tokens, waitress) on the host's bridge address, with the accounts the scenario uses:
#   admin/admin-secret (project admin), glance/glance-secret (admin in project service),
#   demo/demo-secret (member of demo), demo2/demo2-secret (member of demo2).
# Keystone comes from <repo>/.venv-keystone (created here when missing).
set -euo pipefail
cmd=${1:?usage: keystone-host.sh start DIR BIND PORT | stop DIR}
S=${2:?state directory}
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${GLANCE_KEYSTONE_VENV:-$repo/.venv-keystone}
case $cmd in
start)
  BIND=${3:?bind address}; PORT=${4:?port}
  if [ ! -x "$venv/bin/keystone-manage" ] || [ ! -x "$venv/bin/openstack" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q keystone python-openstackclient waitress
  fi
  mkdir -p "$S/fernet" "$S/cred"
  cat > "$S/keystone.conf" <<CONF
[database]
connection = sqlite:///$S/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = $S/fernet
[credential]
key_repository = $S/cred
CONF
  K=("$venv/bin/keystone-manage" --config-file "$S/keystone.conf")
  "${K[@]}" db_sync
  "${K[@]}" fernet_setup --keystone-user root --keystone-group root
  "${K[@]}" credential_setup --keystone-user root --keystone-group root
  "${K[@]}" bootstrap --bootstrap-password admin-secret --bootstrap-region-id RegionOne \
    --bootstrap-public-url "http://$BIND:$PORT/v3"
  cat > "$S/serve.py" <<PY
import os
os.environ["OS_KEYSTONE_CONFIG_FILES"] = "$S/keystone.conf"
from keystone.server.wsgi import initialize_public_application
import waitress
waitress.serve(initialize_public_application(), host="$BIND", port=$PORT, threads=8)
PY
  setsid "$venv/bin/python" "$S/serve.py" </dev/null >"$S/keystone.log" 2>&1 &
  echo $! > "$S/keystone.pid"
  for _ in $(seq 1 600); do
    "$venv/bin/python" -c "import urllib.request as u; u.urlopen('http://$BIND:$PORT/v3', timeout=1)" 2>/dev/null && break
    kill -0 "$(cat "$S/keystone.pid")" 2>/dev/null || { cat "$S/keystone.log" >&2; exit 1; }
    sleep 0.2
  done
  export OS_AUTH_URL=http://$BIND:$PORT/v3 OS_USERNAME=admin OS_PASSWORD=admin-secret \
    OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3
  os() { "$venv/bin/openstack" "$@" >/dev/null; }
  os project create --or-show service
  os user create --or-show --password glance-secret glance
  os role add --project service --user glance admin
  for u in demo demo2; do
    os project create --or-show "$u"
    os user create --or-show --password "$u-secret" "$u"
    os role add --project "$u" --user "$u" member
  done
  echo "keystone up on http://$BIND:$PORT/v3"
  ;;
stop)
  if [ -f "$S/keystone.pid" ]; then
    pid=$(cat "$S/keystone.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      [ -e /proc/$pid ] && [ "$(awk '{print $3}' /proc/$pid/stat)" != Z ] || break; sleep 0.1
    done
    rm -f "$S/keystone.pid"
  fi
  ;;
esac

#!/bin/bash
# A real Keystone for tests and CI: PyPI keystone on SQLite with Fernet tokens, served by waitress.
#
# usage:
#   tests/tools/keystone.sh install               # <repo>/.venv-keystone (idempotent)
#   tests/tools/keystone.sh start DIR PORT [HOST]  # configure DIR, bootstrap admin, serve, wait
#   tests/tools/keystone.sh stop DIR               # stop the Keystone started in DIR
#   tests/tools/keystone.sh env DIR                # print the admin's OS_* variables (eval them)
#
# start: DIR holds keystone.conf, keystone.db (SQLite), the key repositories, keystone.log and
# keystone.pid; the admin (user admin, project admin, roles admin/member/reader) has the
# password $KEYSTONE_ADMIN_PASSWORD (default admin-secret); the identity endpoint is
# http://HOST:PORT/v3 in region RegionOne (HOST default 127.0.0.1). A DIR that already has
# a database is reused (only the server is started). Exit status 0 once GET /v3 answers.
# Environment: GLANCE_KEYSTONE_VENV (default <repo>/.venv-keystone), PYTHON (default python3),
# KEYSTONE_DATABASE_URL (default: SQLite in DIR; a mysql+pymysql:// URL of an empty database
# needs PyMySQL in the venv: `install` adds it when this is set).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${GLANCE_KEYSTONE_VENV:-$REPO/.venv-keystone}
PY=${PYTHON:-python3}
export PYTHONWARNINGS=ignore   # keystone-manage warns about eventlet on every call
usage() { sed -n '4,8p' "$0" | sed 's/^# //' >&2; exit 2; }

install() {
  if [ -n "${KEYSTONE_DATABASE_URL:-}" ] && [ -x "$VENV/bin/pip" ] \
     && ! "$VENV/bin/python" -c "import pymysql" 2>/dev/null; then
    "$VENV/bin/pip" install -q pymysql
  fi
  if [ -x "$VENV/bin/keystone-manage" ] && [ -x "$VENV/bin/openstack" ] \
     && "$VENV/bin/python" -c "import keystone, waitress" 2>/dev/null; then
    return 0
  fi
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q keystone python-openstackclient waitress ${KEYSTONE_DATABASE_URL:+pymysql}
  echo "installed keystone $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("keystone"))') into $VENV"
}

alive() { [ -f "$1/keystone.pid" ] && kill -0 "$(cat "$1/keystone.pid")" 2>/dev/null; }

start() {
  local dir port host url
  dir=$(mkdir -p "$1" && cd "$1" && pwd); port=$2; host=${3:-127.0.0.1}
  url="http://$host:$port/v3"
  install
  if alive "$dir"; then echo "keystone already running in $dir" >&2; exit 1; fi
  if [ ! -f "$dir/bootstrapped" ]; then
    mkdir -p "$dir/fernet" "$dir/cred"
    cat > "$dir/keystone.conf" <<CONF
[DEFAULT]
log_file = $dir/keystone.log
[database]
connection = ${KEYSTONE_DATABASE_URL:-sqlite:///$dir/keystone.db}
[token]
provider = fernet
[fernet_tokens]
key_repository = $dir/fernet
[credential]
key_repository = $dir/cred
[identity]
# bcrypt's cheapest cost: at the default 12 every user created and every password
# checked costs about a second of CPU, which test users need not pay.
password_hash_rounds = 4
CONF
    local manage=("$VENV/bin/keystone-manage" --config-file "$dir/keystone.conf")
    local me; me=$(id -un); local group; group=$(id -gn)
    "${manage[@]}" db_sync
    "${manage[@]}" fernet_setup --keystone-user "$me" --keystone-group "$group"
    "${manage[@]}" credential_setup --keystone-user "$me" --keystone-group "$group"
    "${manage[@]}" bootstrap --bootstrap-password "${KEYSTONE_ADMIN_PASSWORD:-admin-secret}" \
      --bootstrap-region-id RegionOne --bootstrap-public-url "$url" \
      --bootstrap-internal-url "$url" --bootstrap-admin-url "$url"
    touch "$dir/bootstrapped"
  fi
  cat > "$dir/serve.py" <<PY
import os
os.environ["OS_KEYSTONE_CONFIG_FILES"] = "$dir/keystone.conf"
from keystone.server.wsgi import initialize_public_application
import waitress
waitress.serve(initialize_public_application(), host="$host", port=$port, threads=8, ident=None)
PY
  setsid "$VENV/bin/python" "$dir/serve.py" </dev/null >>"$dir/keystone.out" 2>&1 &
  echo $! > "$dir/keystone.pid"
  echo "$url" > "$dir/url"
  for _ in $(seq 1 600); do
    if "$VENV/bin/python" -c "import urllib.request as u; u.urlopen('$url', timeout=1)" 2>/dev/null; then
      echo "keystone on $url (dir $dir)"
      return 0
    fi
    alive "$dir" || { tail -n 30 "$dir/keystone.out" >&2; exit 1; }
    sleep 0.2
  done
  echo "keystone did not answer on $url within 120 s" >&2
  exit 1
}

stop() {
  local dir=$1 pid
  [ -f "$dir/keystone.pid" ] || return 0
  pid=$(cat "$dir/keystone.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/keystone.pid"
}

env_of() {
  local dir=$1
  echo "export OS_AUTH_URL=$(cat "$dir/url") OS_USERNAME=admin" \
       "OS_PASSWORD=${KEYSTONE_ADMIN_PASSWORD:-admin-secret} OS_PROJECT_NAME=admin" \
       "OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3"
}

case ${1:-} in
  install) install ;;
  start) [ $# -ge 3 ] || usage; start "$2" "$3" "${4:-}" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  env) [ $# -eq 2 ] || usage; env_of "$2" ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# make test-tempest: OpenStack's own image tests (Tempest's tempest.api.image) against
# glance-registry and glance-api from this checkout in keystone mode, run as a cloud would.
#
# It installs Tempest into <repo>/.venv-tempest and Keystone into <repo>/.venv-keystone
# (tests/tools/keystone.sh), starts in a scratch directory Keystone (bootstrapped admin,
# glance's service user and the image endpoint for every interface, as the README's
# Keystone section says), glance-registry and two glance-api nodes sharing it and the
# image stores (the second is Tempest's "image_remote" worker; multiple stores: two file
# stores and a read-only HTTP one, as devstack's), and an HTTP server for
# web-download, writes tempest.conf (tests/tempest/tempest.conf.in) and runs
#   tempest run --regex '^tempest\.api\.image' --concurrency 1
# then again, with do_secure_hash off in glance and tempest.conf, the location tests that
# Tempest runs only in that setting (their results replace the first run's skips).
# Keystone on SQLite answers two clean-ups at once with "database is locked", so Tempest
# runs one test class at a time there; GLANCE_TEMPEST_KEYSTONE_DB=mariadb puts Keystone in
# a throwaway database of the MariaDB on 127.0.0.1:3306 (root, no password) and runs two.
# Everything it started is stopped on exit.
#
# Prints Tempest's summary and "N passed, N failed, N skipped". Exit status non-zero when
# any test or class setup failed, or, with GLANCE_TEMPEST_KNOWN_FAILURES=FILE, when a test
# failed that FILE does not list, or a test it lists passed (take it out of the list).
# The scratch directory (logs, tempest.conf, results) is kept when the run failed.
# Environment: GLANCE_TEMPEST_REGEX (default '^tempest\.api\.image'), PYTHON (python3),
# GLANCE_TEMPEST_CONCURRENCY (default 1 on SQLite, 2 on MariaDB).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
here=$repo/tests/tempest
TEMPEST_VERSION=47.0.0
tempest_venv=$repo/.venv-tempest
glance_py=$repo/.venv/bin/python
keystone_venv=${GLANCE_KEYSTONE_VENV:-$repo/.venv-keystone}
regex=${GLANCE_TEMPEST_REGEX:-'^tempest\.api\.image'}
known=${GLANCE_TEMPEST_KNOWN_FAILURES:-}
concurrency=${GLANCE_TEMPEST_CONCURRENCY:-1}
ks_db=""
if [ "${GLANCE_TEMPEST_KEYSTONE_DB:-sqlite}" = mariadb ]; then
  ks_db=glance_tempest_keystone_$$
  export KEYSTONE_DATABASE_URL="mysql+pymysql://root@127.0.0.1:3306/$ks_db"
  concurrency=${GLANCE_TEMPEST_CONCURRENCY:-2}
fi
admin_password=admin-secret glance_password=glance-secret
export PYTHONWARNINGS=ignore KEYSTONE_ADMIN_PASSWORD=$admin_password
started=$(date +%s)
say() { echo "--- $* ($(( $(date +%s) - started ))s)"; }

# --- install ---
if [ "$("$tempest_venv/bin/tempest" --version 2>/dev/null)" != "tempest $TEMPEST_VERSION" ]; then
  say "installing tempest $TEMPEST_VERSION into $tempest_venv"
  "${PYTHON:-python3}" -m venv "$tempest_venv"
  "$tempest_venv/bin/pip" install -q --upgrade pip
  "$tempest_venv/bin/pip" install -q "tempest==$TEMPEST_VERSION"
fi
tests/tools/keystone.sh install
[ -x "$glance_py" ] || { echo "no $glance_py: run make venv" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/glance-tempest.XXXXXX")
pids=()
status=1
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$repo/tests/tools/keystone.sh" stop "$work/keystone" || true
  [ -z "$ks_db" ] || mariadb --protocol=tcp -h 127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $ks_db" || true
  if [ "$status" = 0 ]; then rm -rf "$work"; else echo "logs, tempest.conf and results kept in $work"; fi
}
trap cleanup EXIT
free_port() { "$glance_py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() {  # url pid log: until the url answers (any HTTP status) or the process died
  for _ in $(seq 1 300); do
    "$glance_py" - "$1" 2>/dev/null <<'PY' && return 0
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass
PY
    kill -0 "$2" 2>/dev/null || { tail -n 40 "$3" >&2; return 1; }
    sleep 0.2
  done
  echo "nothing answered on $1" >&2
  return 1
}
serve() {  # log, command...: start a process in its own session and remember its pid
  local log=$1; shift
  setsid "$@" </dev/null >>"$log" 2>&1 &
  pids+=($!)
}

# --- Keystone, and glance in its catalog ---
ks_port=$(free_port) api_port=$(free_port) remote_port=$(free_port) registry_port=$(free_port)
http_port=$(free_port)
say "keystone"
[ -z "$ks_db" ] || mariadb --protocol=tcp -h 127.0.0.1 -uroot -e "CREATE DATABASE $ks_db"
"$repo/tests/tools/keystone.sh" start "$work/keystone" "$ks_port" 127.0.0.1 >/dev/null
eval "$("$repo/tests/tools/keystone.sh" env "$work/keystone")"
ks_url=$OS_AUTH_URL glance_url=http://127.0.0.1:$api_port remote_url=http://127.0.0.1:$remote_port
GLANCE_PASSWORD=$glance_password "$keystone_venv/bin/python" "$here/register.py" \
  "$glance_url" "$remote_url"

# --- glance-registry and glance-api from this checkout ---
say "glance"
mkdir -p "$work/glance/images" "$work/glance/robust" "$work/http"
authtoken="[keystone_authtoken]
www_authenticate_uri = $ks_url
auth_url = $ks_url
auth_type = password
username = glance
password = $glance_password
project_name = service
user_domain_name = Default
project_domain_name = Default
delay_auth_decision = true"
cat > "$work/glance/glance-registry.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $registry_port
sql_connection = sqlite:///$work/glance/registry.sqlite
auth_strategy = keystone
verbose = true

$authtoken
CONF
api_conf() {  # name port: one glance-api node; each has its own image cache
  cat > "$work/glance/$1.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $2
registry_host = 127.0.0.1
registry_port = $registry_port
auth_strategy = keystone
filesystem_store_datadir = $work/glance/images
enabled_import_methods = glance-direct,web-download,copy-image,glance-download
# web-download reads from the HTTP server below, on 127.0.0.1
http_store_allow_private = true
# Tempest's ImageLocationsTest: owners see and add http locations
show_multiple_locations = true
image_cache_enabled = true
image_cache_datadir = $work/glance/$1-cache
verbose = true
# Multiple stores as devstack sets them up: two file stores and the read-only web one;
# the weights order an image's stores as their names do (Tempest compares both ways).
enabled_backends = cheap:file, robust:file, web:http

[glance_store]
default_backend = cheap

[cheap]
filesystem_store_datadir = $work/glance/images
store_description = Cheap disks
weight = 100

[robust]
filesystem_store_datadir = $work/glance/robust
store_description = Robust disks
weight = 50

[web]
store_description = Read-only HTTP

$authtoken
CONF
}
api_conf glance-api "$api_port"
api_conf glance-api-remote "$remote_port"
glance() {  # log, module (registry, api, manage), then its arguments
  local log=$1 module=$2; shift 2
  serve "$log" env PYTHONPATH="$repo/app" "$glance_py" -m "glance.cmd.$module" "$@"
}
glance "$work/glance/manage.log" manage --config-file "$work/glance/glance-registry.conf" db_sync
wait "${pids[-1]}"
glance "$work/glance/glance-registry.log" registry --config-file "$work/glance/glance-registry.conf"
wait_http "http://127.0.0.1:$registry_port/images" "${pids[-1]}" "$work/glance/glance-registry.log"
api_pids=()
start_apis() {
  local node port
  api_pids=()
  for node in glance-api glance-api-remote; do
    glance "$work/glance/$node.log" api --config-file "$work/glance/$node.conf"
    api_pids+=("${pids[-1]}")
    port=$(sed -n 's/^bind_port = //p' "$work/glance/$node.conf")
    wait_http "http://127.0.0.1:$port/versions" "${pids[-1]}" "$work/glance/$node.log"
  done
}
start_apis

# --- what web-download fetches ---
head -c 1048576 /dev/urandom > "$work/http/image.raw"
head -c 1048576 /dev/urandom > "$work/http/image.qcow2"
serve "$work/http.log" "$glance_py" -m http.server --bind 127.0.0.1 --directory "$work/http" "$http_port"
wait_http "http://127.0.0.1:$http_port/image.raw" "${pids[-1]}" "$work/http.log"

# --- Tempest ---
say "tempest run --regex '$regex' --concurrency $concurrency"
"$tempest_venv/bin/tempest" init --workspace-path "$work/workspace.yaml" "$work/tempest" >/dev/null
sed -e "s|@KEYSTONE_URL@|$ks_url|g" -e "s|@ADMIN_PASSWORD@|$admin_password|g" \
    -e "s|@HTTP_URL@|http://127.0.0.1:$http_port|g" -e "s|@LOG_DIR@|$work/tempest|g" \
    "$here/tempest.conf.in" > "$work/tempest/etc/tempest.conf"
(cd "$work/tempest" && "$tempest_venv/bin/tempest" run --regex "$regex" --list-tests) \
  | grep '^tempest\.' > "$work/tempest/listed.txt" || true
(cd "$work/tempest" && "$tempest_venv/bin/tempest" run --regex "$regex" --concurrency "$concurrency") \
  > "$work/tempest/run.log" 2>&1 || true
sed -n '/^Totals$/,/^Worker Balance$/p' "$work/tempest/run.log" | grep -v '^Worker Balance$' || tail -n 20 "$work/tempest/run.log"
(cd "$work/tempest" && "$tempest_venv/bin/stestr" last --subunit) > "$work/tempest/results.subunit"

# Tempest runs the do_secure_hash=false twin of a location test only when its
# do_secure_hash is off, and the other only when it is on: those few run again with
# both glance-api nodes and tempest.conf switched to off; their results replace the skips.
second='_with_do_secure_hash_false'
if grep -q -- "$second" "$work/tempest/listed.txt"; then
  say "tempest run --regex '$second' (glance-api with do_secure_hash = false)"
  kill "${api_pids[@]}"
  for pid in "${api_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  sed -i 's/^show_multiple_locations = true$/&\ndo_secure_hash = false/' \
    "$work/glance/glance-api.conf" "$work/glance/glance-api-remote.conf"
  start_apis
  sed -i 's/^do_secure_hash = true$/do_secure_hash = false/' "$work/tempest/etc/tempest.conf"
  (cd "$work/tempest" && "$tempest_venv/bin/tempest" run --regex "$second" --concurrency 1) \
    > "$work/tempest/run-second.log" 2>&1 || true
  sed -n '/^Totals$/,/^Worker Balance$/p' "$work/tempest/run-second.log" | grep -v '^Worker Balance$' \
    || tail -n 20 "$work/tempest/run-second.log"
  (cd "$work/tempest" && "$tempest_venv/bin/stestr" last --subunit) >> "$work/tempest/results.subunit"
fi
status=0
"$tempest_venv/bin/python" "$here/results.py" "$work/tempest/results.subunit" \
  "$work/tempest/listed.txt" ${known:+--known "$known"} > "$work/tempest/results.txt" || status=$?
cat "$work/tempest/results.txt"
say "done"
exit "$status"

#!/bin/bash
# Single-node Swift "all in one" on loopback for the store tests: no systemd,
# nothing written outside DIR.  Swift comes from a venv (setup-backends.sh).
#
# usage: saio.sh start DIR PORT    proxy on PORT; object, container, account,
#                                  memcached on PORT+1 .. PORT+4
#        saio.sh stop DIR
#        saio.sh proxy-stop DIR    kill the proxy only (backend failure tests)
#        saio.sh proxy-start DIR
#
# Auth: tempauth test:tester / testing -> http://127.0.0.1:PORT/auth/v1.0
#       a second account (another tenant's data): tenant2:reader / secondkey
# S3:   s3api, access key test:tester, secret testing, endpoint http://127.0.0.1:PORT
set -euo pipefail
cmd=${1:?usage: saio.sh start DIR PORT | stop DIR | proxy-stop DIR | proxy-start DIR}
S=${2:?state directory}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${GLANCE_TEST_SWIFT_VENV:-$REPO/.venv-swift}
export PATH="$VENV/bin:$PATH"
# SAIO_BIND: address of the proxy (default 127.0.0.1; the storage servers stay on loopback),
# e.g. a host bridge address so that containers can reach Swift.
BIND=${SAIO_BIND:-127.0.0.1}
[ "$BIND" = 0.0.0.0 ] && CHECK_HOST=127.0.0.1 || CHECK_HOST=$BIND

wait_up() {
  local port=$1
  for _ in $(seq 1 300); do
    if "$VENV/bin/python" -c "import urllib.request as u; u.urlopen('http://$CHECK_HOST:$port/healthcheck', timeout=1)" 2>/dev/null; then
      echo "swift up on $port"; return 0
    fi
    sleep 0.1
  done
  echo "swift did not start on $port; see $S/log" >&2; return 1
}

start_proxy() {
  setsid swift-proxy-server "$S"/etc/proxy-server.conf -v </dev/null >>"$S"/log/proxy.log 2>&1 &
  echo $! > "$S"/run/proxy.pid
}

kill_pids() {
  local pids=$1
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  # Killed children of a non-reaping PID 1 stay zombies a while: wait for that state.
  for _ in $(seq 1 50); do
    local alive=
    for p in $pids; do
      [ -e /proc/$p ] && [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" != Z ] && alive=1
    done
    [ -z "$alive" ] && return 0
    sleep 0.1
  done
}

case $cmd in
start)
  PORT=${3:?port}
  OBJ=$((PORT+1)); CON=$((PORT+2)); ACC=$((PORT+3)); MC=$((PORT+4))
  mkdir -p "$S"/etc "$S"/node/d1 "$S"/run "$S"/log
  echo "$PORT" > "$S"/run/port
  cat > "$S"/etc/swift.conf <<CONF
[swift-hash]
swift_hash_path_prefix = glancetest
swift_hash_path_suffix = glancetest
[storage-policy:0]
name = Policy-0
default = yes
CONF
  for t in object:$OBJ container:$CON account:$ACC; do
    n=${t%%:*}; p=${t##*:}
    ( cd "$S"/etc
      rm -f $n.builder $n.ring.gz
      swift-ring-builder $n.builder create 8 1 1 >/dev/null
      swift-ring-builder $n.builder add r1z1-127.0.0.1:$p/d1 100 >/dev/null
      swift-ring-builder $n.builder rebalance >/dev/null || true )
    cat > "$S"/etc/$n-server.conf <<CONF
[DEFAULT]
swift_dir = $S/etc
devices = $S/node
mount_check = false
bind_ip = 127.0.0.1
bind_port = $p
workers = 0
log_level = WARNING
[pipeline:main]
pipeline = $n-server
[app:$n-server]
use = egg:swift#$n
CONF
  done
  cat > "$S"/etc/proxy-server.conf <<CONF
[DEFAULT]
swift_dir = $S/etc
bind_ip = $BIND
bind_port = $PORT
workers = 0
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
# Patient with its own servers: on a loaded test machine (parallel test workers) the
# defaults (0.5 s to connect, 10 s per answer) turn a slow disk write into a 503.
conn_timeout = 5
node_timeout = 60
account_autocreate = true
allow_account_management = true
[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
user_tenant2_reader = secondkey .admin
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MC
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
CONF
  MEMCACHED=$(command -v memcached || echo /usr/bin/memcached)
  as_user=; [ "$(id -u)" = 0 ] && as_user="-u nobody"
  setsid "$MEMCACHED" $as_user -l 127.0.0.1 -p $MC -m 64 -U 0 </dev/null >"$S"/log/memcached.log 2>&1 &
  echo $! > "$S"/run/memcached.pid
  for n in account container object; do
    setsid swift-$n-server "$S"/etc/$n-server.conf -v </dev/null >"$S"/log/$n.log 2>&1 &
    echo $! > "$S"/run/$n.pid
  done
  start_proxy
  wait_up "$PORT"
  ;;
stop)
  kill_pids "$(cat "$S"/run/*.pid 2>/dev/null || true)"
  rm -f "$S"/run/*.pid
  ;;
proxy-stop)
  kill_pids "$(cat "$S"/run/proxy.pid 2>/dev/null || true)"
  rm -f "$S"/run/proxy.pid
  ;;
proxy-start)
  start_proxy
  wait_up "$(cat "$S"/run/port)"
  ;;
*)
  echo "unknown command $cmd" >&2; exit 2
  ;;
esac

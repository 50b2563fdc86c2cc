#!/bin/bash
# hostnet.sh: what containers on a private network need from the host to install glance the
# way a node does: a host bridge, an HTTP server publishing the glance apt repository, and an
# apt proxy (tests/tools/apt-proxy.py) through which they reach the Debian mirror of the host's apt
# sources. Both servers listen on the bridge address only, on free ports.
#
#   hostnet.sh up DIR BRIDGE HOST_CIDR REPO_DIR
#       create BRIDGE with HOST_CIDR (unless it exists), serve REPO_DIR with python3 -m
#       http.server and start the apt proxy; print two lines for eval:
#         GLANCE_REPO_URL=http://ADDR:PORT   GLANCE_APT_PROXY=http://ADDR:PORT
#   hostnet.sh down DIR [BRIDGE]   stop both servers (by their PIDs), delete BRIDGE
#
# A container uses them with: nspawn --network-bridge=BRIDGE, an address in HOST_CIDR on
# host0, and /etc/apt/apt.conf.d: Acquire::http::Proxy "PROXY"; Acquire::http::Proxy::ADDR "DIRECT";
set -euo pipefail
cmd=${1:?usage: hostnet.sh up DIR BRIDGE HOST_CIDR REPO_DIR | down DIR [BRIDGE]}
dir=${2:?state directory}
here=$(cd "$(dirname "$0")" && pwd)

free_port() {
  python3 -c 'import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}
wait_port() {
  for _ in $(seq 100); do
    python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)' \
      "$1" "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "hostnet: nothing listens on $1:$2" >&2
  return 1
}

case $cmd in
up)
  bridge=${3:?bridge} cidr=${4:?host address/prefix} repo=${5:?repository directory}
  addr=${cidr%/*}
  mkdir -p "$dir"
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
  fi
  ip -4 addr show dev "$bridge" | grep -q "inet $addr/" || ip addr add "$cidr" dev "$bridge"
  ip link set "$bridge" up
  repo_port=$(free_port "$addr")
  setsid python3 -m http.server --bind "$addr" --directory "$repo" "$repo_port" \
    </dev/null >"$dir/http.log" 2>&1 &
  echo $! > "$dir/http.pid"
  proxy_port=$(free_port "$addr")
  setsid python3 "$here/apt-proxy.py" "$addr" "$proxy_port" </dev/null >"$dir/proxy.log" 2>&1 &
  echo $! > "$dir/proxy.pid"
  wait_port "$addr" "$repo_port"
  wait_port "$addr" "$proxy_port"
  echo "GLANCE_REPO_URL=http://$addr:$repo_port"
  echo "GLANCE_APT_PROXY=http://$addr:$proxy_port"
  ;;
down)
  for f in "$dir/http.pid" "$dir/proxy.pid"; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
  bridge=${3:-}
  if [ -n "$bridge" ] && ip link show "$bridge" >/dev/null 2>&1; then
    ip link del "$bridge"
  fi
  ;;
*) echo "hostnet: unknown command $cmd" >&2; exit 2 ;;
esac

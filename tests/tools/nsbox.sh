#!/bin/bash
# nsbox.sh: boot a Debian tree as a systemd container with systemd-nspawn, on hosts whose
# PID 1 is not systemd (no machined, no system D-Bus: hence --register=no --keep-unit).
#
#   nsbox.sh create NAME BASE_DIR [extra systemd-nspawn args...]
#       boot BASE_DIR read-only with a throw-away tmpfs overlay (--volatile=overlay) and wait
#       until `systemctl is-system-running` says running or degraded
#   nsbox.sh destroy NAME      power the container off (SIGKILL after 15 s) and forget it
#   nsbox.sh leader NAME       print the host PID of the container's systemd (for nsenter)
#   nsbox.sh exec NAME CMD...  run CMD inside (all namespaces), with a clean environment
#
# Boxes live under $NSBOX_DIR (default /var/tmp/nsbox). Needs root.
set -euo pipefail

boxes=${NSBOX_DIR:-/var/tmp/nsbox}
usage() { sed -n '2,13s/^# \?//p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 name=$2
shift 2
d=$boxes/$name

alive() { [ -e "$d/nspawn.pid" ] && kill -0 "$(cat "$d/nspawn.pid")" 2>/dev/null; }

destroy() {
  if alive; then
    local pid leader
    pid=$(cat "$d/nspawn.pid")
    leader=$(cat "$d/leader" 2>/dev/null || true)
    kill -TERM "$pid"            # nspawn turns SIGTERM into a clean poweroff
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      # killing the namespace's PID 1 takes every process of the container with it
      [ -z "$leader" ] || kill -KILL "$leader" 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$d"
}

case $cmd in
create)
  [ $# -ge 1 ] || usage
  base=$1
  shift
  [ -d "$base" ] || { echo "nsbox: $base is not a directory" >&2; exit 1; }
  if alive; then echo "nsbox: box $name is already running" >&2; exit 1; fi
  rm -rf "$d"
  mkdir -p "$d"
  setsid systemd-nspawn --quiet --register=no --keep-unit --console=passive \
      --volatile=overlay -M "$name" --hostname="$name" -D "$base" "$@" -b \
      </dev/null >"$d/nspawn.log" 2>&1 &
  pid=$!
  echo "$pid" > "$d/nspawn.pid"
  leader=
  for _ in $(seq 100); do      # the leader is nspawn's child once it has become systemd
    leader=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr -d ' ' | head -1 || true)
    [ -n "$leader" ] && [ "$(cat "/proc/$leader/comm" 2>/dev/null)" = systemd ] && break
    leader=
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$leader" ]; then
    echo "nsbox: container $name did not start:" >&2
    cat "$d/nspawn.log" >&2
    destroy
    exit 1
  fi
  echo "$leader" > "$d/leader"
  state=
  for _ in $(seq 300); do      # up to 60 s for the boot to finish
    state=$(nsenter -t "$leader" -a -- systemctl is-system-running 2>/dev/null || true)
    case $state in running|degraded) break ;; esac
    sleep 0.2
  done
  case $state in
  running|degraded) echo "box $name leader=$leader state=$state" ;;
  *) echo "nsbox: container $name did not finish booting (state: ${state:-unknown})" >&2
     destroy
     exit 1 ;;
  esac
  ;;
destroy) destroy ;;
leader)
  alive || { echo "nsbox: no running box $name" >&2; exit 1; }
  cat "$d/leader"
  ;;
exec)
  [ $# -ge 1 ] || usage
  alive || { echo "nsbox: no running box $name" >&2; exit 1; }
  exec nsenter -t "$(cat "$d/leader")" -a -- env -i \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
  ;;
*) usage ;;
esac

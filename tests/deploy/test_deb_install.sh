#!/bin/bash
# test_deb_install.sh: the Debian packages, installed for real.
#
# Builds the .debs (tests/tools/build-deb.sh) into a local apt repository, checks them
# with lintian, boots a Debian bookworm container with systemd (tests/tools/nsbox.sh),
# runs `apt install glance` from that repository and checks the services, an image
# upload and download through port 9292, reload, restart, an upgrade to a rebuilt
# higher version (a modified conffile and the images survive), the unit hardening,
# remove and purge. Prints one PASS/FAIL line per check, then "N passed, M failed";
# exits non-zero when a check failed. Needs root; installs the host packages it uses
# (tests/tools/install-deploy-deps.sh).
#
# The container has a private network namespace (its own 9292 and 9191), so it cannot
# reach the mirror: the Debian packages glance depends on are baked into its rootfs
# (tests/tools/make-rootfs.sh, cached) and apt installs glance from the local repository.
#
# Commands for the container are in single quotes on purpose: they expand in there.
# shellcheck disable=SC2016
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=$here/../tools
[ "$(id -u)" = 0 ] || { echo "test_deb_install.sh: needs root" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/glance-deb-test.XXXXXX")
box=glance-deb-$$
export NSBOX_DIR=$work/boxes
repo=$work/repo
cleanup() {
  "$tools/nsbox.sh" destroy "$box" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0 failed=0 n=0

# run_check NAME CMD...: run CMD, print PASS/FAIL with its duration; on failure show its
# output. CMD runs as a background job: errexit stays in force inside it (it would not
# in a function called from an `||` list).
run_check() {
  local name=$1 start took rc=0
  shift
  n=$((n + 1))
  start=$(date +%s%N)
  "$@" > "$work/check.$n.log" 2>&1 &
  wait $! || rc=$?
  took=$(( ($(date +%s%N) - start) / 100000000 ))
  took=$((took / 10)).$((took % 10))
  if [ $rc = 0 ]; then
    echo "PASS $name (${took}s)"
    passed=$((passed + 1))
  else
    echo "FAIL $name (${took}s, exit $rc)"
    sed 's/^/    /' "$work/check.$n.log" | tail -25
    failed=$((failed + 1))
  fi
  return $rc
}
check() { run_check "$@" || true; }
# must NAME CMD...: a check the rest depends on; stop here when it fails.
must() { run_check "$@" || { summary; exit 1; }; }
summary() { echo "$passed passed, $failed failed"; }

inbox() { "$tools/nsbox.sh" exec "$box" "$@"; }
sh_in() { inbox sh -euc "$1"; }
apt_in() {
  inbox env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 \
    -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/glance.list -o Dir::Etc::sourceparts=- "$@"
}

# --- build and lint ---------------------------------------------------------------

must "host packages (tests/tools/install-deploy-deps.sh)" "$tools/install-deploy-deps.sh"
must "build the .debs (2011.3.1) into a local apt repository" \
  "$tools/build-deb.sh" "$repo"
lint() { lintian --fail-on error,warning "$repo"/*.changes; }
check "lintian: no errors and no warnings" lint
packaged_confs() {   # debian/conf/*.conf hold only options of the table, with valid values
  PYTHONPATH=$here/../../app python3 - "$here/../../debian/conf" <<'EOF'
import sys
from glance import config, options
for program in ("glance-api", "glance-registry", "glance-scrubber"):
    path = f"{sys.argv[1]}/{program}.conf"
    unknown = set(config.read_file(program, path)) - {o.name for o in options.options_for(program)}
    if unknown:
        sys.exit(f"{path}: not options of {program}: {', '.join(sorted(unknown))}")
    config.load_config(program, path)
EOF
}
check "packaged configs: options of the option table, valid values" packaged_confs

# --- container --------------------------------------------------------------------

# Debian packages the .debs depend on (not our own), baked into the cached rootfs.
deps() {
  for d in "$repo"/*.deb; do dpkg-deb -f "$d" Depends; done | tr ',' '\n' |
    sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' |
    grep -Ev '^(|glance|glance-api|glance-registry|glance-common|python3-glance)$' | sort -u
}
mapfile -t extra < <(deps)
# man-db: systemd-analyze verify checks Documentation=man:; logrotate: our config is tried
# (curl, used by the checks, is in every rootfs: make-rootfs.sh)
extra+=(man-db logrotate)
rootfs_log=$work/rootfs.log
make_rootfs() { "$tools/make-rootfs.sh" "${extra[@]}" > "$work/rootfs.path" 2> "$rootfs_log"; }
must "rootfs: bookworm + systemd + ${extra[*]}" make_rootfs
rootfs=$(cat "$work/rootfs.path")

must "boot the container (systemd, private network, repository bind-mounted read-only)" \
  "$tools/nsbox.sh" create "$box" "$rootfs" --private-network --bind-ro="$repo":/srv/repo

setup_apt() {
  sh_in 'echo "deb [trusted=yes] file:/srv/repo ./" > /etc/apt/sources.list.d/glance.list'
  apt_in update
}
must "apt source: deb [trusted=yes] file:/srv/repo ./" setup_apt
# install_synced PACKAGE...: apt-get install, and glance-common's postinst ran db_sync
install_synced() {
  apt_in install "$@" | tee "$work/apt.out"
  grep -q "^Database is at revision" "$work/apt.out"
}
must "apt install glance (postinst: user, permissions, db_sync)" install_synced glance

# --- the installed service ----------------------------------------------------------

wait_ready() {   # both units active and both ports answering
  sh_in 'for i in $(seq 100); do
           if systemctl is-active -q glance-api && systemctl is-active -q glance-registry &&
              curl -sf -o /dev/null http://127.0.0.1:9191/images &&
              curl -sf -o /dev/null http://127.0.0.1:9292/v1/images; then exit 0; fi
           sleep 0.2
         done
         systemctl status --no-pager glance-api glance-registry; exit 1'
}
must "systemctl is-active glance-api glance-registry (and both answer)" wait_ready
check "both units enabled" \
  sh_in 'systemctl is-enabled glance-api.service && systemctl is-enabled glance-registry.service'

perms() {
  sh_in '
    expect() { got=$(stat -c "%U:%G %a" "$1"); [ "$got" = "$2" ] || { echo "$1: $got, want $2"; exit 1; }; }
    expect /etc/glance "root:glance 750"
    expect /etc/glance/glance-api.conf "root:glance 640"
    expect /etc/glance/glance-registry.conf "root:glance 640"
    expect /var/lib/glance "glance:glance 750"
    expect /var/lib/glance/images "glance:glance 750"
    expect /var/log/glance "glance:adm 750"
    expect /var/lib/glance/glance.sqlite "glance:glance 640"
    [ "$(id -u glance)" -lt 1000 ] && getent group glance >/dev/null'
}
check "system user glance; /etc/glance, /var/lib/glance, /var/log/glance owners and modes" perms
check "db_sync ran at install: glance-manage db_version" \
  inbox runuser -u glance -- glance-manage --config-file /etc/glance/glance-registry.conf db_version
control_status() {   # the packaged glance-control runs; systemd, not it, manages the servers
  local rc=0
  inbox glance-control all status --pid-dir /run/glance-control || rc=$?
  [ $rc = 3 ]
}
check "glance-control all status: 3 (not started by glance-control)" control_status
check "servers log to /var/log/glance" \
  sh_in 'test -s /var/log/glance/glance-api.log && test -s /var/log/glance/glance-registry.log'

upload() {
  sh_in 'head -c 3145728 /dev/urandom > /root/image.raw
    curl -sf -X POST http://127.0.0.1:9292/v1/images \
      -H "Content-Type: application/octet-stream" -H "x-image-meta-name: deb-test" \
      -H "x-image-meta-is-public: true" -H "x-image-meta-disk-format: raw" \
      -H "x-image-meta-container-format: bare" --data-binary @/root/image.raw > /root/add.json
    python3 -c "import json; print(json.load(open(\"/root/add.json\"))[\"image\"][\"id\"])" > /root/image.id
    md5sum < /root/image.raw | cut -d" " -f1 > /root/image.md5
    test -s /root/image.id'
}
# download: GET the image and compare its md5 with the uploaded one
download() {
  sh_in "curl -sf http://127.0.0.1:9292/v1/images/\$(cat /root/image.id) | md5sum | cut -d' ' -f1 > /root/got.md5
    cmp /root/image.md5 /root/got.md5 &&
    curl -sfI http://127.0.0.1:9292/v1/images/\$(cat /root/image.id) | grep -qi \"x-image-meta-checksum: \$(cat /root/image.md5)\""
}
must "upload a 3 MiB image through port 9292 (x-image-meta-* headers)" upload
check "download it: same md5, and x-image-meta-checksum matches" download
autopkgtest() { inbox sh -s < "$here/../../debian/tests/daemons"; }
check "the package's autopkgtest, debian/tests/daemons" autopkgtest
check "image data under /var/lib/glance/images" sh_in 'test -s /var/lib/glance/images/$(cat /root/image.id)'

logrotate_check() {
  sh_in 'logrotate --force /etc/logrotate.d/glance-common
    test -f /var/log/glance/glance-api.log.1
    test -f /var/log/glance/glance-registry.log.1
    test "$(stat -c "%U:%G %a" /var/log/glance/glance-api.log)" = "glance:adm 640"
    curl -sf -o /dev/null http://127.0.0.1:9292/v1/images
    for i in $(seq 50); do
      grep -q "GET /v1/images" /var/log/glance/glance-api.log && exit 0
      sleep 0.1
    done
    exit 1'
}
check "logrotate: logs rotated, the servers write to the new files" logrotate_check

mainpids() { inbox systemctl show -p MainPID --value glance-api glance-registry | tr '\n' ' '; }

# slow_get: GET the image in the background, 64 KiB every 50 ms (~2.5 s); md5 to /root/slow.md5
slow_get() {
  sh_in 'python3 - "http://127.0.0.1:9292/v1/images/$(cat /root/image.id)" > /root/slow.md5 <<"EOF" &
import hashlib, sys, time, urllib.request
digest = hashlib.md5()
with urllib.request.urlopen(sys.argv[1]) as resp:
    while chunk := resp.read(65536):
        digest.update(chunk)
        time.sleep(0.05)
print(digest.hexdigest())
EOF
    echo $! > /root/slow.pid'
}
reload() {
  local before after
  before=$(mainpids)
  slow_get
  sleep 0.5
  inbox kill -0 "$(inbox cat /root/slow.pid)"   # still downloading
  inbox systemctl reload glance-api glance-registry
  sh_in 'while kill -0 $(cat /root/slow.pid) 2>/dev/null; do sleep 0.1; done
         cmp /root/slow.md5 /root/image.md5'
  after=$(mainpids)
  [ "$before" = "$after" ] || { echo "main pids changed: $before -> $after"; return 1; }
  sh_in 'grep -q "Reloaded configuration from /etc/glance/glance-api.conf" /var/log/glance/glance-api.log &&
         grep -q "Reloaded configuration from /etc/glance/glance-registry.conf" /var/log/glance/glance-registry.log'
  wait_ready && download
}
check "systemctl reload: same pids, config re-read, a download in flight completes" reload

restart() {
  local before after
  before=$(mainpids)
  inbox systemctl restart glance-registry glance-api
  wait_ready
  after=$(mainpids)
  [ "$before" != "$after" ] || { echo "main pids unchanged: $after"; return 1; }
  download
}
check "systemctl restart: new pids, the image is still there" restart

# --- the scrubber ---------------------------------------------------------------------

check "glance-scrubber.timer enabled and active" \
  sh_in 'systemctl is-enabled glance-scrubber.timer && systemctl is-active glance-scrubber.timer'
scrub() {
  sh_in 'printf "delayed_delete = true\n" >> /etc/glance/glance-api.conf
    sed -i "s/^scrub_time = .*/scrub_time = 0/" /etc/glance/glance-scrubber.conf
    systemctl restart glance-api'
  wait_ready
  sh_in 'id=$(curl -sf -X POST http://127.0.0.1:9292/v1/images -H "x-image-meta-name: doomed" \
          -H "Content-Type: application/octet-stream" --data-binary @/etc/os-release |
          python3 -c "import json, sys; print(json.load(sys.stdin)[\"image\"][\"id\"])")
    curl -sf -X DELETE http://127.0.0.1:9292/v1/images/$id
    test -f /var/lib/glance/images/$id   # pending_delete: the data is still there
    systemctl start glance-scrubber.service
    test "$(systemctl show -p Result --value glance-scrubber.service)" = success
    if test -e /var/lib/glance/images/$id; then echo "the scrubber left $id"; exit 1; fi
    test -s /var/lib/glance/images/$(cat /root/image.id)'
}
check "delayed_delete + glance-scrubber.service (hardened) removes the data of a deleted image" scrub

# --- hardening ----------------------------------------------------------------------

security() {
  local unit score
  for unit in glance-api glance-registry glance-scrubber; do
    score=$(inbox systemd-analyze security --no-pager "$unit" |
            sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
    echo "$unit: $score"
    [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 4.0) }' || return 1
  done
}
run_check "systemd-analyze security: exposure <= 4.0" security && sed 's/^/    /' "$work/check.$n.log"
verify() {
  local out
  out=$(inbox systemd-analyze verify glance-api.service glance-registry.service \
        glance-scrubber.service glance-scrubber.timer 2>&1) || true
  echo "$out"
  [ -z "$out" ]
}
check "systemd-analyze verify: clean" verify

# --- upgrade ------------------------------------------------------------------------

check "modify a conffile value (server_threads = 12 in glance-api.conf)" \
  sh_in 'sed -i "s/^bind_port = 9292/bind_port = 9292\nserver_threads = 12/" /etc/glance/glance-api.conf
         grep -qx "server_threads = 12" /etc/glance/glance-api.conf'
must "rebuild as 2011.3.1+1 into the repository" \
  env DEB_BUILD_OPTIONS=nocheck "$tools/build-deb.sh" "$repo" 2011.3.1+1
upgrade() {
  apt_in update
  install_synced glance glance-api glance-registry glance-common python3-glance
  local v
  for p in glance glance-api glance-registry glance-common python3-glance; do
    v=$(inbox dpkg-query -W -f '${Version}' "$p")
    [ "$v" = 2011.3.1+1 ] || { echo "$p is at $v"; return 1; }
  done
}
before_upgrade=$(mainpids)
must "apt upgrade to 2011.3.1+1 (db_sync again)" upgrade
after_upgrade() {
  wait_ready
  [ "$(mainpids)" != "$before_upgrade" ] || { echo "services were not restarted"; return 1; }
  sh_in 'grep -qx "server_threads = 12" /etc/glance/glance-api.conf
         test "$(stat -c "%U:%G %a" /etc/glance/glance-api.conf)" = "root:glance 640"
         if ls /etc/glance/*.dpkg-* 2>/dev/null; then exit 1; fi'
  download
  inbox runuser -u glance -- glance-manage --config-file /etc/glance/glance-registry.conf db_version
}
check "after the upgrade: services restarted, modified conffile kept, image kept" after_upgrade

# --- remove and purge ---------------------------------------------------------------

removed() {
  apt_in remove glance glance-api glance-registry
  sh_in 'if systemctl is-active glance-api glance-registry; then exit 1; fi
         if curl -s -o /dev/null http://127.0.0.1:9292/v1/images; then exit 1; fi
         test -f /etc/glance/glance-api.conf
         test -f /var/lib/glance/glance.sqlite
         test -s /var/lib/glance/images/$(cat /root/image.id)'
}
check "apt remove glance-api glance-registry: services stopped, config and data kept" removed
purged() {
  apt_in purge glance glance-api glance-registry glance-common python3-glance
  sh_in 'for p in /etc/glance /var/lib/glance /var/log/glance /etc/logrotate.d/glance-common \
                 /lib/systemd/system/glance-api.service; do
           if [ -e "$p" ]; then echo "$p is still there"; exit 1; fi
         done
         if dpkg-statoverride --list | grep glance; then exit 1; fi
         if systemctl cat glance-scrubber.timer >/dev/null 2>&1; then exit 1; fi
         id glance   # a system user stays, as usual in Debian'
}
check "apt purge: /etc/glance, /var/lib/glance, /var/log/glance removed; user glance kept" purged

summary
[ "$failed" = 0 ]

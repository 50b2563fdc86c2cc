#!/bin/bash
# test_deb_install.sh: the Debian packages, installed for real.
#
# Builds the .debs (tests/tools/build-deb.sh), checks them with lintian, publishes them
# with `make repo` as a signed apt repository (throwaway key made here), boots a Debian
# bookworm container with systemd (tests/tools/nsbox.sh) whose apt has the Debian archive
# enabled (and so sees Debian's own glance 2:25.1), adds the glance repository the way
# README.md tells an operator, runs `apt install glance` and checks the services, an
# image upload and download through port 9292, reload, restart, that `apt-get upgrade`
# never proposes the distribution's glance, an upgrade to 2011.3.2 published the same
# way (a modified conffile and the images survive), the unit hardening, remove and purge,
# then that the distribution's glance installs once ours is gone, and that ours refuses
# to replace it (a clear message, nothing changed). Prints one PASS/FAIL line per check,
# then "N passed, M failed"; exits non-zero when a check failed. Needs root; installs
# the host packages it uses (tests/tools/install-deploy-deps.sh).
#
# The container has a private network namespace (its own 9292 and 9191) on a host bridge
# (tests/tools/hostnet.sh): the repository is served over HTTP from the host (python3 -m
# http.server, the transport a real node uses), and apt reaches the Debian mirror of the
# host's own apt sources through apt-cacher-ng on the bridge (the mirror is read from the
# host at run time, never written here).
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
debs=$work/debs
bridge=gldebbr0 host_addr=10.213.46.1 box_addr=10.213.46.2
cleanup() {
  "$tools/nsbox.sh" destroy "$box" >/dev/null 2>&1 || true
  "$tools/hostnet.sh" down "$work/hostnet" "$bridge" >/dev/null 2>&1 || true
  [ ! -d "$work/gnupg" ] || GNUPGHOME=$work/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
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
apt_in() { inbox env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 "$@"; }

# --- build and lint ---------------------------------------------------------------

must "host packages (tests/tools/install-deploy-deps.sh)" "$tools/install-deploy-deps.sh"
must "build the .debs (2011.3.1)" "$tools/build-deb.sh" "$debs"
lint() { lintian --fail-on error,warning "$debs"/*.changes; }
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

# Our versions sort among themselves; the distribution's (epoch 2) are higher: the pin wins.
versions() {
  local order=(2011.3.1 2011.3.1+1 2011.3.2~rc1 2011.3.2 2011.3.10 2012.1 2:25.1.0-2+deb12u5)
  for i in $(seq 0 $((${#order[@]} - 2))); do
    dpkg --compare-versions "${order[$i]}" lt "${order[$((i + 1))]}" ||
      { echo "${order[$i]} does not sort below ${order[$((i + 1))]}"; return 1; }
  done
}
check "version scheme: 2011.3.1 < 2011.3.1+1 < 2011.3.2~rc1 < 2011.3.2 < 2011.3.10 < 2012.1" versions

# --- the signed repository, served from the host ------------------------------------

hostnet() {
  "$tools/hostnet.sh" up "$work/hostnet" "$bridge" "$host_addr/24" "$repo" > "$work/hostnet.env" || return 1
  cat "$work/hostnet.env"
  grep -q '^GLANCE_APT_PROXY=http' "$work/hostnet.env"
}
mkdir -p "$repo"
must "host bridge, HTTP server for the repository, apt proxy to the mirror" hostnet
eval "$(cat "$work/hostnet.env")"
export GLANCE_REPO_URL

throwaway_key() {   # no passphrase, in the test's own GNUPGHOME
  export GNUPGHOME=$work/gnupg
  install -d -m 700 "$GNUPGHOME"
  gpg --batch --quiet --passphrase '' --quick-gen-key "glance test key <test@glance.invalid>" ed25519 sign 1d
  gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr:/ { print $10; exit }' > "$work/key"
}
must "throwaway signing key (gpg --batch, no passphrase, temporary GNUPGHOME)" throwaway_key
export GNUPGHOME=$work/gnupg GLANCE_REPO_KEY
GLANCE_REPO_KEY=$(cat "$work/key")
publish() { GLANCE_REPO_DEBS=${1:-} make -C "$here/../.." --no-print-directory repo REPO_DIR="$repo"; }
must "make repo: reprepro publishes the .debs, signed" publish "$debs"
release_ok() {
  local r=$repo/dists/bookworm f
  for f in Origin Label Suite Codename Date Architectures Components SHA256; do
    grep -q "^$f:" "$r/Release" || { echo "Release has no $f field"; return 1; }
  done
  gpg --batch --yes --dearmor -o "$work/key.gpg" < "$repo/glance-archive-keyring.asc"
  gpgv --keyring "$work/key.gpg" "$r/Release.gpg" "$r/Release"
  gpgv --keyring "$work/key.gpg" "$r/InRelease"
  grep -qx 'Pin: release o=glance' "$repo/glance.pref"
  grep -qx 'Pin-Priority: 1001' "$repo/glance.pref"
  grep -qx "URIs: $GLANCE_REPO_URL" "$repo/glance.sources"
  grep -qx 'Signed-By: /etc/apt/keyrings/glance-archive-keyring.asc' "$repo/glance.sources"
  test -f "$repo"/pool/main/g/glance/glance-api_2011.3.1_all.deb
}
check "Release fields, InRelease and Release.gpg verify with the published key; .sources, .pref" release_ok

# --- container ----------------------------------------------------------------------

# man-db: systemd-analyze verify checks Documentation=man:; logrotate: our config is tried
# (curl, used by the checks, is in every rootfs: make-rootfs.sh). glance's dependencies are
# not baked in: apt fetches them from the Debian archive.
extra=(man-db logrotate)
rootfs_log=$work/rootfs.log
make_rootfs() { "$tools/make-rootfs.sh" "${extra[@]}" > "$work/rootfs.path" 2> "$rootfs_log"; }
must "rootfs: bookworm + systemd + ${extra[*]}" make_rootfs
rootfs=$(cat "$work/rootfs.path")

empty_container=$(date +%s%N)
must "boot the container (systemd, private network on $bridge)" \
  "$tools/nsbox.sh" create "$box" "$rootfs" --network-bridge="$bridge"

network() {
  local leader
  leader=$("$tools/nsbox.sh" leader "$box")
  nsenter -t "$leader" -n -- ip addr add "$box_addr/24" dev host0
  nsenter -t "$leader" -n -- ip link set host0 up
  # the test's transport only: the mirror through the host's proxy, the repository direct
  sh_in "printf '%s\n' 'Acquire::http::Proxy \"$GLANCE_APT_PROXY\";' \
    'Acquire::http::Proxy::$host_addr \"DIRECT\";' > /etc/apt/apt.conf.d/01proxy"
  apt_in update
  inbox apt-cache policy glance | tee "$work/policy-before"
  grep -q 'Candidate: 2:' "$work/policy-before"
}
must "Debian archive enabled: apt-cache policy glance offers Debian's 2:25" network
sed 's/^/    /' "$work/policy-before"

# The operator's steps of README.md "Install from the apt repository", verbatim but for the URL.
add_repository() {
  sh_in "url=$GLANCE_REPO_URL"'
    install -d -m 755 /etc/apt/keyrings
    curl -fsSLo /etc/apt/keyrings/glance-archive-keyring.asc "$url/glance-archive-keyring.asc"
    curl -fsSLo /etc/apt/sources.list.d/glance.sources "$url/glance.sources"
    curl -fsSLo /etc/apt/preferences.d/glance.pref "$url/glance.pref"'
}
must "add the repository as README.md says (key, glance.sources, glance.pref)" add_repository
update_clean() {   # apt's signature checks are on (no trusted=yes anywhere in the container)
  if inbox grep -rs 'trusted=yes\|Trusted: *yes\|AllowInsecure' /etc/apt; then return 1; fi
  apt_in update > "$work/update.out" 2>&1 || { cat "$work/update.out"; return 1; }
  cat "$work/update.out"
  if grep -E '^(W|E|N|Err):' "$work/update.out"; then return 1; fi
  grep -q "$GLANCE_REPO_URL bookworm InRelease" "$work/update.out"
}
check "apt-get update: the repository's InRelease verifies, no warning or notice" update_clean
policy_after() {
  inbox apt-cache policy glance | tee "$work/policy-after"
  grep -qx '  Candidate: 2011.3.1' "$work/policy-after"
}
must "apt-cache policy glance: candidate 2011.3.1 (pin 1001 over Debian's 2:25)" policy_after
sed 's/^/    /' "$work/policy-after"

# install_glance PACKAGE...: apt-get install; no maintainer script migrates the database
install_glance() {
  apt_in install "$@" | tee "$work/apt.out"
  if grep "Database is at revision" "$work/apt.out"; then
    echo "a maintainer script ran db_sync"; return 1
  fi
}
must "apt install glance (postinst: user, permissions; no db_sync)" install_glance glance
ours() {
  local p v
  for p in glance glance-api glance-registry glance-common python3-glance; do
    v=$(inbox dpkg-query -W -f '${Version}' "$p")
    [ "$v" = "$1" ] || { echo "$p is at $v, want $1"; return 1; }
  done
  inbox dpkg-query -W glance
}
check "dpkg-query -W glance: this package, 2011.3.1 (and its four siblings)" ours 2011.3.1

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
took=$(( ($(date +%s%N) - empty_container) / 1000000 ))
echo "     empty container -> working glance-api: $((took / 1000)).$(printf %03d $((took % 1000))) s"
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
migrated() {   # glance-registry-migrate.service (a oneshot) migrated before glance-registry
  sh_in 'test "$(systemctl show -p Result --value glance-registry-migrate.service)" = success
    systemctl is-active -q glance-registry-migrate.service
    journalctl -u glance-registry-migrate.service | grep -q "Database is at revision"
    migrated=$(systemctl show -p ExecMainExitTimestampMonotonic --value glance-registry-migrate)
    started=$(systemctl show -p ExecMainStartTimestampMonotonic --value glance-registry)
    [ "$migrated" -gt 0 ] && [ "$migrated" -le "$started" ]'
  inbox runuser -u glance -- glance-manage --config-file /etc/glance/glance-registry.conf db_version
}
check "glance-registry-migrate.service ran db_sync before glance-registry started" migrated
units_in_usr() {   # every unit under /usr/lib/systemd/system; one hardening drop-in for all
  sh_in 'for p in glance-api glance-registry glance-common; do
      if dpkg -L $p | grep "^/lib/systemd"; then echo "$p ships units in /lib"; exit 1; fi
    done
    dpkg -L glance-api | grep -qx /usr/lib/systemd/system/glance-api.service
    dpkg -L glance-registry | grep -qx /usr/lib/systemd/system/glance-registry-migrate.service
    dpkg -L glance-common | grep -qx /usr/lib/systemd/system/glance-.service.d/10-hardening.conf
    if grep -l ProtectSystem /usr/lib/systemd/system/glance-*.service; then exit 1; fi
    for u in glance-api glance-registry glance-registry-migrate glance-scrubber \
             glance-cache-pruner glance-cache-reaper glance-cache-prefetcher; do
      systemctl show -p DropInPaths --value $u.service |
        grep -q /usr/lib/systemd/system/glance-.service.d/10-hardening.conf || { echo "$u: no drop-in"; exit 1; }
      test "$(systemctl show -p ProtectSystem --value $u.service)" = strict || exit 1
    done'
}
check "units in /usr/lib/systemd/system; glance-.service.d/10-hardening.conf applies to each" units_in_usr
refuses_unmigrated() {   # glance-registry alone refuses an unmigrated database, in one line
  local rc=0
  inbox runuser -u glance -- glance-registry --config-file /etc/glance/glance-registry.conf \
    --sql-connection sqlite:////var/lib/glance/empty.sqlite --bind-port 9199 \
    > "$work/refused-db.out" 2>&1 || rc=$?
  cat "$work/refused-db.out"
  inbox rm -f /var/lib/glance/empty.sqlite
  [ $rc = 1 ] && grep -q "glance-manage db_sync" "$work/refused-db.out"
}
check "glance-registry on an unmigrated database: exit 1, one line naming glance-manage db_sync" \
  refuses_unmigrated
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
# migrations: how many times glance-registry-migrate.service has run db_sync
migrations() { inbox journalctl -o cat -u glance-registry-migrate.service | grep -c "^Database is at revision" || true; }

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
  local before after migrated
  before=$(mainpids)
  migrated=$(migrations)
  inbox systemctl restart glance-registry glance-api
  wait_ready
  after=$(mainpids)
  [ "$before" != "$after" ] || { echo "main pids unchanged: $after"; return 1; }
  [ "$(migrations)" = "$migrated" ] || { echo "a restart of glance-registry migrated again"; return 1; }
  download
}
check "systemctl restart: new pids, no new migration, the image is still there" restart

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

# --- the image cache ------------------------------------------------------------------

check "glance-cache-{pruner,reaper,prefetcher}.timer enabled and active" \
  sh_in 'for t in pruner reaper prefetcher; do
           systemctl is-enabled glance-cache-$t.timer && systemctl is-active glance-cache-$t.timer || exit 1
         done'
image_cache() {
  sh_in 'printf "image_cache_enabled = true\n" >> /etc/glance/glance-api.conf
    systemctl restart glance-api'
  wait_ready
  sh_in 'id=$(cat /root/image.id)
    curl -sf -o /dev/null http://127.0.0.1:9292/v1/images/$id
    test -s /var/lib/glance/image-cache/$id
    for t in pruner reaper prefetcher; do
      systemctl start glance-cache-$t.service
      test "$(systemctl show -p Result --value glance-cache-$t.service)" = success || exit 1
    done
    test -s /var/lib/glance/image-cache/$id'
}
check "image_cache_enabled: a download is cached; the cache services (hardened) run" image_cache

# --- hardening ----------------------------------------------------------------------

security() {
  local unit score
  for unit in glance-api glance-registry glance-registry-migrate glance-scrubber \
              glance-cache-pruner glance-cache-reaper glance-cache-prefetcher; do
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
        glance-registry-migrate.service glance-scrubber.service glance-scrubber.timer glance-cache-pruner.service \
        glance-cache-pruner.timer glance-cache-reaper.service glance-cache-reaper.timer \
        glance-cache-prefetcher.service glance-cache-prefetcher.timer 2>&1) || true
  echo "$out"
  [ -z "$out" ]
}
check "systemd-analyze verify: clean" verify

# --- upgrade ------------------------------------------------------------------------

check "modify a conffile value (server_threads = 12 in glance-api.conf)" \
  sh_in 'sed -i "s/^bind_port = 9292/bind_port = 9292\nserver_threads = 12/" /etc/glance/glance-api.conf
         grep -qx "server_threads = 12" /etc/glance/glance-api.conf'
no_swap() {   # with both sources, upgrade never proposes the distribution's glance
  apt_in -s upgrade | tee "$work/upgrade.sim"
  if grep -E '^Inst (glance|python3-glance)' "$work/upgrade.sim"; then return 1; fi
  apt_in -s dist-upgrade | tee "$work/dist-upgrade.sim"
  if grep -E '^Inst (glance|python3-glance)' "$work/dist-upgrade.sim"; then return 1; fi
}
check "apt-get -s upgrade / dist-upgrade: nothing from the distribution's glance" no_swap
publish_next() { GLANCE_REPO_VERSION=2011.3.2 DEB_BUILD_OPTIONS=nocheck publish; }
must "make repo with 2011.3.2 (same key)" publish_next
upgrade() {
  apt_in update
  apt_in upgrade | tee "$work/apt.out"
  ours 2011.3.2
  local after
  after=$(migrations)
  [ "$after" -gt "$migrations_before" ] || { echo "glance-registry-migrate did not run again"; return 1; }
}
before_upgrade=$(mainpids)
migrations_before=$(migrations)
must "apt-get upgrade to 2011.3.2 from the repository (glance-registry-migrate runs again)" upgrade
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
                 /usr/lib/systemd/system/glance-api.service \
                 /usr/lib/systemd/system/glance-.service.d; do
           if [ -e "$p" ]; then echo "$p is still there"; exit 1; fi
         done
         if dpkg-statoverride --list | grep glance; then exit 1; fi
         if systemctl cat glance-scrubber.timer >/dev/null 2>&1; then exit 1; fi
         id glance   # a system user stays, as usual in Debian'
}
check "apt purge: /etc/glance, /var/lib/glance, /var/log/glance removed; user glance kept" purged

# --- the distribution's glance ----------------------------------------------------------

# README.md "Back to the distribution's glance": remove the three files, update, install.
distribution_again() {
  sh_in 'rm /etc/apt/sources.list.d/glance.sources /etc/apt/preferences.d/glance.pref             /etc/apt/keyrings/glance-archive-keyring.asc'
  apt_in update
  inbox apt-cache policy glance | grep -q 'Candidate: 2:'
  apt_in install glance
  inbox dpkg-query -W glance glance-api glance-common python3-glance | tee "$work/debian.versions"
  [ "$(grep -c $'	2:' "$work/debian.versions")" = 4 ]
}
check "after purge: the distribution's glance (2:25) installs" distribution_again
refused() {
  add_repository
  apt_in update
  local rc=0
  apt_in install glance > "$work/refused-y.out" 2>&1 || rc=$?
  cat "$work/refused-y.out"
  [ $rc != 0 ] || return 1
  rc=0
  apt_in install --allow-downgrades glance > "$work/refused.out" 2>&1 || rc=$?
  cat "$work/refused.out"
  [ $rc != 0 ] || return 1
  grep -q "The distribution's OpenStack Glance is on this system" "$work/refused.out"
  grep -q "apt purge glance glance-api glance-common glance-registry python3-glance" "$work/refused.out"
  inbox dpkg-query -W glance glance-api glance-common python3-glance > "$work/after.versions"
  cmp "$work/debian.versions" "$work/after.versions"
  local st   # the new glance-registry was not unpacked either: not installed
  st=$(inbox dpkg-query -W -f '${db:Status-Abbrev}' glance-registry 2>/dev/null || true)
  case $st in ""|?n" ") ;; *) echo "glance-registry: '$st'"; return 1 ;; esac
  [ -z "$(inbox dpkg --audit)" ]
}
run_check "with the distribution's glance installed, ours refuses: clear message, nothing changed" refused &&
  { grep '^E:' "$work/refused-y.out"; echo "with --allow-downgrades:"
    sed -n "/^The distribution's OpenStack Glance/,/^  apt install glance/p" "$work/refused.out"; } | sed 's/^/    /'

summary
[ "$failed" = 0 ]

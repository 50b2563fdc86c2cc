#!/bin/bash
# make-rootfs.sh [EXTRA_PACKAGE...]: build (once) a Debian bookworm minbase tree that boots
# with systemd-nspawn, and print its path. Extra packages come from the arguments and from
# $ROOTFS_EXTRA (comma or space separated). The tree is cached under
# ${GLANCE_CI_CACHE:-/var/cache/glance-ci}/rootfs-<hash of suite + package list> and reused.
# The mirror is the one the host's apt already uses. Needs root and debootstrap.
set -euo pipefail

suite=${ROOTFS_SUITE:-bookworm}
cache=${GLANCE_CI_CACHE:-/var/cache/glance-ci}
recipe=2   # bump when the preparation below changes, to invalidate old trees

base=(systemd systemd-sysv dbus python3 python3-apt ca-certificates iproute2 curl)
extra_list=${ROOTFS_EXTRA:-}
read -r -a extra <<< "${extra_list//,/ } $*"
pkgs=$(printf '%s\n' "${base[@]}" "${extra[@]}" | sed '/^$/d' | sort -u | paste -sd, -)
key=$(printf '%s %s %s' "$recipe" "$suite" "$pkgs" | sha256sum | cut -c1-12)
dest=$cache/rootfs-$key

# Mirrors from the host's apt configuration (deb822 first, then one-line format).
mirrors() {
  { sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null
    sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
  } | tr ' ' '\n' | grep -E '^https?://' || true
}
# Debian's own entries first, should other vendors' repositories be configured too
uris=$(mirrors | grep -i debian || mirrors)
mirror=$(grep -v -- '-security' <<< "$uris" | head -1 || true)
security=$(grep -- '-security' <<< "$uris" | head -1 || true)
[ -n "$mirror" ] || { echo "make-rootfs: no Debian mirror found in /etc/apt" >&2; exit 1; }

mkdir -p "$cache"
exec 9>"$cache/rootfs-$key.lock"
flock 9                      # parallel callers wait for one build
if [ -d "$dest" ]; then echo "$dest"; exit 0; fi   # only complete trees are renamed to $dest

tmp=$dest.tmp
rm -rf "$tmp"
debootstrap --variant=minbase --include="$pkgs" "$suite" "$tmp" "$mirror" >&2

: > "$tmp/etc/hostname"      # nspawn --hostname= sets it per container
: > "$tmp/etc/machine-id"    # empty: systemd generates one at boot
{
  echo "deb $mirror $suite main"
  echo "deb $mirror $suite-updates main"
  [ -z "$security" ] || echo "deb $security $suite-security main"
} > "$tmp/etc/apt/sources.list"
rm -f "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/cache/apt/*.bin
rm -rf "$tmp"/var/lib/apt/lists/*
mkdir -p "$tmp/var/lib/apt/lists/partial"
# An old mtime, else apt's cache_valid_time logic believes the empty cache is fresh.
touch -d @0 "$tmp/var/lib/apt/lists"
rm -f "$tmp/var/lib/apt/periodic/update-success-stamp"
for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
         fstrim.timer e2scrub_reap.service; do
  ln -sf /dev/null "$tmp/etc/systemd/system/$u"
done
mv "$tmp" "$dest"
echo "$dest"

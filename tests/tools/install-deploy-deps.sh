#!/bin/bash
# install-deploy-deps.sh: host packages needed to build the .deb, lint it and boot
# Debian containers with systemd-nspawn. Idempotent: installs only what is missing.
# The build dependencies (including those of the unit tests run by dh_auto_test) are
# read from debian/control, not listed here.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)

packages=(
  debootstrap systemd-container          # make-rootfs.sh, nsbox.sh
  dpkg-dev lintian                       # build-deb.sh
  reprepro gnupg                         # tools/make-repo.sh: the signed apt repository
  curl zstd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
builddeps=ok
(cd "$src" && dpkg-checkbuilddeps 2>/dev/null) || builddeps=missing
if [ ${#missing[@]} -eq 0 ] && [ $builddeps = ok ]; then
  echo "install-deploy-deps: all ${#packages[@]} packages and the Build-Depends present"
  exit 0
fi
echo "install-deploy-deps: installing ${missing[*]}${missing[*]:+ and }the Build-Depends of debian/control"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
[ ${#missing[@]} -eq 0 ] || apt-get install -y -q --no-install-recommends "${missing[@]}"
apt-get build-dep -y -q --no-install-recommends "$src"

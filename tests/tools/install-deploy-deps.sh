#!/bin/bash
# install-deploy-deps.sh: host packages needed to build the .deb, lint it and boot
# Debian containers with systemd-nspawn. Idempotent: installs only what is missing.
set -euo pipefail

packages=(
  debootstrap systemd-container          # make-rootfs.sh, nsbox.sh
  dpkg-dev debhelper dh-python lintian   # build-deb.sh
  python3-all python3-setuptools
  # Build-Depends for the unit tests run by dh_auto_test
  python3-pytest python3-pytest-timeout python3-flask python3-waitress python3-cheroot
  python3-sqlalchemy python3-alembic python3-requests python3-psycopg2 python3-pymysql
  curl zstd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deploy-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deploy-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

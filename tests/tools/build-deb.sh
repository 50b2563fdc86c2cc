#!/bin/bash
# build-deb.sh [OUTDIR] [VERSION]: build the glance .debs from this checkout and add them to
# OUTDIR (default ${TMPDIR:-/tmp}/glance-debs), with a Packages index. Nodes install them from
# the signed repository `make repo` publishes (tools/make-repo.sh), or as local .deb files.
# VERSION, when given, is a new debian/changelog entry (e.g. 2011.3.1+1, for upgrade tests);
# the checkout itself is never modified. Set DEB_BUILD_OPTIONS=nocheck to skip the unit tests.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-${TMPDIR:-/tmp}/glance-debs}
version=${2:-}
mkdir -p "$out"
out=$(cd "$out" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/glance"
tar -C "$src" --exclude=.git --exclude='.venv*' --exclude=__pycache__ --exclude='*.egg-info' \
    --exclude=.pytest_cache --exclude=.pybuild --exclude=build --exclude=.ci-work -cf - . \
  | tar -C "$work/glance" -xf -
cd "$work/glance"

# debian/changelog carries the version of setup.py
upstream=$(sed -n 's/^ *version="\([^"]*\)".*/\1/p' setup.py)
packaged=$(dpkg-parsechangelog -S Version)
if [ "$upstream" != "$packaged" ]; then
  echo "build-deb: setup.py says $upstream but debian/changelog $packaged" >&2
  exit 1
fi

if [ -n "$version" ]; then
  { echo "glance ($version) unstable; urgency=medium"
    echo
    echo "  * Rebuild as $version."
    echo
    echo " -- $(dpkg-parsechangelog -S Maintainer)  $(date -R)"
    echo
    cat debian/changelog
  } > debian/changelog.new
  mv debian/changelog.new debian/changelog
fi

# A clean environment: pybuild must find Debian's python3, not a pyenv or venv one.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" LANG=C.UTF-8 \
    DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -us -uc -b

cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
cd "$out"
dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null
gzip -9kf Packages
ls -1 "$out"/*.deb

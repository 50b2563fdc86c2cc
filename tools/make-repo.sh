#!/bin/bash
# make-repo.sh [OUTDIR]: build the glance .debs from this checkout and publish them with
# reprepro as a signed apt repository in OUTDIR (default build/repo), ready to copy to a
# web server:
#   OUTDIR/dists/SUITE/{Release,InRelease,Release.gpg}, dists/SUITE/main/binary-*/Packages*
#   OUTDIR/pool/main/g/glance/*.deb
#   OUTDIR/glance-archive-keyring.asc   the public key  -> /etc/apt/keyrings/
#   OUTDIR/glance.sources               deb822 source    -> /etc/apt/sources.list.d/
#   OUTDIR/glance.pref                  the pin          -> /etc/apt/preferences.d/
# reprepro's own state (conf/, db/) is kept beside it in OUTDIR.reprepro: run again with a
# newer version and the repository is updated (older versions leave the index).
#
# Environment:
#   GLANCE_REPO_KEY      fingerprint of the signing key in the gpg keyring ($GNUPGHOME). Unset:
#                        a throwaway key is made in a temporary GNUPGHOME and deleted after
#                        signing (for tests: the repository cannot be re-signed with it).
#   GLANCE_REPO_URL      the repository's URL as the nodes see it (default file:OUTDIR)
#   GLANCE_REPO_SUITE    suite (dists/ directory, Suite and Codename), default bookworm
#   GLANCE_REPO_ORIGIN   Origin and Label of the Release file, used by the pin (default glance)
#   GLANCE_REPO_PIN_PRIORITY  priority of the pin (default 1001: above the distribution's
#                        glance, whose epoch-2 version is higher; see README "apt repository")
#   GLANCE_REPO_ARCHITECTURES  Packages indexes to write (default "amd64 arm64"; the packages
#                        are Architecture: all and listed in each)
#   GLANCE_REPO_DEBS     publish the .debs of this directory instead of building them
#   GLANCE_REPO_VERSION  build as this version (a new debian/changelog entry; build-deb.sh)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build/repo}
suite=${GLANCE_REPO_SUITE:-bookworm}
origin=${GLANCE_REPO_ORIGIN:-glance}
priority=${GLANCE_REPO_PIN_PRIORITY:-1001}
arches=${GLANCE_REPO_ARCHITECTURES:-amd64 arm64}
command -v reprepro >/dev/null || { echo "make-repo: reprepro is not installed (apt install reprepro)" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
state=$out.reprepro
url=${GLANCE_REPO_URL:-file:$out}
work=$(mktemp -d)
cleanup() {
  [ -z "${throwaway:-}" ] || GNUPGHOME=$throwaway gpgconf --kill gpg-agent 2>/dev/null || true
  rm -rf "$work" ${throwaway:+"$throwaway"}
}
trap cleanup EXIT

key=${GLANCE_REPO_KEY:-}
if [ -z "$key" ]; then
  throwaway=$(mktemp -d)
  export GNUPGHOME=$throwaway
  gpg --batch --quiet --passphrase '' --quick-gen-key \
    "glance throwaway repository key <repo@glance.invalid>" ed25519 sign 7d
  key=$(gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr:/ { print $10; exit }')
  echo "make-repo: signing with a throwaway key made now ($key): for tests only;" \
       "set GLANCE_REPO_KEY to your key's fingerprint (README)" >&2
fi
gpg --batch --list-secret-keys "$key" >/dev/null 2>&1 \
  || { echo "make-repo: no secret key $key in ${GNUPGHOME:-~/.gnupg}" >&2; exit 1; }

debs=${GLANCE_REPO_DEBS:-}
if [ -z "$debs" ]; then
  debs=$work/debs
  "$src/tests/tools/build-deb.sh" "$debs" ${GLANCE_REPO_VERSION:+"$GLANCE_REPO_VERSION"} >&2
fi

mkdir -p "$state/conf"
cat > "$state/conf/distributions" <<EOF
Origin: $origin
Label: $origin
Suite: $suite
Codename: $suite
Architectures: $arches
Components: main
Description: glance, the OpenStack Image Service (v1 API)
SignWith: $key
EOF
cat > "$state/conf/options" <<EOF
outdir $out
EOF
rr() { reprepro --basedir "$state" --silent "$@"; }

# A rebuilt version replaces the one of the same version (reprepro refuses a second file
# under the same name); an older version than the published one is skipped.
for deb in "$debs"/*.deb; do
  pkg=$(dpkg-deb -f "$deb" Package)
  version=$(dpkg-deb -f "$deb" Version)
  published=$(rr --list-format '${version}\n' list "$suite" "$pkg" | head -1)
  if [ "$published" = "$version" ]; then
    rr remove "$suite" "$pkg"
  fi
done
rr includedeb "$suite" "$debs"/*.deb
rr export "$suite"
rr deleteunreferenced

gpg --batch --armor --export "$key" > "$out/glance-archive-keyring.asc"
cat > "$out/glance.sources" <<EOF
Types: deb
URIs: $url
Suites: $suite
Components: main
Signed-By: /etc/apt/keyrings/glance-archive-keyring.asc
EOF
packages=$(sed -n 's/^Package: *//p' "$src/debian/control" | sort | paste -sd' ')
cat > "$out/glance.pref" <<EOF
Explanation: glance (v1 API) from its own repository wins over the distribution's packages
Explanation: of the same names, whose versions are higher (epoch 2): priority above 1000.
Package: $packages
Pin: release o=$origin
Pin-Priority: $priority
EOF
echo "make-repo: $out ($suite, signed by $key):" >&2
rr --list-format '  ${package} ${version}\n' list "$suite" | sort -u >&2
echo "$out"

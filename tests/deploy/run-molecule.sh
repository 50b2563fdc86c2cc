#!/bin/bash
# run-molecule.sh [SCENARIO...]: test the Ansible roles under Molecule, in booted Debian
# bookworm systemd-nspawn containers, against the .deb built from this checkout.
#   1. host tools (tests/tools/install-deploy-deps.sh), the Ansible venv
#      (tests/tools/setup-ansible.sh), Swift venv + memcached (tests/tools/setup-backends.sh)
#   2. yamllint, role-variable docs check (defaults = argument_specs = README), site.yml
#      syntax check with the example inventories, ansible-lint (production profile)
#   3. tests/tools/build-deb.sh into a fresh directory, then make repo (signed, throwaway
#      key) into its signed/ subdirectory; the default scenario's bridge glaiobr0 with the
#      repository over HTTP and an apt proxy to the Debian mirror (tests/tools/hostnet.sh)
#   4. tests/tools/make-rootfs.sh with every package the containers need (they have no
#      network to a mirror in the multinode scenario)
#   5. "molecule test -s S" for each scenario (default: default multinode)
# Prints "N passed, M failed" last; exits non-zero when anything failed.
# Environment: GLANCE_DEB_DIR (skip the build, use these .debs), GLANCE_ROOTFS (skip
# make-rootfs), SKIP_LINT=1, KEEP_WORK=1.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(default multinode)

passed=0 failed=0 results=()
record() {   # name status seconds
  if [ "$2" = 0 ]; then passed=$((passed + 1)); results+=("PASS $1 ($3 s)")
  else failed=$((failed + 1)); results+=("FAIL $1 ($3 s)"); fi
}
finish() {
  echo
  echo "=== run-molecule summary"
  printf '  %s\n' "${results[@]}"
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}

work=$(mktemp -d "${TMPDIR:-/tmp}/glance-molecule.XXXXXX")
cleanup() {
  # Molecule's destroy runs on failure too; this is the last line of defence.
  for d in "$work"/boxes/*/; do
    [ -d "$d" ] && NSBOX_DIR="$work/boxes" tests/tools/nsbox.sh destroy "$(basename "$d")" || true
  done
  [ ! -d "$work/swift" ] || tests/tools/saio.sh stop "$work/swift" || true
  tests/tools/hostnet.sh down "$work/hostnet" glaiobr0 || true
  [ ! -d "$work/keystone" ] || molecule/multinode/keystone-host.sh stop "$work/keystone" || true
  # the bridge of molecule/multinode/molecule.yml
  ! ip link show glmolbr0 >/dev/null 2>&1 || ip link del glmolbr0 || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { echo; echo "=== $*"; }

step "host tools"
tests/tools/install-deploy-deps.sh || { record setup 1 0; finish; exit 1; }
tests/tools/setup-ansible.sh || { record setup 1 0; finish; exit 1; }
tests/tools/setup-backends.sh || { record setup 1 0; finish; exit 1; }
export PATH="$repo/.venv-ansible/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1

if [ -z "${SKIP_LINT:-}" ]; then
  step "yamllint"
  t0=$(date +%s)
  yamllint -s roles playbooks molecule site.yml .ansible-lint .yamllint
  record yamllint $? $(( $(date +%s) - t0 ))
  step "role variables: defaults = argument_specs = README"
  t0=$(date +%s)
  .venv-ansible/bin/python molecule/resources/check-role-docs.py roles
  record role-docs $? $(( $(date +%s) - t0 ))
  step "site.yml syntax with the example inventories"
  t0=$(date +%s)
  rc=0
  for inv in playbooks/inventory/*/hosts.yml; do
    ANSIBLE_ROLES_PATH="$repo/roles" ansible-playbook --syntax-check -i "$inv" site.yml || rc=1
    ANSIBLE_ROLES_PATH="$repo/roles" ansible-inventory -i "$inv" --graph || rc=1
  done
  record syntax-check $rc $(( $(date +%s) - t0 ))
  step "ansible-lint (production profile)"
  t0=$(date +%s)
  ANSIBLE_ROLES_PATH="$repo/roles" ansible-lint --offline
  record ansible-lint $? $(( $(date +%s) - t0 ))
fi

step "glance .deb"
if [ -z "${GLANCE_DEB_DIR:-}" ]; then
  GLANCE_DEB_DIR=$work/debs
  if ! DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-nocheck} tests/tools/build-deb.sh "$GLANCE_DEB_DIR"; then
    record build-deb 1 0; finish; exit 1
  fi
fi
export GLANCE_DEB_DIR

step "signed glance repository (make repo) and the host bridge of molecule/default"
# In the bind-mounted .deb directory: multinode reads it as file:/srv/glance-repo/signed.
export GLANCE_REPO_DIR=$GLANCE_DEB_DIR/signed
mkdir -p "$GLANCE_REPO_DIR"
if ! env_lines=$(tests/tools/hostnet.sh up "$work/hostnet" glaiobr0 10.213.44.1/24 "$GLANCE_REPO_DIR"); then
  record hostnet 1 0; finish; exit 1
fi
eval "$env_lines"
export GLANCE_REPO_URL GLANCE_APT_PROXY
if ! GLANCE_REPO_DEBS=$GLANCE_DEB_DIR make --no-print-directory repo REPO_DIR="$GLANCE_REPO_DIR"; then
  record make-repo 1 0; finish; exit 1
fi

step "container rootfs"
# Everything the containers install, baked in: the multinode containers reach no mirror.
mapfile -t rootfs_packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' molecule/resources/rootfs-packages.txt)
if [ -z "${GLANCE_ROOTFS:-}" ]; then
  GLANCE_ROOTFS=$(tests/tools/make-rootfs.sh "${rootfs_packages[@]}") || { record rootfs 1 0; finish; exit 1; }
fi
export GLANCE_ROOTFS
echo "rootfs: $GLANCE_ROOTFS"
export NSBOX_DIR=$work/boxes GLANCE_SWIFT_DIR=$work/swift GLANCE_KEYSTONE_DIR=$work/keystone

for s in "${scenarios[@]}"; do
  step "molecule test -s $s"
  t0=$(date +%s)
  molecule test -s "$s"
  record "molecule:$s" $? $(( $(date +%s) - t0 ))
done

finish

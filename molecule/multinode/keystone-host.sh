#!/bin/bash
# keystone-host.sh start DIR BIND PORT | stop DIR
# The multinode scenario's identity service: a real Keystone (tests/tools/keystone.sh: PyPI
# keystone on SQLite) on the host's bridge address, with the accounts the scenario uses:
#   admin/admin-secret (project admin, bootstrapped), glance/glance-secret (admin in project
#   service), demo/demo-secret (member of demo), demo2/demo2-secret (member of demo2).
set -euo pipefail
cmd=${1:?usage: keystone-host.sh start DIR BIND PORT | stop DIR}
S=${2:?state directory}
repo=$(cd "$(dirname "$0")/../.." && pwd)
ks=$repo/tests/tools/keystone.sh
case $cmd in
start)
  BIND=${3:?bind address}; PORT=${4:?port}
  "$ks" start "$S" "$PORT" "$BIND"
  eval "$("$ks" env "$S")"
  openstack() { "${GLANCE_KEYSTONE_VENV:-$repo/.venv-keystone}/bin/openstack" "$@" >/dev/null; }
  openstack project create --or-show service
  openstack user create --or-show --password glance-secret glance
  openstack role add --project service --user glance admin
  for u in demo demo2; do
    openstack project create --or-show "$u"
    openstack user create --or-show --password "$u-secret" "$u"
    openstack role add --project "$u" --user "$u" member
  done
  echo "keystone accounts ready on http://$BIND:$PORT/v3"
  ;;
stop)
  "$ks" stop "$S"
  ;;
esac

#!/bin/bash
# test_keystone_register.sh: the glance_api role's registration of the image service in a
# real Keystone (tests/tools/keystone.sh on 127.0.0.1, a free port), without containers:
#   1. first run creates the service and 3 endpoints (changed), a second run changes nothing
#   2. a new public URL patches the 3 endpoints in place (changed), then nothing again
#   3. another region gets its own region and endpoints; RegionOne keeps its own
#   4. a wrong admin password fails, and neither password appears in the output
# Prints "N passed, M failed"; exit status non-zero when anything failed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
tests/tools/setup-ansible.sh >/dev/null || { echo "setup-ansible.sh failed"; exit 1; }
export PATH="$repo/.venv-ansible/bin:$PATH" ANSIBLE_ROLES_PATH="$repo/roles" ANSIBLE_NOCOLOR=1
work=$(mktemp -d "${TMPDIR:-/tmp}/glance-ks-register.XXXXXX")
trap 'tests/tools/keystone.sh stop "$work/ks"; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tests/tools/keystone.sh start "$work/ks" "$port" 127.0.0.1 >/dev/null || { echo "keystone did not start"; exit 1; }
eval "$(tests/tools/keystone.sh env "$work/ks")"
auth=(-e "glance_keystone_auth_url=http://127.0.0.1:$port/v3" -e "glance_keystone_admin_password=$OS_PASSWORD")
passed=0 failed=0
check() {  # name, then a command that must succeed
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "PASS $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}
run() {  # extra ansible-playbook args; prints the recap's changed= and keeps the output
  ansible-playbook tests/deploy/playbooks/keystone-register.yml "${auth[@]}" "$@" > "$work/out" 2>&1
  local rc=$?
  sed -n 's/^localhost *: .*changed=\([0-9]*\).*failed=\([0-9]*\).*/changed=\1 failed=\2/p' "$work/out"
  return $rc
}
endpoints() {  # region -> "interface url" lines, sorted
  "$repo/.venv-keystone/bin/openstack" endpoint list --service image --region "$1" -f value -c Interface -c URL | sort
}
expect3() { printf '%s %s\n' admin "$2" internal "$2" public "$2" | diff - <(endpoints "$1"); }

check "first run creates service and endpoints" test "$(run -e glance_public_url=http://api1:9292)" = "changed=2 failed=0"
check "endpoints are the public URL" expect3 RegionOne http://api1:9292
check "second run changes nothing" test "$(run -e glance_public_url=http://api1:9292)" = "changed=0 failed=0"
check "new URL patches the endpoints" test "$(run -e glance_public_url=http://lb:9292)" = "changed=1 failed=0"
check "endpoints moved in place" expect3 RegionOne http://lb:9292
check "one image service" test "$("$repo/.venv-keystone/bin/openstack" service list -f value -c Type | grep -c '^image$')" = 1
check "then nothing again" test "$(run -e glance_public_url=http://lb:9292)" = "changed=0 failed=0"
check "another region: region + endpoints" test "$(run -e glance_public_url=http://r2:9292 -e region=RegionTwo)" = "changed=2 failed=0"
check "RegionTwo endpoints" expect3 RegionTwo http://r2:9292
check "RegionOne unchanged" expect3 RegionOne http://lb:9292
run -e glance_public_url=http://lb:9292 -e glance_keystone_admin_password=wrong-Secret-42 >/dev/null
check "wrong password fails" grep -q "failed=1" "$work/out"
check "no password in the output" bash -c "! grep -q -e wrong-Secret-42 -e '$OS_PASSWORD' '$work/out'"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

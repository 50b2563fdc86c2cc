#!/bin/bash
# test_keystone_register.sh: the glance_api role's registration of the image service in a
# real Keystone (tests/tools/keystone.sh on 127.0.0.1, a free port), without containers:
#   1. first run creates the service and 3 endpoints (changed), a second run changes nothing
#   2. a new public URL patches the 3 endpoints in place (changed), then nothing again
#   3. another region gets its own region and endpoints; RegionOne keeps its own
#   4. a wrong admin password fails, and neither password appears in the output; a versioned
#      URL (.../v1) is refused, and a Diablo-era /v1 endpoint is moved to the root
#   5. nova_glance's INI styles on a scratch nova.conf, read back the way current Nova reads
#      [glance] (tests/deploy/nova_glance_endpoint.py: keystoneauth's adapter options, the
#      user's catalog): catalog finds the registered endpoint of its region, endpoint_override
#      and api_servers win over it; switching style removes the other URL option, keeps the
#      rest of the file, and a second run changes nothing
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
run -e glance_public_url=http://lb:9292/v1 >/dev/null
check "a versioned URL is refused" grep -q "without a version path" "$work/out"
check "and changed nothing" expect3 RegionOne http://lb:9292
# A Diablo-era catalog entry ending in /v1 is moved to the root, where v2 clients discover.
"$repo/.venv-keystone/bin/openstack" endpoint set --url http://lb:9292/v1 \
  "$("$repo/.venv-keystone/bin/openstack" endpoint list --service image --region RegionOne --interface public -f value -c ID)"
check "a /v1 endpoint is moved to the root" test "$(run -e glance_public_url=http://lb:9292)" = "changed=1 failed=0"
check "all three at the root" expect3 RegionOne http://lb:9292

# 5. nova.conf's [glance] for current Nova, against the endpoints registered above.
novarun() {  # conf style [extra ansible-playbook args]: prints changed=N failed=M
  ansible-playbook tests/deploy/playbooks/nova-glance.yml -e "conf=$1" -e "style=$2" "${@:3}" > "$work/nova-out" 2>&1
  local rc=$?
  sed -n 's/^localhost *: .*changed=\([0-9]*\).*failed=\([0-9]*\).*/changed=\1 failed=\2/p' "$work/nova-out"
  return $rc
}
nova_endpoint() { "$repo/.venv-keystone/bin/python" tests/deploy/nova_glance_endpoint.py "$1"; }
section() { awk -v s="[$2]" '/^\[/ {on = ($0 == s); next} on && NF' "$1"; }
conf=$work/nova.conf
printf '%s\n' '[DEFAULT]' 'compute_driver = libvirt.LibvirtDriver' '' '[glance]' \
  'api_servers = http://old-glance:9292' 'num_retries = 3' > "$conf"
check "catalog style edits [glance]" test "$(novarun "$conf" catalog)" = "changed=2 failed=0"
check "catalog style: no URL, interfaces and region" diff <(section "$conf" glance) \
  <(printf '%s\n' 'num_retries = 3' 'valid_interfaces = internal,public' 'region_name = RegionOne')
check "the rest of nova.conf is kept" diff <(section "$conf" DEFAULT) <(echo 'compute_driver = libvirt.LibvirtDriver')
check "nova finds glance in the catalog" test "$(nova_endpoint "$conf")" = http://lb:9292
check "catalog style again changes nothing" test "$(novarun "$conf" catalog)" = "changed=0 failed=0"
novarun "$conf" catalog -e region=RegionTwo >/dev/null
check "nova finds RegionTwo's endpoint" test "$(nova_endpoint "$conf")" = http://r2:9292
check "endpoint_override style" test "$(novarun "$conf" endpoint_override -e endpoint=http://balancer:9292)" = "changed=1 failed=0"
check "nova uses the override" test "$(nova_endpoint "$conf")" = http://balancer:9292
check "api_servers style replaces the override" test "$(novarun "$conf" api_servers)" = "changed=2 failed=0"
urls() { section "$conf" glance | grep -E '^(api_servers|endpoint_override) '; }
check "api_servers listed, no override" test "$(urls)" = "api_servers = http://api1:9292,http://api2:9292"
check "nova uses api_servers" test "$(nova_endpoint "$conf")" = http://api1:9292,http://api2:9292
refused() { ! novarun "$@" >/dev/null; }
check "an empty endpoint_override is refused" refused "$conf" endpoint_override -e endpoint=
fresh=$work/fresh/nova.conf
check "catalog style creates an absent nova.conf" test "$(novarun "$fresh" catalog | cut -d' ' -f2)" = "failed=0"
check "created file: [glance] only, mode 0640" test "$(cat "$fresh" | grep -v '^$' | tr '\n' '|')$(stat -c %a "$fresh")" \
  = "[glance]|valid_interfaces = internal,public|region_name = RegionOne|640"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

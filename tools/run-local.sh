#!/usr/bin/env bash
# Run glance-registry and glance-api in the foreground on their embedded
# defaults: SQLite and the filesystem store, everything under ./var.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
bin=$top/.venv/bin
var=$top/var
mkdir -p "$var/images" "$var/log"
for program in glance-registry glance-api; do
  conf=$var/$program.conf
  [ -e "$conf" ] && continue
  cat > "$conf" <<CONF
[DEFAULT]
verbose = true
sql_connection = sqlite:///$var/glance.sqlite
filesystem_store_datadir = $var/images/
registry_host = 127.0.0.1
CONF
done
"$bin/glance-manage" --config-file "$var/glance-registry.conf" db_sync
"$bin/glance-registry" --config-file "$var/glance-registry.conf" &
registry=$!
trap 'kill $registry 2>/dev/null; wait $registry 2>/dev/null' EXIT
echo "glance-api on http://127.0.0.1:9292, glance-registry on http://127.0.0.1:9191"
"$bin/glance-api" --config-file "$var/glance-api.conf"

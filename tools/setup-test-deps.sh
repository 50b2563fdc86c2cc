#!/usr/bin/env bash
# Install and start what the test suite talks to: MariaDB, PostgreSQL, RabbitMQ, and
# (through tests/tools/setup-backends.sh) memcached, Swift and rclone. Idempotent: on a
# machine that has everything it only checks, in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
# Notifications (notifier_strategy = rabbit) go to a real RabbitMQ on 127.0.0.1:5672.
[ -x /usr/sbin/rabbitmq-server ] || need+=(rabbitmq-server)
# The HTTP store's DNS rebinding test: its own network namespace and a test CA.
command -v unshare >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing system packages: ${need[*]} (run as root, or install them)" >&2
    exit 1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# Start the databases when they are not answering (the host may have
# policy-rc.d forbidding apt from starting them).
if ! mariadb-admin --protocol=tcp -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 1 100); do
    mariadb-admin --protocol=tcp -h 127.0.0.1 -uroot ping >/dev/null 2>&1 && break; sleep 0.2
  done
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  for cluster in /etc/postgresql/*/main; do
    version=$(basename "$(dirname "$cluster")")
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 100); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi

# RabbitMQ with its default guest/guest (accepted from localhost only).
if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  /usr/sbin/rabbitmq-server -detached >/dev/null 2>&1 || true
  for _ in $(seq 1 150); do (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break; sleep 0.2; done
fi

[ -x tests/tools/setup-backends.sh ] && tests/tools/setup-backends.sh
exit 0

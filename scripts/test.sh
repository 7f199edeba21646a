#!/usr/bin/env bash
# Installs what the test suite needs and runs all of it on SQLite, then every test that uses the database again on a
# throwaway PostgreSQL (tests/conftest.py selects them),
# unit + integration + UI + real-browser tests. Extra arguments go to both pytest runs (e.g. -x, -k name).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing with apt-get: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
# Byte-compile the fresh environment once, so no test run is the first to write __pycache__ files into packages
# whose file times NiceGUI hashes.
.venv/bin/python -m compileall -q .venv/lib/python3*/site-packages/nicegui >/dev/null || true

echo "== lint and architecture"
.venv/bin/ruff check app tests
.venv/bin/lint-imports

echo "== test suite on SQLite"
.venv/bin/python -m pytest -q "$@"

echo "== tests that use the database, on PostgreSQL"
PG_DSN=$(bash scripts/pg.sh start)
trap 'bash scripts/pg.sh stop' EXIT
LANDING_TEST_PG_DSN="$PG_DSN" .venv/bin/python -m pytest -q "$@"

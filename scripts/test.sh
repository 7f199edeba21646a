#!/usr/bin/env bash
# Installs what the test suite needs and runs all of it on SQLite, and every test that uses the database again on a
# throwaway PostgreSQL at the same time (tests/conftest.py selects them),
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

# The two runs go side by side: most of a test's time is spent waiting on servers, browsers and simulators, so on
# two cores the pair takes little longer than the SQLite run alone. The PostgreSQL run's output follows the SQLite
# run's; either failing fails the command.
PG_DSN=$(bash scripts/pg.sh start)
trap 'bash scripts/pg.sh stop' EXIT
pg_log=$(mktemp)
echo "== tests that use the database, on PostgreSQL (in the background; output below)"
LANDING_TEST_PG_DSN="$PG_DSN" .venv/bin/python -m pytest -q -p no:cacheprovider "$@" >"$pg_log" 2>&1 &
pg_pid=$!
trap 'kill "$pg_pid" 2>/dev/null || true; bash scripts/pg.sh stop' EXIT

echo "== test suite on SQLite"
sqlite_rc=0
.venv/bin/python -m pytest -q "$@" || sqlite_rc=$?

pg_rc=0
wait "$pg_pid" || pg_rc=$?
echo "== tests that use the database, on PostgreSQL"
cat "$pg_log"
rm -f "$pg_log"
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]

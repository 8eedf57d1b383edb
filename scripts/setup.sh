#!/usr/bin/env bash
# Set up a fresh Debian machine for distrohub: PostgreSQL's server binaries
# (installed with apt-get when we are root, otherwise the exact command is
# printed) and the project's virtual environment. Safe to run again.
# With --test (what `make test` passes) also the headless Chromium and its driver
# that the UI tests drive (Debian's chromium and chromium-driver).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-}
FOR_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --test) FOR_TESTS=1 ;;
    *) echo "usage: scripts/setup.sh [--test]  (--test: also the browser the UI tests drive)" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# -- Python 3.11 -------------------------------------------------------------
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON=$candidate; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "distrohub needs Python 3.11 (python3.11 on PATH). On Debian 12: apt-get install -y python3 python3-venv" >&2
  exit 1
fi

# -- PostgreSQL 15 server binaries ------------------------------------------------
pg_present() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
if ! pg_present; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian's PostgreSQL 15 server (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-client-15 >/dev/null
  else
    echo "PostgreSQL's server is not installed. Run, as root:" >&2
    echo "  apt-get update && apt-get install -y postgresql-15 postgresql-client-15" >&2
    exit 1
  fi
fi
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "Running as root but there is no 'postgres' user to run the server as (initdb refuses root)." >&2
  echo "Reinstall Debian's postgresql-15 package, which creates it: apt-get install --reinstall -y postgresql-15" >&2
  exit 1
fi

# -- headless Chromium for the UI tests (--test only) -----------------------------
# tests/browser.py drives /usr/bin/chromium through /usr/bin/chromedriver (never a
# downloaded driver). About 120 MB of packages; a fresh install takes some 15-30 s.
browser_present() { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }
if [ "$FOR_TESTS" = 1 ] && ! browser_present; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian's chromium and chromium-driver for the UI tests (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      chromium chromium-driver fonts-liberation >/dev/null
  else
    echo "The UI tests drive a headless Chromium, which is not installed. Run, as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver fonts-liberation" >&2
    echo "Without it the UI browser test is skipped (and fails when CI=true)." >&2
  fi
fi

# -- the virtual environment -------------------------------------------------------
stamp="$VENV/.installed"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating the virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing distrohub and its pinned stack into $VENV (about a minute)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -m pip install --quiet --progress-bar off -e '.[test]' 2>&1 \
    | grep -vE "^WARNING: Location|^ *$|!!|WheelFile|with strategy" || true
  "$VENV/bin/python" -c 'import dagster, dagster_postgres, dagster_dbt, dbt, great_expectations, psycopg, trytond' \
    || { echo "the install did not complete: see the pip output above" >&2; exit 1; }
  touch "$stamp"
fi
say "set-up complete ($("$VENV/bin/python" --version), $(ls -d /usr/lib/postgresql/*/bin | head -1))"

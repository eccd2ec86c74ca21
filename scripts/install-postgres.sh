#!/usr/bin/env bash
# Installs PostgreSQL 15's server binaries from Debian's packages when they are missing. The tests start
# their own short-lived server from these binaries (initdb and pg_ctl in a temporary directory on a free
# port), so nothing here starts, configures or enables a system-wide cluster.
set -Eeuo pipefail

PG_BIN="${M365_PG_BIN:-/usr/lib/postgresql/15/bin}"
say() { printf 'install-postgres: %s\n' "$*"; }

if [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" && -x "$PG_BIN/postgres" ]]; then
  say "PostgreSQL server binaries present in $PG_BIN"
  exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  say "PostgreSQL 15 is missing from $PG_BIN and installing it needs root: run 'apt-get install postgresql-15' as root" >&2
  exit 1
fi

say "installing postgresql-15 from Debian's packages ..."
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
if [[ ! -x "$PG_BIN/initdb" ]]; then
  say "postgresql-15 installed but $PG_BIN/initdb is missing" >&2
  exit 1
fi
say "installed: $("$PG_BIN/postgres" --version)"

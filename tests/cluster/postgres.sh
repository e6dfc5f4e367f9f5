#!/usr/bin/env bash
# A real PostgreSQL server for the tests marked `postgres` (tests/cluster_support.py
# reads what this writes). Run as root:
#
#   tests/cluster/postgres.sh up      install Debian's postgresql when missing, start a
#                                     server of its own (not the Debian `main` cluster)
#                                     on 127.0.0.1 (port 5432, or the next free one), with
#                                     a user `hpreg` that may create databases, and write
#                                     the state file; a no-op when already up
#   tests/cluster/postgres.sh down    stop it
#   tests/cluster/postgres.sh status  exit 0 when it is up
#
# The data lives in $DATA_DIR (kept across down/up; fsync is off: test data only), the
# log in $LOG_DIR/postgres.log, and $STATE_DIR/postgres.env holds
# POSTGRES_URL=postgresql+psycopg2://hpreg:hpreg@127.0.0.1:PORT/hpreg (the tests make a
# fresh database per test from it).
set -Eeuo pipefail
# the server started here lives on: no descriptor of the caller's may go with it
for fd in 3 4 5 6 7 8 9; do eval "exec $fd>&-"; done
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

STATE_DIR=${HPREG_TEST_CLUSTER_DIR:-/run/hpreg-test-cluster}
LOG_DIR=${HPREG_TEST_CLUSTER_LOGS:-/var/log/hpreg-test-cluster}
DATA_DIR=${HPREG_TEST_POSTGRES_DATA:-/var/lib/hpreg-test-cluster/postgres}
ENV_FILE=$STATE_DIR/postgres.env
SOCKET_DIR=$STATE_DIR/postgres-socket
PG_USER=hpreg
PG_PASS=hpreg
PG_DB=hpreg
WAIT=${HPREG_TEST_CLUSTER_WAIT:-90}

log() { echo "postgres.sh: $*" >&2; }

die() {
  log "error: $*"
  if [ -s "$LOG_DIR/postgres.log" ]; then
    echo "----- last lines of $LOG_DIR/postgres.log -----" >&2
    tail -n 20 "$LOG_DIR/postgres.log" >&2 || true
  fi
  exit 1
}

trap 'die "line $LINENO failed: $BASH_COMMAND"' ERR

need_root() {
  [ "$(id -u)" = 0 ] || { log "error: run as root (sudo $0 $*)"; exit 1; }
}

bin_dir() { # the newest installed server's bin folder
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

install_packages() {
  bin_dir >/dev/null && command -v psql >/dev/null && return 0
  log "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends postgresql >"$LOG_DIR/apt-postgres.log" 2>&1; then
    log "apt-get install failed; running apt-get update first"
    apt-get update >>"$LOG_DIR/apt-postgres.log" 2>&1 ||
      { tail -n 30 "$LOG_DIR/apt-postgres.log" >&2; exit 1; }
    apt-get install -y --no-install-recommends postgresql >>"$LOG_DIR/apt-postgres.log" 2>&1 ||
      { tail -n 30 "$LOG_DIR/apt-postgres.log" >&2; exit 1; }
  fi
}

as_postgres() { runuser -u postgres -- "$@"; }

port_busy() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { # our server answers on its socket
  [ -s "$DATA_DIR/postmaster.pid" ] || return 1
  local port
  port=$(sed -n 4p "$DATA_DIR/postmaster.pid")
  as_postgres "$BIN/pg_isready" -q -h "$SOCKET_DIR" -p "$port"
}

is_up() {
  BIN=$(bin_dir) || return 1
  [ -s "$ENV_FILE" ] && running
}

up() {
  need_root up
  mkdir -p "$STATE_DIR" "$LOG_DIR"
  if is_up; then
    log "already up ($(grep ^POSTGRES_URL= "$ENV_FILE" | cut -d= -f2-))"
    return 0
  fi
  local start=$SECONDS port
  install_packages
  BIN=$(bin_dir) || die "no PostgreSQL server found under /usr/lib/postgresql"
  mkdir -p "$SOCKET_DIR" "$(dirname "$DATA_DIR")"
  chown postgres:postgres "$SOCKET_DIR"
  touch "$LOG_DIR/postgres.log"
  chown postgres:postgres "$LOG_DIR/postgres.log"
  if [ ! -s "$DATA_DIR/PG_VERSION" ]; then
    log "initdb $DATA_DIR"
    mkdir -p "$DATA_DIR"
    chown postgres:postgres "$DATA_DIR"
    chmod 700 "$DATA_DIR"
    as_postgres "$BIN/initdb" -D "$DATA_DIR" -U postgres --auth-local=peer \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$LOG_DIR/initdb.log" 2>&1 ||
      { tail -n 20 "$LOG_DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  if ! running; then
    port=5432
    while port_busy "$port"; do
      port=$((port + 1))
      [ "$port" -lt 5500 ] || die "no free port in 5432-5499"
    done
    log "starting postgres on 127.0.0.1:$port"
    as_postgres "$BIN/pg_ctl" -D "$DATA_DIR" -l "$LOG_DIR/postgres.log" -w -t "$WAIT" \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$SOCKET_DIR \
-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start </dev/null >/dev/null || die "postgres did not start"
  fi
  port=$(sed -n 4p "$DATA_DIR/postmaster.pid")
  as_postgres psql -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$port" -d postgres <<EOF >/dev/null ||
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASS';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB')\gexec
EOF
    die "could not create the user and database"
  local tmp
  tmp=$(mktemp "$STATE_DIR/.postgres.env.XXXXXX")
  cat >"$tmp" <<EOF
# written by tests/cluster/postgres.sh up; read by tests/cluster_support.py
POSTGRES_URL=postgresql+psycopg2://$PG_USER:$PG_PASS@127.0.0.1:$port/$PG_DB
POSTGRES_HOST=127.0.0.1
POSTGRES_PORT=$port
POSTGRES_USER=$PG_USER
POSTGRES_PASSWORD=$PG_PASS
POSTGRES_DB=$PG_DB
DATA_DIR=$DATA_DIR
LOG_DIR=$LOG_DIR
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
  chmod 644 "$tmp"
  mv "$tmp" "$ENV_FILE"
  log "up in $((SECONDS - start))s: 127.0.0.1:$port, state in $ENV_FILE"
}

down() {
  need_root down
  rm -f "$ENV_FILE"
  BIN=$(bin_dir) || return 0
  if [ -s "$DATA_DIR/postmaster.pid" ]; then
    as_postgres "$BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  log "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) trap - ERR && is_up ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac

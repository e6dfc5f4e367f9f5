#!/usr/bin/env bash
# A real one-node Slurm cluster with accounting on this machine, for the tests marked
# `slurm` (tests/cluster_support.py reads what this writes). Run as root:
#
#   tests/cluster/slurm.sh up         install (Debian packages) when missing, start
#                                     munge, mariadb, slurmdbd, slurmctld and slurmd,
#                                     wait until the node is idle and sacct answers, and
#                                     write the state file; a no-op when already up
#   tests/cluster/slurm.sh down       stop every daemon `up` started
#   tests/cluster/slurm.sh status     exit 0 when the cluster is up
#   tests/cluster/slurm.sh stop-dbd   stop slurmdbd alone (an accounting outage)
#   tests/cluster/slurm.sh start-dbd  start it again and wait until sacct answers
#
# The cluster: ClusterName=hpreg, one node named after this host (`hostname -s`,
# CPUs=$(nproc)), one partition `debug`, MaxArraySize=101, accounting enforced
# (associations,limits,qos) with account `hpreg`, user root, and a QOS `capped`
# (MaxSubmitJobsPerUser=150) that root may use (`--qos=capped`). No cgroups here:
# proctrack/linuxproc and task/none. systemd is not running: the daemons are started
# directly. Their logs are in $LOG_DIR, their pid files in $STATE_DIR, and the state
# file $STATE_DIR/slurm.env (KEY=VALUE lines) says what the tests need.
set -Eeuo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
# the daemons started here live on: no descriptor of the caller's may go with them
# (a test lock held by `flock`, a pipe), or it stays held for as long as they run
for fd in 3 4 5 6 7 8 9; do eval "exec $fd>&-"; done

STATE_DIR=${HPREG_TEST_CLUSTER_DIR:-/run/hpreg-test-cluster}
LOG_DIR=${HPREG_TEST_CLUSTER_LOGS:-/var/log/hpreg-test-cluster}
ENV_FILE=$STATE_DIR/slurm.env
SLURM_CONF=/etc/slurm/slurm.conf
DBD_CONF=/etc/slurm/slurmdbd.conf
CLUSTER=hpreg
ACCOUNT=hpreg
PARTITION=debug
QOS=capped
QOS_MAX_SUBMIT=150
MAX_ARRAY_SIZE=101
DB_NAME=slurm_acct_db
DB_USER=slurm
DB_PASS=hpreg-slurm
MYSQL_SOCKET=/run/mysqld/mysqld.sock
MYSQL_PID=/run/mysqld/mysqld.pid
NODE=$(hostname -s)
WAIT=${HPREG_TEST_CLUSTER_WAIT:-90} # seconds, for each daemon to come up
PACKAGES=(slurm-wlm slurmdbd munge mariadb-server)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

export SLURM_CONF

log() { echo "slurm.sh: $*" >&2; }

show_logs() {
  local file
  for file in "$LOG_DIR"/{mariadb,slurmdbd,slurmctld,slurmd}.log /var/log/munge/munged.log; do
    [ -s "$file" ] || continue
    echo "----- last lines of $file -----" >&2
    tail -n 15 "$file" >&2 || true
  done
}

die() {
  log "error: $*"
  show_logs
  exit 1
}

trap 'die "line $LINENO failed: $BASH_COMMAND"' ERR

need_root() {
  [ "$(id -u)" = 0 ] || { log "error: run as root (sudo $0 $*)"; exit 1; }
}

# wait_for SECONDS WHAT COMMAND...: poll COMMAND until it succeeds, or die; with
# GUARD="PIDFILE NAME" set, die as soon as that daemon is gone (after 3 s of grace)
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds)) grace=$((SECONDS + 3))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "$what did not come up within ${seconds}s"
    fi
    # shellcheck disable=SC2086
    if [ -n "${GUARD:-}" ] && [ "$SECONDS" -ge "$grace" ] && ! alive $GUARD; then
      die "$what exited while starting"
    fi
    sleep 0.25
  done
}

# live PID: the process runs (a zombie, dead but not reaped, does not)
live() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# alive PIDFILE NAME: the process of the pid file runs, and is NAME
alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && live "$pid" || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

# stop PIDFILE NAME: TERM, wait up to 20 s, then KILL
stop() {
  local pid i
  alive "$1" "$2" || { rm -f "$1"; return 0; }
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 80); do
    live "$pid" || break
    sleep 0.25
  done
  if live "$pid"; then
    log "$2 (pid $pid) ignored SIGTERM: killing it"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$1"
}

install_packages() {
  local missing=0 tool
  for tool in slurmctld slurmd slurmdbd sacctmgr munged mariadbd; do
    command -v "$tool" >/dev/null 2>&1 || missing=1
  done
  [ "$missing" = 1 ] || return 0
  log "installing ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${PACKAGES[@]}" >"$LOG_DIR/apt.log" 2>&1; then
    log "apt-get install failed; running apt-get update first"
    apt-get update >>"$LOG_DIR/apt.log" 2>&1 || { tail -n 30 "$LOG_DIR/apt.log" >&2; exit 1; }
    apt-get install -y --no-install-recommends "${PACKAGES[@]}" >>"$LOG_DIR/apt.log" 2>&1 ||
      { tail -n 30 "$LOG_DIR/apt.log" >&2; exit 1; }
  fi
}

CHANGED=() # the config files write_config changed

write_if_changed() { # PATH MODE: stdin to PATH when it differs
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
  else
    mv "$tmp" "$1"
    CHANGED+=("$1")
  fi
  chmod "$2" "$1"
  chown root:root "$1"
}

write_config() {
  local cpus mem_kb mem_mb
  cpus=$(nproc)
  mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
  mem_mb=$((mem_kb / 1024 * 9 / 10)) # a bit under the real memory
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd
  write_if_changed "$SLURM_CONF" 644 <<EOF
# written by tests/cluster/slurm.sh: a one-node test cluster with accounting
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$STATE_DIR/slurmctld.pid
SlurmdPidFile=$STATE_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MaxArraySize=$MAX_ARRAY_SIZE
JobRequeue=1
MinJobAge=10
KillWait=5
InactiveLimit=0
Waittime=0
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageEnforce=associations,limits,qos
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
JobCompType=jobcomp/none
AccountingStoreFlags=job_comment
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  write_if_changed "$DBD_CONF" 600 <<EOF
# written by tests/cluster/slurm.sh
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
DebugLevel=info
LogFile=$LOG_DIR/slurmdbd.log
PidFile=$STATE_DIR/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=$DB_USER
StoragePass=$DB_PASS
StorageLoc=$DB_NAME
EOF
}

munge_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  munge_ok && return 0
  [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  log "starting munged"
  runuser -u munge -- munged --force </dev/null >>"$LOG_DIR/munged.out" 2>&1 ||
    die "munged did not start"
  touch "$STATE_DIR/munged.ours"
  GUARD="/run/munge/munged.pid munged" wait_for "$WAIT" munged munge_ok
}

mysql_ok() { mariadb-admin --socket="$MYSQL_SOCKET" ping >/dev/null 2>&1; }

start_mariadb() {
  if ! mysql_ok; then
    [ -d /var/lib/mysql/mysql ] ||
      mariadb-install-db --user=mysql >"$LOG_DIR/mariadb-install.log" 2>&1 ||
      die "mariadb-install-db failed (see $LOG_DIR/mariadb-install.log)"
    mkdir -p /run/mysqld
    chown mysql:mysql /run/mysqld
    log "starting mariadb"
    touch "$LOG_DIR/mariadb.log"
    chown mysql:mysql "$LOG_DIR/mariadb.log"
    setsid mariadbd --user=mysql --pid-file="$MYSQL_PID" \
      --socket="$MYSQL_SOCKET" --log-error="$LOG_DIR/mariadb.log" \
      --innodb-lock-wait-timeout=900 \
      </dev/null >>"$LOG_DIR/mariadb.out" 2>&1 &
    touch "$STATE_DIR/mariadb.ours"
    GUARD="$MYSQL_PID mariadbd" wait_for "$WAIT" mariadb mysql_ok
  fi
  mariadb --socket="$MYSQL_SOCKET" -uroot <<EOF || die "could not create the database"
CREATE DATABASE IF NOT EXISTS $DB_NAME;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'localhost';
FLUSH PRIVILEGES;
EOF
}

dbd_ok() { sacctmgr -n -P list cluster format=cluster >/dev/null 2>&1; }

start_slurmdbd() {
  if ! alive "$STATE_DIR/slurmdbd.pid" slurmdbd; then
    log "starting slurmdbd"
    slurmdbd </dev/null >>"$LOG_DIR/slurmdbd.out" 2>&1 || die "slurmdbd did not start"
  fi
  GUARD="$STATE_DIR/slurmdbd.pid slurmdbd" wait_for "$WAIT" slurmdbd dbd_ok
}

# sacctmgr_has ENTITY FIELD NAME: an entity whose FIELD is NAME exists
sacctmgr_has() {
  sacctmgr -n -P list "$1" format="$2" 2>/dev/null | grep -x "$3" >/dev/null
}

setup_accounting() {
  sacctmgr_has cluster cluster "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
  sacctmgr_has account account "$ACCOUNT" ||
    sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description=hpreg-tests \
      Organization=hpreg >/dev/null
  if ! sacctmgr -n -P list assoc cluster="$CLUSTER" account="$ACCOUNT" user=root \
    format=user | grep -x root >/dev/null; then
    sacctmgr -i add user root Account="$ACCOUNT" DefaultAccount="$ACCOUNT" \
      Cluster="$CLUSTER" >/dev/null
  fi
  if sacctmgr_has qos name "$QOS"; then
    sacctmgr -i modify qos "$QOS" set MaxSubmitJobsPerUser="$QOS_MAX_SUBMIT" >/dev/null || true
  else
    sacctmgr -i add qos "$QOS" MaxSubmitJobsPerUser="$QOS_MAX_SUBMIT" >/dev/null
  fi
  if ! sacctmgr -n -P list assoc cluster="$CLUSTER" account="$ACCOUNT" user=root \
    format=qos | tr ',' '\n' | grep -x "$QOS" >/dev/null; then
    sacctmgr -i modify user root set qos+="$QOS" >/dev/null
  fi
}

ctld_ok() { scontrol ping 2>/dev/null | grep "is UP" >/dev/null; }

start_slurmctld() {
  if ! alive "$STATE_DIR/slurmctld.pid" slurmctld; then
    log "starting slurmctld"
    slurmctld -i </dev/null >>"$LOG_DIR/slurmctld.out" 2>&1 || die "slurmctld did not start"
  fi
  GUARD="$STATE_DIR/slurmctld.pid slurmctld" wait_for "$WAIT" slurmctld ctld_ok
}

node_state() { sinfo -h -N -n "$NODE" -o %T 2>/dev/null | awk "NR == 1"; }

node_idle() { [ "$(node_state)" = idle ]; }

node_up() { # idle, or busy with jobs (a no-op `up` while tests run)
  case "$(node_state)" in
    idle | mixed | allocated | completing) return 0 ;;
    *) return 1 ;;
  esac
}

start_slurmd() {
  if ! alive "$STATE_DIR/slurmd.pid" slurmd; then
    log "starting slurmd"
    slurmd </dev/null >>"$LOG_DIR/slurmd.out" 2>&1 || die "slurmd did not start"
  fi
  case "$(node_state)" in
    down* | drain* | fail*)
      scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
      ;;
  esac
  GUARD="$STATE_DIR/slurmd.pid slurmd" wait_for "$WAIT" "node $NODE (idle in sinfo)" node_up
}

sacct_ok() { sacct -n -X -S now-1minutes -o jobid >/dev/null 2>&1; }

write_env() {
  local tmp max
  max=$(scontrol show config | awk -F= '/^MaxArraySize/ {gsub(/ /, "", $2); print $2}')
  tmp=$(mktemp "$STATE_DIR/.slurm.env.XXXXXX")
  cat >"$tmp" <<EOF
# written by tests/cluster/slurm.sh up; read by tests/cluster_support.py
CLUSTER_NAME=$CLUSTER
NODE=$NODE
CPUS=$(nproc)
PARTITION=$PARTITION
ACCOUNT=$ACCOUNT
QOS_CAPPED=$QOS
QOS_CAPPED_MAX_SUBMIT=$QOS_MAX_SUBMIT
MAX_ARRAY_SIZE=$max
SLURM_CONF=$SLURM_CONF
LOG_DIR=$LOG_DIR
STATE_DIR=$STATE_DIR
SCRIPT=$HERE/slurm.sh
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
  chmod 644 "$tmp"
  mv "$tmp" "$ENV_FILE"
}

is_up() {
  [ -s "$ENV_FILE" ] && munge_ok && mysql_ok &&
    alive "$STATE_DIR/slurmdbd.pid" slurmdbd &&
    alive "$STATE_DIR/slurmctld.pid" slurmctld &&
    alive "$STATE_DIR/slurmd.pid" slurmd && ctld_ok && node_up && sacct_ok
}

up() {
  need_root up
  mkdir -p "$STATE_DIR" "$LOG_DIR"
  write_config
  if [ "${#CHANGED[@]}" = 0 ] && command -v slurmctld >/dev/null 2>&1 && is_up; then
    log "already up (node $NODE: $(node_state))"
    return 0
  fi
  local start=$SECONDS reconfigure=0
  if [[ " ${CHANGED[*]} " == *" $SLURM_CONF "* ]] &&
    alive "$STATE_DIR/slurmctld.pid" slurmctld; then
    reconfigure=1 # a running slurmctld reads the new slurm.conf
  fi
  install_packages
  start_munge
  start_mariadb
  if [[ " ${CHANGED[*]} " == *" $DBD_CONF "* ]]; then
    stop "$STATE_DIR/slurmdbd.pid" slurmdbd # to read its new config
  fi
  start_slurmdbd
  setup_accounting
  start_slurmctld
  if [ "$reconfigure" = 1 ]; then
    log "slurm.conf changed: scontrol reconfigure"
    scontrol reconfigure >/dev/null || die "scontrol reconfigure failed"
  fi
  start_slurmd
  wait_for "$WAIT" "sacct" sacct_ok
  write_env
  log "up in $((SECONDS - start))s: node $NODE ($(node_state)), state in $ENV_FILE"
}

down() {
  need_root down
  rm -f "$ENV_FILE"
  stop "$STATE_DIR/slurmd.pid" slurmd
  stop "$STATE_DIR/slurmctld.pid" slurmctld
  stop "$STATE_DIR/slurmdbd.pid" slurmdbd
  if [ -e "$STATE_DIR/mariadb.ours" ]; then
    stop "$MYSQL_PID" mariadbd
    rm -f "$STATE_DIR/mariadb.ours"
  fi
  if [ -e "$STATE_DIR/munged.ours" ]; then
    stop /run/munge/munged.pid munged
    rm -f "$STATE_DIR/munged.ours"
  fi
  log "down"
}

stop_dbd() {
  need_root stop-dbd
  stop "$STATE_DIR/slurmdbd.pid" slurmdbd
  log "slurmdbd stopped"
}

start_dbd() {
  need_root start-dbd
  mkdir -p "$STATE_DIR" "$LOG_DIR"
  start_slurmdbd
  wait_for "$WAIT" "sacct" sacct_ok
  log "slurmdbd started"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) trap - ERR && is_up ;;
  stop-dbd) stop_dbd ;;
  start-dbd) start_dbd ;;
  *)
    echo "usage: $0 up|down|status|stop-dbd|start-dbd" >&2
    exit 2
    ;;
esac

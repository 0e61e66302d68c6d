# services.sh — install, start and stop the real services the service suites run against: a Redis and an
# S3-compatible server (versitygw). Source it, do not run it (scripts/test-services.sh does).
#
# Everything runs on 127.0.0.1, on free ports, with data in a throwaway directory, and is stopped by
# services_stop (install it as a trap: `trap services_stop EXIT`).
#
# Provides:
#   VERSITYGW_VERSION    the pinned versitygw release, installed with `go install` into $TOOLS_BIN
#   services_init        creates the throwaway directory $SERVICES_DIR
#   ensure_redis         puts redis-server on PATH: when missing and root with apt-get, installs Debian's
#                        redis-server without letting the package start a system instance
#   start_redis          runs redis-server with a random password; sets REDIS_ADDR, REDIS_PASSWORD
#   ensure_versitygw     go-installs versitygw at VERSITYGW_VERSION into $TOOLS_BIN unless it is there
#   start_versitygw      runs versitygw (posix backend) with random root keys, creates bucket S3_BUCKET;
#                        sets S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET
#   services_stop        stops what start_* started (TERM, then KILL after 10 s) and removes $SERVICES_DIR
# shellcheck shell=bash

VERSITYGW_VERSION=v1.8.0
VERSITYGW_PKG=github.com/versity/versitygw/cmd/versitygw
SERVICE_READY_TIMEOUT=${SERVICE_READY_TIMEOUT:-30} # seconds a service may take to answer

SERVICES_DIR=""
SERVICE_PIDS=()  # pids of the processes started here
SERVICE_NAMES=() # their names, same order

services_init() {
  SERVICES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/aegis-services.XXXXXX")
}

# random_hex N: N random bytes as 2N hex digits.
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# port_in_use PORT: is something listening on 127.0.0.1:PORT?
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: a port on 127.0.0.1 that nothing listens on (from the range above the usual ephemeral start).
free_port() {
  local p i
  for i in $(seq 1 100); do
    p=$(( 20000 + ( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000 ) ))
    if ! port_in_use "$p"; then echo "$p"; return 0; fi
  done
  echo "services: no free port found" >&2
  return 1
}

# service_started NAME PID: remember a process for services_stop.
service_started() { SERVICE_NAMES+=("$1"); SERVICE_PIDS+=("$2"); }

# service_failed NAME LOG MESSAGE: print the message and the service's log, return 1.
service_failed() {
  echo "services: $1: $3" >&2
  if [ -f "$2" ]; then
    echo "---- last 60 lines of $2" >&2
    tail -n 60 "$2" >&2
    echo "----" >&2
  fi
  return 1
}

# wait_until NAME PID LOG CMD...: run CMD until it succeeds, the process dies, or SERVICE_READY_TIMEOUT passes.
wait_until() {
  local name=$1 pid=$2 log=$3 deadline
  shift 3
  deadline=$(( $(date +%s) + SERVICE_READY_TIMEOUT ))
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      service_failed "$name" "$log" "exited before it was ready"
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      service_failed "$name" "$log" "not ready after ${SERVICE_READY_TIMEOUT}s"
      return 1
    fi
    sleep 0.2
  done
}

ensure_redis() {
  if command -v redis-server >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "services: redis-server is not installed, and installing it needs root and apt-get." >&2
    echo "          Install it (Debian/Ubuntu: apt-get install redis-server) and run again." >&2
    return 1
  fi
  echo "== services: installing redis-server from Debian (apt-get)"
  # Keep the package from starting a system-wide instance: invoke-rc.d asks policy-rc.d, and 101 means
  # "action forbidden". Only a policy-rc.d created here is removed afterwards.
  local policy=/usr/sbin/policy-rc.d made_policy="" rc=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# written by aegis scripts/services.sh while installing redis-server\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq </dev/null &&
    apt-get install -y -qq --no-install-recommends redis-server </dev/null >/dev/null; } || rc=$?
  if [ -n "$made_policy" ]; then rm -f "$policy"; fi
  if [ "$rc" != 0 ]; then
    echo "services: apt-get install redis-server failed (exit $rc)" >&2
    return 1
  fi
  # If an instance was started anyway (a policy-rc.d that allowed it, or systemd), stop that one service.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
    systemctl stop redis-server || true
  elif [ -f /run/redis/redis-server.pid ] && command -v service >/dev/null 2>&1; then
    service redis-server stop >/dev/null 2>&1 || true
  fi
  command -v redis-server >/dev/null 2>&1 || { echo "services: redis-server still not on PATH after installing it" >&2; return 1; }
}

# redis_ping PORT PASSWORD: does the server answer AUTH and PING?
redis_ping() {
  local reply
  reply=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'AUTH %s\r\nPING\r\n' "$2" >&3
    IFS= read -r -t 2 a <&3 && IFS= read -r -t 2 b <&3 && printf '%s %s' "${a%$'\r'}" "${b%$'\r'}"
  )
  [ "$reply" = "+OK +PONG" ]
}

start_redis() {
  local dir=$SERVICES_DIR/redis port pid
  mkdir -p "$dir"
  port=$(free_port)
  REDIS_PASSWORD=$(random_hex 16)
  # The password goes in a 0600 config file, not on the command line.
  (umask 077 && cat >"$dir/redis.conf" <<EOF
bind 127.0.0.1
port $port
protected-mode yes
requirepass $REDIS_PASSWORD
dir $dir
save ""
appendonly no
daemonize no
logfile $dir/redis.log
EOF
  )
  redis-server "$dir/redis.conf" </dev/null >/dev/null 2>&1 &
  pid=$!
  service_started redis-server "$pid"
  wait_until redis-server "$pid" "$dir/redis.log" redis_ping "$port" "$REDIS_PASSWORD" || return 1
  REDIS_ADDR=127.0.0.1:$port
  echo "== services: redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on $REDIS_ADDR (pid $pid)"
}

ensure_versitygw() {
  local bin=$TOOLS_BIN/versitygw
  if [ -x "$bin" ] && "$GO" version -m "$bin" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/versity/versitygw[[:space:]]+$VERSITYGW_VERSION([[:space:]]|$)"; then
    return 0
  fi
  echo "== services: installing versitygw $VERSITYGW_VERSION into $TOOLS_BIN (go install; the first build takes a few minutes)"
  mkdir -p "$TOOLS_BIN"
  (cd "$SERVICES_DIR" && GOWORK=off GOFLAGS= GOBIN="$TOOLS_BIN" "$GO" install "$VERSITYGW_PKG@$VERSITYGW_VERSION") ||
    { echo "services: go install $VERSITYGW_PKG@$VERSITYGW_VERSION failed" >&2; return 1; }
}

# s3_ready PORT: does the gateway answer HTTP? (any status: an anonymous request gets 403)
s3_ready() {
  local line
  line=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
    IFS= read -r -t 2 l <&3 && printf '%s' "$l"
  )
  [[ "$line" == HTTP/1.1\ * ]]
}

start_versitygw() {
  local dir=$SERVICES_DIR/s3 port pid log sidecar=()
  mkdir -p "$dir/root" "$dir/meta"
  log=$dir/versitygw.log
  port=$(free_port)
  S3_ACCESS_KEY=AK$(random_hex 9 | tr 'a-f' 'A-F')
  S3_SECRET_KEY=$(random_hex 20)
  S3_BUCKET=${S3_BUCKET:-aegis-test}
  # The posix backend keeps metadata (ETags among it) in user xattrs; where the file system has none,
  # a sidecar directory holds it.
  if ! xattrs_work "$dir/root"; then sidecar=(--sidecar "$dir/meta"); fi
  ROOT_ACCESS_KEY_ID=$S3_ACCESS_KEY ROOT_SECRET_ACCESS_KEY=$S3_SECRET_KEY \
    "$TOOLS_BIN/versitygw" --port "127.0.0.1:$port" --quiet posix "${sidecar[@]}" "$dir/root" \
    </dev/null >"$log" 2>&1 &
  pid=$!
  service_started versitygw "$pid"
  wait_until versitygw "$pid" "$log" s3_ready "$port" || return 1
  S3_ENDPOINT=127.0.0.1:$port
  ADMIN_ACCESS_KEY_ID=$S3_ACCESS_KEY ADMIN_SECRET_ACCESS_KEY=$S3_SECRET_KEY \
    "$TOOLS_BIN/versitygw" admin --endpoint-url "http://$S3_ENDPOINT" \
    create-bucket --owner "$S3_ACCESS_KEY" --bucket "$S3_BUCKET" >>"$log" 2>&1 ||
    { service_failed versitygw "$log" "could not create bucket $S3_BUCKET"; return 1; }
  echo "== services: versitygw $VERSITYGW_VERSION on $S3_ENDPOINT, bucket $S3_BUCKET (pid $pid)${sidecar:+, metadata in a sidecar directory}"
}

# xattrs_work DIR: can a user.* extended attribute be set on a file in DIR? (checked with Python or
# setfattr when available; without either, assume yes, as on ext4, xfs, btrfs and tmpfs)
xattrs_work() {
  local f=$1/.xattr-probe ok=0
  : >"$f"
  if command -v setfattr >/dev/null 2>&1; then
    setfattr -n user.aegis -v 1 "$f" 2>/dev/null || ok=1
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.aegis", b"1")' "$f" 2>/dev/null || ok=1
  fi
  rm -f "$f"
  return $ok
}

services_stop() {
  local i pid name waited
  for (( i = ${#SERVICE_PIDS[@]} - 1; i >= 0; i-- )); do
    pid=${SERVICE_PIDS[$i]} name=${SERVICE_NAMES[$i]}
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
    waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 50 ]; do sleep 0.2; waited=$((waited + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
      echo "services: $name (pid $pid) did not stop on TERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    echo "== services: stopped $name (pid $pid)"
  done
  SERVICE_PIDS=() SERVICE_NAMES=()
  if [ -n "$SERVICES_DIR" ] && [ -d "$SERVICES_DIR" ]; then rm -rf "$SERVICES_DIR"; fi
  SERVICES_DIR=""
}

#!/usr/bin/env bash
# load.sh — the load generator (apps/cmd/aegis-load) against a real aegisd on loopback.
#
# Builds aegisd and aegis-load into a temporary directory, starts aegisd on a free 127.0.0.1 port with its file
# store, file ledger and issuer keys in that directory (and an attestation secret file), runs aegis-load with
# $LOAD_CLIENTS clients (default 8) for $LOAD_DURATION (default 20s), $LOAD_PUT_RATIO PUTs (default 0.5) of
# $LOAD_SIZE objects (default 1KiB), prints its report, stops the server (SIGTERM, wait) and removes everything.
# $LOAD_TOKEN_TYPE is passed to aegisd's --token-type (e.g. voprf or blind-rsa; empty: aegisd's default type).
# The clients fetch their tokens during the run: the report gives the requests per second and the issuance's
# cost (round trips, tokens, fetch_seconds summed over the clients, fetch_share of the run's wall time).
# $LOAD_ARGS is passed on to aegis-load as is (e.g. LOAD_ARGS="--tokens-batch 128").
# With $LOAD_RELAY=1 (the default; LOAD_RELAY=0 for the direct run only) it also builds aegis-relay, starts it on
# 127.0.0.1 in front of aegisd's gateway (--rate 0: no per-connection limit, which would cap each client at 20
# requests/s) and, after the direct run, runs aegis-load a second time with the same settings through the relay
# (--relay: every request and token request encapsulated, Oblivious HTTP), against the same aegisd. Both results
# go in the JSON: "result" (direct) and "relay_result".
# The result is kept in benchmarks/load-latest.json (replaced only after a run without errors) and
# docs/performance.md is regenerated from it and benchmarks/results-latest.txt.
# Exits non-zero when aegis-load reports any error (its exit code) or the server misbehaves.
#
# usage: scripts/load.sh      (normally via `make load [LOAD_CLIENTS=8 LOAD_DURATION=20s]`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

clients=${LOAD_CLIENTS:-8}
duration=${LOAD_DURATION:-20s}
put_ratio=${LOAD_PUT_RATIO:-0.5}
size=${LOAD_SIZE:-1KiB}
token_type=${LOAD_TOKEN_TYPE:-}
extra=${LOAD_ARGS:-}
through_relay=${LOAD_RELAY:-1}
case "$through_relay" in 0 | 1) ;; *) echo "load: LOAD_RELAY must be 0 or 1, got '$through_relay'" >&2; exit 2 ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/aegis-load.XXXXXX")
server_pid="" relay_pid=""
cleanup() {
  local rc=$?
  for pid in "$relay_pid" "$server_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ "$rc" -ne 0 ]; then
    echo "load: FAILED (exit $rc)" >&2
    [ -s "${server_log:-/dev/null}" ] && grep -v 'method=' "$server_log" | tail -n 20 | sed 's/^/   aegisd log: /' >&2 || true
    [ -s "${relay_log:-/dev/null}" ] && grep -v 'method=' "$relay_log" | tail -n 20 | sed 's/^/   aegis-relay log: /' >&2 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

umask 077
bin=$work/bin
srv=$work/server
mkdir -p "$bin" "$srv"
server_log=$work/aegisd.log
relay_log=$work/aegis-relay.log

if [ "$through_relay" = 1 ]; then
  hdr "build: aegisd, aegis-relay and aegis-load -> ${work}/bin"
  (cd apps && "$GO" build -o "$bin/" ./cmd/aegisd ./cmd/aegis-relay ./cmd/aegis-load)
else
  hdr "build: aegisd and aegis-load -> ${work}/bin"
  (cd apps && "$GO" build -o "$bin/" ./cmd/aegisd ./cmd/aegis-load)
fi

hdr "aegisd: start on 127.0.0.1 (a free port), file store and file ledger in $srv"
aegisd_flags="--listen 127.0.0.1:0 --store file://\$DIR/objects --ledger file://\$DIR/ledger --issuer-dir \$DIR/issuer --attest-secret-file \$DIR/attest-secret${token_type:+ --token-type $token_type}"
start_aegisd "$bin/aegisd" "$srv" "$server_log" ${token_type:+--token-type "$token_type"}
ok "aegisd (pid $server_pid) listening on http://$addr"

relay_flags="--listen 127.0.0.1:0 --gateway http://\$AEGISD --rate 0"
if [ "$through_relay" = 1 ]; then
  hdr "aegis-relay: start on 127.0.0.1 (a free port), in front of aegisd's gateway, no per-connection rate limit"
  "$bin/aegis-relay" --listen 127.0.0.1:0 --gateway "http://$addr" --rate 0 >"$relay_log" 2>&1 &
  relay_pid=$!
  relay_addr=""
  for _ in $(seq 1 200); do
    relay_addr=$(sed -n 's/.*aegis-relay: listening on \([^ ,]*\).*/\1/p' "$relay_log" | head -n1)
    [ -n "$relay_addr" ] && break
    kill -0 "$relay_pid" 2>/dev/null || { echo "aegis-relay exited early:" >&2; cat "$relay_log" >&2; exit 1; }
    sleep 0.05
  done
  [ -n "$relay_addr" ] || { echo "aegis-relay did not start within 10 s" >&2; exit 1; }
  ok "aegis-relay (pid $relay_pid) listening on http://$relay_addr, gateway http://$addr"
fi

hdr "aegis-load: $clients clients, $duration, put ratio $put_ratio, $size objects, token type ${token_type:-(aegisd default)}, direct"
# shellcheck disable=SC2086 # LOAD_ARGS is a list of flags
"$bin/aegis-load" --server "http://$addr" --attest-secret-file "$srv/attest-secret" --clients "$clients" \
  --duration "$duration" --put-ratio "$put_ratio" --size "$size" $extra --json >"$work/result.json"
relay_json=""
if [ "$through_relay" = 1 ]; then
  hdr "aegis-load: the same, through aegis-relay (Oblivious HTTP)"
  # shellcheck disable=SC2086 # LOAD_ARGS is a list of flags
  "$bin/aegis-load" --server "http://$addr" --relay "http://$relay_addr" --attest-secret-file "$srv/attest-secret" --clients "$clients" \
    --duration "$duration" --put-ratio "$put_ratio" --size "$size" $extra --json >"$work/relay-result.json"
  relay_json=",
  \"relay\": \"aegis-relay $relay_flags\",
  \"relay_result\": $(cat "$work/relay-result.json")"
fi
cat >"$work/load.json" <<JSON
{
  "command": "make load LOAD_CLIENTS=$clients LOAD_DURATION=$duration LOAD_PUT_RATIO=$put_ratio LOAD_SIZE=$size LOAD_RELAY=$through_relay${token_type:+ LOAD_TOKEN_TYPE=$token_type}${extra:+ LOAD_ARGS='$extra'}",
  "aegisd": "aegisd $aegisd_flags",
  "cpu": "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1 | tr -d '"\\')",
  "nproc": $(nproc),
  "result": $(cat "$work/result.json")$relay_json
}
JSON

if [ "$through_relay" = 1 ]; then
  hdr "aegis-relay: stop (SIGTERM, wait)"
  kill -TERM "$relay_pid"
  wait "$relay_pid" || { echo "aegis-relay exited with $?" >&2; exit 1; }
  relay_pid=""
  ok "aegis-relay stopped cleanly; it relayed $(grep -c 'method=' "$relay_log" || true) requests"
fi

hdr "aegisd: stop (SIGTERM, wait)"
kill -TERM "$server_pid"
wait "$server_pid" || { echo "aegisd exited with $?" >&2; exit 1; }
server_pid=""
ok "aegisd stopped cleanly; it answered $(grep -c 'method=' "$server_log" || true) requests"

cp "$work/load.json" "$ROOT/benchmarks/load-latest.json.tmp" && mv -f "$ROOT/benchmarks/load-latest.json.tmp" "$ROOT/benchmarks/load-latest.json"
hdr "result (benchmarks/load-latest.json)"
sed -n '/"result"/,$p' "$ROOT/benchmarks/load-latest.json" | grep -E '"(relay_result|relay|token_type_name|requests|puts|gets|errors|requests_per_s|p50|p99|p999|fetch_round_trips|tokens_fetched|fetch_seconds|fetch_share)"' | sed 's/^ */   /'
if [ -f "$ROOT/benchmarks/results-latest.txt" ]; then
  hdr "docs/performance.md: regenerate"
  (cd "$ROOT/benchmarks" && "$GO" run ./cmd/benchtable -results "$ROOT/benchmarks/results-latest.txt" \
    -load "$ROOT/benchmarks/load-latest.json" -doc "$ROOT/docs/performance.md" >/dev/null) && ok "docs/performance.md"
fi

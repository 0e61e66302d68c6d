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

work=$(mktemp -d "${TMPDIR:-/tmp}/aegis-load.XXXXXX")
server_pid=""
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ]; then
    echo "load: FAILED (exit $rc)" >&2
    [ -s "${server_log:-/dev/null}" ] && grep -v 'method=' "$server_log" | tail -n 20 | sed 's/^/   aegisd log: /' >&2 || true
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

hdr "build: aegisd and aegis-load -> ${work}/bin"
(cd apps && "$GO" build -o "$bin/" ./cmd/aegisd ./cmd/aegis-load)

hdr "aegisd: start on 127.0.0.1 (a free port), file store and file ledger in $srv"
aegisd_flags="--listen 127.0.0.1:0 --store file://\$DIR/objects --ledger file://\$DIR/ledger --issuer-dir \$DIR/issuer --attest-secret-file \$DIR/attest-secret${token_type:+ --token-type $token_type}"
start_aegisd "$bin/aegisd" "$srv" "$server_log" ${token_type:+--token-type "$token_type"}
ok "aegisd (pid $server_pid) listening on http://$addr"

hdr "aegis-load: $clients clients, $duration, put ratio $put_ratio, $size objects, token type ${token_type:-(aegisd default)}"
# shellcheck disable=SC2086 # LOAD_ARGS is a list of flags
"$bin/aegis-load" --server "http://$addr" --attest-secret-file "$srv/attest-secret" --clients "$clients" \
  --duration "$duration" --put-ratio "$put_ratio" --size "$size" $extra --json >"$work/result.json"
cat >"$work/load.json" <<JSON
{
  "command": "make load LOAD_CLIENTS=$clients LOAD_DURATION=$duration LOAD_PUT_RATIO=$put_ratio LOAD_SIZE=$size${token_type:+ LOAD_TOKEN_TYPE=$token_type}${extra:+ LOAD_ARGS='$extra'}",
  "aegisd": "aegisd $aegisd_flags",
  "cpu": "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1 | tr -d '"\\')",
  "nproc": $(nproc),
  "result": $(cat "$work/result.json")
}
JSON

hdr "aegisd: stop (SIGTERM, wait)"
kill -TERM "$server_pid"
wait "$server_pid" || { echo "aegisd exited with $?" >&2; exit 1; }
server_pid=""
ok "aegisd stopped cleanly; it answered $(grep -c 'method=' "$server_log" || true) requests"

cp "$work/load.json" "$ROOT/benchmarks/load-latest.json.tmp" && mv -f "$ROOT/benchmarks/load-latest.json.tmp" "$ROOT/benchmarks/load-latest.json"
hdr "result (benchmarks/load-latest.json)"
sed -n '/"result"/,$p' "$ROOT/benchmarks/load-latest.json" | grep -E '"(token_type_name|requests|puts|gets|errors|requests_per_s|p50|p99|p999|fetch_round_trips|tokens_fetched|fetch_seconds|fetch_share)"' | sed 's/^ */   /'
if [ -f "$ROOT/benchmarks/results-latest.txt" ]; then
  hdr "docs/performance.md: regenerate"
  (cd "$ROOT/benchmarks" && "$GO" run ./cmd/benchtable -results "$ROOT/benchmarks/results-latest.txt" \
    -load "$ROOT/benchmarks/load-latest.json" -doc "$ROOT/docs/performance.md" >/dev/null) && ok "docs/performance.md"
fi

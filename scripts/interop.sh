#!/usr/bin/env bash
# interop.sh — aegisd against an independent Privacy Pass client: Cloudflare's privacypass-ts (npm), at the
# version pinned in interop/privacypass-ts/package.json and package-lock.json, for token types 1 and 2.
#
# Builds aegisd into a temporary directory, installs privacypass-ts with `npm ci` (into
# interop/privacypass-ts/node_modules, ignored by git), starts two aegisd on free 127.0.0.1 ports, each with
# its file store, ledger, issuer keys and attestation secret in the temporary directory: one with
# --token-type voprf (type 1), one with --token-type blind-rsa (type 2). It then runs
# interop/privacypass-ts/interop.mjs against each (challenge, directory, issuance, verification, PUT, GET,
# replay: the steps are listed at the top of that file), which prints one PASS or FAIL line per step, stops
# the servers (SIGTERM, wait: each must exit 0) and removes the temporary directory — also on a failure,
# an error or Ctrl-C. Exits non-zero when node or npm is missing (Node.js 20 or later), when npm ci fails or
# when any step of either type fails. `make test-services` runs it after the Go service suites.
#
# usage: scripts/interop.sh      (normally via `make interop`)
# env:   INTEROP_PAIRS  PUT/GET pairs per type, two tokens each (default 3)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

pairs=${INTEROP_PAIRS:-3}
client_dir=$ROOT/interop/privacypass-ts
total_start=$(date +%s)

work=""
server_pid=""
servers=()
cleanup() {
  local rc=$? pid
  for pid in "${servers[@]}" $server_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ "$rc" -ne 0 ]; then
    echo "interop: FAILED (exit $rc)" >&2
    local log
    for log in "${work:-/nonexistent}"/aegisd-*.log; do
      if [ -s "$log" ]; then grep -v 'method=' "$log" | tail -n 20 | sed "s|^|   $(basename "$log"): |" >&2 || true; fi
    done
  fi
  [ -z "$work" ] || rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

hdr "interop: Node.js and npm"
for cmd in node npm; do
  if ! command -v "$cmd" >/dev/null; then
    bad "$cmd not found: the interop run needs Node.js 20 or later and npm (Debian: apt-get install nodejs npm," \
      "or https://nodejs.org)"
    exit 1
  fi
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  bad "node $(node --version): privacypass-ts needs Node.js 20 or later"
  exit 1
fi
ok "node $(node --version), npm $(npm --version)"

umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/aegis-interop.XXXXXX")
mkdir -p "$work/bin"

hdr "build: aegisd -> $work/bin"
(cd apps && "$GO" build -o "$work/bin/" ./cmd/aegisd)
ok "aegisd built"

hdr "npm ci: $(sed -n 's/.*"@cloudflare\/privacypass-ts": *"\([^"]*\)".*/privacypass-ts \1/p' "$client_dir/package.json") (interop/privacypass-ts, from package-lock.json)"
(cd "$client_dir" && npm ci --no-audit --no-fund --loglevel=error)
ok "installed: $(cd "$client_dir" && node -p 'require("./node_modules/@cloudflare/privacypass-ts/package.json").version')"

declare -A addr_of=()
for t in 1 2; do
  case $t in 1) flag=voprf ;; 2) flag=blind-rsa ;; esac
  srv=$work/server-$t
  mkdir -p "$srv"
  hdr "aegisd --token-type $flag (type $t): start on 127.0.0.1 (a free port), file store in $srv"
  start_aegisd "$work/bin/aegisd" "$srv" "$work/aegisd-type$t.log" --token-type "$flag"
  servers+=("$server_pid")
  server_pid=""
  addr_of[$t]=$addr
  ok "listening on http://$addr"
done

summary=() failed=()
for t in 1 2; do
  hdr "privacypass-ts, type $t, against http://${addr_of[$t]} ($pairs PUT/GET pairs)"
  start=$(date +%s)
  if node "$client_dir/interop.mjs" --server "http://${addr_of[$t]}" \
    --attest-secret-file "$work/server-$t/attest-secret" --type "$t" --pairs "$pairs"; then
    summary+=("$(printf '   ok    type %s %4ss' "$t" "$(elapsed "$start")")")
  else
    summary+=("$(printf '   FAIL  type %s %4ss' "$t" "$(elapsed "$start")")")
    failed+=("type $t")
  fi
done

hdr "aegisd: stop (SIGTERM, wait)"
for i in "${!servers[@]}"; do
  pid=${servers[$i]}
  if kill -TERM "$pid" 2>/dev/null && wait "$pid"; then
    ok "aegisd type $((i + 1)) stopped cleanly"
  else
    bad "aegisd type $((i + 1)) exited with $?"
    failed+=("aegisd type $((i + 1)) stop")
  fi
done
servers=()

hdr "interop summary ($(elapsed "$total_start")s)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  say "interop: FAILED: ${failed[*]}"
  exit 1
fi
say "interop: privacypass-ts passes against aegisd for token types 1 and 2"

#!/usr/bin/env bash
# run-demo.sh — the Aegis demo end to end: the aegis CLI against a real aegisd on loopback.
#
# Builds aegis and aegisd into a temporary directory, starts aegisd on a free 127.0.0.1 port with its file
# store, ledger and issuer keys in that directory (and an attestation secret file), then, through the CLI:
# init, store journal/bookmarks/settings from a JSON file, load, verify, stats. It then shows what the
# server's data directory holds (object count, sizes, names), stops the server (SIGTERM, wait) and removes
# everything (trap on EXIT, also after a failure). Passphrase and secret travel in files (mode 0600),
# never on a command line.
#
# usage: scripts/run-demo.sh      (normally via `make run`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

work=$(mktemp -d "${TMPDIR:-/tmp}/aegis-run.XXXXXX")
server_pid=""
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  if [ "$rc" -ne 0 ]; then
    echo "run-demo: FAILED (exit $rc)" >&2
    [ -s "${server_log:-/dev/null}" ] && sed 's/^/   aegisd log: /' "$server_log" >&2 || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

umask 077
bin=$work/bin
srv=$work/server
client=$work/client
mkdir -p "$bin" "$srv" "$client"
server_log=$work/aegisd.log

hdr "build: aegis and aegisd -> ${work}/bin"
(cd apps && "$GO" build -o "$bin/" ./cmd/aegis ./cmd/aegisd)
ok "built $(ls "$bin" | tr '\n' ' ')"

hdr "aegisd: start on 127.0.0.1 (a free port), file store in $srv"
start_aegisd "$bin/aegisd" "$srv" "$server_log"
ok "aegisd (pid $server_pid) listening on http://$addr, token issuance behind the attestation secret"

# The client's settings, all from the environment or files.
export AEGIS_REMOTE="http://$addr"
export AEGIS_ATTEST_SECRET_FILE="$srv/attest-secret"
export AEGIS_VAULT_NAME="demo-$(head -c 9 /dev/urandom | base64 | tr '+/' '-_')"
export AEGIS_PASSPHRASE_FILE="$client/passphrase"
unset AEGIS_PASSPHRASE AEGIS_VAULT AEGIS_NEW_PASSPHRASE AEGIS_NEW_PASSPHRASE_FILE
head -c 24 /dev/urandom | base64 > "$AEGIS_PASSPHRASE_FILE"
cat > "$client/data.json" <<'JSON'
{
  "journal": {"2026-11-26": "Met Alice at the cafe; talked about the move to Lisbon."},
  "bookmarks": ["https://go.dev/doc/effective_go", "https://www.rfc-editor.org/rfc/rfc9578"],
  "settings": {"theme": "dark", "language": "en-GB", "notifications": false}
}
JSON
aegis() { printf '\n$ aegis %s\n' "$*"; "$bin/aegis" "$@"; }

hdr "aegis: a vault on the server (vault name in AEGIS_VAULT_NAME, passphrase in a file)"
aegis init
aegis store "$client/data.json"
aegis load
aegis verify "$client/data.json"
aegis stats

hdr "what the server's data directory holds"
objects=$srv/objects/objects
count=$(find "$objects" -type f ! -name '.tmp-*' | wc -l)
say "   $count objects under ${objects#"$work"/}, by size:"
find "$objects" -type f ! -name '.tmp-*' -printf '%s\n' | sort -n | uniq -c | awk '{printf "     %3d x %8d bytes\n", $1, $2}'
header=$(printf 'aegis/v1 vault header\0%s' "$AEGIS_VAULT_NAME" | sha256sum | cut -d' ' -f1)
say "   their names (random, except the header's: SHA-256 of a label and the vault name):"
find "$objects" -type f ! -name '.tmp-*' -printf '%P\n' | sort |
  awk -v h="$header" '{ printf "     %s%s\n", $0, (index($0, h) ? "   <- vault header" : "") }'
say "   category names or contents in clear anywhere in it? $(grep -rlE 'journal|bookmarks|settings|Alice|Lisbon' "$srv/objects" >/dev/null && echo YES || echo no)"

hdr "aegisd: stop (SIGTERM, wait)"
kill -TERM "$server_pid"
wait "$server_pid" && ok "aegisd stopped cleanly" || { echo "aegisd exited with $?" >&2; exit 1; }
server_pid=""
say "   the server answered $(grep -c 'method=' "$server_log" || true) requests; its log lines carry method, route, status"
say "   and a size class only (no client address, no object id, no token):"
grep 'method=' "$server_log" | head -n 3 | sed 's/^/     /' || true
grep -v 'method=' "$server_log" | sed 's/^/     /' || true
hdr "run-demo: all steps passed"

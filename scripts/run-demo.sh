#!/usr/bin/env bash
# run-demo.sh — the Aegis demo end to end: the aegis CLI, through aegis-relay, against a real aegisd on loopback.
#
# Builds aegis, aegis-relay and aegisd into a temporary directory, starts aegisd on a free 127.0.0.1 port with
# its file store, ledger and issuer keys in that directory (and an attestation secret file), and aegis-relay
# in front of aegisd's Oblivious HTTP gateway. Then, through the CLI, with every request encapsulated to the
# gateway and sent through the relay (--relay; the --remote host, aegisd.invalid, only names the target and is
# never resolved; the gateway key pinned to the SHA-256 aegisd prints at start): init, store
# journal/bookmarks/settings from a JSON file, load, verify, stats. It then shows what the server's data
# directory holds (object count, sizes, names), stops both servers (SIGTERM, wait), prints the relay's and the
# server's logs side by side, and removes everything (trap on EXIT, also after a failure). Passphrase and
# secret travel in files (mode 0600), never on a command line.
#
# usage: scripts/run-demo.sh      (normally via `make run`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

work=$(mktemp -d "${TMPDIR:-/tmp}/aegis-run.XXXXXX")
server_pid="" relay_pid=""
cleanup() {
  local rc=$?
  for pid in "$relay_pid" "$server_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
  if [ "$rc" -ne 0 ]; then
    echo "run-demo: FAILED (exit $rc)" >&2
    [ -s "${server_log:-/dev/null}" ] && sed 's/^/   aegisd log: /' "$server_log" >&2 || true
    [ -s "${relay_log:-/dev/null}" ] && sed 's/^/   aegis-relay log: /' "$relay_log" >&2 || true
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
relay_log=$work/aegis-relay.log

hdr "build: aegis, aegis-relay and aegisd -> ${work}/bin"
(cd apps && "$GO" build -o "$bin/" ./cmd/aegis ./cmd/aegis-relay ./cmd/aegisd)
ok "built $(ls "$bin" | tr '\n' ' ')"

hdr "aegisd: start on 127.0.0.1 (a free port), file store in $srv"
start_aegisd "$bin/aegisd" "$srv" "$server_log"
ok "aegisd (pid $server_pid) listening on http://$addr, token issuance behind the attestation secret"
key_sha=$(sed -n 's/.*aegisd: listening on .*key configurations id [0-9]* sha256:\([0-9a-f]\{64\}\).*/\1/p' "$server_log" | head -n1)
[ -n "$key_sha" ] || { echo "aegisd did not print its gateway key configuration" >&2; exit 1; }
ok "aegisd's Oblivious HTTP gateway key configuration: sha256:$key_sha"

hdr "aegis-relay: start on 127.0.0.1 (a free port), in front of aegisd's gateway"
"$bin/aegis-relay" --listen 127.0.0.1:0 --gateway "http://$addr" >"$relay_log" 2>&1 &
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

# The client's settings, all from the environment or files. The client talks to the relay only:
# --remote names the target inside the encapsulated requests and is never resolved.
export AEGIS_REMOTE="http://aegisd.invalid"
export AEGIS_RELAY="http://$relay_addr"
export AEGIS_RELAY_KEY_SHA256="$key_sha"
export AEGIS_ATTEST_SECRET_FILE="$srv/attest-secret"
export AEGIS_VAULT_NAME="demo-$(head -c 9 /dev/urandom | base64 | tr '+/' '-_')"
export AEGIS_PASSPHRASE_FILE="$client/passphrase"
unset AEGIS_PASSPHRASE AEGIS_VAULT AEGIS_NEW_PASSPHRASE AEGIS_NEW_PASSPHRASE_FILE
(umask 077; head -c 24 /dev/urandom | base64 > "$AEGIS_PASSPHRASE_FILE")   # mode 0600: aegis warns otherwise
cat > "$client/data.json" <<'JSON'
{
  "journal": {"2026-11-26": "Met Alice at the cafe; talked about the move to Lisbon."},
  "bookmarks": ["https://go.dev/doc/effective_go", "https://www.rfc-editor.org/rfc/rfc9578"],
  "settings": {"theme": "dark", "language": "en-GB", "notifications": false}
}
JSON
aegis() { printf '\n$ aegis %s\n' "$*"; "$bin/aegis" "$@"; }

hdr "aegis: a vault on the server, through the relay (vault name in AEGIS_VAULT_NAME, passphrase in a file)"
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

hdr "aegis-relay and aegisd: stop (SIGTERM, wait)"
kill -TERM "$relay_pid"
wait "$relay_pid" && ok "aegis-relay stopped cleanly" || { echo "aegis-relay exited with $?" >&2; exit 1; }
relay_pid=""
kill -TERM "$server_pid"
wait "$server_pid" && ok "aegisd stopped cleanly" || { echo "aegisd exited with $?" >&2; exit 1; }
server_pid=""

hdr "the two logs side by side: the relay saw the client but no content, the server saw the requests but no client"
say "   aegis-relay: $(grep -c 'method=' "$relay_log" || true) requests, all encapsulated (route / or /ohttp-keys, no path, no token);"
say "   aegisd: $(grep -c 'method=' "$server_log" || true) requests (the gateway's and the ones inside it), method, route, status and"
say "   a size class only; it never saw the client's address, only the relay's."
# Request lines without their time (both logs carry it truncated to 10 s), start lines cut to fit.
side() { sed -e 's/^t=[^ ]* //' -e "s/^/$1 | /" "$2" | cut -c1-80; }
pr -m -t -w 170 <(side relay "$relay_log") <(side aegisd "$server_log") | expand | awk 'NR <= 24' | sed 's/^/   /'
leaks=$(grep -cE 'PrivateToken|Bearer|journal|Alice|/v1/objects/[0-9a-f]{8}|127\.0\.0\.1:[0-9]+ ' "$relay_log" || true)
say "   object paths, tokens, the secret or plaintext in the relay's log? $([ "$leaks" -eq 0 ] && echo no || echo YES)"
[ "$leaks" -eq 0 ] || exit 1
hdr "run-demo: all steps passed"

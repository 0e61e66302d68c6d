#!/usr/bin/env bash
# test-services.sh — run the service suites: the tests that need a real Redis and a real S3-compatible
# server. It installs what is missing (Redis from Debian when root; versitygw with `go install` at the
# version pinned in scripts/services.sh, into bin/tools), starts both on 127.0.0.1 on free ports with
# throwaway data directories and random credentials, runs the suites below through the pinned Ginkgo CLI
# with the same flags as `make test` (race detector on), and stops everything it started on any exit:
# success, a failing test, an error, Ctrl-C.
#
# The suites get:
#   AEGIS_TEST_S3_URL          s3://BUCKET?endpoint=127.0.0.1:PORT&tls=false (s3blob.ParseURL's form)
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   the S3 server's keys
#   AEGIS_TEST_REDIS_URL       redis://127.0.0.1:PORT/0
#   AEGIS_TEST_REDIS_PASSWORD  its password
#   AEGIS_TEST_SERVICES=1      a suite that finds its variables or commands missing fails instead of skipping:
#                              under this script a service suite that cannot start fails
# Under a plain `make test` these are unset and the suites skip; scripts/test.sh names them.
#
# After the suites it runs the interop check (scripts/interop.sh, also `make interop`): Cloudflare's
# privacypass-ts, an independent client installed with `npm ci` at its pinned version, against aegisd for
# token types 1 and 2. It needs Node.js 20 or later and npm; without them it fails (it never skips), and so
# does this script. It is one line of the summary and counts in the exit status like a suite.
#
# usage: scripts/test-services.sh           (normally via `make test-services`)
#        scripts/test-services.sh --list    print the service suites, one module/package per line
#        scripts/test-services.sh --needs   print each suite and what it needs (see SERVICE_SUITES), one a line
# env:   GINKGO_FLAGS   as for scripts/test.sh
set -euo pipefail

# The service suites, as MODULE/PACKAGE-DIR followed by what the suite needs: NAME an environment variable
# without which it skips whole (or, for an S3 URL without its keys, fails), cmd:NAME a command on PATH,
# a leading ? a need without which only some of its specs skip. This is the one list: scripts/test.sh reads it
# (--needs) to name, after a plain `make test`, each suite that did not run, or ran only in part.
SERVICE_SUITES=(
  "adapters/s3blob AEGIS_TEST_S3_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY"
  "adapters/redisledger AEGIS_TEST_REDIS_URL ?cmd:redis-server"
  "adapters/openurl ?AEGIS_TEST_S3_URL ?AEGIS_TEST_REDIS_URL"
  "apps/internal/replicas AEGIS_TEST_S3_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AEGIS_TEST_REDIS_URL ?AEGIS_TEST_REDIS_PASSWORD"
)

case "${1:-}" in
  --list) printf '%s\n' "${SERVICE_SUITES[@]%% *}"; exit 0 ;;
  --needs) printf '%s\n' "${SERVICE_SUITES[@]}"; exit 0 ;;
esac
[ $# -eq 0 ] || { echo "usage: $0 [--list|--needs]" >&2; exit 2; }

# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

GINKGO_FLAGS=${GINKGO_FLAGS:---randomize-all --fail-on-pending --fail-on-empty --race --keep-going --timeout=10m}

cc=$("$GO" env CC | cut -d' ' -f1)
if [[ " $GINKGO_FLAGS " == *" --race "* ]] && { [ "$("$GO" env CGO_ENABLED)" != 1 ] || ! command -v "$cc" >/dev/null; }; then
  say "test-services: the race detector needs cgo and a C compiler: CGO_ENABLED=$("$GO" env CGO_ENABLED), CC=$cc."
  say "               Install one (Debian: apt-get install gcc libc6-dev) or run without it: make test-services RACE="
  exit 2
fi

total_start=$(date +%s)
services_init
trap services_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

hdr "test-services: starting Redis and an S3 server"
ensure_tools
ensure_redis
ensure_versitygw
start_redis
start_versitygw

export AEGIS_TEST_SERVICES=1
export AEGIS_TEST_S3_URL="s3://$S3_BUCKET?endpoint=$S3_ENDPOINT&tls=false"
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
unset AWS_SESSION_TOKEN
export AEGIS_TEST_REDIS_URL="redis://$REDIS_ADDR/0"
export AEGIS_TEST_REDIS_PASSWORD=$REDIS_PASSWORD

GINKGO=$TOOLS_BIN/ginkgo
say "test-services: $("$GINKGO" version), flags: $GINKGO_FLAGS"

# Group the suites by module: Ginkgo runs from the module's directory, like scripts/test.sh.
declare -A pkgs_of=()
modules=()
for suite in "${SERVICE_SUITES[@]%% *}"; do
  mod=${suite%%/*} pkg=./${suite#*/}
  [ -d "$ROOT/$suite" ] || { say "test-services: suite $suite: no such directory"; exit 2; }
  if [ -z "${pkgs_of[$mod]+x}" ]; then modules+=("$mod"); pkgs_of[$mod]=""; fi
  pkgs_of[$mod]+=" $pkg"
done

summary=() failed=()
for mod in "${modules[@]}"; do
  read -r -a pkgs <<<"${pkgs_of[$mod]}"
  hdr "test-services $mod:${pkgs_of[$mod]}"
  start=$(date +%s)
  # shellcheck disable=SC2086 # GINKGO_FLAGS is a list of flags
  if (cd "$ROOT/$mod" && "$GINKGO" $GINKGO_FLAGS "${pkgs[@]}"); then
    summary+=("$(printf '   ok    %-12s %4ss %s' "$mod" "$(elapsed "$start")" "${pkgs_of[$mod]}")")
  else
    summary+=("$(printf '   FAIL  %-12s %4ss %s' "$mod" "$(elapsed "$start")" "${pkgs_of[$mod]}")")
    failed+=("$mod")
  fi
done

# The interop check: an independent Privacy Pass client against aegisd (needs Node.js and npm; fails without).
hdr "test-services interop: privacypass-ts against aegisd, token types 1 and 2 (scripts/interop.sh)"
start=$(date +%s)
if bash "$ROOT/scripts/interop.sh"; then
  summary+=("$(printf '   ok    %-12s %4ss %s' interop "$(elapsed "$start")" " privacypass-ts, types 1 and 2")")
else
  summary+=("$(printf '   FAIL  %-12s %4ss %s' interop "$(elapsed "$start")" " privacypass-ts, types 1 and 2")")
  failed+=(interop)
fi

hdr "test-services summary ($(elapsed "$total_start")s)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  say "test-services: FAILED in: ${failed[*]}"
  exit 1
fi
say "test-services: all service suites and the interop check passed"

#!/usr/bin/env bash
# test.sh — run every module's tests with the race detector through the pinned Ginkgo CLI.
#
# From each module's directory, Ginkgo is given the packages that `go list ./...` reports with test files, so
# the set of packages is exactly the one `go test ./...` would test (build constraints applied; testdata/,
# vendor/, _dirs and nested modules left out). This is what `ginkgo -r` would do, minus its one difference:
# `-r` walks directories itself and fails on a directory whose only test files are excluded by build tags
# (e.g. `//go:build integration`), where `go test ./...` quietly skips it.
# Ginkgo suites get the Ginkgo flags (--randomize-all --fail-on-pending --fail-on-empty); packages with only
# plain `go test` tests run as ordinary test binaries (Ginkgo passes -test.v to those, so they are verbose).
# Modules without packages or tests are skipped; a module whose packages `go list` cannot list (a broken go.mod,
# a file it cannot parse, an import no module provides) fails, with go's message. One module failing does not stop the others; a per-module
# summary is printed at the end and the exit status is non-zero when any module failed.
#
# usage: scripts/test.sh            (normally via `make test`)
# env:   MODULES        modules to test (default: the Makefile's list)
#        GINKGO_FLAGS   flags for `ginkgo` (default below; `make test` passes its own)
#        TAGS           build tags, e.g. TAGS=integration (applied to package listing and compilation alike)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

GINKGO_FLAGS=${GINKGO_FLAGS:---randomize-all --fail-on-pending --fail-on-empty --race --keep-going --timeout=10m}

cc=$("$GO" env CC | cut -d' ' -f1)
if [[ " $GINKGO_FLAGS " == *" --race "* ]] && { [ "$("$GO" env CGO_ENABLED)" != 1 ] || ! command -v "$cc" >/dev/null; }; then
  say "test: the race detector needs cgo and a C compiler: CGO_ENABLED=$("$GO" env CGO_ENABLED), CC=$cc."
  say "      Install one (Debian: apt-get install gcc libc6-dev) or run without it: make test RACE="
  exit 2
fi

if [ -n "${TAGS:-}" ]; then export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=$TAGS"; fi
ensure_tools
GINKGO=$TOOLS_BIN/ginkgo
say "test: $("$GINKGO" version), flags: $GINKGO_FLAGS"

summary=() failed=()
total_start=$(date +%s)
listerr=$(mktemp)
trap 'rm -f "$listerr"' EXIT
# list_failed MODULE: go list failed in MODULE (its message in $listerr): print it, count MODULE as failed.
list_failed() {
  hdr "test $1: go list failed"
  cat "$listerr"
  summary+=("$(printf '   FAIL  %-12s (go list: %s)' "$1" "$(sed '1d;s/^ *//' "$listerr" | paste -sd' ' | cut -c1-200)")")
  failed+=("$1")
}
for mod in "${MODULE_LIST[@]}"; do
  rc=0; has_packages "$mod" 2>"$listerr" || rc=$?
  if [ $rc -eq 2 ]; then list_failed "$mod"; continue; fi
  if [ $rc -ne 0 ]; then
    summary+=("$(printf '   skip  %-12s (no packages)' "$mod")"); continue
  fi
  if ! dirs=$(module_dirs "$mod" 'or .TestGoFiles .XTestGoFiles' 2>"$listerr"); then list_failed "$mod"; continue; fi
  pkgs=(); [ -z "$dirs" ] || mapfile -t pkgs <<<"$dirs"
  if [ ${#pkgs[@]} -eq 0 ]; then
    summary+=("$(printf '   skip  %-12s (no test files)' "$mod")"); continue
  fi
  hdr "test $mod (${#pkgs[@]} packages)"
  start=$(date +%s)
  # shellcheck disable=SC2086 # GINKGO_FLAGS is a list of flags
  if (cd "$ROOT/$mod" && "$GINKGO" $GINKGO_FLAGS "${pkgs[@]}"); then
    summary+=("$(printf '   ok    %-12s %4ss' "$mod" "$(elapsed "$start")")")
  else
    summary+=("$(printf '   FAIL  %-12s %4ss' "$mod" "$(elapsed "$start")")")
    failed+=("$mod")
  fi
done

hdr "test summary ($(elapsed "$total_start")s)"
printf '%s\n' "${summary[@]}"
# The service suites skip without their Redis and S3 server (scripts/test-services.sh lists them).
if [ -z "${AEGIS_TEST_S3_URL:-}" ] || [ -z "${AEGIS_TEST_REDIS_URL:-}" ]; then
  mapfile -t service_suites < <(bash "$ROOT/scripts/test-services.sh" --list)
  say "   NOT RUN  service suites ${service_suites[*]}: they need Redis and an S3 server; make test-services runs them"
fi
if [ ${#failed[@]} -gt 0 ]; then
  say "test: FAILED in: ${failed[*]}"
  exit 1
fi
say "test: all modules passed"

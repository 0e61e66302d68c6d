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
# a file it cannot parse, an import no module provides) fails, with go's message. One module failing does not
# stop the others; a per-module summary is printed at the end and the exit status is non-zero when any failed.
# With the race detector on, a second, short pass without it (`go test`, no -race) runs the tests that skip
# under it (NORACE_TESTS below); a test it selects that skips or does not run fails that pass.
# The summary names each service suite (scripts/test-services.sh) that could not run for want of its services,
# NOT RUN, or ran only in part, PARTLY RUN, with what it missed.
#
# usage: scripts/test.sh            (normally via `make test`)
# env:   MODULES        modules to test (default: the Makefile's list)
#        GINKGO_FLAGS   flags for `ginkgo` (default below; `make test` passes its own)
#        TAGS           build tags, e.g. TAGS=integration (applied to package listing and compilation alike)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

GINKGO_FLAGS=${GINKGO_FLAGS:---randomize-all --fail-on-pending --fail-on-empty --race --keep-going --timeout=10m}

# The tests that skip under the race detector (they read the raceEnabled constant of the package's
# race_test.go / norace_test.go): MODULE PACKAGE-DIR -run PATTERN. Each package with a `//go:build race`
# test file must be listed here; the pass checks that.
NORACE_TESTS=(
  # sync.Pool drops items at random under -race, so the allocation counts mean nothing there.
  'crypto ./aead ^TestZeroAllocations$'
  # The 256 MiB Argon2id known-answer vector: several times slower under -race.
  'crypto ./kdf ^TestArgon2idKnownAnswers$/^password$/^somesalt$/^t=2$/^m=262144$/^p=1$'
)

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

norace_failed() { [[ " ${failed[*]} " == *" $1(no race) "* ]] || failed+=("$1(no race)"); }
# norace_pass: run NORACE_TESTS of the modules tested above without the race detector.
norace_pass() {
  local entry mod dir pattern start log listed race_dirs d
  log=$(mktemp)
  for entry in "${NORACE_TESTS[@]}"; do
    read -r mod dir pattern <<<"$entry"
    [[ " ${MODULE_LIST[*]} " == *" $mod "* ]] || continue
    hdr "test (no race) $mod/${dir#./} -run '$pattern'"
    start=$(date +%s)
    if (cd "$ROOT/$mod" && "$GO" test -count=1 -v -timeout=10m -run "$pattern" "$dir") 2>&1 | tee "$log" &&
      grep -q -- '--- PASS' "$log" && ! grep -q -- '--- SKIP' "$log"; then
      summary+=("$(printf '   ok    %-12s %4ss  no race: %s -run %s' "$mod" "$(elapsed "$start")" "${dir#./}" "$pattern")")
    else
      grep -q -- '--- PASS' "$log" || say "test (no race): no test passed"
      ! grep -q -- '--- SKIP' "$log" || say "test (no race): a test skipped"
      summary+=("$(printf '   FAIL  %-12s %4ss  no race: %s -run %s' "$mod" "$(elapsed "$start")" "${dir#./}" "$pattern")")
      norace_failed "$mod"
    fi
  done
  rm -f "$log"
  # Every package whose tests know of the race detector has its entry.
  for mod in "${MODULE_LIST[@]}"; do
    [ -d "$ROOT/$mod" ] || continue
    race_dirs=$(cd "$ROOT/$mod" && { grep -rlE --include='*_test.go' '^//go:build(.*[ (&|])?race([ )&|]|$)' . || true; } |
      xargs -r -n1 dirname | sort -u)
    for d in $race_dirs; do
      listed=no
      for entry in "${NORACE_TESTS[@]}"; do
        if [ "$(awk '{print $1, $2}' <<<"$entry")" = "$mod $d" ]; then listed=yes; fi
      done
      if [ $listed = no ]; then
        summary+=("$(printf '   FAIL  %-12s        no race: %s has a test file built only with -race but no entry in NORACE_TESTS (scripts/test.sh)' "$mod" "${d#./}")")
        norace_failed "$mod"
      fi
    done
  done
}
if [[ " $GINKGO_FLAGS " == *" --race "* ]]; then norace_pass; fi

hdr "test summary ($(elapsed "$total_start")s)"
printf '%s\n' "${summary[@]}"
# The service suites skip without their Redis and S3 server: name each one that did not run, or ran in part,
# with what it missed (scripts/test-services.sh lists them and their needs).
commas() { local IFS=, s; s="$*"; printf '%s' "${s//,/, }"; }
while read -r suite needs; do
  [[ " ${MODULE_LIST[*]} " == *" ${suite%%/*} "* ]] || continue
  missing=() partly=()
  for need in $needs; do
    optional=no; if [[ $need == '?'* ]]; then optional=yes need=${need#'?'}; fi
    case $need in
      cmd:*) command -v "${need#cmd:}" >/dev/null && continue; need="${need#cmd:} (not on PATH)" ;;
      *) [ -n "${!need:-}" ] && continue; need="$need (unset)" ;;
    esac
    if [ $optional = yes ]; then partly+=("$need"); else missing+=("$need"); fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "   NOT RUN     $suite: $(commas "${missing[@]}"); make test-services runs it"
  elif [ ${#partly[@]} -gt 0 ]; then
    say "   PARTLY RUN  $suite: some tests skipped: $(commas "${partly[@]}"); make test-services runs them all"
  fi
done < <(bash "$ROOT/scripts/test-services.sh" --needs)
if [ ${#failed[@]} -gt 0 ]; then
  say "test: FAILED in: ${failed[*]}"
  exit 1
fi
say "test: all modules passed"

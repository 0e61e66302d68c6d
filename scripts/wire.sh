#!/usr/bin/env bash
# wire.sh — Wire for the composition roots: `diff` (lint) or `gen` (regenerate).
#
# Looks under apps/ for packages with a file carrying `//go:build wireinject` and runs the pinned wire command
# (scripts/tools/go.mod) in each:
#   diff  fails when a committed wire_gen.go differs from what Wire generates now (`wire check` would pass on a
#         stale wire_gen.go; `wire diff` does not). Skips cleanly while no injector exists.
#   gen   rewrites wire_gen.go in each of them.
# Wire runs in workspace mode (it loads packages through `go list`, which honours go.work); the `go generate`
# pitfall of STYLE.md comes from `-mod=mod` in generate lines, which this script does not use.
#
# usage: scripts/wire.sh diff|gen      (normally via `make lint-wire` or `make wire`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

mode=${1:-diff}
case $mode in diff|gen) ;; *) echo "usage: $0 diff|gen" >&2; exit 2 ;; esac
WIRE_ROOTS=${WIRE_ROOTS:-apps}

# shellcheck disable=SC2086 # WIRE_ROOTS is a list of directories
dirs=$(grep -rlE --include='*.go' --exclude-dir=testdata --exclude-dir=vendor '^//go:build.*\bwireinject\b' \
  $WIRE_ROOTS 2>/dev/null | xargs -r -n1 dirname | sort -u || true)
if [ -z "$dirs" ]; then say "wire: no //go:build wireinject injectors under $WIRE_ROOTS yet, skipped"; exit 0; fi

ensure_tools
failed=()
for d in $dirs; do
  if (cd "$d" && "$TOOLS_BIN/wire" "$mode"); then
    say "wire $mode: $d ok"
  else
    say "wire $mode: $d FAILED"
    [ "$mode" = diff ] && say "   wire_gen.go is stale or Wire reports errors (above); regenerate with: make wire"
    failed+=("$d")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then say "wire $mode: FAILED in: ${failed[*]}"; exit 1; fi

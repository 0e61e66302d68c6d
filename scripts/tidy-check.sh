#!/usr/bin/env bash
# tidy-check.sh — fail when a module's go.mod/go.sum are not what `go mod tidy` would write.
#
# Each module is tidied on its own (GOWORK=off, so sibling requires must resolve through their
# `replace => ../<module>` directives, as DESIGN.md requires). It uses `go mod tidy -diff`, which prints the
# changes tidy would make and never writes go.mod or go.sum, so the tree is left exactly as it was, even when
# interrupted. The pinned-tools module (scripts/tools) is checked too.
#
# usage: scripts/tidy-check.sh      (normally via `make lint-tidy`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

drift=()
for mod in "${MODULE_LIST[@]}" scripts/tools; do
  if out=$(cd "$ROOT/$mod" && GOWORK=off GOFLAGS=-mod=mod "$GO" mod tidy -diff 2>&1); then
    say "tidy: $mod ok"
  else
    say "tidy: $mod DRIFTS from \`go mod tidy\` (run it in $mod with GOWORK=off):"
    printf '%s\n' "$out" | sed 's/^/   /'
    drift+=("$mod")
  fi
done
if [ ${#drift[@]} -gt 0 ]; then say "tidy: FAILED, not tidy: ${drift[*]}"; exit 1; fi

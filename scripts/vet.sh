#!/usr/bin/env bash
# vet.sh — run `go vet ./...` in every module that holds packages, and in the pinned-tools module (scripts/tools,
# outside the workspace: GOWORK=off); report all failing modules, exit non-zero.
#
# usage: scripts/vet.sh      (normally via `make lint-vet`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

failed=()
for mod in "${MODULE_LIST[@]}"; do
  rc=0; has_packages "$mod" || rc=$?
  if [ $rc -eq 2 ]; then say "vet: $mod FAILED (go list, above)"; failed+=("$mod"); continue; fi
  if [ $rc -ne 0 ]; then say "vet: $mod: no packages, skipped"; continue; fi
  if (cd "$ROOT/$mod" && "$GO" vet ./...); then
    say "vet: $mod ok"
  else
    say "vet: $mod FAILED"; failed+=("$mod")
  fi
done
if (cd "$ROOT/scripts/tools" && GOWORK=off "$GO" vet ./...); then
  say "vet: scripts/tools ok"
else
  say "vet: scripts/tools FAILED"; failed+=("scripts/tools")
fi
if [ ${#failed[@]} -gt 0 ]; then say "vet: FAILED in: ${failed[*]}"; exit 1; fi

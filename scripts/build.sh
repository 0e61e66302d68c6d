#!/usr/bin/env bash
# build.sh — `go build ./...` in every module that holds packages, then the commands apps/cmd/* into ./bin.
#
# All modules are built even when one fails; exits non-zero listing the failing ones.
#
# usage: scripts/build.sh      (normally via `make build`, the default target)
# env:   MODULES, BIN (default: <root>/bin)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

BIN=${BIN:-$ROOT/bin}
failed=()
for mod in "${MODULE_LIST[@]}"; do
  rc=0; has_packages "$mod" || rc=$?
  if [ $rc -eq 2 ]; then say "build: $mod FAILED (go list, above)"; failed+=("$mod"); continue; fi
  if [ $rc -ne 0 ]; then say "build: $mod: no packages, skipped"; continue; fi
  if (cd "$ROOT/$mod" && "$GO" build ./...); then say "build: $mod ok"; else say "build: $mod FAILED"; failed+=("$mod"); fi
done

# Commands: each apps/cmd/<name> holding a main package becomes bin/<name>.
cmds=()
if [ -d "$ROOT/apps/cmd" ]; then
  if out=$(cd "$ROOT/apps" && "$GO" list -e -f '{{if eq .Name "main"}}{{.Dir}}{{end}}' ./cmd/...); then
    mapfile -t cmds < <(grep . <<<"$out" | sed "s|^$ROOT/apps/|./|")
  else
    say "build: go list of apps/cmd FAILED"; failed+=("apps/cmd")
  fi
fi
if [ ${#cmds[@]} -gt 0 ]; then
  mkdir -p "$BIN"
  if (cd "$ROOT/apps" && "$GO" build -o "$BIN/" "${cmds[@]}"); then
    say "build: commands -> ${BIN#"$ROOT"/}/: $(for c in "${cmds[@]}"; do printf '%s ' "${c##*/}"; done)"
  else
    say "build: commands FAILED"; failed+=("apps/cmd")
  fi
elif [[ " ${failed[*]} " != *" apps/cmd "* ]]; then
  say "build: no commands under apps/cmd yet"
fi
if [ ${#failed[@]} -gt 0 ]; then say "build: FAILED in: ${failed[*]}"; exit 1; fi

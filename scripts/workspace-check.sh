#!/usr/bin/env bash
# workspace-check.sh — keep the workspace consistent with itself.
#
#   1. every module's `go` line (and go.work's, and scripts/tools') is the same — a `go get` can raise one
#      silently; a `toolchain` line is reported too;
#   2. go.work `use`s exactly the modules of the Makefile's MODULES list (one list, kept in one place);
#   3. the Ginkgo library the workspace resolves (when any module uses it) is the version the pinned Ginkgo CLI
#      in scripts/tools/go.mod was built from, and likewise for the Wire library and the wire command;
#      a mismatch makes the CLI warn and can break its flag handling;
#   4. the modules require each other at one version, the latest release's (docs/releasing.md), and no module's
#      go.mod has a replace directive for another module of the repository (apps/go.mod has none at all: the go
#      command refuses `go install ...@version` of a module with replace directives);
#   5. go.work maps exactly that version of each module to its directory (`replace <module> vX.Y.Z => ./<dir>`),
#      and has no other replace directive: without it the go command fetches that version from the proxy.
#
# usage: scripts/workspace-check.sh      (normally via `make lint-workspace`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

fail=0
goline() { sed -n 's/^go[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$1" | head -n 1; }

# 1. go lines
want=$(goline go.work)
for f in go.work "${MODULE_LIST[@]/%//go.mod}" scripts/tools/go.mod; do
  if [ ! -f "$f" ]; then say "workspace: $f is missing"; fail=1; continue; fi
  got=$(goline "$f")
  if [ "$got" != "$want" ]; then say "workspace: $f says go ${got:-<none>}, go.work says go $want"; fail=1; fi
  if grep -q '^toolchain[[:space:]]' "$f"; then say "workspace: $f has a toolchain line: $(grep '^toolchain' "$f")"; fail=1; fi
done
[ $fail -eq 0 ] && say "workspace: every go line is go $want"

# 2. go.work use list == MODULES
used=$("$GO" work edit -json go.work | sed -n 's/.*"DiskPath": *"\.\/\([^"]*\)".*/\1/p' | sort)
listed=$(printf '%s\n' "${MODULE_LIST[@]}" | sort)
if [ "$used" != "$listed" ]; then
  say "workspace: go.work uses [$(paste -sd" " <<<"$used")] but the Makefile's MODULES is [$(paste -sd" " <<<"$listed")]"; fail=1
else
  say "workspace: go.work uses exactly the MODULES list"
fi

# 3. pinned CLIs match the libraries the workspace resolves
pinned() { (cd scripts/tools && GOWORK=off "$GO" list -m -f '{{.Version}}' "$1"); }
resolved() { "$GO" list -m -f '{{.Version}}' "$1" 2>/dev/null || true; }   # empty when no module requires it
for m in github.com/onsi/ginkgo/v2 github.com/google/wire; do
  p=$(pinned "$m"); r=$(resolved "$m")
  if [ -z "$r" ]; then say "workspace: $m not used by the workspace yet (tool pinned at $p)"
  elif [ "$r" != "$p" ]; then
    say "workspace: the workspace resolves $m $r but scripts/tools/go.mod pins $p;"
    say "           align them (go get $m@$p in the module, or bump scripts/tools with GOWORK=off go get -tool)"; fail=1
  else say "workspace: $m $r matches the pinned tool"
  fi
done

# 4. one sibling version, no replace directives in go.mod files
ensure_modtool
directives=$(module_directives)
own=$(awk -v p="$AEGIS/" '$1 == "replace" && $2 != "go.work" && (index($3, p) == 1 || $2 == "apps")' <<<"$directives")
if [ -n "$own" ]; then
  say "workspace: go.mod replace directives (siblings resolve through go.work; apps/go.mod may have none at all):"
  awk '{ printf "   %s/go.mod: replace %s => %s\n", $2, $3, $4 }' <<<"$own"; fail=1
else
  say "workspace: no go.mod replaces a module of the repository"
fi
if ! version=$(release_version 2>&1); then
  say "workspace: $version"; fail=1
else
  say "workspace: the modules require each other at $version"
  # 5. go.work replaces exactly those versions
  want_rep=$(for m in "${MODULE_LIST[@]}"; do echo "replace go.work $AEGIS/$m@$version ./$m"; done | sort)
  got_rep=$(grep '^replace go.work ' <<<"$directives" | sort || true)
  if [ "$want_rep" != "$got_rep" ]; then
    say "workspace: go.work must replace each module at $version with its directory, and nothing else:"
    { diff <(echo "$want_rep") <(echo "$got_rep") || true; } | sed -n 's/^< replace go.work \(.*\) \(.*\)/   missing: replace \1 => \2/p; s/^> replace go.work \(.*\) \(.*\)/   extra:   replace \1 => \2/p' |
      sed 's/@/ /'
    fail=1
  else
    say "workspace: go.work maps each module's $version to its directory"
  fi
fi
exit $fail

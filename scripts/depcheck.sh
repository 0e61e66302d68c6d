#!/usr/bin/env bash
# depcheck.sh — enforce the dependency rule of DESIGN.md over `go list -deps` (non-test code) of every module.
#
#   domain      imports only the standard library
#   crypto      may import domain and third-party libraries
#   anonymize   may import domain and third-party libraries
#   adapters    may import domain, crypto, anonymize and third-party libraries
#   apps        may import every module; the only module allowed to use Wire, urfave/cli and Echo
#   benchmarks  may import anything except apps (and Wire, urfave/cli, Echo)
#   fuzz        may import anything except apps (and Wire, urfave/cli, Echo)
# A module may always import its own packages. Nothing imports apps. The rule covers transitive dependencies
# too: if adapters imported a third-party library that imports Echo, that is reported.
# Each violation names the importing package, so the offending import is easy to find.
#
# Between modules, the go.mod requirements (tests included) follow the same layers, with one addition: anonymize
# may require crypto, whose token and crypto suites its tests use for a real vault behind the Cloak (its code may
# still import only domain, above). The requirements must form no cycle. A module that requires another one makes every program
# that uses it download that module and its dependencies, so anonymize, whose tests once used adapters, made
# a program that wanted only the Cloak fetch the object-storage and Redis clients.
#
# usage: scripts/depcheck.sh      (normally via `make lint-deps`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

AEGIS=github.com/ai-pantheon/aegis
APP_ONLY_RE='^(github\.com/google/wire|github\.com/urfave/cli|github\.com/labstack/echo)(/|$)'

# allowed_siblings MODULE: the other aegis modules MODULE may depend on; "*" = all but apps; "all" = all.
allowed_siblings() {
  case $1 in
    domain) echo "" ;;
    crypto|anonymize) echo "domain" ;;
    adapters) echo "domain crypto anonymize" ;;
    apps) echo "all" ;;
    benchmarks|fuzz) echo "*" ;;
    *) echo "unknown" ;;
  esac
}

# allowed_requires MODULE: the siblings MODULE's go.mod may require (same notation as allowed_siblings).
allowed_requires() {
  case $1 in
    anonymize) echo "domain crypto" ;;
    *) allowed_siblings "$1" ;;
  esac
}

violations=0
for mod in "${MODULE_LIST[@]}"; do
  rc=0; has_packages "$mod" || rc=$?
  if [ $rc -eq 2 ]; then say "depcheck: $mod: go list failed (above)"; violations=$((violations + 1)); continue; fi
  if [ $rc -ne 0 ]; then say "depcheck: $mod: no packages, skipped"; continue; fi
  siblings=$(allowed_siblings "$mod")
  if [ "$siblings" = unknown ]; then
    say "depcheck: $mod: no rule for this module; add one to scripts/depcheck.sh"; violations=$((violations + 1)); continue
  fi
  # One line per non-standard package in the dependency graph: path<TAB>module<TAB>space-separated imports.
  if ! graph=$(cd "$ROOT/$mod" && "$GO" list -e -deps \
      -f '{{if not .Standard}}{{.ImportPath}}{{"\t"}}{{with .Module}}{{.Path}}{{end}}{{"\t"}}{{join .Imports " "}}{{end}}' ./...); then
    say "depcheck: $mod: go list failed"; violations=$((violations + 1)); continue
  fi
  bad_here=$(printf '%s\n' "$graph" | awk -F'\t' -v self="$AEGIS/$mod" -v aegis="$AEGIS" -v mod="$mod" \
      -v siblings="$siblings" -v apponly="$APP_ONLY_RE" '
    NF == 0 { next }
    { pkgs[NR] = $1; modof[$1] = $2; imps[$1] = $3 }
    function why(p, m,   s, n, i, parts, list) {
      if (m == "") return ""                                  # unresolved import: go vet/build report it
      if (m == self) return ""
      if (m == aegis "/apps" && mod != "apps") return "nothing may import apps"
      if (p ~ apponly && mod != "apps") return "only apps may use Wire, urfave/cli and Echo"
      if (index(m, aegis "/") == 1) {
        s = substr(m, length(aegis) + 2)
        if (siblings == "all" || siblings == "*") return ""
        n = split(siblings, parts, " ")
        for (i = 1; i <= n; i++) if (parts[i] == s) return ""
        list = siblings; gsub(/ /, ", ", list)
        return mod " may import only " (siblings == "" ? "the standard library" : "the standard library, third-party code and " list)
      }
      if (mod == "domain") return "domain may import only the standard library"
      return ""
    }
    END {
      for (i = 1; i <= NR; i++) {
        p = pkgs[i]; if (p == "") continue
        r = why(p, modof[p]); if (r == "") continue
        # Report only the edges that cross the boundary: importers that are themselves allowed. Packages
        # reached only through another violation are implied by it and not repeated.
        by = ""
        for (q in imps) {
          if (index(" " imps[q] " ", " " p " ") && why(q, modof[q]) == "") by = by (by == "" ? "" : ", ") q
        }
        if (by != "") printf "   %s: %s (module %s) imported by %s\n", r, p, modof[p], by
      }
    }')
  if [ -n "$bad_here" ]; then
    say "depcheck: $mod VIOLATES the dependency rule:"; say "$bad_here"
    violations=$((violations + 1))
  else
    say "depcheck: $mod ok"
  fi
done
# Module level: the go.mod requirements between the repository's modules.
ensure_modtool
edges=$(module_directives | awk -v p="$AEGIS/" '$1 == "require" && index($3, p) == 1 { print $2, substr($3, length(p) + 1) }')
bad_edges=""
while read -r from to; do
  [ -n "$from" ] || continue
  siblings=$(allowed_requires "$from")
  case $siblings in
    all) continue ;;
    "*") [ "$to" != apps ] && continue ;;
    *) [[ " $siblings " == *" $to "* ]] && continue ;;
  esac
  bad_edges+="   $from/go.mod requires $to, which the rule does not allow"$'\n'
done <<<"$edges"
# tsort reports a loop on its standard error.
loop=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null | sed -n 's/^tsort: \([^ -][^ ]*\)$/\1/p' | paste -sd' ' || true)
if [ -n "$bad_edges" ] || [ -n "$loop" ]; then
  say "depcheck: the requirements between modules VIOLATE the dependency rule:"
  printf '%s' "$bad_edges"
  if [ -n "$loop" ]; then say "   the requirements form a cycle among: $loop"; fi
  violations=$((violations + 1))
else
  say "depcheck: module requirements ok ($(wc -l <<<"$edges") between modules, no cycle)"
fi
if [ "$violations" -gt 0 ]; then say "depcheck: FAILED (see DESIGN.md, dependency rule)"; exit 1; fi

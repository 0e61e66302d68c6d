#!/usr/bin/env bash
# bench.sh — run benchmarks.
#
#   bench.sh full    `go test -run='^$' -bench=. -benchmem [-benchtime=$BENCHTIME]` over the packages that have
#                    benchmarks in $BENCH_MODULES (default: benchmarks crypto); results go to the console.
#   bench.sh smoke   the same with -benchtime=1x over every module: each benchmark runs once, which proves it
#                    still compiles and runs (used by CI). Exits non-zero when any module failed.
# Only packages with a `func BenchmarkXxx(b *testing.B)` are compiled, so this stays quick.
#
# usage: scripts/bench.sh full|smoke      (normally via `make bench [BENCHTIME=2s]` or `make bench-smoke`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

mode=${1:-full}
case $mode in
  full)  mods=${BENCH_MODULES:-benchmarks crypto}; flags=(-benchmem ${BENCHTIME:+-benchtime="$BENCHTIME"}) ;;
  smoke) mods=$MODULES; flags=(-benchmem -benchtime=1x) ;;
  *) echo "usage: $0 full|smoke" >&2; exit 2 ;;
esac

# bench_dirs MODULE: "./dir" of each package whose own test files declare a benchmark.
bench_dirs() {
  local mod=$1 dir files
  while IFS= read -r dir; do
    [ -n "$dir" ] || continue
    files=$(cd "$ROOT/$mod/$dir" && "$GO" list -e -f '{{range .TestGoFiles}}{{println .}}{{end}}{{range .XTestGoFiles}}{{println .}}{{end}}' .)
    if (cd "$ROOT/$mod/$dir" && printf '%s\n' "$files" | xargs -r grep -qE '^func[[:space:]]+Benchmark([A-Z0-9_][A-Za-z0-9_]*)?[[:space:]]*\([[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]+\*testing\.B[[:space:]]*\)'); then
      echo "$dir"
    fi
  done < <(module_dirs "$mod" 'or .TestGoFiles .XTestGoFiles')
}

summary=() failed=()
for mod in $mods; do
  if [ ! -d "$ROOT/$mod" ] || ! has_packages "$mod"; then summary+=("$(printf '   skip  %-12s (no packages)' "$mod")"); continue; fi
  mapfile -t dirs < <(bench_dirs "$mod")
  if [ ${#dirs[@]} -eq 0 ]; then summary+=("$(printf '   skip  %-12s (no benchmarks)' "$mod")"); continue; fi
  hdr "bench ($mode) $mod: ${dirs[*]}"
  start=$(date +%s)
  if (cd "$ROOT/$mod" && "$GO" test -run='^$' -bench=. "${flags[@]}" "${dirs[@]}"); then
    summary+=("$(printf '   ok    %-12s %4ss' "$mod" "$(elapsed "$start")")")
  else
    summary+=("$(printf '   FAIL  %-12s %4ss' "$mod" "$(elapsed "$start")")"); failed+=("$mod")
  fi
done
hdr "bench ($mode) summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then say "bench: FAILED in: ${failed[*]}"; exit 1; fi

#!/usr/bin/env bash
# bench.sh — run benchmarks.
#
#   bench.sh full    the figures of docs/performance.md: builds the test binaries of the benchmark jobs below once,
#                    then runs every job once per round, $BENCHCOUNT rounds (default 5), so that a figure and its
#                    baseline are always measured close together in time; writes the raw output (with the equivalent
#                    `go test` command of each job and the environment) to benchmarks/results-latest.txt, then
#                    benchmarks/cmd/benchtable prints one table (median, spread, per-round ratios) and regenerates
#                    docs/performance.md (with benchmarks/load-latest.json from scripts/load.sh, if present).
#                    $BENCHTIME, if set, replaces the time-based -benchtime of every job (not the fixed counts).
#                    Takes about 5 minutes at BENCHCOUNT=5 on 2 cores. Nothing is replaced when a job fails.
#   bench.sh smoke   -benchtime=1x over every package with benchmarks in every module: each benchmark runs once,
#                    which proves it still compiles and runs (used by CI). Exits non-zero when any module failed.
# Only packages with a `func BenchmarkXxx(b *testing.B)` are compiled in smoke mode, so it stays quick.
#
# usage: scripts/bench.sh full|smoke      (normally via `make bench [BENCHCOUNT=5]` or `make bench-smoke`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

mode=${1:-full}
case $mode in
  full|smoke) ;;
  *) echo "usage: $0 full|smoke" >&2; exit 2 ;;
esac

# The jobs of `full`: module, package directory, -bench pattern, -benchtime. benchtable
# (benchmarks/cmd/benchtable/table.go) reads exactly these benchmarks; the pairs it compares are in one job.
FULL_JOBS=(
  "benchmarks .                  ^Benchmark(RawGCM|Pad|PadSeal|OpenChunk)$                                  200ms"
  "benchmarks .                  ^BenchmarkVault(Store|Load)$                                               300ms"
  "benchmarks .                  ^Benchmark(StoreAll100x1KiB|OneByOneFsync100x1KiB|OneByOneAtomic100x1KiB)$ 1s"
  "benchmarks .                  ^BenchmarkDurableCommit$                                                   1s"
  "benchmarks .                  ^BenchmarkChangePassphrase$                                                1s"
  "benchmarks .                  ^BenchmarkChangePassphraseDefaultKDF$                                      5x"
  "benchmarks .                  ^Benchmark(CloakStore100x1300B|CloakOverhead)$                             1s"
  "crypto     ./privacypass      ^BenchmarkPrivacyPass$                                                     300ms"
  "crypto     ./privacypass      ^Benchmark(Issue|IssueParallel|Finalize|Verify)$                           1s"
  "crypto     ./hmactoken        ^Benchmark(Issue|Check)$                                                   200ms"
  "adapters   ./memledger        ^BenchmarkMarkSpent$                                                       200ms"
  "adapters   ./fileledger       ^BenchmarkMarkSpent$                                                       300ms"
  "apps       ./internal/aegisd  ^Benchmark(Put|Get)$                                                       300ms"
  "apps       ./internal/aegisd  ^BenchmarkTokenIssuance$                                                   3x"
  "apps       ./internal/aegisd  ^BenchmarkTokensFetch$                                                     2s"
)

# bench_dirs MODULE: "./dir" of each package whose own test files declare a benchmark.
# Fails when go list does.
bench_dirs() {
  local mod=$1 dir files dirs
  dirs=$(module_dirs "$mod" 'or .TestGoFiles .XTestGoFiles') || return 1
  while IFS= read -r dir; do
    [ -n "$dir" ] || continue
    files=$(cd "$ROOT/$mod/$dir" && "$GO" list -e -f '{{range .TestGoFiles}}{{println .}}{{end}}{{range .XTestGoFiles}}{{println .}}{{end}}' .)
    if (cd "$ROOT/$mod/$dir" && printf '%s\n' "$files" | xargs -r grep -qE '^func[[:space:]]+Benchmark([A-Z0-9_][A-Za-z0-9_]*)?[[:space:]]*\([[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]+\*testing\.B[[:space:]]*\)'); then
      echo "$dir"
    fi
  done <<<"$dirs"
}

smoke() {
  local summary=() failed=() mod dirs out rc start
  for mod in $MODULES; do
    rc=0; [ ! -d "$ROOT/$mod" ] || has_packages "$mod" || rc=$?
    if [ ! -d "$ROOT/$mod" ] || [ $rc -eq 1 ]; then summary+=("$(printf '   skip  %-12s (no packages)' "$mod")"); continue; fi
    if [ $rc -ne 0 ] || ! out=$(bench_dirs "$mod"); then
      summary+=("$(printf '   FAIL  %-12s (go list failed, above)' "$mod")"); failed+=("$mod"); continue
    fi
    dirs=(); [ -z "$out" ] || mapfile -t dirs <<<"$out"
    if [ ${#dirs[@]} -eq 0 ]; then summary+=("$(printf '   skip  %-12s (no benchmarks)' "$mod")"); continue; fi
    hdr "bench (smoke) $mod: ${dirs[*]}"
    start=$(date +%s)
    if (cd "$ROOT/$mod" && "$GO" test -run='^$' -bench=. -benchmem -benchtime=1x "${dirs[@]}"); then
      summary+=("$(printf '   ok    %-12s %4ss' "$mod" "$(elapsed "$start")")")
    else
      summary+=("$(printf '   FAIL  %-12s %4ss' "$mod" "$(elapsed "$start")")"); failed+=("$mod")
    fi
  done
  hdr "bench (smoke) summary"
  printf '%s\n' "${summary[@]}"
  if [ ${#failed[@]} -gt 0 ]; then say "bench: FAILED in: ${failed[*]}"; exit 1; fi
}

full() {
  local count=${BENCHCOUNT:-5}
  [[ $count =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCHCOUNT must be a positive integer, got '$count'" >&2; exit 2; }
  if [ -n "${BENCHTIME:-}" ] && ! [[ $BENCHTIME =~ ^[0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m)$ ]]; then
    echo "bench: BENCHTIME must be a duration such as 500ms or 2s, got '$BENCHTIME'" >&2; exit 2
  fi
  local results=$ROOT/benchmarks/results-latest.txt
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/aegis-bench.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  local raw=$work/results.txt start
  start=$(date +%s)

  # Build each package's test binary once.
  hdr "bench (full): build the test binaries"
  local job mod dir re bt bin built=()
  for job in "${FULL_JOBS[@]}"; do
    read -r mod dir re bt <<<"$job"
    bin=$work/$(printf '%s/%s' "$mod" "$dir" | tr -c 'A-Za-z0-9\n' '_').test
    if [[ " ${built[*]} " != *" $bin "* ]]; then
      (cd "$ROOT/$mod" && "$GO" test -c -o "$bin" "$dir") || { echo "bench: building the tests of $mod/$dir failed" >&2; exit 1; }
      built+=("$bin")
      ok "$mod/${dir#./}"
    fi
  done

  {
    echo "# Raw output of \`make bench\` (scripts/bench.sh full); docs/performance.md is generated from it."
    echo "# command: make bench BENCHCOUNT=$count${BENCHTIME:+ BENCHTIME=$BENCHTIME}"
    echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "# go: $("$GO" version | sed 's/^go version //')"
    echo "# cpu-model: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)"
    echo "# nproc: $(nproc 2>/dev/null || echo '?')"
    echo "# kernel: $(uname -sr)"
    echo "# count: $count"
    echo "# loadavg-start: $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')"
    echo "# Each round runs every job below once (-count=1), in this order; round k of a benchmark is its k-th result."
  } >"$raw"

  local r t
  for r in $(seq 1 "$count"); do
    hdr "bench (full): round $r/$count"
    for job in "${FULL_JOBS[@]}"; do
      read -r mod dir re bt <<<"$job"
      if [ -n "${BENCHTIME:-}" ] && [[ $bt != *x ]]; then bt=$BENCHTIME; fi
      bin=$work/$(printf '%s/%s' "$mod" "$dir" | tr -c 'A-Za-z0-9\n' '_').test
      echo "# \$ cd $mod && go test -run='^\$' -bench='$re' -benchmem -benchtime=$bt -count=1 $dir" >>"$raw"
      t=$(date +%s)
      if ! (cd "$ROOT/$mod/$dir" && "$bin" -test.run='^$' -test.bench="$re" -test.benchmem -test.benchtime="$bt" -test.count=1) >"$work/job.out" 2>&1; then
        cat "$work/job.out" >&2
        echo "bench: FAILED in round $r: $mod $dir -bench='$re'; $results and docs/performance.md left as they were" >&2
        exit 1
      fi
      cat "$work/job.out" >>"$raw"
      printf '   %-12s %-18s %-80s %4ss\n' "$mod" "$dir" "$re" "$(elapsed "$t")"
    done
  done
  echo "# loadavg-end: $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')" >>"$raw"
  cp "$raw" "$results.tmp" && mv -f "$results.tmp" "$results"
  hdr "bench (full): $count rounds in $(elapsed "$start")s; raw output in ${results#"$ROOT"/}"
  (cd "$ROOT/benchmarks" && "$GO" run ./cmd/benchtable -results "$results" -load "$ROOT/benchmarks/load-latest.json" -doc "$ROOT/docs/performance.md")
}

"$mode"

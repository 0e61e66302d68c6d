#!/usr/bin/env bash
# mutants.sh — the mutation check: apply each deliberate bug of scripts/mutants.txt to a scratch copy of the
# repository, run the tests that must catch it, and expect them to fail.
#
# The working tree (tracked files and untracked files that are not ignored, as they are now, edits included) is
# copied to a temporary directory once; the real tree is never written. Then, first, every distinct test command
# of the list runs once on the unmutated copy and must pass (a test that fails anyway proves nothing). Then, one
# mutation at a time: the entry's search string must occur exactly once in its file, it is replaced, the entry's
# `go test` runs (without -race; -v -count=1 -vet=off) from the entry's module directory, and the file is restored.
# Each mutation is reported as
#   KILLED    the tests failed with the mutation applied (the first failure line is shown)
#   SURVIVED  they passed: the tests do not catch this bug
#   NO TEST   they passed without running any test or spec (a -run or -ginkgo.focus that matches nothing,
#             e.g. a killing test that does not exist yet, or tests that all skipped)
#   BROKEN    the mutated code does not build: the mutation tests nothing, fix the entry
#   STALE     the search string is not found exactly once (the code changed): update the entry
#   BASELINE  the test command fails without the mutation: fix the test (or the entry) first
# and the script exits non-zero unless every mutation run was KILLED. The list's format is described at the top
# of scripts/mutants.txt and in docs/testing.md ("Mutation check").
#
# usage: scripts/mutants.sh [NAME...]     (normally via `make mutants`); NAMEs limit the run to those entries
# env:   MUTANTS_LIST      the list (default scripts/mutants.txt)
#        MUTANTS_TIMEOUT   go test -timeout for each run (default 5m)
#        MUTANTS_BASELINE  0 skips the unmutated runs
#        MUTANTS_KEEP      1 keeps the scratch copy and the logs (their directory is printed)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

LIST=${MUTANTS_LIST:-$ROOT/scripts/mutants.txt}
TIMEOUT=${MUTANTS_TIMEOUT:-5m}
BASELINE=${MUTANTS_BASELINE:-1}
KEEP=${MUTANTS_KEEP:-0}

# ---- the list: blocks of "key: value" lines, each starting with "[name]"; "#" starts a comment line.
names=() files=() modules=() tests=() searches=() replaces=() whys=()
parse_error() { say "mutants: $LIST:$1: $2" >&2; exit 2; }
lineno=0 cur=-1
while IFS= read -r line || [ -n "$line" ]; do
  lineno=$((lineno + 1))
  case $line in
    '' | '#'*) continue ;;
    '['*']')
      cur=${#names[@]}
      names+=("${line:1:${#line}-2}") files+=("") modules+=("") tests+=("") searches+=("") replaces+=("") whys+=("")
      continue ;;
  esac
  [ "$cur" -ge 0 ] || parse_error "$lineno" "a line before the first [name]"
  key=${line%%:*}
  [ "$key" != "$line" ] || parse_error "$lineno" "not a 'key: value' line"
  value=${line#*:}
  value=${value#"${value%%[![:space:]]*}"} # the blanks after the colon are not part of the value
  case $key in
    file) files[cur]=$value ;;
    module) modules[cur]=$value ;;
    test) tests[cur]=$value ;;
    search) searches[cur]=$value ;;
    replace) replaces[cur]=$value ;;
    why) whys[cur]=$value ;;
    *) parse_error "$lineno" "unknown key '$key'" ;;
  esac
done <"$LIST"
for i in "${!names[@]}"; do
  for f in files modules tests searches; do
    declare -n field=$f
    [ -n "${field[i]}" ] || { say "mutants: entry [${names[i]}] has no ${f%s}" >&2; exit 2; }
    unset -n field
  done
done

# ---- which entries run
selected=()
if [ $# -gt 0 ]; then
  for want in "$@"; do
    found=""
    for i in "${!names[@]}"; do [ "${names[i]}" = "$want" ] && { selected+=("$i"); found=1; }; done
    [ -n "$found" ] || { say "mutants: no entry named '$want' in $LIST" >&2; exit 2; }
  done
else
  selected=("${!names[@]}")
fi

# ---- the scratch copy
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/aegis-mutants.XXXXXX")
LOGS=$SCRATCH/logs
cleanup() {
  if [ "$KEEP" = 1 ]; then say "mutants: scratch copy and logs kept in $SCRATCH"; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT
mkdir -p "$SCRATCH/tree" "$LOGS"
TREE=$SCRATCH/tree
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$TREE"
# The copy's own workspace, whatever GOWORK the caller has; no flags from the environment (-race, say).
export GOWORK=$TREE/go.work GOFLAGS=

# run_test MODULE TESTARGS LOG: go test in the copy; its exit status.
run_test() {
  local args
  eval "args=($2)"
  (cd "$TREE/$1" && "$GO" test -v -count=1 -vet=off -timeout="$TIMEOUT" "${args[@]}") >"$3" 2>&1
}

# ran_nothing LOG: the run passed without running a test (none matched, or every one skipped), or ran a Ginkgo
# suite without running a spec.
ran_nothing() {
  ! grep -q '^=== RUN' "$1" && return 0
  grep -qE -e '--- SKIP' "$1" && ! grep -qE -e '--- PASS' "$1" && return 0
  grep -qE 'Ran 0 of [0-9]+ Specs' "$1" && ! grep -qE 'Ran [1-9][0-9]* of [0-9]+ Specs' "$1"
}

# first_failure LOG: what failed: the failing tests (top level), the first failing Ginkgo spec, a panic.
first_failure() {
  local clean tests more spec panicked
  clean=$(sed -E 's/\x1b\[[0-9;]*m//g' "$1")
  tests=$(grep -oE '^--- FAIL: [^ ]+' <<<"$clean" | cut -d' ' -f3 | awk '!seen[$0]++' || true)
  more=$(($(grep -c . <<<"$tests" || true) - 3))
  tests=$(head -n 3 <<<"$tests" | paste -sd, - | sed 's/,/, /g')
  [ "$more" -le 0 ] || tests+=" (+$more more)"
  spec=$(grep -m1 -E '\[(FAIL|PANICKED|TIMEDOUT)\]' <<<"$clean" | sed -E 's/^[[:space:]]+//' || true)
  panicked=$(grep -m1 -E '^panic: ' <<<"$clean" || true)
  [ -z "$tests" ] || printf 'failed: %s\n' "$tests"
  [ -z "$spec" ] || printf '%s\n' "$spec" | cut -c1-150
  [ -z "$panicked" ] || printf '%s\n' "$panicked" | cut -c1-150
}

count() { # count HAYSTACK NEEDLE: occurrences of NEEDLE
  local hay=$1 n=0
  while [[ $hay == *"$2"* ]]; do n=$((n + 1)); hay=${hay#*"$2"}; done
  echo "$n"
}

start_all=$(date +%s)
say "mutants: ${#selected[@]} mutations from ${LIST#"$ROOT/"}, on a copy of the working tree in $TREE"

# ---- baseline: each distinct test command on the unmutated copy
declare -A baseline_ok=()
if [ "$BASELINE" != 0 ]; then
  hdr "baseline: the test commands without a mutation"
  for i in "${selected[@]}"; do
    key="${modules[i]}|${tests[i]}"
    [ -z "${baseline_ok[$key]+x}" ] || continue
    log=$LOGS/baseline-$i.log
    t0=$(date +%s)
    if run_test "${modules[i]}" "${tests[i]}" "$log"; then
      if ran_nothing "$log"; then
        baseline_ok[$key]=notest
        say "   none  ${modules[i]}: go test ${tests[i]}  ($(elapsed "$t0")s): no test ran"
      else
        baseline_ok[$key]=1
        ok "${modules[i]}: go test ${tests[i]}  ($(elapsed "$t0")s)"
      fi
    else
      baseline_ok[$key]=0
      bad "${modules[i]}: go test ${tests[i]}  ($(elapsed "$t0")s)"
      tail -n 20 "$log" | sed 's/^/         | /'
    fi
  done
fi

# ---- the mutations
hdr "mutations"
declare -A tally=()
results=()
for i in "${selected[@]}"; do
  name=${names[i]} file=${files[i]} mod=${modules[i]} targs=${tests[i]}
  key="$mod|$targs"
  log=$LOGS/mutant-$i.log
  t0=$(date +%s)
  status="" detail=""
  path=$TREE/$file
  if [ "${baseline_ok[$key]:-1}" = 0 ]; then
    status=BASELINE detail="fails without the mutation"
  elif [ ! -f "$path" ]; then
    status=STALE detail="$file does not exist"
  else
    content=$(cat "$path"; printf x)
    content=${content%x}
    n=$(count "$content" "${searches[i]}")
    if [ "$n" != 1 ]; then
      status=STALE detail="the search string occurs $n times in $file, not once"
    else
      cp -p "$path" "$SCRATCH/original"
      printf '%s' "${content/"${searches[i]}"/"${replaces[i]}"}" >"$path"
      if run_test "$mod" "$targs" "$log"; then
        if ran_nothing "$log"; then status="NO TEST" detail="no test ran: does the killing test exist?"
        else status=SURVIVED detail="the tests passed with the mutation applied"; fi
      elif grep -qE '\[(build|setup) failed\]' "$log"; then
        status=BROKEN detail="the mutated code does not build"
      else
        status=KILLED detail=$(first_failure "$log")
      fi
      cp -p "$SCRATCH/original" "$path"
    fi
  fi
  tally[$status]=$((${tally[$status]:-0} + 1))
  printf '%-9s %-36s %s: go test %s  (%ss)\n' "$status" "$name" "$mod" "$targs" "$(elapsed "$t0")"
  [ -z "$detail" ] || printf '%s\n' "$detail" | sed 's/^/          /'
  if [ "$status" = SURVIVED ] || [ "$status" = "NO TEST" ] || [ "$status" = BROKEN ]; then
    tail -n 15 "$log" | sed 's/^/          | /'
  fi
  results+=("$status")
done

summary=""
for s in KILLED SURVIVED "NO TEST" BROKEN STALE BASELINE; do
  [ -z "${tally[$s]:-}" ] || summary+="${summary:+, }${tally[$s]} ${s,,}"
done
hdr "mutants: $summary (${#selected[@]} mutations) in $(elapsed "$start_all")s"
if [ "${tally[KILLED]:-0}" != "${#selected[@]}" ]; then
  say "mutants: FAILED: every mutation must be killed"
  exit 1
fi
say "mutants: every mutation was killed"

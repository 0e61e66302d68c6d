#!/usr/bin/env bash
# consumer-check.sh — what a team gets from a module proxy, checked on the working tree before any tag exists.
#
#   1. Publishes every module of the Makefile's MODULES, as the working tree has it, into a file GOPROXY (a
#      temporary directory: <module>/@v/list, .info, .mod, .zip; zips made by scripts/tools/modtool with
#      golang.org/x/mod/zip) at the version the modules require of each other (docs/releasing.md).
#   2. Outside the repository, with GOWORK=off, a fresh GOPATH and module cache, and that proxy in front of the
#      usual ones:
#        - `go install .../apps/cmd/aegis@VERSION .../apps/cmd/aegisd@VERSION .../apps/cmd/aegis-relay@VERSION`,
#          then runs each (--help) and checks that the binaries were built from apps at VERSION;
#        - for every module another module requires (the libraries), the program scripts/consumer/<module>/
#          in a module of its own: `go mod init`, `go get <module>@VERSION`, `go mod tidy`, build, run (it must
#          print "ok"). Its module graph must hold no module of the repository other than <module> and what
#          <module> requires, so a program using the Cloak downloads no adapter.
#
# Our modules come only from the file proxy and are not checked against the checksum database (GONOSUMDB);
# third-party modules come from the local module cache's download directory when it has them, else from the
# proxy `go env GOPROXY` names, and are verified against the checksum database as for any consumer. Builds use
# -trimpath, so the build cache serves them again on the next run although the module cache is new each time.
# Nothing is written to the repository, nor to the usual module cache.
#
# usage: scripts/consumer-check.sh      (normally via `make consumer-check`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

start=$(date +%s)
ensure_modtool
version=$(release_version)
hdr "consumer-check: the working tree's modules at $version, from a file module proxy"

work=$(mktemp -d "${TMPDIR:-/tmp}/aegis-consumer.XXXXXX")
cleanup() { chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dirs=()
for m in "${MODULE_LIST[@]}"; do dirs+=("$ROOT/$m"); done
"$MODTOOL" proxy -o "$work/proxy" -version "$version" "${dirs[@]}"
ok "published ${MODULE_LIST[*]} at $version ($(du -sk "$work/proxy" | cut -f1) KiB of zips)"

upstream=$("$GO" env GOPROXY)
modcache=$("$GO" env GOMODCACHE)
mkdir -p "$work/gopath" "$work/bin"
export GOWORK=off GOPATH="$work/gopath" GOMODCACHE="$work/gopath/pkg/mod" GOBIN="$work/bin" \
  GOPROXY="file://$work/proxy,file://$modcache/cache/download,$upstream" \
  GONOSUMDB="$AEGIS" GONOPROXY= GOPRIVATE= GOFLAGS="-mod=mod -trimpath" GOTOOLCHAIN=local

failed=()
# run LABEL DIR CMD...: run CMD in DIR with its output in a log, shown when it fails.
run() {
  local label=$1 dir=$2 log
  shift 2
  log=$work/log.$RANDOM
  if (cd "$dir" && "$@") >"$log" 2>&1; then return 0; fi
  bad "$label: $*"
  sed 's/^/         /' "$log" | tail -n 40
  return 1
}

# The binaries.
if run "go install" "$work" "$GO" install "$AEGIS/apps/cmd/aegis@$version" "$AEGIS/apps/cmd/aegisd@$version" \
    "$AEGIS/apps/cmd/aegis-relay@$version"; then
  for cmd in aegis aegisd aegis-relay; do
    if ! "$work/bin/$cmd" --help >"$work/$cmd.help" 2>&1 || ! grep -qw "$cmd" "$work/$cmd.help"; then
      bad "$cmd --help:"; sed 's/^/         /' "$work/$cmd.help"; failed+=("$cmd"); continue
    fi
    if ! "$GO" version -m "$work/bin/$cmd" | grep -Eq "^[[:space:]]+mod[[:space:]]+$AEGIS/apps[[:space:]]+$version[[:space:]]"; then
      bad "$cmd: not built from $AEGIS/apps $version:"; "$GO" version -m "$work/bin/$cmd" | sed 's/^/         /'
      failed+=("$cmd"); continue
    fi
    ok "go install $AEGIS/apps/cmd/$cmd@$version; $cmd --help runs"
  done
else
  failed+=("go install")
fi

# The libraries: every module another module requires. edges: "FROM TO" (FROM's go.mod requires TO).
edges=$(module_directives | awk -v p="$AEGIS/" '$1 == "require" && index($3, p) == 1 { print $2, substr($3, length(p) + 1) }')
libraries=()   # in the order of MODULES
for m in "${MODULE_LIST[@]}"; do
  if awk -v m="$m" '$2 == m { found = 1 } END { exit !found }' <<<"$edges"; then libraries+=("$m"); fi
done
# closure M: M and every module it requires, directly or not, sorted.
closure() {
  local todo=("$1") seen=" $1 " m to
  while [ ${#todo[@]} -gt 0 ]; do
    m=${todo[0]} todo=("${todo[@]:1}")
    for to in $(awk -v m="$m" '$1 == m { print $2 }' <<<"$edges"); do
      [[ $seen == *" $to "* ]] || { seen+="$to "; todo+=("$to"); }
    done
  done
  tr ' ' '\n' <<<"$seen" | grep . | sort
}
for lib in "${libraries[@]}"; do
  src=$ROOT/scripts/consumer/$lib
  if [ ! -f "$src/main.go" ]; then
    bad "$lib: no consumer program: add scripts/consumer/$lib/main.go"; failed+=("$lib"); continue
  fi
  dir=$work/consumer/$lib
  mkdir -p "$dir"
  cp "$src"/*.go "$dir/"
  if ! run "$lib" "$dir" "$GO" mod init "example.com/aegis-consumer/$lib" ||
    ! run "$lib" "$dir" "$GO" get "$AEGIS/$lib@$version" ||
    ! run "$lib" "$dir" "$GO" mod tidy ||
    ! run "$lib" "$dir" "$GO" build -o "$work/bin/consumer-$lib" .; then
    failed+=("$lib"); continue
  fi
  if ! out=$("$work/bin/consumer-$lib" 2>&1) || [ "$out" != "consumer/$lib: ok" ]; then
    bad "$lib: the consumer program failed:"; sed 's/^/         /' <<<"$out"; failed+=("$lib"); continue
  fi
  graph=$(cd "$dir" && "$GO" list -m all)
  ours=$(awk -v p="$AEGIS/" 'index($1, p) == 1 { print substr($1, length(p) + 1) }' <<<"$graph" | sort)
  want=$(closure "$lib")
  if [ "$ours" != "$want" ]; then
    bad "$lib: a program using $lib gets the modules [$(paste -sd' ' <<<"$ours")] of this repository, want [$(paste -sd' ' <<<"$want")]"
    failed+=("$lib"); continue
  fi
  ok "go get $AEGIS/$lib@$version: builds and runs; $(grep -c . <<<"$graph") modules in its graph, of ours: $(paste -sd' ' <<<"$ours")"
done

if [ ${#failed[@]} -gt 0 ]; then
  say "consumer-check: FAILED: ${failed[*]} ($(elapsed "$start")s)"
  exit 1
fi
say "consumer-check: the binaries and libraries ${libraries[*]} work from a module proxy at $version ($(elapsed "$start")s)"

# lib.sh — helpers shared by the scripts in this directory; source it, do not run it.
#
# Provides:
#   ROOT            absolute path of the repository root
#   MODULES         the workspace modules, from the environment (the Makefile exports it) or, when a script is run
#                   by hand, parsed from the one `MODULES :=` line of the Makefile
#   TOOLS_BIN       where the pinned tools (ginkgo, wire) are built: $ROOT/bin/tools
#   go_list M TMPL  `go list -e -f TMPL ./...` in module M; fails, with go's message on stderr, when go list
#                   fails (a go.mod it cannot parse, a module go.work does not use) or a package cannot be loaded
#   has_packages M  status 0 when module M holds at least one Go package, 1 when it holds none, 2 when go list
#                   failed (the message on stderr): callers must not take 2 for "no packages"
#   module_dirs M EXPR
#                   the directories (relative to the module, "./x") of M's packages for which the go list
#                   template condition EXPR holds, e.g. 'or .TestGoFiles .XTestGoFiles'; fails like go_list
#                   (read it with out=$(module_dirs ...) || ..., not from a process substitution, which loses that)
#   ensure_tools    builds ginkgo and wire at the versions pinned in scripts/tools/go.mod, and modtool, into $TOOLS_BIN
#   AEGIS           the module path prefix, github.com/ai-pantheon/aegis
#   MODTOOL         $TOOLS_BIN/modtool (scripts/tools/modtool: module zips, file GOPROXY, versions, go.mod directives)
#   ensure_modtool  builds modtool alone
#   module_directives
#                   the require and replace directives of every module's go.mod and of go.work, one a line:
#                   "require MOD PATH VERSION", "replace MOD|go.work OLD[@V] NEW[@V]"
#   release_version prints the one version at which the modules require each other (docs/releasing.md);
#                   fails, saying why, when they require each other at different versions
#   say/ok/bad/hdr  log helpers; elapsed START prints seconds since START
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_BIN=$ROOT/bin/tools
MODTOOL=$TOOLS_BIN/modtool
AEGIS=github.com/ai-pantheon/aegis
GO=${GO:-go}

if [ -z "${MODULES:-}" ]; then
  MODULES=$(sed -n 's/^MODULES[[:space:]]*:=[[:space:]]*//p' "$ROOT/Makefile")
fi
# shellcheck disable=SC2206 # word splitting is the point: MODULES is a space-separated list
MODULE_LIST=($MODULES)
[ ${#MODULE_LIST[@]} -gt 0 ] || { echo "lib.sh: MODULES is empty" >&2; exit 2; }

say() { printf '%s\n' "$*"; }
hdr() { printf '\n== %s\n' "$*"; }
ok()  { printf '   ok    %s\n' "$*"; }
bad() { printf '   FAIL  %s\n' "$*"; }
elapsed() { echo $(( $(date +%s) - $1 )); }

# go_list MODULE TEMPLATE: the output of `go list -e -f TEMPLATE ./...` run in MODULE's directory. Fails (status 1),
# printing what went wrong on stderr under "go list in MODULE failed:", when the directory is missing, when go
# list fails (-e keeps going past package errors, not past module errors: a go.mod it cannot parse, a module
# go.work does not use, a missing go.sum entry), or when it reports a package it cannot load (a file it cannot
# parse, an import no module provides). Never take its empty output for "no packages" without its status.
go_list() {
  local mod=$1 tmpl=$2 errfile out rc=0 pkg_errors
  if [ ! -d "$ROOT/$mod" ]; then
    printf 'go list in %s failed:\n   no directory %s\n' "$mod" "$ROOT/$mod" >&2; return 1
  fi
  errfile=$(mktemp)
  # First the errors of the packages (their own and those of their dependencies), then TEMPLATE.
  pkg_errors=$(cd "$ROOT/$mod" && "$GO" list -e \
    -f '{{with .Error}}{{$.ImportPath}}: {{.}}{{"\n"}}{{end}}{{range .DepsErrors}}{{.}}{{"\n"}}{{end}}' ./... 2>"$errfile") || rc=$?
  if [ $rc -eq 0 ] && [ -z "$pkg_errors" ]; then
    out=$(cd "$ROOT/$mod" && "$GO" list -e -f "$tmpl" ./... 2>"$errfile") || rc=$?
  fi
  if [ $rc -ne 0 ] || [ -n "$pkg_errors" ]; then
    {
      printf 'go list in %s failed%s:\n' "$mod" "$([ $rc -eq 0 ] || printf ' (exit status %d)' "$rc")"
      { [ -z "$pkg_errors" ] || awk '!seen[$0]++' <<<"$pkg_errors"; cat "$errfile"; } | sed 's/^/   /'
    } >&2
    rm -f "$errfile"
    return 1
  fi
  rm -f "$errfile"
  [ -z "$out" ] || printf '%s\n' "$out"
}

# has_packages MODULE: does the module hold any Go package (build constraints of this platform applied)?
# Status 0 yes, 1 no, 2 go list failed (go_list's message on stderr).
has_packages() {
  local out
  out=$(go_list "$1" '{{.ImportPath}}') || return 2
  [ -n "$out" ]
}

# module_dirs MODULE TEMPLATE: "./rel/dir" of each package of MODULE for which TEMPLATE renders non-empty;
# fails like go_list, printing nothing on stdout then.
module_dirs() {
  local mod=$1 tmpl=$2 out dir
  out=$(go_list "$mod" "{{if $tmpl}}{{.Dir}}{{end}}") || return 1
  while IFS= read -r dir; do
    [ -n "$dir" ] || continue
    if [ "$dir" = "$ROOT/$mod" ]; then echo "."; else echo "./${dir#"$ROOT/$mod/"}"; fi
  done <<<"$out"
}

# ensure_tools: build the pinned tool binaries (cheap when the build cache is warm). The tools module lives outside
# go.work on purpose, so it is built with GOWORK=off and its own go.sum verifies every byte.
ensure_tools() {
  mkdir -p "$TOOLS_BIN"
  (cd "$ROOT/scripts/tools" &&
    GOWORK=off "$GO" build -o "$TOOLS_BIN/" github.com/onsi/ginkgo/v2/ginkgo github.com/google/wire/cmd/wire ./modtool)
}

ensure_modtool() {
  mkdir -p "$TOOLS_BIN"
  (cd "$ROOT/scripts/tools" && GOWORK=off "$GO" build -o "$TOOLS_BIN/" ./modtool)
}

# module_directives: see above (needs modtool: call ensure_modtool first).
module_directives() {
  (cd "$ROOT" && "$MODTOOL" gomod "${MODULE_LIST[@]}" go.work)
}

# release_version: see above (needs modtool).
release_version() {
  local versions
  versions=$(module_directives | awk -v p="$AEGIS/" '$1 == "require" && index($3, p) == 1 { print $4 }' | sort -u)
  case $(printf '%s' "$versions" | grep -c .) in
    1) printf '%s\n' "$versions" ;;
    0) echo "no module requires another one: no release version to read" >&2; return 1 ;;
    *) echo "the modules require each other at different versions: $(paste -sd' ' <<<"$versions")" \
         "(make release VERSION=... sets one)" >&2; return 1 ;;
  esac
}

# start_aegisd BIN SRVDIR LOG [FLAG...]: start the aegisd binary BIN on 127.0.0.1 (a free port) with its file
# store, file ledger and issuer keys under SRVDIR, a fresh attestation secret in SRVDIR/attest-secret and the
# further FLAGs (e.g. --token-type voprf), logging to LOG, and wait (10 s at most) until it listens. Sets the
# caller's server_pid at once (for its cleanup trap) and addr (host:port) once it listens; exits 1 if it dies
# or does not listen in time.
start_aegisd() {
  local bin=$1 srv=$2 log=$3
  shift 3
  head -c 32 /dev/urandom | base64 | tr -d '\n=' > "$srv/attest-secret"
  "$bin" --listen 127.0.0.1:0 --store "file://$srv/objects" --ledger "file://$srv/ledger" \
    --issuer-dir "$srv/issuer" --attest-secret-file "$srv/attest-secret" "$@" >"$log" 2>&1 &
  server_pid=$!
  addr=""
  for _ in $(seq 1 200); do
    addr=$(sed -n 's/.*aegisd: listening on \([^ ]*\).*/\1/p' "$log" | head -n1)
    [ -n "$addr" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || { echo "aegisd exited early:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.05
  done
  echo "aegisd did not start within 10 s" >&2
  exit 1
}

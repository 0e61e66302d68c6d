#!/usr/bin/env bash
# tidy-check.sh — fail when a module's go.mod/go.sum are not what `go mod tidy` would write; --write writes them.
#
# The modules require each other at the version of their latest release (docs/releasing.md), which no module
# proxy may hold yet, and `go mod tidy` ignores go.work. So each module is tidied on its own (GOWORK=off) on a
# copy of its go.mod and go.sum (`-modfile`), to which `replace <sibling> => <its directory>` lines are added
# for every other module of the Makefile's MODULES; the tidy resolves the siblings from the working tree and
# third-party modules as usual, the added lines are dropped again, and the result is compared with the module's
# go.mod and go.sum (or, with --write, copied over them). A sibling read from a directory has no checksum, so
# go.sum files hold only third-party checksums, and no sibling is ever fetched or put into the module cache.
# The check never writes a module's files, even when interrupted. The pinned-tools module (scripts/tools), which
# requires no sibling, is checked with a plain `go mod tidy -diff`.
#
# usage: scripts/tidy-check.sh           (normally via `make lint-tidy`)
#        scripts/tidy-check.sh --write   tidy every module in place (`make tidy`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

write=false
case ${1:-} in
  "") ;;
  --write) write=true ;;
  *) echo "usage: $0 [--write]" >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# same A B: files A and B have the same bytes, a missing file counting as empty.
same() { cmp -s <(cat "$1" 2>/dev/null || true) <(cat "$2" 2>/dev/null || true); }

drift=()
for mod in "${MODULE_LIST[@]}"; do
  tmp=$work/$mod
  mkdir -p "$tmp"
  cp "$ROOT/$mod/go.mod" "$tmp/go.mod"
  if [ -f "$ROOT/$mod/go.sum" ]; then cp "$ROOT/$mod/go.sum" "$tmp/go.sum"; fi
  add=() drop=()
  for s in "${MODULE_LIST[@]}"; do
    [ "$s" = "$mod" ] && continue
    add+=("-replace=$AEGIS/$s=$ROOT/$s") drop+=("-dropreplace=$AEGIS/$s")
  done
  if ! out=$("$GO" mod edit "${add[@]}" "$tmp/go.mod" 2>&1 &&
      cd "$ROOT/$mod" && GOWORK=off GOFLAGS=-mod=mod "$GO" mod tidy -modfile="$tmp/go.mod" 2>&1 &&
      "$GO" mod edit "${drop[@]}" "$tmp/go.mod" 2>&1); then
    say "tidy: $mod: \`go mod tidy\` FAILED:"; printf '%s\n' "$out" | sed 's/^/   /'
    drift+=("$mod"); continue
  fi
  if same "$tmp/go.mod" "$ROOT/$mod/go.mod" && same "$tmp/go.sum" "$ROOT/$mod/go.sum"; then
    say "tidy: $mod ok"
  elif $write; then
    cp "$tmp/go.mod" "$ROOT/$mod/go.mod"
    if [ -s "$tmp/go.sum" ]; then cp "$tmp/go.sum" "$ROOT/$mod/go.sum"; else rm -f "$ROOT/$mod/go.sum"; fi
    say "tidy: $mod tidied"
  else
    say "tidy: $mod DRIFTS from \`go mod tidy\` (run \`make tidy\`):"
    { diff -u --label "$mod/go.mod" --label "$mod/go.mod (tidy)" "$ROOT/$mod/go.mod" "$tmp/go.mod" || true
      diff -u --label "$mod/go.sum" --label "$mod/go.sum (tidy)" <(cat "$ROOT/$mod/go.sum" 2>/dev/null || true) \
        <(cat "$tmp/go.sum" 2>/dev/null || true) || true; } | sed 's/^/   /'
    drift+=("$mod")
  fi
done

if $write; then
  (cd "$ROOT/scripts/tools" && GOWORK=off GOFLAGS=-mod=mod "$GO" mod tidy) && say "tidy: scripts/tools tidied"
elif out=$(cd "$ROOT/scripts/tools" && GOWORK=off GOFLAGS=-mod=mod "$GO" mod tidy -diff 2>&1); then
  say "tidy: scripts/tools ok"
else
  say "tidy: scripts/tools DRIFTS from \`go mod tidy\` (run \`make tidy\`):"
  printf '%s\n' "$out" | sed 's/^/   /'
  drift+=("scripts/tools")
fi
if [ ${#drift[@]} -gt 0 ]; then say "tidy: FAILED, not tidy: ${drift[*]}"; exit 1; fi

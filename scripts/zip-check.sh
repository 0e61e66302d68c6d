#!/usr/bin/env bash
# zip-check.sh — fail when a module's zip would be invalid, so that a module proxy would refuse the whole version.
#
# scripts/tools/modtool checks each module of the Makefile's MODULES with golang.org/x/mod/zip, the rules of the
# go command and the proxy: file names (letters, digits and some ASCII punctuation; no emoji), no two names equal
# up to case, file and module sizes. A module's files are those git tracks plus the untracked ones it does not
# ignore, as in a zip made from a commit of them.
#
# A module's zip holds only its own directory, so each module carries a copy of the repository's LICENSE (the
# license must travel with the code, and documentation sites show a module only when its zip has one); the
# copies must be identical to it.
#
# usage: scripts/zip-check.sh      (normally via `make lint-zip`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

fail=0
ensure_modtool
if ! (cd "$ROOT" && "$MODTOOL" check "${MODULE_LIST[@]}"); then
  say "zip: the files named above would make the proxy refuse their module (see docs/releasing.md)"; fail=1
fi
for m in "${MODULE_LIST[@]}"; do
  if ! cmp -s "$ROOT/LICENSE" "$ROOT/$m/LICENSE"; then
    say "zip: $m/LICENSE is missing or differs from LICENSE (cp LICENSE $m/)"; fail=1
  fi
done
if [ $fail -ne 0 ]; then say "zip: FAILED"; exit 1; fi
say "zip: every module's zip is valid and holds the LICENSE"

#!/usr/bin/env bash
# zip-check.sh — fail when a module's zip would be invalid, so that a module proxy would refuse the whole version.
#
# scripts/tools/modtool checks each module of the Makefile's MODULES with golang.org/x/mod/zip, the rules of the
# go command and the proxy: file names (letters, digits and some ASCII punctuation; no emoji), no two names equal
# up to case, file and module sizes. A module's files are those git tracks plus the untracked ones it does not
# ignore, as in a zip made from a commit of them.
#
# usage: scripts/zip-check.sh      (normally via `make lint-zip`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

ensure_modtool
if (cd "$ROOT" && "$MODTOOL" check "${MODULE_LIST[@]}"); then
  say "zip: every module's zip is valid"
else
  say "zip: FAILED (rename the files named above; see docs/releasing.md)"; exit 1
fi

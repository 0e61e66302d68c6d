#!/usr/bin/env bash
# release.sh — prepare a release of every module at one version: checks, sets the versions, prints the tags.
#
# All modules of the Makefile's MODULES are released together at one version and require each other at it
# (docs/releasing.md). With VERSION, this script:
#   1. refuses a work tree with changes (tracked or untracked), a VERSION that is not a canonical semantic
#      version of major 0 or 1 (vX.Y.Z or vX.Y.Z-pre), or one not above the last version tagged <module>/v...;
#   2. refuses a module whose zip would be invalid or lacks the LICENSE (scripts/zip-check.sh);
#   3. sets VERSION in every go.mod requirement of a module of the repository and in go.work's replace lines,
#      and checks the result: go.mod files tidy (scripts/tidy-check.sh), the workspace consistent
#      (scripts/workspace-check.sh) and the consumer check at VERSION (scripts/consumer-check.sh);
#   4. on any failure puts go.mod and go.work back as they were and exits non-zero; on success leaves the
#      changed files for you to commit and prints the commit, tag and push commands. It never commits, tags or
#      pushes.
#
# usage: scripts/release.sh VERSION      (normally via `make release VERSION=v0.3.0`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

refuse() { say "release: REFUSED: $*"; exit 1; }

version=${1:-}
[ -n "$version" ] || refuse "no version: make release VERSION=vX.Y.Z (see docs/releasing.md)"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || refuse "$ROOT is not a git work tree: tags need one"

# 1. a clean tree and a version above the last tag
if [ -n "$(git status --porcelain)" ]; then
  say "release: REFUSED: the work tree has changes; commit or stash them first:"
  git status --short | sed 's/^/   /'
  exit 1
fi
ensure_modtool
mapfile -t tags < <(for m in "${MODULE_LIST[@]}"; do git tag --list "$m/v*"; done)
if ! out=$("$MODTOOL" newer "$version" ${tags[@]+"${tags[@]}"} 2>&1); then refuse "${out#modtool: }"; fi
say "release: $out"
current=$(release_version) || refuse "the modules do not require each other at one version"

# 2. valid zips
bash scripts/zip-check.sh || refuse "a module's zip would be invalid, or it lacks the LICENSE (above)"

# 3. set the version, then check
gofiles=(go.work)
for m in "${MODULE_LIST[@]}"; do gofiles+=("$m/go.mod"); [ -f "$m/go.sum" ] && gofiles+=("$m/go.sum"); done
restore() { git checkout --quiet -- "${gofiles[@]}"; }
# On any failure from here on (a check, an error, Ctrl-C), go.mod and go.work are put back.
finished=false
trap 'if ! $finished; then restore; fi' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$version" != "$current" ]; then
  hdr "release: the modules require each other at $current; setting $version"
  while read -r _ mod path _; do
    (cd "$mod" && "$GO" mod edit -require="$path@$version")
  done < <(module_directives | awk -v p="$AEGIS/" '$1 == "require" && $2 != "go.work" && index($3, p) == 1')
  # go.work: the version on each replace line of our modules, in place (`go work edit` would drop the block's
  # comment); workspace-check below checks the result.
  re_aegis=${AEGIS//./\\.} re_current=${current//./\\.}
  sed -E "s#^([[:space:]]*(replace[[:space:]]+)?$re_aegis/[^[:space:]]+) $re_current => #\\1 $version => #" go.work >go.work.tmp
  mv go.work.tmp go.work
  git diff --stat -- "${gofiles[@]}" | sed 's/^/   /'
fi
for check in tidy-check workspace-check consumer-check; do
  hdr "release: $check"
  bash "scripts/$check.sh" || refuse "$check failed at $version; go.mod and go.work are put back as they were"
done
finished=true

hdr "release: $version is ready"
step=1
if [ -n "$(git status --porcelain)" ]; then
  say "$step. Commit the new versions (go.mod files and go.work), through review as usual:"
  say "     git commit -am 'release $version: the modules require each other at $version'"
  step=$((step + 1))
fi
tag_list=()
for m in "${MODULE_LIST[@]}"; do tag_list+=("$m/$version"); done
say "$step. Tag that commit, one tag per module:"
for t in "${tag_list[@]}"; do say "     git tag -a $t -m '${t%%/*} $version'"; done
say "$((step + 1)). Push the tags (this script pushes nothing):"
say "     git push origin ${tag_list[*]}"
say "Then: go install $AEGIS/apps/cmd/aegis@$version, go get $AEGIS/<module>@$version."

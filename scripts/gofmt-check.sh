#!/usr/bin/env bash
# gofmt-check.sh — fail when any Go source file is not gofmt-formatted, listing the files.
#
# Files checked: the .go files git knows about (tracked, plus untracked ones that .gitignore does not exclude,
# so new files are checked before their first commit); outside a git checkout, every .go file under the root.
# testdata/ and vendor/ directories are left out: the go tool ignores them and they may hold deliberately
# malformed fixtures.
#
# usage: scripts/gofmt-check.sh      (normally via `make lint-fmt`)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

list_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard -- '*.go'
  else
    find . -name .git -prune -o -type f -name '*.go' -print0
  fi
}

files=()
while IFS= read -r -d '' f; do
  f=${f#./}
  case "/$f" in */testdata/*|*/vendor/*) continue ;; esac
  [ -f "$f" ] && files+=("$f")   # a tracked file deleted in the worktree is not there to format
done < <(list_files)

if [ ${#files[@]} -eq 0 ]; then say "gofmt: no Go files"; exit 0; fi
unformatted=$(printf '%s\0' "${files[@]}" | xargs -0 gofmt -l)
if [ -n "$unformatted" ]; then
  say "gofmt: these files need \`gofmt -w\`:"
  printf '%s\n' "$unformatted" | sed 's/^/   /'
  exit 1
fi
say "gofmt: ${#files[@]} files ok"

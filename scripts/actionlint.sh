#!/usr/bin/env bash
# Lints the GitHub workflows (.github/workflows and examples/workflows) with actionlint, at a
# pinned version built with Go into ~/.cache/statefulset-canary/tools/ on first use. The
# `run:` scripts are checked too when ShellCheck is on PATH (apt-get install shellcheck).
# Extra arguments go to actionlint (e.g. -verbose).
set -euo pipefail
cd "$(dirname "$0")/.."

version=v1.7.12
dir="${XDG_CACHE_HOME:-$HOME/.cache}/statefulset-canary/tools/actionlint-$version"
bin="$dir/actionlint"

if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "go is required to build actionlint $version" >&2; exit 1; }
  echo "building actionlint $version into $dir" >&2
  mkdir -p "$dir"
  GOBIN="$dir" go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
fi

command -v shellcheck >/dev/null || echo "shellcheck is not installed: run: scripts are not checked" >&2
"$bin" "$@" .github/workflows/*.yml examples/workflows/*.yml

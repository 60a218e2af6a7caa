#!/usr/bin/env bash
# Builds krew (sigs.k8s.io/krew/cmd/krew, from the Go module proxy) into the cache outside the repo,
# keyed by version, for test/integration/cli-forms.test.ts: it installs the plugin from .krew.yaml
# and the release archive with `krew install --manifest --archive`, as krew-index asks a plugin's
# author to check, with no index and no network. A binary already in the cache is not rebuilt.
# Prints the binary's path on its last line; progress goes to stderr. About 10 s cold.
# KREW_VERSION=v0.4.3 (the default, the newest the module proxy serves here) selects another.
set -euo pipefail
KREW_VERSION=${KREW_VERSION:-v0.4.3}
cache_root=${STATEFULSET_CANARY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/statefulset-canary}
dir="$cache_root/krew-$KREW_VERSION"
binary="$dir/krew"

if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi
command -v go >/dev/null || { echo "go is not on PATH: install Go 1.26.7 or newer" >&2; exit 1; }
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$dir"
# Two test runs at once each install into their own directory; the rename is atomic.
tmp="$dir/tmp.$$"
trap 'rm -rf "$tmp"' EXIT
printf '[build %s] building krew %s\n' "$(date +%H:%M:%S)" "$KREW_VERSION" >&2
GOBIN=$tmp go install -trimpath -ldflags "-s -w" "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION"
mv "$tmp/krew" "$binary"
echo "$binary"

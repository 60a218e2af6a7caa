#!/usr/bin/env bash
# Builds test/cluster/build/fluxapply (a Flux-style applier on github.com/fluxcd/pkg/ssa, used by the
# apply: false integration tests) into the cache outside the repo, beside the control-plane
# binaries, keyed by the ssa version and a hash of the module's sources. A binary already in the
# cache is not rebuilt. Prints the binary's path on its last line; progress goes to stderr.
#
# test/support/appliers.ts runs this on first use, so a fresh machine builds it once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
module=$here/fluxapply
SSA_VERSION=$(awk '$1=="github.com/fluxcd/pkg/ssa" {print $2; exit}' "$module/go.mod")
sources=$(cat "$module/go.mod" "$module/go.sum" "$module"/*.go | sha256sum | cut -c1-12)
cache_root=${STATEFULSET_CANARY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/statefulset-canary}
dir="$cache_root/fluxapply-ssa-$SSA_VERSION-$sources"
binary="$dir/fluxapply"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi
command -v go >/dev/null || { log "go is not on PATH: install Go $(awk '$1=="go" {print $2}' "$module/go.mod") or newer"; exit 1; }
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$dir"
log "building fluxapply (fluxcd/pkg/ssa $SSA_VERSION) with $(go version | cut -d' ' -f3) into $dir (cold build: about 3.5 minutes on 2 cores, with the module download)"
start=$SECONDS
(cd "$module" && go build -trimpath -ldflags '-s -w' -o "$binary.tmp.$$" .) &
pid=$!
# A progress line every 30 s, so a cold build is not silent.
while kill -0 "$pid" 2>/dev/null; do
  sleep 5
  if (( (SECONDS - start) % 30 < 5 )) && kill -0 "$pid" 2>/dev/null; then
    log "still building fluxapply ($((SECONDS - start)) s)"
  fi
done
wait "$pid" || { rm -f "$binary.tmp.$$"; log "go build of fluxapply failed"; exit 1; }
# Concurrent builds (two test files at once) each write their own file; the rename is atomic.
mv "$binary.tmp.$$" "$binary"
log "built fluxapply in $((SECONDS - start)) s ($(du -h "$binary" | cut -f1))"
echo "$binary"

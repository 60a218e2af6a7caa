#!/usr/bin/env bash
# Builds Prometheus (github.com/prometheus/prometheus/cmd/prometheus, from the Go module proxy)
# into the cache outside the repo, beside the control-plane binaries, keyed by version. The local
# cluster harness runs it to scrape the kubelet stand-in's /metrics (canary analysis tests).
# A binary already in the cache is not rebuilt. Prints the binary's path on its last line;
# progress goes to stderr.
#
# The module has no replace or exclude directives, so `go install ...@version` builds it with its
# own go.mod and go.sum (no wrapper module to keep). The remove_all_sd build tag (plugins/) leaves
# out every service discovery but file and http: the harness uses static_configs only. Without the
# builtinassets tag the web UI is not embedded (the API, which the tests use, is all there).
# PROMETHEUS_VERSION=v0.316.0 (the default) selects another release.
set -euo pipefail
PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-v0.316.0}
cache_root=${STATEFULSET_CANARY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/statefulset-canary}
dir="$cache_root/prometheus-$PROMETHEUS_VERSION"
binary="$dir/prometheus"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi
command -v go >/dev/null || { log "go is not on PATH: install Go 1.26.7 or newer"; exit 1; }
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$dir"
# Concurrent builds (two test files at once) each install into their own directory; the rename is atomic.
tmp="$dir/tmp.$$"
trap 'rm -rf "$tmp"' EXIT
log "building prometheus $PROMETHEUS_VERSION with $(go version | cut -d' ' -f3) into $dir (cold build: about 3 minutes on 2 cores, with the module download)"
start=$SECONDS
GOBIN=$tmp go install -trimpath -tags remove_all_sd \
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v} -X github.com/prometheus/common/version.Branch=statefulset-canary" \
  "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION" &
pid=$!
# A progress line every 30 s, so a cold build is not silent.
while kill -0 "$pid" 2>/dev/null; do
  sleep 5
  if (( (SECONDS - start) % 30 < 5 )) && kill -0 "$pid" 2>/dev/null; then
    log "still building prometheus ($((SECONDS - start)) s)"
  fi
done
wait "$pid" || { log "go install of prometheus $PROMETHEUS_VERSION failed"; exit 1; }
mv "$tmp/prometheus" "$binary"
log "built prometheus in $((SECONDS - start)) s ($(du -h "$binary" | cut -f1))"
echo "$binary"

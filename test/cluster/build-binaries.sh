#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from their Go modules
# (test/cluster/etcdbin and test/cluster/k8sbin) into a cache outside the repo,
# keyed by version. A binary already in the cache is not rebuilt.
# Prints the directory holding the binaries on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
K8S_VERSION=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$here/k8sbin/go.mod")
ETCD_VERSION=$(awk '$1=="go.etcd.io/etcd/server/v3" {print $2}' "$here/etcdbin/go.mod" | head -n1)
cache_root=${STATEFULSET_CANARY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/statefulset-canary}
bin="$cache_root/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"
mkdir -p "$bin"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# A progress line every 30 s while a long go build runs, so a cold build is not silent.
with_progress() {
  local what=$1; shift
  local start=$SECONDS
  "$@" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if (( (SECONDS - start) % 30 < 5 )) && kill -0 "$pid" 2>/dev/null; then
      log "still building $what ($((SECONDS - start)) s)"
    fi
  done
  wait "$pid"
  log "built $what in $((SECONDS - start)) s"
}

command -v go >/dev/null || { log "go is not on PATH: install Go $(awk '$1=="go" {print $2}' "$here/k8sbin/go.mod") or newer"; exit 1; }
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
if [[ ! -x "$bin/etcd" || ! -x "$bin/kube-apiserver" || ! -x "$bin/kube-controller-manager" ]]; then
  log "cold build with $(go version | cut -d' ' -f3) into $bin (module cache: $(go env GOMODCACHE))"
fi

if [[ ! -x "$bin/etcd" ]]; then
  log "building etcd $ETCD_VERSION (cold build: about a minute)"
  with_progress etcd bash -c "cd '$here/etcdbin' && go build -trimpath -ldflags '-s -w' -o '$bin/etcd.tmp' go.etcd.io/etcd/server/v3 && mv '$bin/etcd.tmp' '$bin/etcd'"
fi

if [[ ! -x "$bin/kube-apiserver" || ! -x "$bin/kube-controller-manager" ]]; then
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  log "building kube-apiserver and kube-controller-manager $K8S_VERSION (cold build: several minutes on 2 cores)"
  mkdir -p "$bin/tmp"
  with_progress "kube-apiserver + kube-controller-manager" bash -c "cd '$here/k8sbin' && go build -trimpath -ldflags '$ld' -o '$bin/tmp/' k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager"
  mv "$bin/tmp/kube-apiserver" "$bin/tmp/kube-controller-manager" "$bin/"
  rmdir "$bin/tmp"
fi
log "binaries ready in $bin ($(du -sh "$bin" | cut -f1))"
echo "$bin"

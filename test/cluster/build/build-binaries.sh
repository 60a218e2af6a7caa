#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and (where the module lists them as
# tools) the kubelet of the real nodes and kubectl, which the kubectl plugin test runs, from
# their Go modules
# (test/cluster/build/etcdbin and test/cluster/build/k8sbin) into a cache outside the repo,
# keyed by version. A binary already in the cache is not rebuilt.
# Prints the directory holding the binaries on its last line.
#
# K8S_VERSION=1.37.2 builds another release: its module is test/cluster/build/k8sbin-1.37
# (one module a minor, made by test/cluster/build/k8s-module.sh, its go.sum committed). Without
# K8S_VERSION it is the default release, test/cluster/k8sbin.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
module=$here/k8sbin
# The k8s.io/kubernetes version a module requires (a require line of its own or in a block).
kubernetes_version() {
  awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3; exit} $1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$1"
}
if [[ -n "${K8S_VERSION:-}" ]]; then
  wanted=v${K8S_VERSION#v}
  default=$(kubernetes_version "$here/k8sbin/go.mod")
  if [[ "$wanted" != "$default" ]]; then
    module=$here/k8sbin-$(echo "${wanted#v}" | cut -d. -f1,2)
    [[ -f "$module/go.mod" ]] || { echo "no Go module for Kubernetes $wanted: run test/cluster/build/k8s-module.sh ${wanted#v}" >&2; exit 1; }
  fi
fi
K8S_VERSION=$(kubernetes_version "$module/go.mod")
if [[ -n "${wanted:-}" && "$wanted" != "$K8S_VERSION" ]]; then
  echo "$module pins Kubernetes $K8S_VERSION, not $wanted: run test/cluster/build/k8s-module.sh ${wanted#v}" >&2
  exit 1
fi
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

command -v go >/dev/null || { log "go is not on PATH: install Go $(awk '$1=="go" {print $2}' "$module/go.mod") or newer"; exit 1; }
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
if [[ ! -x "$bin/etcd" || ! -x "$bin/kube-apiserver" || ! -x "$bin/kube-controller-manager" ]]; then
  log "cold build with $(go version | cut -d' ' -f3) into $bin (module cache: $(go env GOMODCACHE))"
fi

# etcd does not depend on the Kubernetes release: reuse one built for another release.
if [[ ! -x "$bin/etcd" ]]; then
  for other in "$cache_root"/k8s-*-etcd-"$ETCD_VERSION"/etcd; do
    if [[ -x "$other" ]]; then cp "$other" "$bin/etcd.tmp" && mv "$bin/etcd.tmp" "$bin/etcd" && log "etcd $ETCD_VERSION copied from $other"; break; fi
  done
fi
if [[ ! -x "$bin/etcd" ]]; then
  log "building etcd $ETCD_VERSION (cold build: about a minute)"
  with_progress etcd bash -c "cd '$here/etcdbin' && go build -trimpath -ldflags '-s -w' -o '$bin/etcd.tmp' go.etcd.io/etcd/server/v3 && mv '$bin/etcd.tmp' '$bin/etcd'"
fi

# The kubelet of the real nodes (test/cluster/node) comes from the same module and the same
# `go build` when its go.mod lists it (the default release's does); alone when only it is missing.
commands=()
[[ -x "$bin/kube-apiserver" && -x "$bin/kube-controller-manager" ]] || commands+=(kube-apiserver kube-controller-manager)
if grep -q 'k8s.io/kubernetes/cmd/kubelet$' "$module/go.mod" && [[ ! -x "$bin/kubelet" ]]; then commands+=(kubelet); fi
# kubectl of the same release, for test/integration/cli-forms.test.ts (only the default
# module lists it: the version matrix needs no kubectl).
if grep -q 'k8s.io/kubernetes/cmd/kubectl$' "$module/go.mod" && [[ ! -x "$bin/kubectl" ]]; then commands+=(kubectl); fi
if (( ${#commands[@]} > 0 )); then
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  log "building ${commands[*]} $K8S_VERSION (cold build: several minutes on 2 cores)"
  # A directory of this build's own: two builds of one release at once (say `npm test` and
  # `npm run test:matrix`) each finish with a whole set of binaries, moved in atomically.
  out=$(mktemp -d "$bin/tmp.XXXXXX")
  packages=$(printf 'k8s.io/kubernetes/cmd/%s ' "${commands[@]}")
  with_progress "${commands[*]}" bash -c "cd '$module' && go build -trimpath -ldflags '$ld' -o '$out/' $packages"
  for c in "${commands[@]}"; do mv -f "$out/$c" "$bin/"; done
  rmdir "$out"
fi
log "binaries ready in $bin ($(du -sh "$bin" | cut -f1))"
echo "$bin"

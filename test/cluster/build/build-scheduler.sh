#!/usr/bin/env bash
# Builds kube-scheduler from the same k8s.io/kubernetes module as kube-apiserver and
# kube-controller-manager (test/cluster/build/k8sbin, or k8sbin-<minor> for K8S_VERSION) into the
# same cache directory, given as the only argument (build-binaries.sh prints it). A separate
# `go build`: after the first build of the other two the build cache makes it quick (about
# 25 s on 2 cores). A binary already in the cache is not rebuilt.
set -euo pipefail
bin=${1:?usage: build-scheduler.sh BIN_DIR (the directory build-binaries.sh prints)}
[[ -x "$bin/kube-scheduler" ]] && { echo "$bin"; exit 0; }
here=$(cd "$(dirname "$0")" && pwd)
version=$(basename "$bin" | sed -E 's/^k8s-(v[0-9.]+)-etcd-.*/\1/')
module=$here/k8sbin
minor=$(echo "$version" | cut -d. -f2)
[[ -f "$here/k8sbin-1.$minor/go.mod" ]] && grep -q "k8s.io/kubernetes $version" "$here/k8sbin-1.$minor/go.mod" && module=$here/k8sbin-1.$minor
ld="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld="$ld -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
printf '[build %s] building kube-scheduler %s from %s\n' "$(date +%H:%M:%S)" "$version" "$module" >&2
start=$SECONDS
(cd "$module" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "$ld" -o "$bin/kube-scheduler.tmp" k8s.io/kubernetes/cmd/kube-scheduler)
mv "$bin/kube-scheduler.tmp" "$bin/kube-scheduler"
printf '[build %s] built kube-scheduler in %s s\n' "$(date +%H:%M:%S)" "$((SECONDS - start))" >&2
echo "$bin"

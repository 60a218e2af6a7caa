#!/usr/bin/env bash
# Makes the Go module that builds kube-apiserver, kube-controller-manager and kubelet of one
# Kubernetes release: test/cluster/k8sbin-<major.minor>/go.mod (and go.sum, from
# `go mod tidy`). k8s.io/kubernetes requires its staging modules at v0.0.0 and resolves
# them with local replace directives that a consumer ignores, so the module replaces
# each of them (the list is read from that release's own go.mod) with v0.<minor>.<patch>.
#
#   test/cluster/build/k8s-module.sh 1.37.2
#   K8S_VERSION=1.37.2 bash test/cluster/build/build-binaries.sh
set -euo pipefail
version=${1:?usage: k8s-module.sh MAJOR.MINOR.PATCH (e.g. 1.37.2)}
version=${version#v}
minor=$(echo "$version" | cut -d. -f2)
patch=$(echo "$version" | cut -d. -f3)
here=$(cd "$(dirname "$0")" && pwd)
dir=$here/k8sbin-1.$minor
proxy=$(go env GOPROXY)
proxy=${proxy%%,*}
[[ "$proxy" == http* ]] || proxy=https://proxy.golang.org
upstream=$(curl -fsS "$proxy/k8s.io/kubernetes/@v/v$version.mod")
go_directive=$(echo "$upstream" | awk '$1=="go" {print $2; exit}')
mkdir -p "$dir"
{
  echo "module statefulset-canary/test/cluster/build/k8sbin-1.$minor"
  echo
  echo "go $go_directive"
  echo
  echo "require k8s.io/kubernetes v$version"
  echo
  echo "replace ("
  echo "$upstream" | grep -oE 'k8s\.io/[a-z0-9-]+ => \./staging' | awk -v v="v0.$minor.$patch" '{print "\t" $1 " => " $1 " " v}'
  echo ")"
  echo
  echo "tool ("
  echo "	k8s.io/kubernetes/cmd/kube-apiserver"
  echo "	k8s.io/kubernetes/cmd/kube-controller-manager"
  echo "	k8s.io/kubernetes/cmd/kubelet"
  echo ")"
} > "$dir/go.mod"
(cd "$dir" && go mod tidy)
echo "$dir"

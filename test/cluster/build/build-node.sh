#!/usr/bin/env bash
# Builds and installs what the local cluster's real nodes (test/cluster/node) run beside the
# kubelet (which build-binaries.sh builds with the control plane), each cached outside the repo:
# - containerd, containerd-shim-runc-v2 and ctr from test/cluster/build/containerdbin (Go module
#   proxy), into <cache>/containerd-<version>;
# - runc and the CNI plugins (bridge, host-local, loopback) from Debian (`apt-get`, as root);
# - the images: the pause program and the test app (test/cluster/node/app) as static binaries,
#   each packaged by test/cluster/node/images/imagebuild (go-containerregistry) into an archive
#   `ctr images import` reads, in <cache>/images-<hash of their sources>.
# What is cached is not rebuilt. Progress goes to stderr; the last stdout line is a JSON object
# naming every path the harness needs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
node_dir=$(cd "$here/../node" && pwd)
cache_root=${STATEFULSET_CANARY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/statefulset-canary}
log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

containerd_version=$(awk '$1=="github.com/containerd/containerd/v2" {print $2; exit}' "$here/containerdbin/go.mod")
cbin="$cache_root/containerd-$containerd_version"
if [[ ! -x "$cbin/containerd" || ! -x "$cbin/containerd-shim-runc-v2" || ! -x "$cbin/ctr" ]]; then
  command -v go >/dev/null || { log "go is not on PATH"; exit 1; }
  log "building containerd $containerd_version (cold build: about 3 minutes on 2 cores)"
  start=$SECONDS
  mkdir -p "$cbin"
  out=$(mktemp -d "$cbin/tmp.XXXXXX")
  # no_btrfs: the btrfs snapshotter needs cgo; the nodes use overlayfs.
  (cd "$here/containerdbin" && go build -trimpath -tags no_btrfs \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$containerd_version" -o "$out/" \
    github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
    github.com/containerd/containerd/v2/cmd/ctr)
  mv -f "$out"/* "$cbin/" && rmdir "$out"
  log "built containerd in $((SECONDS - start)) s"
fi

# Debian's runc and CNI plugins: runc needs cgo and libseccomp, so it is not built here.
cni_dir=/usr/lib/cni
missing=()
command -v runc >/dev/null || missing+=(runc)
[[ -x "$cni_dir/bridge" && -x "$cni_dir/host-local" && -x "$cni_dir/loopback" ]] || missing+=(containernetworking-plugins)
if (( ${#missing[@]} > 0 )); then
  [[ $(id -u) == 0 ]] || { log "real nodes need ${missing[*]}: run as root, or apt-get install ${missing[*]}"; exit 1; }
  log "installing ${missing[*]} with apt-get"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
runc=$(command -v runc)

# The images, keyed by a hash of everything they are built from.
hash=$( (cd "$node_dir" && find images app -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) | sort | xargs sha256sum; go version) | sha256sum | cut -c1-16)
images="$cache_root/images-$hash"
if [[ ! -f "$images/app.tar" || ! -f "$images/pause.tar" ]]; then
  log "building the pause and app images ($images)"
  start=$SECONDS
  mkdir -p "$images"
  work=$(mktemp -d "$images/tmp.XXXXXX")
  (cd "$node_dir/images" && go build -trimpath -ldflags '-s -w' -o "$work/imagebuild" ./imagebuild && go build -trimpath -ldflags '-s -w' -o "$work/pause" ./pause)
  (cd "$node_dir/app" && go build -trimpath -ldflags '-s -w' -o "$work/app" .)
  "$work/imagebuild" -binary "$work/pause" -tag "statefulset-canary.local/pause:$hash" -out "$work/pause.tar"
  "$work/imagebuild" -binary "$work/app" -tag statefulset-canary.local/app:v1 -tag statefulset-canary.local/app:v2 \
    -tag statefulset-canary.local/app:v3 -out "$work/app.tar"
  mv -f "$work/pause.tar" "$work/app.tar" "$images/" && rm -rf "$work"
  log "built the images in $((SECONDS - start)) s"
fi
printf '{"containerdDir":"%s","containerdVersion":"%s","runc":"%s","cniDir":"%s","imagesDir":"%s","pauseImage":"%s"}\n' \
  "$cbin" "$containerd_version" "$runc" "$cni_dir" "$images" "statefulset-canary.local/pause:$hash"

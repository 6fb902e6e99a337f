#!/usr/bin/env bash
# Builds the test control plane (kube-apiserver, kubectl, etcd) from the Go module proxy and caches the binaries
# under ${BEACONLB_CACHE:-~/.cache/beaconlb}/controlplane/<key>/, where <key> hashes the go.mod/go.sum of
# tools/controlplane and the Go version: the build runs again only when one of them changes.
# Prints the directory holding the binaries on its last line. Progress goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/tools/controlplane"
cache="${BEACONLB_CACHE:-$HOME/.cache/beaconlb}/controlplane"
key=$( { go version; cat "$src"/kube/go.mod "$src"/kube/go.sum "$src"/etcd/go.mod "$src"/etcd/go.sum "$0"; } | sha256sum | cut -c1-16)
out="$cache/$key"
if [[ -x "$out/kube-apiserver" && -x "$out/kubectl" && -x "$out/etcd" ]]; then
  echo "$out"
  exit 0
fi
mkdir -p "$out.tmp"
kver=$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$src/kube/go.mod")
minor=$(echo "$kver" | cut -d. -f2)
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
export GOFLAGS=-mod=mod CGO_ENABLED=0
start=$(date +%s)
echo "controlplane: building etcd (about 1 minute on 2 cores)" >&2
(cd "$src/etcd" && go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" .)
echo "controlplane: building kube-apiserver $kver (about 7 minutes on 2 cores, once)" >&2
(cd "$src/kube" && go build -trimpath -ldflags "$ldflags" -o "$out.tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
echo "controlplane: building kubectl $kver (about 1 minute)" >&2
(cd "$src/kube" && go build -trimpath -ldflags "$ldflags" -o "$out.tmp/kubectl" k8s.io/kubernetes/cmd/kubectl)
rm -rf "$out" && mv "$out.tmp" "$out"
echo "controlplane: built in $(( $(date +%s) - start )) s into $out" >&2
echo "$out"

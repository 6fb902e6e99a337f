#!/usr/bin/env bash
# Builds the node and controller components of the lab's cluster mode from the Go module proxy and caches them
# under ${BEACONLB_CACHE:-~/.cache/beaconlb}/node/<key>/: kubelet, kube-proxy, kube-scheduler,
# kube-controller-manager (tools/node: the same k8s.io/kubernetes module set as tools/controlplane, plus
# k8s.io/cri-streaming for kubelet) and pause (the pod sandbox's process, from build/pause/linux/pause.c in that
# module). <key> hashes tools/node's go.mod/go.sum, this script and the Go version: a separate key from
# scripts/controlplane.sh, so neither rebuilds the other. containerd, runc and the CNI plugins come from Debian.
# Prints the directory holding the binaries on its last line. Progress goes to stderr. Builds run at nice 10, one
# command at a time; extra GOFLAGS (such as -p=1 on a busy machine) are passed through.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$root/tools/node"
cache="${BEACONLB_CACHE:-$HOME/.cache/beaconlb}/node"
key=$( { go version; cat "$src/go.mod" "$src/go.sum" "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
out="$cache/$key"
commands=(kubelet kube-proxy kube-scheduler kube-controller-manager)
done_already=1
for c in "${commands[@]}" pause; do [[ -x $out/$c ]] || done_already=0; done
if ((done_already)); then
  echo "$out"
  exit 0
fi
kver=$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$src/go.mod")
if [[ -z $kver ]]; then echo "node-components: no 'require k8s.io/kubernetes vX.Y.Z' line in $src/go.mod" >&2; exit 1; fi
minor=$(echo "$kver" | cut -d. -f2)
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
export GOTOOLCHAIN=local GOFLAGS="-mod=mod ${GOFLAGS:-}" CGO_ENABLED=0
mkdir -p "$out.tmp"
start=$(date +%s)
# Survives an interrupted run: each finished binary stays in $out.tmp and is not built again.
for c in "${commands[@]}"; do
  [[ -x $out.tmp/$c ]] && continue
  echo "node-components: building $c $kver (minutes on 2 cores, once)" >&2
  (cd "$src" && nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$out.tmp/$c.part" "k8s.io/kubernetes/cmd/$c")
  mv "$out.tmp/$c.part" "$out.tmp/$c"
done
pause_c="$(cd "$src" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
echo "node-components: building pause from $pause_c" >&2
gcc -Os -Wall -Werror -static -DVERSION="$kver-beaconlb" -o "$out.tmp/pause" "$pause_c"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "node-components: built in $(( $(date +%s) - start )) s into $out" >&2
echo "$out"

#!/usr/bin/env bash
# Builds the two images the cluster lab needs besides Beacon LB's own: the pod sandbox (pause, from
# scripts/node-components.sh) and the demo workload (busybox httpd), with buildah on the local Debian base
# (scripts/image-base.sh), and exports each as a docker-archive for `ctr -n k8s.io images import`.
# Cached under ${BEACONLB_CACHE:-~/.cache/beaconlb}/cluster-images/<key>/ (key: this script, the Containerfiles,
# the pause binary, the Debian base). Prints the directory on its last line: pause.tar, demo.tar, images.env.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/containers.sh
source "$root/scripts/containers.sh"
pause_image=registry.k8s.io/pause:3.10
demo_image=localhost/beaconlb-demo/hello:1

node_bin=$(bash "$root/scripts/node-components.sh")
node_bin=${node_bin##*$'\n'}
containers_lock
export containers_locked=1
mapfile -t bases < <(bash "$root/scripts/image-base.sh")
debian_base=${bases[0]}
key=$( { echo "$debian_base"; sha256sum "${BASH_SOURCE[0]}" "$root/tools/image/demo.Containerfile" \
  "$root/tools/image/pause.Containerfile" "$node_bin/pause"; } | sha256sum | cut -c1-16)
out="$beaconlb_cache/cluster-images/$key"
if [[ -f $out/images.env ]]; then
  echo "$out"
  exit 0
fi
rm -rf "$out.tmp" && mkdir -p "$out.tmp/pause-ctx" "$out.tmp/demo-ctx"
cp "$node_bin/pause" "$out.tmp/pause-ctx/pause"
echo "cluster-images: building $pause_image and $demo_image" >&2
buildah_in_store bud --quiet --layers --timestamp 1785715200 -f "$root/tools/image/pause.Containerfile" \
  -t "$pause_image" "$out.tmp/pause-ctx" >&2
buildah_in_store bud --quiet --layers --network host "${containers_ulimits[@]}" --timestamp 1785715200 \
  --build-arg "DEBIAN_IMAGE=$debian_base" -f "$root/tools/image/demo.Containerfile" -t "$demo_image" "$out.tmp/demo-ctx" >&2
buildah_in_store push --quiet "$pause_image" "docker-archive:$out.tmp/pause.tar:$pause_image" >&2
buildah_in_store push --quiet "$demo_image" "docker-archive:$out.tmp/demo.tar:$demo_image" >&2
rm -rf "$out.tmp/pause-ctx" "$out.tmp/demo-ctx"
printf 'PAUSE_IMAGE=%s\nDEMO_IMAGE=%s\n' "$pause_image" "$demo_image" > "$out.tmp/images.env"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "$out"

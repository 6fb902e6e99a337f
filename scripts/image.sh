#!/usr/bin/env bash
# `npm run image`: builds the Beacon LB image from the Dockerfile with buildah, on base images made here
# (scripts/image-base.sh: Debian from the Debian archive, Node 24 from the npm registry), so no Docker engine and no
# Docker Hub are needed. The registries' TLS may be re-signed by a local CA: the host's CA bundle is given to the
# build as the secret "build-ca" for `npm ci` only; it is never stored in the image.
#
# Cached by content: <key> hashes this script, the bases, the Dockerfile and every file the build copies (tests
# excluded, as in .dockerignore). A key built before is not built again; within a build, buildah's layer cache and
# the npm cache mount keep unchanged steps. Files have a fixed timestamp (--timestamp): the same inputs give the same
# application layers (the runtime root layer, where dpkg removes apt, may still differ between builds; ADR 0017).
#
# Leaves in ${BEACONLB_CACHE:-~/.cache/beaconlb}/image/<key>/:
#   beaconlb.tar   docker-archive tagged ghcr.io/beaconlb/beaconlb:<version> (the manifests' image), for
#                  `ctr -n k8s.io images import` or `podman load`
#   image.env      IMAGE=, IMAGE_ID=, SIZE_BYTES= (uncompressed size, all layers), ARCHIVE=
# Prints the directory on its last line. Progress goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/containers.sh
source "$root/scripts/containers.sh"

version=$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' package.json | head -1)
image="ghcr.io/beaconlb/beaconlb:$version"
cache="$beaconlb_cache/image"

containers_lock
export containers_locked=1
mapfile -t bases < <(bash "$root/scripts/image-base.sh")
runtime_base=${bases[0]}
build_base=${bases[1]}

mapfile -t inputs < <({ printf '%s\n' Dockerfile .dockerignore package.json package-lock.json tsconfig.json \
  tsconfig.build.json scripts/build-native.ts; find native src -type f ! -name '*.test.ts' ! -path 'native/build/*'; } | LC_ALL=C sort)
key=$( { printf '%s\n' "${bases[@]}"; sha256sum "${BASH_SOURCE[0]}" "$root/scripts/containers.sh" "${inputs[@]}"; } | sha256sum | cut -c1-16)
out="$cache/$key"
if [[ -f $out/image.env && -f $out/beaconlb.tar ]]; then
  echo "$out"
  exit 0
fi

ca_bundle=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
secret=()
if [[ -s $ca_bundle ]]; then secret=(--secret "id=build-ca,src=$ca_bundle"); fi

start=$(date +%s)
echo "image: building $image from the Dockerfile (key $key; a few minutes cold, seconds when cached)" >&2
buildah_in_store bud --quiet --layers --network host "${containers_ulimits[@]}" "${secret[@]}" \
  --timestamp 1785715200 \
  --build-arg "NODE_IMAGE=$build_base" --build-arg "RUNTIME_IMAGE=$runtime_base" \
  -f Dockerfile -t "$image" -t "localhost/beaconlb/beaconlb:$key" . >&2
id=$(buildah_in_store inspect --type image --format '{{.FromImageID}}' "$image")
size=$(podman_in_store image inspect --format '{{.Size}}' "$image")
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
buildah_in_store push --quiet "$image" "docker-archive:$out.tmp/beaconlb.tar:$image" >&2
printf 'IMAGE=%s\nIMAGE_ID=%s\nSIZE_BYTES=%s\nARCHIVE=%s\n' "$image" "$id" "$size" "$out/beaconlb.tar" > "$out.tmp/image.env"
rm -rf "$out" && mv "$out.tmp" "$out"

# Keep the three newest builds: older archives and their tags go (the layer cache stays).
for old in $(ls -1dt "$cache"/*/ 2>/dev/null | tail -n +4); do
  old_key=$(basename "$old")
  buildah_in_store rmi "localhost/beaconlb/beaconlb:$old_key" >/dev/null 2>&1 || true
  rm -rf "$old"
done
# Bound the store: every source change leaves a few hundred MB of untagged intermediate layers (the cache of later
# builds). Past 3 GB they go; tagged images (the bases, this image, the cluster lab's pause and demo) stay.
if (( $(du -sm "$containers_store" | cut -f1) > 3000 )); then
  echo "image: pruning untagged layers from $containers_store" >&2
  buildah_in_store rmi --prune >/dev/null 2>&1 || true
fi
echo "image: $image built in $(( $(date +%s) - start )) s, $(( size / 1000000 )) MB uncompressed, id ${id:0:12}" >&2
echo "$out"

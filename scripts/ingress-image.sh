#!/usr/bin/env bash
# Builds what the cluster lab's ingress demo needs besides the other cluster images: Traefik's image (the binary of
# scripts/traefik.sh on an empty root, tools/image/traefik.Containerfile) tagged with the official image's name, so
# config/samples/ingress/traefik.yaml runs as written, and the Gateway API CRDs (standard channel) of the
# sigs.k8s.io/gateway-api version that Traefik is built with (tools/traefik/go.mod), from the Go module proxy.
# Cached under ${BEACONLB_CACHE:-~/.cache/beaconlb}/ingress-image/<key>/ (key: this script, the Containerfile, the
# traefik binary, the CRDs). Prints the directory on its last line: traefik.tar (docker-archive, for
# `ctr -n k8s.io images import`), gateway-api-crds.yaml, ingress.env (TRAEFIK_IMAGE=, GATEWAY_API_VERSION=).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/containers.sh
source "$root/scripts/containers.sh"

traefik=$(bash "$root/scripts/traefik.sh")
traefik=${traefik##*$'\n'}
traefik_version=$(sed -n 's/^require github.com\/traefik\/traefik\/v3 \(v[0-9.]*\)$/\1/p' "$root/tools/traefik/go.mod")
traefik_image="docker.io/library/traefik:$traefik_version"
gateway_version=$(sed -n 's/^\tsigs.k8s.io\/gateway-api \(v[0-9.]*\)\( \/\/ indirect\)\?$/\1/p' "$root/tools/traefik/go.mod")
if [[ -z $gateway_version ]]; then echo "ingress-image: no sigs.k8s.io/gateway-api in tools/traefik/go.mod" >&2; exit 1; fi
gateway_dir=$(cd "$root/tools/traefik" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/gateway-api@$gateway_version" |
  sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
mapfile -t crds < <(find "$gateway_dir/config/crd/standard" -maxdepth 1 -name 'gateway.networking.k8s.io_*.yaml' | LC_ALL=C sort)
if ((${#crds[@]} == 0)); then echo "ingress-image: no CRDs in $gateway_dir/config/crd/standard" >&2; exit 1; fi

key=$( { echo "$traefik_image"; sha256sum "${BASH_SOURCE[0]}" "$root/tools/image/traefik.Containerfile" "$traefik" "${crds[@]}" | cut -d' ' -f1; } |
  sha256sum | cut -c1-16)
out="$beaconlb_cache/ingress-image/$key"
if [[ -f $out/ingress.env ]]; then
  echo "$out"
  exit 0
fi
containers_lock
rm -rf "$out.tmp" && mkdir -p "$out.tmp/ctx"
cp "$traefik" "$out.tmp/ctx/traefik"
echo "ingress-image: building $traefik_image from $traefik" >&2
buildah_in_store bud --quiet --layers --timestamp 1785715200 -f "$root/tools/image/traefik.Containerfile" \
  -t "$traefik_image" "$out.tmp/ctx" >&2
buildah_in_store push --quiet "$traefik_image" "docker-archive:$out.tmp/traefik.tar:$traefik_image" >&2
rm -rf "$out.tmp/ctx"
for crd in "${crds[@]}"; do printf -- '---\n'; cat "$crd"; done > "$out.tmp/gateway-api-crds.yaml"
printf 'TRAEFIK_IMAGE=%s\nGATEWAY_API_VERSION=%s\n' "$traefik_image" "$gateway_version" > "$out.tmp/ingress.env"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "$out"

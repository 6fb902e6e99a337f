#!/usr/bin/env bash
# Builds Traefik (github.com/traefik/traefik/v3, cmd/traefik), the ingress controller of the cluster lab's ingress
# demo and e2e test, from the Go module proxy, and caches it under
# ${BEACONLB_CACHE:-~/.cache/beaconlb}/traefik/<key>/traefik, where <key> hashes tools/traefik's go.mod/go.sum, this
# script and the Go version: the build runs again only when one of them changes. Only the one command is built
# (-s -w: no symbol table or DWARF), with the same Go settings as scripts/node-components.sh. Why Traefik, and why
# v3.6 (the newest line whose every dependency the module proxy serves here): docs/adr/0030-ingress-controller-traefik.md.
# Prints the path of the traefik binary on its last line. Progress goes to stderr. Extra GOFLAGS (such as -p=1 on a
# busy machine) are passed through.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$root/tools/traefik"
cache="${BEACONLB_CACHE:-$HOME/.cache/beaconlb}/traefik"
key=$( { go version; cat "$src/go.mod" "$src/go.sum" "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
out="$cache/$key"
if [[ -x "$out/traefik" ]]; then
  echo "$out/traefik"
  exit 0
fi
version=$(sed -n 's/^require github.com\/traefik\/traefik\/v3 \(v[0-9.]*\)$/\1/p' "$src/go.mod")
if [[ -z $version ]]; then echo "traefik: no 'require github.com/traefik/traefik/v3 vX.Y.Z' line in $src/go.mod" >&2; exit 1; fi
export GOTOOLCHAIN=local GOFLAGS="-mod=mod ${GOFLAGS:-}" CGO_ENABLED=0
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
start=$(date +%s)
echo "traefik: building traefik $version (minutes on 2 cores, once)" >&2
(cd "$src" && nice -n 10 go build -trimpath \
  -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$version -X github.com/traefik/traefik/v3/pkg/version.BuildDate=none" \
  -o "$out.tmp/traefik" github.com/traefik/traefik/v3/cmd/traefik)
"$out.tmp/traefik" version >&2
rm -rf "$out" && mv "$out.tmp" "$out"
echo "traefik: built in $(( $(date +%s) - start )) s into $out ($(( $(stat -c %s "$out/traefik") / 1000000 )) MB)" >&2
echo "$out/traefik"

#!/usr/bin/env bash
# Builds the helm CLI (helm.sh/helm/v4, cmd/helm) from the Go module proxy, to lint and render charts/beaconlb, and
# caches it under ${BEACONLB_CACHE:-~/.cache/beaconlb}/helm/<key>/helm, where <key> hashes the go.mod/go.sum of
# tools/helm, this script and the Go version: the build runs again only when one of them changes.
# Prints the path of the helm binary on its last line. Progress goes to stderr. Extra GOFLAGS (such as -p=1 on a
# busy machine) are passed through.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$root/tools/helm"
cache="${BEACONLB_CACHE:-$HOME/.cache/beaconlb}/helm"
key=$( { go version; cat "$src/go.mod" "$src/go.sum" "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
out="$cache/$key"
if [[ -x "$out/helm" ]]; then
  echo "$out/helm"
  exit 0
fi
version=$(sed -n 's/^require helm.sh\/helm\/v4 \(v[0-9.]*\)$/\1/p' "$src/go.mod")
if [[ -z $version ]]; then echo "helm: no 'require helm.sh/helm/v4 vX.Y.Z' line in $src/go.mod" >&2; exit 1; fi
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
export CGO_ENABLED=0
start=$(date +%s)
echo "helm: building helm $version (about 2.5 minutes on 2 cores, once)" >&2
(cd "$src" && go build -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
  -o "$out.tmp/helm" helm.sh/helm/v4/cmd/helm)
rm -rf "$out" && mv "$out.tmp" "$out"
echo "helm: built in $(( $(date +%s) - start )) s into $out" >&2
echo "$out/helm"

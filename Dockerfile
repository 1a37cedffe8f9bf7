# syntax=docker/dockerfile:1
# One image for both nls daemons (deploy/ runs it as the agent DaemonSet and the extender Deployment):
#   nls-agent    = node <heap flags> /app/packages/agent/dist/cli.js  (root: LVM needs it)
#   nls-extender = node <heap flag> /app/packages/extender/dist/cli.js  (the image's default user, 65532)
# Build with scripts/image.sh (docker buildx bake, docker-bake.json): linux/amd64 and linux/arm64,
# tagged with the version of package.json, stamped with the commit. A plain `docker build .` works too;
# its image then carries commit "unknown" and no version label.
# Node.js 26, the active LTS line since 2026-10-28 (supported until April 2029); the code itself runs on
# Node 20.19 and later. The line's tag follows its security releases; a release build pins the exact image
# it was made from with NODE_IMAGE=node:26.x.y-trixie-slim@sha256:… (scripts/image.sh passes it on).
ARG NODE_IMAGE=node:26-trixie-slim

FROM ${NODE_IMAGE} AS build
# Given by the bake file: the version it tags (checked against package.json) and the commit.
ARG NLS_VERSION=""
ARG NLS_COMMIT=""
ENV CI=true
RUN npm i -g pnpm@10.34.9
WORKDIR /src
# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.json ./
COPY packages/api/package.json packages/api/
COPY packages/daemon/package.json packages/daemon/
COPY packages/agent/package.json packages/agent/
COPY packages/extender/package.json packages/extender/
COPY packages/testkit/package.json packages/testkit/
COPY packages/kubectl-nls/package.json packages/kubectl-nls/
COPY test/package.json test/
RUN pnpm install --frozen-lockfile
COPY packages/ packages/
COPY scripts/ scripts/
RUN pnpm build
# A self-contained directory per daemon: its dist/, production dependencies only, @nls/api and
# @nls/daemon included.
RUN pnpm --filter @nls/agent deploy --prod --legacy /out/agent \
 && pnpm --filter @nls/extender deploy --prod --legacy /out/extender

FROM ${NODE_IMAGE} AS runtime
ARG NLS_VERSION=""
ARG NLS_COMMIT=""
LABEL org.opencontainers.image.title="nls" \
      org.opencontainers.image.description="Node-local disks as a capacity-aware Kubernetes resource: nls-agent and nls-extender" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${NLS_VERSION}" \
      org.opencontainers.image.revision="${NLS_COMMIT}"
# lvm2 (pvs/vgs/lvs, pvcreate, vgcreate), util-linux (lsblk, blkid, wipefs, nsenter), e2fsprogs
# (mkfs.ext4) and xfsprogs (mkfs.xfs): what the agent runs, and the filesystems of open-local's classes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends lvm2 util-linux e2fsprogs xfsprogs \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    LVM_SUPPRESS_FD_WARNINGS=1
COPY --from=build /out/agent /app/packages/agent
COPY --from=build /out/extender /app/packages/extender
# The agent's V8 heap settings live here, in its entry point, so the image run by hand behaves as the
# DaemonSet (which runs this entry point): a 1 MiB young generation (Node's default semi-space grows to
# 16 MiB) and a 128 MiB old-generation cap (the agent's heap holds ~20 MiB), for a process that idles
# between scans. With both, the idle agent's RSS stayed at 77-78 MiB over 60 scans; with the first alone
# it reached 89 MiB, with neither ~110 MiB and rising (`pnpm bench:idle` in packages/agent, which runs
# the agent with the flags of this line).
# The extender's: a 2 MiB young generation (semi-space; Node's default grows to 16 MiB, and both halves
# stay committed). Its requests leave almost nothing for the old generation (each server makes requests
# with express's prototypes, a hold remakes a node's state once), so the young generation only needs
# room for requests in flight, and a small one is collected often: each request also leaves ~150 KiB
# outside V8's heap (the body and the socket's reads), which only a collection gives back. With 8 MiB,
# V8's limit on that memory (64 MiB above what was left at the last full collection) was reached before
# the young generation filled, and every time it was a full collection — one a second at 400 requests/s,
# 15-40 ms of pauses and marking inside requests, p99 3-11 ms for a pod without local volumes in one run
# of two or three. With 2 MiB, in none; sustained filter/prioritize load at 5,000 nodes and 50,000 PVs
# held RSS at 223-250 MiB (255-274 with 8 MiB, 285-296 without a flag; packages/extender/README.md, Memory).
# --heap-growing-percent, which also bounds RSS, costs latency (more full collections): not given.
RUN printf '#!/bin/sh\nexec node --max-semi-space-size=1 --max-old-space-size=128 /app/packages/agent/dist/cli.js "$@"\n' > /usr/local/bin/nls-agent \
 && printf '#!/bin/sh\nexec node --max-semi-space-size=2 /app/packages/extender/dist/cli.js "$@"\n' > /usr/local/bin/nls-extender \
 && chmod 0755 /usr/local/bin/nls-agent /usr/local/bin/nls-extender
WORKDIR /app
USER 65532:65532
CMD ["nls-extender"]

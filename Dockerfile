# syntax=docker/dockerfile:1
# One image for both nls daemons (deploy/ runs it as the agent DaemonSet and the extender Deployment):
#   nls-agent    = node /app/packages/agent/dist/cli.js     (root: LVM needs it)
#   nls-extender = node /app/packages/extender/dist/cli.js  (the image's default user, 65532)
# Build from the repository root: docker build -t nls:0.1.0 .
ARG NODE_IMAGE=node:20.20.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
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
COPY test/package.json test/
RUN pnpm install --frozen-lockfile
COPY packages/ packages/
RUN pnpm build
# A self-contained directory per daemon: its dist/, production dependencies only, @nls/api and
# @nls/daemon included.
RUN pnpm --filter @nls/agent deploy --prod --legacy /out/agent \
 && pnpm --filter @nls/extender deploy --prod --legacy /out/extender

FROM ${NODE_IMAGE} AS runtime
# lvm2 (pvs/vgs/lvs, pvcreate, vgcreate), util-linux (lsblk, blkid, wipefs, nsenter), e2fsprogs (mkfs.ext4).
RUN apt-get update \
 && apt-get install -y --no-install-recommends lvm2 util-linux e2fsprogs \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    LVM_SUPPRESS_FD_WARNINGS=1
COPY --from=build /out/agent /app/packages/agent
COPY --from=build /out/extender /app/packages/extender
RUN printf '#!/bin/sh\nexec node /app/packages/agent/dist/cli.js "$@"\n' > /usr/local/bin/nls-agent \
 && printf '#!/bin/sh\nexec node /app/packages/extender/dist/cli.js "$@"\n' > /usr/local/bin/nls-extender \
 && chmod 0755 /usr/local/bin/nls-agent /usr/local/bin/nls-extender
WORKDIR /app
USER 65532:65532
CMD ["nls-extender"]

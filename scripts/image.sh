#!/usr/bin/env bash
# Builds the nls image for linux/amd64 and linux/arm64 with docker buildx bake (docker-bake.json),
# tagged $REGISTRY/nls:<version> with the version of package.json and stamped with the commit of HEAD
# (the image's build-info, its OCI labels). Arguments go to `docker buildx bake` (e.g. --push, or
# --set '*.platform=linux/amd64' --load for a local single-arch image).
# NODE_IMAGE overrides the base (default node:26-trixie-slim, the active LTS line); pin a digest for a
# release build.
#   REGISTRY=registry.example.com/team scripts/image.sh --push
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION=$(node -p 'require("./package.json").version')
COMMIT=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain)" ]; then
  echo "image: the working tree has uncommitted changes; the image would not be what $COMMIT says" >&2
  exit 1
fi
export VERSION COMMIT
exec docker buildx bake "$@"

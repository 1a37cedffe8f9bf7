#!/usr/bin/env bash
# Shared set-up for `npm start` and `npm test`: a machine with only node and npm is enough.
# Puts the pinned pnpm on PATH (test/pnpm.sh: installed into .tmp/pnpm if missing), installs
# dependencies, builds. A caller that runs pnpm itself sources test/pnpm.sh first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source test/pnpm.sh
if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile >&2
else
  # node_modules made against another pnpm store (another HOME, say) is rebuilt rather than refused:
  # without a terminal pnpm would otherwise stop and ask first.
  pnpm install --prefer-offline --config.confirm-modules-purge=false >&2
fi
pnpm run build >&2

#!/usr/bin/env bash
# Shared set-up for `npm start` and `npm test`: a machine with only node and npm is enough.
# Installs pnpm (the version pinned in package.json) if missing, installs dependencies, builds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

want_pnpm=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$want_pnpm" ]; then
  echo "setup: installing pnpm@$want_pnpm" >&2
  npm install -g "pnpm@$want_pnpm" >&2
fi
if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile >&2
else
  pnpm install --prefer-offline >&2
fi
pnpm run build >&2

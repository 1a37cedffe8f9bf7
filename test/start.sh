#!/usr/bin/env bash
# `npm start`: set-up, then the main job on the embedded default: what nls sees on this host.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash test/setup.sh
exec node packages/agent/dist/cli.js scan --seed "$@"

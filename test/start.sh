#!/usr/bin/env bash
# `npm start`: set-up, then the main job on the embedded default. Where the host allows it (root and
# lvm2), what nls sees on this host (`nls-agent scan --seed`); then a burst of pods placed onto the
# sample cluster samples/cluster.yaml by the extender's own filter, prioritize and ledger, once with
# binpack and once with spread. The last line is `placed N of M pods`.
# Arguments go to the simulation and override the sample's: npm start -- --pods 20x10Gi --strategy spread
# (or --from-file my-cluster.yaml). NLS_START_SKIP_SETUP=1 skips the set-up (tests, after a build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ "${NLS_START_SKIP_SETUP:-}" = 1 ] || bash test/setup.sh

if [ "$(id -u)" = 0 ] && command -v lvm >/dev/null 2>&1; then
  echo "# this host, as nls-agent would report it (nls-agent scan --seed):"
  node packages/agent/dist/cli.js scan --seed || echo "# host scan failed (exit $?)"
  echo
else
  echo "# host scan skipped: it needs root and lvm2 (apt-get install lvm2); showing the sample cluster only"
  echo
fi

# Six default-class pods, three pinned to VG fast-0, and one larger than any VG.
exec node packages/extender/dist/simulate/cli.js \
  --from-file samples/cluster.yaml --pods 6x30Gi,3x20Gi@nls-fast,250Gi "$@"

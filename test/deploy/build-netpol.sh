#!/usr/bin/env bash
# Builds netpol-verdict (test infrastructure only: netpol-bin/main.go evaluates NetworkPolicies with
# the policy engine of the github.com/mattfenwick/cyclonus Go module pinned in netpol-bin/go.mod) into
# $NLS_NETPOL_BIN (default ~/.cache/nls-netpol/<version>). Idempotent: a binary newer than its source is
# kept. Prints the bin directory on stdout (put it on PATH).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version=$(sed -n 's/^\(require \|\t\)github.com\/mattfenwick\/cyclonus \(v[0-9.]*\)$/\2/p' "$here/netpol-bin/go.mod")
bin="${NLS_NETPOL_BIN:-$HOME/.cache/nls-netpol/$version}"
mkdir -p "$bin"
if [ ! -x "$bin/netpol-verdict" ] || [ "$here/netpol-bin/main.go" -nt "$bin/netpol-verdict" ]; then
  command -v go >/dev/null || { echo "build-netpol: go is required to build netpol-verdict ($version)" >&2; exit 1; }
  echo "build-netpol: building netpol-verdict (cyclonus $version) into $bin" >&2
  (cd "$here/netpol-bin" && GOFLAGS=-mod=mod go build -trimpath -ldflags=-s -o "$bin/netpol-verdict" .) >&2
fi
echo "$bin"

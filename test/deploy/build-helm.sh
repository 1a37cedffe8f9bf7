#!/usr/bin/env bash
# Builds helm (test infrastructure only: `helm lint` and `helm template` of charts/nls) from the
# helm.sh/helm/v3 Go module pinned in helm-bin/go.mod into $NLS_HELM_BIN (default
# ~/.cache/nls-helm/<version>). Idempotent: a binary already there is kept. Prints the bin directory on
# stdout (put it on PATH).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version=$(sed -n 's/^require helm.sh\/helm\/v3 \(v[0-9.]*\)$/\1/p' "$here/helm-bin/go.mod")
bin="${NLS_HELM_BIN:-$HOME/.cache/nls-helm/$version}"
mkdir -p "$bin"
if [ ! -x "$bin/helm" ]; then
  command -v go >/dev/null || { echo "build-helm: go is required to build helm $version" >&2; exit 1; }
  echo "build-helm: building helm $version into $bin" >&2
  # As helm's Makefile does: without --kube-version, `helm template` assumes the Kubernetes release
  # of its client-go (v0.34 -> 1.34); otherwise it would assume 1.20.
  kube=$(cd "$here/helm-bin" && GOFLAGS=-mod=mod go list -m -f '{{.Version}}' k8s.io/client-go)
  minor=$(echo "$kube" | cut -d. -f2)
  major=$(( $(echo "${kube#v}" | cut -d. -f1) + 1 ))
  ldflags="-s -X helm.sh/helm/v3/internal/version.version=$version"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags="$ldflags -X $pkg.k8sVersionMajor=$major -X $pkg.k8sVersionMinor=$minor"
  done
  (cd "$here/helm-bin" && GOFLAGS=-mod=mod go build -trimpath -ldflags="$ldflags" \
    -o "$bin/helm" helm.sh/helm/v3/cmd/helm) >&2
fi
echo "$bin"

#!/usr/bin/env bash
# Builds the real kube-apiserver, kube-scheduler and kube-controller-manager (test infrastructure only)
# from the k8s.io/kubernetes Go module into $NLS_E2E_BIN (default ~/.cache/nls-e2e/<version>).
# Also kubectl, where the machine has none, and kubelet-admit (kube-bins/kubelet-admit: the kubelet's
# own pod admission predicates on a Node and Pod given as JSON). Idempotent: binaries already there are
# kept (kubelet-admit is rebuilt when its source is newer). Prints the bin directory on stdout (put it on
# PATH).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version=$(sed -n 's/^\(require \|\t\)k8s.io\/kubernetes \(v[0-9.]*\)$/\2/p' "$here/kube-bins/go.mod")
bin="${NLS_E2E_BIN:-$HOME/.cache/nls-e2e/$version}"
mkdir -p "$bin"
missing=()
for cmd in kube-apiserver kube-scheduler kube-controller-manager; do
  [ -x "$bin/$cmd" ] || missing+=("k8s.io/kubernetes/cmd/$cmd")
done
# kubectl ships with this machine's image; build the matching one only where it is missing.
if ! command -v kubectl >/dev/null 2>&1 && [ ! -x "$bin/kubectl" ]; then
  missing+=("k8s.io/kubernetes/cmd/kubectl")
fi
# kubelet-admit only serves one e2e test (which reports it missing): without Go, the rest still works.
if command -v go >/dev/null && { [ ! -x "$bin/kubelet-admit" ] || [ "$here/kube-bins/kubelet-admit/main.go" -nt "$bin/kubelet-admit" ]; }; then
  missing+=("./kubelet-admit")
fi
if [ ${#missing[@]} -gt 0 ]; then
  command -v go >/dev/null || { echo "build-kube: go is required to build ${missing[*]}" >&2; exit 1; }
  echo "build-kube: building ${missing[*]} ($version) into $bin" >&2
  (cd "$here/kube-bins" && GOFLAGS=-mod=mod go build -trimpath -ldflags=-s -o "$bin/" "${missing[@]}") >&2
fi
echo "$bin"

//go:build tools

// Helm, built from its Go module as test infrastructure (test/deploy/build-helm.sh): `helm lint` and
// `helm template` check charts/nls in CI. Not part of nls.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)

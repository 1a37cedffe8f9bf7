#!/usr/bin/env bash
# Builds alibaba/open-local (benchmark infrastructure only: its scheduler extender is measured beside
# nls's) from a checkout of github.com/alibaba/open-local given as $1 or $NLS_OPEN_LOCAL_SRC. Its module
# is not fetched through the Go module proxy: the checkout's own vendor/ directory builds it
# (`-mod=vendor`), so any machine with Go and the checkout can. Into
# $NLS_OPEN_LOCAL_CACHE (default ~/.cache/nls-open-local)/<VERSION>-<commit>/open-local; a binary already
# there is kept. Prints the binary's path on stdout.
set -euo pipefail
src="${1:-${NLS_OPEN_LOCAL_SRC:-}}"
[ -n "$src" ] || { echo "build-open-local: give a checkout of github.com/alibaba/open-local (or NLS_OPEN_LOCAL_SRC)" >&2; exit 2; }
src="$(cd "$src" && pwd)"
grep -q '^module github.com/alibaba/open-local$' "$src/go.mod" 2>/dev/null \
  || { echo "build-open-local: $src is not a checkout of github.com/alibaba/open-local" >&2; exit 2; }
[ -f "$src/vendor/modules.txt" ] || { echo "build-open-local: $src has no vendor/ to build from" >&2; exit 2; }
version="$(tr -d '[:space:]' < "$src/VERSION" 2>/dev/null || echo unknown)"
commit="$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null || echo nogit)"
bin="${NLS_OPEN_LOCAL_CACHE:-$HOME/.cache/nls-open-local}/$version-$commit/open-local"
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "build-open-local: go is required to build open-local $version" >&2; exit 1; }
  echo "build-open-local: building open-local $version ($commit) into $(dirname "$bin")" >&2
  mkdir -p "$(dirname "$bin")"
  (cd "$src" && GOFLAGS=-mod=vendor go build -trimpath -o "$bin.tmp" \
    -ldflags="-s -X github.com/alibaba/open-local/pkg/version.Version=$version -X github.com/alibaba/open-local/pkg/version.GitCommit=$commit" \
    ./cmd) >&2
  mv "$bin.tmp" "$bin"
fi
echo "$bin"

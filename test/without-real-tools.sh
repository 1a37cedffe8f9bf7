#!/usr/bin/env bash
# Runs a command as a new user's machine would: with only node, npm and the base system on PATH.
# LVM, etcd, kubectl, promtool, Prometheus, Go and Helm are hidden behind a PATH of symbolic links that
# leaves them out, and the built Kubernetes binaries are pointed at a folder that does not exist.
# Usage: test/without-real-tools.sh npm test
set -euo pipefail
hidden_re='^(lvm.*|pv.*|vg.*|lv.*|etcd.*|kubectl|kube-.*|promtool|prometheus.*|go|gofmt|helm)$'
lvm_bin=$(command -v lvm 2>/dev/null || true)
lvm_real=${lvm_bin:+$(readlink -f "$lvm_bin")}
farm=$(mktemp -d)
trap 'rm -rf "$farm"' EXIT
IFS=: read -ra dirs <<<"$PATH"
for dir in "${dirs[@]}"; do
  [ -d "$dir" ] || continue
  for exe in "$dir"/*; do
    name=${exe##*/}
    [ -x "$exe" ] && [ ! -d "$exe" ] || continue
    [ -e "$farm/$name" ] && continue
    [[ $name =~ $hidden_re ]] && continue
    [ -n "$lvm_real" ] && [ "$(readlink -f "$exe")" = "$lvm_real" ] && continue
    ln -s "$exe" "$farm/$name"
  done
done
env -u NLS_REQUIRE_REAL_TOOLS PATH="$farm" NLS_E2E_BIN=/nonexistent "$@"

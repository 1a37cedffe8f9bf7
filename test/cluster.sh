#!/usr/bin/env bash
# `npm run cluster`: set-up, then a local cluster with nls (test/local-cluster/main.ts): a real control
# plane, loop-device-backed nodes with the built agent, the built extender and kube-scheduler. Needs
# root, lvm2, etcd and openssl (and Go the first time, to build Kubernetes); says what is missing.
# Ctrl-C tears everything down. Arguments: --nodes N, --vg-size SIZE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash test/setup.sh
exec node --import tsx test/local-cluster/main.ts "$@"

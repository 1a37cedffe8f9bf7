#!/usr/bin/env bash
# Sets `--extender-scheduler-names` of the `csi-plugin` container of open-local's CSI controller, so it
# provisions PVCs of pods scheduled by these schedulers (open-local's default: default-scheduler only;
# any other name fails CreateVolume with "scheduler arch ... unknown").
#   extender-scheduler-names.sh [NAMES] [WORKLOAD] [NAMESPACE]
#   NAMES     default-scheduler,nls-scheduler
#   WORKLOAD  deployment/open-local-controller (open-local's chart with agent.driverMode=node, its
#             default; with driverMode=all the controller runs in daemonset/open-local-agent)
#   NAMESPACE kube-system
# Replaces an existing --extender-scheduler-names argument, else adds one; running it twice changes
# nothing the second time. Uses kubectl's current context (KUBECONFIG etc. apply).
set -euo pipefail
names="${1:-default-scheduler,nls-scheduler}"
workload="${2:-deployment/open-local-controller}"
namespace="${3:-kube-system}"
template='{{range $i, $c := .spec.template.spec.containers}}{{if eq $c.name "csi-plugin"}}{{$i}}{{range $j, $a := $c.args}} {{$j}}={{$a}}{{end}}{{end}}{{end}}'
found=$(kubectl -n "$namespace" get "$workload" -o go-template="$template")
[ -n "$found" ] || { echo "extender-scheduler-names: no csi-plugin container in $namespace/$workload" >&2; exit 1; }
read -r container args <<<"$found" || true
flag="--extender-scheduler-names=$names"
index=""
for pair in $args; do
  case "${pair#*=}" in
    --extender-scheduler-names=*) index="${pair%%=*}" ;;
    --extender-scheduler-names)
      echo "extender-scheduler-names: $namespace/$workload passes the flag's value as a separate argument; edit it by hand" >&2
      exit 1
      ;;
  esac
done
path="/spec/template/spec/containers/$container/args"
if [ -z "$index" ]; then
  patch="[{\"op\":\"add\",\"path\":\"$path/-\",\"value\":\"$flag\"}]"
else
  current=$(kubectl -n "$namespace" get "$workload" -o "jsonpath={.spec.template.spec.containers[$container].args[$index]}")
  if [ "$current" = "$flag" ]; then
    echo "extender-scheduler-names: $namespace/$workload already has $flag"
    exit 0
  fi
  patch="[{\"op\":\"test\",\"path\":\"$path/$index\",\"value\":\"$current\"},{\"op\":\"replace\",\"path\":\"$path/$index\",\"value\":\"$flag\"}]"
fi
kubectl -n "$namespace" patch "$workload" --type=json -p "$patch"

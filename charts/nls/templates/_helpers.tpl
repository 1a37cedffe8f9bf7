{{/*
The chart renders the manifests of deploy/ (read through files/, which links to them), changing only
what the values set. So `helm template` with the default values and `kubectl kustomize deploy/` give the
same objects; test/deploy/chart.test.ts compares them.
*/}}

{{/* The nls image, `repository:tag`; the tag defaults to the chart's appVersion. */}}
{{- define "nls.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/*
Every object of the YAML files a kustomization lists under `resources` (directories, such as the CRDs,
are left out: they ship in crds/), each through "nls.object".
  include "nls.kustomization" (dict "root" $ "dir" "files/base")
*/}}
{{- define "nls.kustomization" -}}
{{- $root := .root -}}
{{- $dir := .dir -}}
{{- $skip := .skip | default list -}}
{{- $kustomization := fromYaml ($root.Files.Get (printf "%s/kustomization.yaml" $dir)) -}}
{{- range $file := $kustomization.resources -}}
{{- if and (hasSuffix ".yaml" $file) (not (has $file $skip)) -}}
{{- range $doc := regexSplit "(?m)^---\\s*$" ($root.Files.Get (printf "%s/%s" $dir $file)) -1 -}}
{{- $obj := fromYaml $doc -}}
{{- if $obj.kind -}}
{{- include "nls.object" (dict "root" $root "obj" $obj) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The ConfigMaps of a kustomization's configMapGenerator (`key=file` entries, options.labels, no name
hash), each through "nls.object".
*/}}
{{- define "nls.configMapGenerator" -}}
{{- $root := .root -}}
{{- $dir := .dir -}}
{{- $kustomization := fromYaml ($root.Files.Get (printf "%s/kustomization.yaml" $dir)) -}}
{{- range $gen := $kustomization.configMapGenerator -}}
{{- $data := dict -}}
{{- range $entry := $gen.files -}}
{{- $parts := splitList "=" $entry -}}
{{- $_ := set $data (first $parts) ($root.Files.Get (printf "%s/%s" $dir (last $parts))) -}}
{{- end -}}
{{- $meta := dict "name" $gen.name "labels" ($gen.options.labels | default dict) -}}
{{- if $gen.namespace -}}
{{- $_ := set $meta "namespace" $gen.namespace -}}
{{- end -}}
{{- include "nls.object" (dict "root" $root "obj" (dict "apiVersion" "v1" "kind" "ConfigMap" "metadata" $meta "data" $data)) -}}
{{- end -}}
{{- end -}}

{{/*
One object of deploy/, as the values have it, or nothing when the values leave it out.
*/}}
{{- define "nls.object" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $o := .obj -}}
{{- $ns := $root.Release.Namespace -}}
{{- $name := $o.metadata.name -}}
{{- $keep := true -}}
{{- if and (hasPrefix "ValidatingAdmissionPolicy" $o.kind) (not $v.admissionPolicies.enabled) -}}
{{- $keep = false -}}
{{- end -}}
{{- if and (eq $o.kind "ConfigMap") (hasKey ($o.metadata.labels | default dict) "nls.csi.aliyun.com/policy-params") (not $v.admissionPolicies.enabled) -}}
{{- $keep = false -}}
{{- end -}}
{{- if and (has $o.kind (list "Service" "EndpointSlice")) (eq $name "open-local-scheduler-extender") (not $v.extender.openLocalService.enabled) -}}
{{- $keep = false -}}
{{- end -}}
{{- /* Without the alias Service the leader writes, and may write, only the nls-extender slice (the
Deployment names each slice in an env var of its own, expanded into --leader-endpoint-slices). */ -}}
{{- if not $v.extender.openLocalService.enabled -}}
{{- if and (eq $o.kind "Deployment") (eq $name "nls-extender") -}}
{{- $c := first $o.spec.template.spec.containers -}}
{{- $args := list -}}
{{- range $a := $c.args -}}
{{- $args = append $args (ternary "--leader-endpoint-slices=$(LEADER_SLICE_SCHEDULER)" $a (hasPrefix "--leader-endpoint-slices=" $a)) -}}
{{- end -}}
{{- $_ := set $c "args" $args -}}
{{- $env := list -}}
{{- range $e := $c.env -}}
{{- if ne $e.name "LEADER_SLICE_OPEN_LOCAL" -}}
{{- $env = append $env $e -}}
{{- end -}}
{{- end -}}
{{- $_ := set $c "env" $env -}}
{{- end -}}
{{- if and (eq $o.kind "Role") (eq $name "nls-extender") -}}
{{- range $r := $o.rules -}}
{{- if has "endpointslices" $r.resources -}}
{{- $_ := set $r "resourceNames" (without $r.resourceNames "open-local-scheduler-extender") -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $keep -}}
{{- /* What deploy/ puts in kube-system goes to the release's namespace, except the one role kube-system
holds: reading the authentication configuration. The agents' Lease namespace (nls-node-lease) stays. */ -}}
{{- if and (eq ($o.metadata.namespace | default "") "kube-system") (ne ($o.roleRef | default dict).name "extension-apiserver-authentication-reader") -}}
{{- $_ := set $o.metadata "namespace" $ns -}}
{{- end -}}
{{- /* The admission policies' parameters (ConfigMaps named like the daemons' ServiceAccounts) move with them. */ -}}
{{- if and (eq $o.kind "ValidatingAdmissionPolicyBinding") $o.spec.paramRef -}}
{{- if eq ($o.spec.paramRef.namespace | default "") "kube-system" -}}
{{- $_ := set $o.spec.paramRef "namespace" $ns -}}
{{- end -}}
{{- end -}}
{{- range $s := $o.subjects | default list -}}
{{- if eq ($s.namespace | default "") "kube-system" -}}
{{- $_ := set $s "namespace" $ns -}}
{{- end -}}
{{- end -}}
{{- if has $o.kind (list "Deployment" "DaemonSet") -}}
{{- range $c := $o.spec.template.spec.containers -}}
{{- if eq $c.image "nls" -}}
{{- $_ := set $c "image" (include "nls.image" $root) -}}
{{- $_ := set $c "imagePullPolicy" $v.image.pullPolicy -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and (eq $o.kind "DaemonSet") (eq $name "nls-agent") -}}
{{- range $field, $value := dict "nodeSelector" $v.agent.nodeSelector "tolerations" $v.agent.tolerations -}}
{{- if $value -}}
{{- $_ := set $o.spec.template.spec $field $value -}}
{{- else -}}
{{- $_ := unset $o.spec.template.spec $field -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and (eq $o.kind "Deployment") (eq $name "nls-extender") -}}
{{- $_ := set $o.spec "replicas" (int $v.extender.replicas) -}}
{{- $_ := set $o.spec "strategy" $v.extender.strategy -}}
{{- if not (has $v.extender.agentLease (list "required" "optional")) -}}
{{- fail (printf "extender.agentLease: %q is neither required nor optional" $v.extender.agentLease) -}}
{{- end -}}
{{- if and $v.managedResources.enabled (eq $v.managedResources.mode "webhook") -}}
{{- include "nls.appendPatches" (dict "root" $root "dir" "files/managed-resources-webhook" "obj" $o) -}}
{{- if eq $v.managedResources.webhook.certificate "files" -}}
{{- include "nls.appendPatches" (dict "root" $root "dir" "files/webhook-certificate-files" "obj" $o) -}}
{{- else if ne $v.managedResources.webhook.certificate "secret" -}}
{{- fail (printf "managedResources.webhook.certificate: %q is neither secret nor files" $v.managedResources.webhook.certificate) -}}
{{- end -}}
{{- end -}}
{{- if eq $v.extender.agentLease "optional" -}}
{{- $c := first $o.spec.template.spec.containers -}}
{{- $_ := set $c "args" (append $c.args "--agent-lease=optional") -}}
{{- end -}}
{{- end -}}
{{- if eq $o.kind "MutatingWebhookConfiguration" -}}
{{- range $w := $o.webhooks -}}
{{- if eq ($w.clientConfig.service.namespace | default "") "kube-system" -}}
{{- $_ := set $w.clientConfig.service "namespace" $ns -}}
{{- end -}}
{{- if $v.managedResources.webhook.caBundle -}}
{{- $_ := set $w.clientConfig "caBundle" $v.managedResources.webhook.caBundle -}}
{{- end -}}
{{- end -}}
{{- if $v.managedResources.webhook.annotations -}}
{{- $_ := set $o.metadata "annotations" (merge (dict) $v.managedResources.webhook.annotations ($o.metadata.annotations | default dict)) -}}
{{- end -}}
{{- end -}}
{{- if and (eq $o.kind "Service") (eq $name "nls-extender") $v.extender.service.clusterIP -}}
{{- $_ := set $o.spec "clusterIP" $v.extender.service.clusterIP -}}
{{- end -}}
{{- if and (eq $o.kind "Service") (eq $name "open-local-scheduler-extender") $v.extender.openLocalService.clusterIP -}}
{{- $_ := set $o.spec "clusterIP" $v.extender.openLocalService.clusterIP -}}
{{- end -}}
{{- range $kind, $key := dict "PodMonitor" "podMonitor" "ServiceMonitor" "serviceMonitor" "PrometheusRule" "prometheusRule" -}}
{{- if eq $o.kind $kind -}}
{{- $_ := set $o.metadata "labels" (merge (dict) (index $v.monitoring $key).labels $o.metadata.labels) -}}
{{- end -}}
{{- end -}}
{{- if and (eq $o.kind "Deployment") (eq $name "nls-scheduler") -}}
{{- $_ := set $o.spec "replicas" (int $v.secondScheduler.replicas) -}}
{{- $_ := set (first $o.spec.template.spec.containers) "image" $v.secondScheduler.image -}}
{{- end -}}
{{- if and (eq $o.kind "ConfigMap") (eq $name "nls-scheduler-config") -}}
{{- $_ := set $o.data "config.yaml" (replace "kube-system" $ns (index $o.data "config.yaml")) -}}
{{- end }}
---
{{ toYaml $o }}
{{ end -}}
{{- end -}}

{{/*
A component's patches of the extender Deployment, applied to it: the chart renders the component's
own file rather than a copy. Only what such a patch does is understood — JSON 6902 `add` to the end
of the first container's args, ports or volumeMounts, or of the pod's volumes; anything else fails.
*/}}
{{- define "nls.appendPatches" -}}
{{- $kustomization := fromYaml (.root.Files.Get (printf "%s/kustomization.yaml" .dir)) -}}
{{- $podSpec := .obj.spec.template.spec -}}
{{- $container := first $podSpec.containers -}}
{{- range $patch := $kustomization.patches -}}
{{- if and $patch.target (eq $patch.target.kind "Deployment") (eq $patch.target.name "nls-extender") -}}
{{- range $op := fromYamlArray $patch.patch -}}
{{- $field := trimSuffix "/-" (trimPrefix "/spec/template/spec/" $op.path) -}}
{{- if ne $op.op "add" -}}
{{- fail (printf "chart: cannot apply %s %s" $op.op $op.path) -}}
{{- else if has $field (list "containers/0/args" "containers/0/ports" "containers/0/volumeMounts" "containers/0/env") -}}
{{- $key := trimPrefix "containers/0/" $field -}}
{{- $_ := set $container $key (append (index $container $key | default list) $op.value) -}}
{{- else if eq $field "volumes" -}}
{{- $_ := set $podSpec "volumes" (append ($podSpec.volumes | default list) $op.value) -}}
{{- else -}}
{{- fail (printf "chart: cannot apply add %s" $op.path) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

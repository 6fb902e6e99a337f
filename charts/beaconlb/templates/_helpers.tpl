{{/*
Labels of every object: the ones config/ puts on it (name, and component unless "") and Helm's own.
Usage: include "beaconlb.labels" (list . "controller")
*/}}
{{- define "beaconlb.labels" -}}
{{- $root := index . 0 -}}
{{- if index . 1 -}}
{{ include "beaconlb.selectorLabels" (index . 1) }}
{{- else -}}
app.kubernetes.io/name: beaconlb
{{- end }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" }}
{{- end }}

{{/*
Selector labels of a component, the same as in config/ (a Deployment's or DaemonSet's selector cannot change later).
Usage: include "beaconlb.selectorLabels" "controller"
*/}}
{{- define "beaconlb.selectorLabels" -}}
app.kubernetes.io/name: beaconlb
app.kubernetes.io/component: {{ . }}
{{- end }}

{{/* The container image. */}}
{{- define "beaconlb.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
A container's args as a JSON list: the command, then each flag both components share only when it differs from the
binaries' default (values.yaml holds those defaults), the metrics address likewise, then the component's own flags.
Usage: include "beaconlb.args" (list . "speaker" .Values.speaker.metrics "127.0.0.1" 7473 (list))
*/}}
{{- define "beaconlb.args" -}}
{{- $root := index . 0 -}}
{{- $metrics := index . 2 -}}
{{- $args := list (index . 1) -}}
{{- if ne $root.Values.logLevel "info" -}}
{{- $args = append $args (printf "--log-level=%s" $root.Values.logLevel) -}}
{{- end -}}
{{- if ne $root.Values.loadBalancerClass "beaconlb.io/beaconlb" -}}
{{- $args = append $args (printf "--load-balancer-class=%s" $root.Values.loadBalancerClass) -}}
{{- end -}}
{{- if or (ne $metrics.host (index . 3)) (ne (int $metrics.port) (int (index . 4))) -}}
{{- $args = append $args (printf "--metrics-address=%s:%d" $metrics.host (int $metrics.port)) -}}
{{- end -}}
{{- toJson (concat $args (index . 5)) -}}
{{- end }}


{{- define "iamlet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "iamlet.fullname" -}}
{{- if contains (include "iamlet.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "iamlet.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "iamlet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "iamlet.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "iamlet.labels" -}}
app.kubernetes.io/name: {{ include "iamlet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "iamlet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "iamlet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

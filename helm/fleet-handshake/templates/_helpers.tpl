{{/*
Chart name, truncated to 63 characters (the DNS label limit of names and
label values).
*/}}
{{- define "fleet-handshake.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: <release>-<chart>, or the release name alone when it already
contains the chart name; fullnameOverride wins. Truncated to 63 characters.
*/}}
{{- define "fleet-handshake.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
chart label value: name-version, "+" replaced (not allowed in labels).
*/}}
{{- define "fleet-handshake.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: stable for the life of a release (a Deployment's selector
is immutable), so no version in them.
*/}}
{{- define "fleet-handshake.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fleet-handshake.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels on every object of the release.
*/}}
{{- define "fleet-handshake.labels" -}}
helm.sh/chart: {{ include "fleet-handshake.chart" . }}
{{ include "fleet-handshake.selectorLabels" . }}
app.kubernetes.io/version: {{ include "fleet-handshake.tag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: fleet-handshake
{{- end }}

{{/*
ServiceAccount name: serviceAccount.name, else the full name when the chart
creates it. Not creating one and naming none would bind the operator's
rights to the namespace's "default" ServiceAccount: refused.
*/}}
{{- define "fleet-handshake.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "fleet-handshake.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create=false (name an existing ServiceAccount; the namespace's default one is not used)" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image tag: image.tag, else the chart's appVersion.
*/}}
{{- define "fleet-handshake.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion | toString }}
{{- end }}

{{/*
Image reference: repository:tag, plus @digest when image.digest is set.
*/}}
{{- define "fleet-handshake.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (include "fleet-handshake.tag" .) }}
{{- if .Values.image.digest }}
{{- $ref = printf "%s@%s" $ref .Values.image.digest }}
{{- end }}
{{- $ref }}
{{- end }}

{{/*
Name of the leader-election Lease (--leader-elect-id); the Role that lets
the operator get/update it is restricted to this name.
*/}}
{{- define "fleet-handshake.leaseName" -}}
{{- include "fleet-handshake.fullname" . }}
{{- end }}

{{/*
--drain-timeout: 5 seconds less than terminationGracePeriodSeconds, so the
operator finishes in-flight work and exits before the kubelet's SIGKILL.
*/}}
{{- define "fleet-handshake.drainTimeout" -}}
{{- printf "%ds" (sub (int .Values.terminationGracePeriodSeconds) 5) }}
{{- end }}

{{/*
A duration ("1h30m", "15s", "500ms"; the schema admits nothing else) in
milliseconds, as a string.
*/}}
{{- define "fleet-handshake.durationMs" -}}
{{- $ms := 0 }}
{{- range regexFindAll "[0-9]+(ms|s|m|h)" (toString .) -1 }}
{{- $n := regexFind "^[0-9]+" . | atoi }}
{{- $unit := regexFind "[a-z]+$" . }}
{{- $ms = add $ms (mul $n (get (dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000) $unit)) }}
{{- end }}
{{- $ms }}
{{- end }}

{{/*
Checks that values.schema.json cannot express. Included by the Deployment,
so `helm install`/`helm template` fail with the message.
*/}}
{{- define "fleet-handshake.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail (printf "replicaCount=%d needs leaderElection.enabled=true: without leader election every replica would reconcile the same FleetHandshakes at the same time" (int .Values.replicaCount)) }}
{{- end }}
{{- if .Values.leaderElection.enabled }}
{{- $le := .Values.leaderElection }}
{{- $lease := include "fleet-handshake.durationMs" $le.leaseDuration | atoi }}
{{- $renew := include "fleet-handshake.durationMs" $le.renewDeadline | atoi }}
{{- $retry := include "fleet-handshake.durationMs" $le.retryPeriod | atoi }}
{{- /* the supervisor's rule (it exits 78 otherwise): lease duration >= 1s,
       lease duration > renew deadline > 1.2 x retry period */}}
{{- if or (lt $lease 1000) (le $lease $renew) (le (mul $renew 10) (mul $retry 12)) (eq $retry 0) }}
{{- fail (printf "leaderElection timing: need leaseDuration (%s) > renewDeadline (%s) > 1.2 x retryPeriod (%s), and leaseDuration >= 1s" $le.leaseDuration $le.renewDeadline $le.retryPeriod) }}
{{- end }}
{{- end }}
{{- $sm := .Values.metrics.serviceMonitor }}
{{- if and $sm.enabled (gt (include "fleet-handshake.durationMs" $sm.scrapeTimeout | atoi) (include "fleet-handshake.durationMs" $sm.interval | atoi)) }}
{{- fail (printf "metrics.serviceMonitor.scrapeTimeout (%s) must not be longer than its interval (%s); Prometheus refuses such a scrape config" $sm.scrapeTimeout $sm.interval) }}
{{- end }}
{{- if or (lt (int .Values.workers) 1) (gt (int .Values.workers) 256) }}
{{- fail (printf "workers must be 1..256, got %v" .Values.workers) }}
{{- end }}
{{- if lt (int .Values.terminationGracePeriodSeconds) 6 }}
{{- fail (printf "terminationGracePeriodSeconds must be at least 6 (the operator drains for 5 seconds less), got %v" .Values.terminationGracePeriodSeconds) }}
{{- end }}
{{- range .Values.watchNamespaces }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" (toString .)) }}
{{- fail (printf "watchNamespaces: %q is not a valid namespace name" (toString .)) }}
{{- end }}
{{- end }}
{{- if ne (len .Values.watchNamespaces) (len (uniq .Values.watchNamespaces)) }}
{{- fail "watchNamespaces lists a namespace twice" }}
{{- end }}
{{- end }}

{{/* The release's full name, used for every object. */}}
{{- define "servicedb.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The label contract (docs/api.md): app.kubernetes.io/* on everything. */}}
{{- define "servicedb.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: servicedb-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "servicedb.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "servicedb.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "servicedb.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Rules on namespaced resources: what the controllers read and write in the namespaces they watch.
Every verb here is used by a controller; docs/deploy.md explains each.
*/}}
{{- define "servicedb.namespacedRules" -}}
# The four kinds: watched, finalizers added and removed, status written through /status.
- apiGroups: [servicedb.io]
  resources: [servicedatabases, backuppolicies, readreplicas, auditstores]
  verbs: [get, list, watch, update, patch]
- apiGroups: [servicedb.io]
  resources: [servicedatabases/status, backuppolicies/status, readreplicas/status, auditstores/status]
  verbs: [get, update, patch]
- apiGroups: [servicedb.io]
  resources: [servicedatabases/finalizers, backuppolicies/finalizers, readreplicas/finalizers, auditstores/finalizers]
  verbs: [update]
# Children of a ServiceDatabase, applied server-side and owned through ownerReferences. Secrets hold
# generated credentials; user-named Secrets (admin, backup keys) are read with get only.
- apiGroups: [""]
  resources: [secrets, services, configmaps, persistentvolumeclaims, serviceaccounts]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [batch]
  resources: [jobs, cronjobs]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, update, patch, delete]
# A BackupPolicy gives each backup Job its own ServiceAccount with a Role and RoleBinding that grant
# get and patch on its report ConfigMap and create on Events. Kubernetes lets the operator grant only
# what it holds itself: those verbs are in the configmaps and events rules here.
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  verbs: [get, list, watch, create, update, patch, delete]
# Pods are only observed (readiness, NetworkIsolated evaluation); logs of failed migration Jobs are
# tailed into status.
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
# Events for kubectl describe, aggregated by count.
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end -}}

{{/* Cluster-scoped reads the operator needs in every watch mode. */}}
{{- define "servicedb.clusterRules" -}}
# NetworkPolicy evaluation matches namespaceSelectors against Namespace labels.
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
# Storage expansion is allowed only when the StorageClass says so.
- apiGroups: [storage.k8s.io]
  resources: [storageclasses]
  verbs: [get, list, watch]
{{- end -}}

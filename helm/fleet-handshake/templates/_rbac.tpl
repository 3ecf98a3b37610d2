{{/*
The operator's rules, least privilege: exactly the requests the code makes,
nothing more. Each rule names the process that needs it and where. Used by
the ClusterRole (all namespaces) or by one Role per watched namespace.
*/}}
{{- define "fleet-handshake.operatorRules" -}}
# fh-watcher lists and watches FleetHandshakes (full objects: it needs the
# spec) - watcher/main.c add_namespace().
- apiGroups: ["riverpointtechnology.com"]
  resources: ["fleethandshakes"]
  verbs: ["list", "watch"]
# fh-worker reads one FleetHandshake live before adopting an orphaned Bundle
# of ours, so an orphan deletion in progress is never undone -
# worker/bundle_sync.c bundle_sync_owner_alive().
- apiGroups: ["riverpointtechnology.com"]
  resources: ["fleethandshakes"]
  verbs: ["get"]
# fh-worker writes status through the status subresource with a merge
# patch - worker/reconcile.c (PATCH .../fleethandshakes/NAME/status).
- apiGroups: ["riverpointtechnology.com"]
  resources: ["fleethandshakes/status"]
  verbs: ["patch"]
# fh-worker sets a controller ownerReference with blockOwnerDeletion: true
# on each Bundle (worker/bundle_build.c); with the
# OwnerReferencesPermissionEnforcement admission plugin that requires update
# on the owner's finalizers subresource. No finalizer is ever written.
- apiGroups: ["riverpointtechnology.com"]
  resources: ["fleethandshakes/finalizers"]
  verbs: ["update"]
# fh-watcher lists and watches Secrets as PartialObjectMetadata (no data is
# transferred, but RBAC still calls it list/watch on secrets) - watcher/main.c.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["list", "watch"]
# fh-worker reads the one source Secret a FleetHandshake names, only when
# the Bundle is out of date - worker/reconcile.c get_secret().
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
# fh-watcher lists and watches Bundles as metadata - watcher/main.c.
- apiGroups: ["fleet.cattle.io"]
  resources: ["bundles"]
  verbs: ["list", "watch"]
# fh-worker reads the live Bundle, creates it (POST), updates the fields it
# owns (merge PATCH) and deletes it with a uid precondition when its
# FleetHandshake goes away - worker/bundle_sync.c.
- apiGroups: ["fleet.cattle.io"]
  resources: ["bundles"]
  verbs: ["get", "create", "patch", "delete"]
{{- end }}

{{/*
Leader election (fh-elector, client-go's Lease algorithm): GET the Lease,
POST it when it does not exist, PUT it to acquire, renew and release.
create cannot be restricted by resourceName (the name is not in the URL of
a POST); get and update are restricted to the one Lease.
*/}}
{{- define "fleet-handshake.leaderElectionRules" -}}
# fh-elector creates the Lease the first time (POST to the collection).
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["create"]
# fh-elector reads and renews/takes over/releases its one Lease (GET, PUT).
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  resourceNames: [{{ include "fleet-handshake.leaseName" . | quote }}]
  verbs: ["get", "update"]
{{- end }}

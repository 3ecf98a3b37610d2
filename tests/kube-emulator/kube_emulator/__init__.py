"""kube_emulator: an in-memory Kubernetes API server for tests.

Standard library only. Entry point: ``tests/kube-emulator/kube-emulator``
(see ``main.py``). Module map:

- main        command line, start-up, signal handling
- bootstrap   TLS material (openssl CA + serving cert) and the kubeconfig file
- server      HTTP/1.1 serving, TLS wrapping, bearer auth, routing, Accept negotiation
              (and its NotAcceptable rules), Warning headers, the admin API's routes
- api         verb semantics (get/list/create/update/patch/delete/...) shared by
              HTTP handlers and the in-process controllers, in kube-apiserver's order
              (decode, NamespaceLifecycle, validation, storage)
- decoding    request bodies as the apiserver's decoders read them: JSON syntax,
              Go-typed decoding of built-ins, CR kind/metadata checks, fieldValidation
- gotypes     types-only description of the built-in kinds' Go types
- gostd       Go standard-library behaviour decoding depends on (time.Parse for
              RFC3339/RFC3339Micro, base64 StdEncoding errors)
- store       objects, global resourceVersion, event history, watcher fan-out
- watch       chunked watch streaming, bookmark schedule, splitChunks
- registry    resource types (built-ins and CRD-derived)
- kinds       per-kind strategies (Secret, ConfigMap, Lease, Event, Namespace, CRD, CRs)
- discovery   /version, discovery documents, /openapi
- tables      Table and PartialObjectMetadata conversion, JSONPath, ages
- patches     JSON merge patch, JSON patch, strategic merge patch
- selectors   label and field selectors
- validation  apimachinery validators and ObjectMeta validation; openAPIV3Schema
              pruning, defaulting and validation
- gc          background controllers: garbage collector, namespace and CRD cleanup
- rbac        ServiceAccount tokens, impersonation, RBAC authorization, reviews,
              ClusterRole aggregation, OwnerReferencesPermissionEnforcement
- admin       /emulator/v1 admin API state: stats, faults (incl. splitChunks), latency
- fleet_sim   Fleet Bundle simulation (--fleet-sim)
- yamlsub     small YAML reader for Bundle manifests (no PyYAML in the emulator)
- protobuf    decoding of k8s protobuf request bodies (kubectl create secret ...)
- errors      metav1.Status errors
- util        time formats, copying, JSON helpers, names
"""

"""kube_emulator: an in-memory Kubernetes API server for tests.

Standard library only. Entry point: ``tests/kube-emulator/kube-emulator``
(see ``main.py``). Module map:

- main        command line, start-up, signal handling
- bootstrap   TLS material (openssl CA + serving cert) and the kubeconfig file
- server      HTTP/1.1 serving, TLS wrapping, bearer auth, routing, Accept parsing
- api         verb semantics (get/list/create/update/patch/delete/...) shared by
              HTTP handlers and the in-process controllers
- store       objects, global resourceVersion, event history, watcher fan-out
- watch       chunked watch streaming
- registry    resource types (built-ins and CRD-derived)
- kinds       per-kind strategies (Secret, ConfigMap, Namespace, CRD, Lease, CRs)
- discovery   /version, discovery documents, /openapi
- tables      Table and PartialObjectMetadata conversion, JSONPath, ages
- patches     JSON merge patch, JSON patch, strategic merge patch
- selectors   label and field selectors
- validation  openAPIV3Schema validation, pruning and defaulting
- gc          background controllers: garbage collector, namespace and CRD cleanup
- admin       /emulator/v1 admin API: stats, faults, latency, watch control
- fleet_sim   Fleet Bundle simulation (--fleet-sim)
- yamlsub     small YAML reader for Bundle manifests (no PyYAML in the emulator)
- protobuf    decoding of k8s protobuf request bodies (kubectl create secret ...)
- errors      metav1.Status errors
- util        time formats, copying, JSON helpers, names
"""

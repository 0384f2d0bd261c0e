#!/usr/bin/env python3
"""Writes N mesh objects as one multi-document YAML file: a quarter each of Services,
ConfigMaps, VirtualServices (routing to those Services by subset) and DestinationRules
(defining the subsets), spread over 10 namespaces, plus the namespaces. Deterministic."""
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
out = []
namespaces = [f"bench-{i}" for i in range(10)]
for ns in namespaces:
    out.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    istio.io/dataplane-mode: ambient\n")
per_kind = count // 4
for i in range(per_kind):
    ns = namespaces[i % len(namespaces)]
    out.append(f"""apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
  namespace: {ns}
  labels:
    app: svc-{i}
spec:
  selector:
    app: svc-{i}
  ports:
  - name: http
    port: 8000
    targetPort: 8080
""")
    out.append(f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg-{i}
  namespace: {ns}
data:
  key: value-{i}
""")
    out.append(f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs-{i}
  namespace: {ns}
spec:
  hosts:
  - svc-{i}
  http:
  - match:
    - headers:
        x-canary:
          exact: "true"
      uri:
        prefix: /api/
    route:
    - destination:
        host: svc-{i}
        subset: v2
    timeout: 5s
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: 5xx,connect-failure
  - route:
    - destination:
        host: svc-{i}
        subset: v1
      weight: 90
    - destination:
        host: svc-{i}
        subset: v2
      weight: 10
""")
    out.append(f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: dr-{i}
  namespace: {ns}
spec:
  host: svc-{i}
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
""")
sys.stdout.write("---\n".join(out))

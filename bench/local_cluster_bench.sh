#!/usr/bin/env bash
# Local cluster start-up: how long `weft cluster create` takes, and how long until N pods
# of one Deployment are Running and ready. The peer, in the same run, is the bare minimum
# the same work needs from a shell: N `ip netns add` + veth + address + one process each.
# Usage: local_cluster_bench.sh BIN_DIR [PODS]   (as root; everything stays in namespaces)
set -euo pipefail
bin=$1
pods=${2:-50}
weft="$bin/weft"
export WEFT_HOME=$(mktemp -d /tmp/weft-bench.XXXXXX)
name="bench$$"
trap '"$weft" cluster delete --name "$name" >/dev/null 2>&1 || true; for i in $(seq "$pods"); do ip netns del "wb$$-$i" 2>/dev/null || true; done; ip netns del "wb$$-c" 2>/dev/null || true; rm -rf "$WEFT_HOME"' EXIT

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

start=$(now)
"$weft" cluster create --name "$name" --nodes 2 >/dev/null
create=$(elapsed "$start")

cat >"$WEFT_HOME/deploy.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: many}
spec:
  replicas: $pods
  selector: {matchLabels: {app: many}}
  template:
    metadata: {labels: {app: many}}
    spec:
      containers:
      - name: httpbin
        image: docker.io/mccutchen/go-httpbin:v2.15.0
        ports: [{containerPort: 8080}]
YAML
start=$(now)
"$weft" apply -f "$WEFT_HOME/deploy.yaml" >/dev/null
deadline=$((SECONDS + 120))
while ((SECONDS < deadline)); do
  ready=$("$weft" get deploy many -o jsonpath='{.status.readyReplicas}' 2>/dev/null || echo 0)
  [ "${ready:-0}" -ge "$pods" ] && break
  sleep 0.05
done
running=$(elapsed "$start")
[ "${ready:-0}" -ge "$pods" ] || { echo "only ${ready:-0} of $pods pods became ready within 120 s" >&2; exit 1; }
start=$(now)
"$weft" cluster delete --name "$name" >/dev/null
delete=$(elapsed "$start")

# The peer: the same namespaces, links, addresses and processes made by hand.
start=$(now)
ip netns add "wb$$-c"
ip -n "wb$$-c" link add br0 type bridge
ip -n "wb$$-c" link set br0 up
for i in $(seq "$pods"); do
  ip netns add "wb$$-$i"
  ip -n "wb$$-c" link add "v$i" type veth peer name eth0 netns "wb$$-$i"
  ip -n "wb$$-c" link set "v$i" master br0 up
  ip -n "wb$$-$i" addr add "198.18.1.$i/32" dev eth0
  ip -n "wb$$-$i" link set eth0 up
  ip -n "wb$$-$i" link set lo up
  ip netns exec "wb$$-$i" "$bin/weft-httpbin" -host "198.18.1.$i" >/dev/null 2>&1 &
done
for i in $(seq "$pods"); do
  until ip netns exec "wb$$-$i" bash -c "exec 3<>/dev/tcp/198.18.1.$i/8080" 2>/dev/null; do sleep 0.01; done
done
shell=$(elapsed "$start")
for i in $(seq "$pods"); do ip netns pids "wb$$-$i" | xargs -r kill; done

printf '%-44s %8s\n' "measure" "seconds"
printf '%-44s %8.2f\n' "weft cluster create (2 nodes)" "$create"
printf '%-44s %8.2f\n' "apply -> $pods httpbin pods ready (weft)" "$running"
printf '%-44s %8.2f\n' "$pods namespaces+veths+httpbin by hand (peer)" "$shell"
printf '%-44s %8.2f\n' "weft cluster delete ($pods pods)" "$delete"
printf 'ratio weft/peer for %s pods: %.2f\n' "$pods" "$(echo "$running / $shell" | bc -l)"

#!/usr/bin/env bash
# The sandbox's scenarios on a real cluster: kind, the agent's image from bin/image, the Helm chart,
# the sandbox's fake IMDS (on every node) and fake STS (in the cluster), and pods running the AWS CLI.
# Needs a Docker engine, kind, kubectl and helm; CI machines have no Docker engine, so CI does not run this.
# Usage: test-e2e/kind/run.sh [--keep]   (--keep leaves the cluster up for a look around)
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
root=$(cd "$here/../.." && pwd)
cluster=${IAMLET_KIND_CLUSTER:-iamlet-e2e}
keep=${1:-}

for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || { echo "run.sh needs $tool on PATH" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "run.sh needs a running Docker engine (docker info failed)" >&2; exit 1; }

failures=0
check() { # check NAME EXPECTED-TEXT ACTUAL-TEXT
  if grep -q -- "$2" <<<"$3"; then echo "ok    $1"; else echo "FAIL  $1: expected '$2' in: $3"; failures=$((failures + 1)); fi
}
cleanup() {
  if [ "$keep" != "--keep" ]; then kind delete cluster --name "$cluster" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

echo "== building (Maven, then the images)"
JAVA_HOME=$("$root/bin/java-home"); export JAVA_HOME
(cd "$root" && mvn -B -q -ntp install -DskipTests \
  && mvn -B -q -ntp -pl test-e2e dependency:copy-dependencies -DincludeScope=test -DoutputDirectory=target/kind-lib)
# The agent's image as operators get it (an OCI archive named as the chart's default image, which values.yaml keeps).
"$root/bin/image" --no-build
archive=$(ls "$root"/target/image/iamlet-*.oci.tar)
docker build -q -f "$here/fakes.Dockerfile" -t iamlet-fakes:kind "$root"

echo "== cluster $cluster"
kind get clusters | grep -qx "$cluster" || kind create cluster --name "$cluster" --config "$here/cluster.yaml" --wait 120s
kind load image-archive "$archive" --name "$cluster"
kind load docker-image iamlet-fakes:kind --name "$cluster"
kubectl apply -f "$here/manifests/fakes.yaml"
kubectl -n iamlet-e2e rollout status ds/fake-imds --timeout=120s
kubectl -n iamlet-e2e rollout status deploy/fake-sts --timeout=120s
helm upgrade --install iamlet "$root/deploy/helm/iamlet" -n kube-system -f "$here/values.yaml" --wait --timeout 3m

echo "== scenarios"
kubectl apply -f "$here/manifests/scenarios.yaml"
for job in shop/own-role locked/refused-role shop/default-role shop/user-data; do
  kubectl -n "${job%/*}" wait "job/${job#*/}" --for=condition=complete --timeout=120s >/dev/null 2>&1 \
    || kubectl -n "${job%/*}" wait "job/${job#*/}" --for=condition=failed --timeout=5s >/dev/null 2>&1 || true
done
check "a pod gets its own role" "assumed-role/app-web/shop." "$(kubectl -n shop logs job/own-role 2>&1)"
check "a role the namespace does not allow is refused" "Unable to locate credentials" "$(kubectl -n locked logs job/refused-role 2>&1)"
check "no annotation gets the default role" "assumed-role/sandbox-default/shop." "$(kubectl -n shop logs job/default-role 2>&1)"
check "user-data stays on the node" "status=403" "$(kubectl -n shop logs job/user-data 2>&1)"

echo "== restarts leave one rule set"
for i in 1 2 3; do
  kubectl -n kube-system rollout restart ds/iamlet >/dev/null
  kubectl -n kube-system rollout status ds/iamlet --timeout=180s >/dev/null
done
for node in $(kind get nodes --name "$cluster"); do
  check "$node holds one redirect" "^1$" "$(docker exec "$node" nft list table inet iamlet | grep -c 'dnat ip to')"
done

echo "== helm uninstall removes every rule"
helm uninstall iamlet -n kube-system --wait --timeout 3m
sleep 5
for node in $(kind get nodes --name "$cluster"); do
  check "$node has no iamlet rule" "^0$" "$(docker exec "$node" nft list ruleset | grep -c iamlet || true)"
done

if [ "$failures" -gt 0 ]; then echo "$failures scenario(s) failed"; exit 1; fi
echo "all kind scenarios passed"

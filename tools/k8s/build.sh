#!/usr/bin/env bash
# Builds the Kubernetes test environment from the Go module proxy into a
# cache outside the repository, keyed by version:
# ${PURSER_K8S_BIN:-$HOME/.cache/purser-k8s/v1.37.1}. The control plane
# (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) comes
# from this module; kwok, which simulates nodes and the pods on them, is
# built in its own module context (it pins its own client libraries), and
# the kwok stages the tests load (node-initialize, pod-ready, pod-complete,
# pod-delete) are copied from its module into $out/kwok-stages. About
# twelve minutes cold; only what is missing is built, nothing to do when
# everything is there.
set -euo pipefail
cd "$(dirname "$0")"
version=v1.37.1
kwok_version=v0.8.0
out="${PURSER_K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/purser-k8s/$version}"
stages=(node/fast/node-initialize pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete)
missing=()
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
  [ -x "$out/$b" ] || missing+=("$b")
done
for s in "${stages[@]}"; do
  if [ ! -f "$out/kwok-stages/$(basename "$s").yaml" ]; then
    missing+=(kwok-stages)
    break
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "Kubernetes $version and kwok $kwok_version binaries: cached in $out"
  exit 0
fi
mkdir -p "$out"
echo "Building ${missing[*]} (Kubernetes $version, kwok $kwok_version) into $out; about 5 minutes for the control plane and 7 for kwok the first time..."
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"
for b in "${missing[@]}"; do
  start=$(date +%s)
  echo "  building $b..."
  case "$b" in
  kube-*)
    go build -trimpath -ldflags "$ldflags" -o "$out/$b.tmp" "k8s.io/kubernetes/cmd/$b"
    mv "$out/$b.tmp" "$out/$b"
    ;;
  etcd)
    go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3
    mv "$out/etcd.tmp" "$out/etcd"
    ;;
  kwok)
    gobin=$(mktemp -d)
    # go install pkg@version ignores this module and builds kwok with the
    # dependency versions of its own go.mod.
    (cd / && GOBIN="$gobin" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version")
    mv "$gobin/kwok" "$out/kwok"
    rmdir "$gobin"
    ;;
  kwok-stages)
    dir=$(cd / && go mod download -json "sigs.k8s.io/kwok@$kwok_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    mkdir -p "$out/kwok-stages"
    for s in "${stages[@]}"; do
      cp "$dir/kustomize/stage/$s.yaml" "$out/kwok-stages/"
      chmod 0644 "$out/kwok-stages/$(basename "$s").yaml"
    done
    ;;
  esac
  echo "  $b: $(( $(date +%s) - start ))s"
done

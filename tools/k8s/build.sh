#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager for the tests
# from the Go module proxy into a cache outside the repository, keyed by
# version: ${PURSER_K8S_BIN:-$HOME/.cache/purser-k8s/v1.37.1}. About five
# minutes cold; nothing to do when the binaries are there.
set -euo pipefail
cd "$(dirname "$0")"
version=v1.37.1
out="${PURSER_K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/purser-k8s/$version}"
if [ -x "$out/etcd" ] && [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ]; then
  echo "Kubernetes $version binaries: cached in $out"
  exit 0
fi
mkdir -p "$out"
echo "Building Kubernetes $version (etcd, kube-apiserver, kube-controller-manager) into $out; about 5 minutes the first time..."
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"
start=$(date +%s)
for cmd in k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager; do
  echo "  building $(basename "$cmd")..."
  go build -trimpath -ldflags "$ldflags" -o "$out/$(basename "$cmd").tmp" "$cmd"
  mv "$out/$(basename "$cmd").tmp" "$out/$(basename "$cmd")"
done
echo "  building etcd..."
go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3
mv "$out/etcd.tmp" "$out/etcd"
echo "Built in $(( $(date +%s) - start ))s."

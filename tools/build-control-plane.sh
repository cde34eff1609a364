#!/usr/bin/env bash
# Build etcd, kube-apiserver and kube-controller-manager from Go modules at
# pinned versions, cached outside the repo (keyed by version).
#
#   tools/build-control-plane.sh        # builds if missing, prints the bin dir
#
# Environment:
#   K8S_VERSION   (default 1.35.4)   k8s.io/kubernetes release
#   ETCD_VERSION  (default v3.6.16)  go.etcd.io/etcd/server/v3 release
#   K8S_LUA_CACHE (default ~/.cache/k8s-lua)
set -euo pipefail

# K8S_VERSION / ETCD_VERSION defaults live in versions.sh (shared with control-plane.sh).
. "$(dirname "${BASH_SOURCE[0]}")/versions.sh"
. "$(dirname "${BASH_SOURCE[0]}")/k8s-module.sh"
CACHE=${K8S_LUA_CACHE:-$HOME/.cache/k8s-lua}

# Go is only needed when something has to be built (cached binaries run without it).
need_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "build-control-plane: Go is not installed (needed to build etcd and kube-apiserver)" >&2
    exit 1
  fi
}
export GOFLAGS=-mod=mod
export GOSUMDB=${GOSUMDB:-off}
export CGO_ENABLED=0

log() { echo "build-control-plane: $*" >&2; }

build_k8s() {
  local W="$CACHE/kubernetes/$K8S_VERSION"
  if [ -x "$W/bin/kube-apiserver" ] && [ -x "$W/bin/kube-controller-manager" ]; then
    return 0
  fi
  need_go
  log "building kube-apiserver and kube-controller-manager v$K8S_VERSION (cold build takes many minutes)"
  mkdir -p "$W/bin"
  local MINOR=${K8S_VERSION#1.}
  (
    cd "$W"
    k8s_wrapper_module k8sbuild k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
    local V=k8s.io/component-base/version
    local LD="-s -w -X $V.gitVersion=v$K8S_VERSION -X $V.gitMajor=1 -X $V.gitMinor=${MINOR%%.*} -X $V.gitTreeState=clean -X $V.buildDate=$(date -u +%FT%TZ)"
    go build -trimpath -ldflags "$LD" -o bin.tmp/ \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
    mv bin.tmp/kube-apiserver bin.tmp/kube-controller-manager bin/
    rmdir bin.tmp
  )
}

build_etcd() {
  local E="$CACHE/etcd/$ETCD_VERSION"
  if [ -x "$E/bin/etcd" ]; then return 0; fi
  need_go
  log "building etcd $ETCD_VERSION"
  mkdir -p "$E/bin"
  (
    cd "$E"
    rm -f go.mod go.sum
    go mod init local/etcdbuild >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 || go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
    go build -trimpath -ldflags "-s -w" -o bin/etcd.tmp go.etcd.io/etcd/server/v3
    mv bin/etcd.tmp bin/etcd
  )
}

build_etcd
build_k8s
echo "$CACHE"

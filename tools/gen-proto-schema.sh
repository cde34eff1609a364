#!/usr/bin/env bash
# Generates src/proto_schema_gen.c (the protobuf schema table of src/proto.h)
# with tools/protogen/main.go, built against k8s.io/client-go,
# k8s.io/api, k8s.io/apimachinery, k8s.io/apiextensions-apiserver and
# k8s.io/kube-aggregator v0.<minor>.<patch> of K8S_VERSION (tools/versions.sh),
# in a generated module under $CACHE/protogen/<version>/ (outside the repo;
# the binary is rebuilt only when main.go changes).
#
#   tools/gen-proto-schema.sh > src/proto_schema_gen.c   # regenerate
#   tools/gen-proto-schema.sh --check                    # compare with the committed file
#
# --check ends with "proto schema: N passed, N failed" on stderr (make test).
# Environment: K8S_VERSION (tools/versions.sh), K8S_LUA_CACHE (~/.cache/k8s-lua).
# Progress and generator warnings go to stderr.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=versions.sh
. "$HERE/versions.sh"
CACHE=${K8S_LUA_CACHE:-$HOME/.cache/k8s-lua}
MINOR=${K8S_VERSION#1.}; MINOR=${MINOR%%.*}
PATCH=${K8S_VERSION##*.}
VERSION=v0.$MINOR.$PATCH
SRC=$HERE/protogen/main.go
OUT=$ROOT/src/proto_schema_gen.c

log() { echo "gen-proto-schema: $*" >&2; }

CHECK=0
case ${1:-} in
  "") ;;
  --check) CHECK=1 ;;
  *) log "usage: $0 [--check]"; exit 2 ;;
esac

export GOFLAGS=-mod=mod
export GOSUMDB=${GOSUMDB:-off}
export CGO_ENABLED=0

build() {
  local W="$CACHE/protogen/$VERSION"
  local sum
  sum=$(md5sum < "$SRC" | cut -c1-12)
  BIN=$W/bin/protogen
  [ -x "$BIN" ] && [ "$(cat "$W/bin/.src" 2>/dev/null)" = "$sum" ] && return 0
  command -v go >/dev/null 2>&1 || { log "Go is not installed (needed to build tools/protogen)"; exit 1; }
  log "building tools/protogen against k8s.io/client-go $VERSION"
  mkdir -p "$W/bin"
  (
    cd "$W"
    cp "$SRC" main.go
    if [ ! -f go.mod ]; then
      go mod init local/protogen >/dev/null 2>&1
      go mod edit -require="k8s.io/client-go@$VERSION" \
        -require="k8s.io/api@$VERSION" -require="k8s.io/apimachinery@$VERSION" \
        -require="k8s.io/apiextensions-apiserver@$VERSION" -require="k8s.io/kube-aggregator@$VERSION"
    fi
    go mod tidy >/dev/null 2>&1 || go mod tidy
    # the build must resolve exactly the pinned modules
    local m
    for m in k8s.io/client-go k8s.io/api k8s.io/apimachinery k8s.io/apiextensions-apiserver k8s.io/kube-aggregator; do
      go list -m "$m" | grep -q " $VERSION\$" || { log "$m is not $VERSION: $(go list -m "$m")"; exit 1; }
    done
    go build -trimpath -o bin/protogen.tmp .
    mv bin/protogen.tmp bin/protogen
    echo "$sum" > bin/.src
  )
}

build
# the generator reads the modules' generated.proto files from the module cache
MODCACHE=$(go env GOMODCACHE)
if [ "$CHECK" = 0 ]; then
  exec "$BIN" -modcache "$MODCACHE"
fi
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT
"$BIN" -modcache "$MODCACHE" > "$TMP"
if cmp -s "$TMP" "$OUT"; then
  echo "proto schema: src/proto_schema_gen.c matches the generator"
  echo "proto schema: 1 passed, 0 failed" >&2
else
  echo "proto schema: src/proto_schema_gen.c differs from the generator's output (tools/protogen/main.go, K8S_VERSION=$K8S_VERSION); regenerate with: tools/gen-proto-schema.sh > src/proto_schema_gen.c" >&2
  diff -u "$OUT" "$TMP" | head -20 >&2 || true
  echo "proto schema: 0 passed, 1 failed" >&2
  exit 1
fi

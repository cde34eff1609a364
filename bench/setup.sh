#!/usr/bin/env bash
# Install or build every benchmark peer, idempotently, cached outside the repo
# (or under the git-ignored build/). Prints KEY=VALUE lines (peer paths and
# versions) on stdout for tools/bench.sh; progress goes to stderr.
#
#   bench/setup.sh            # everything (a few seconds when cached)
#   bench/setup.sh STEP...    # only some of: debs c kubectl clientgo venv
#
# What it provides:
#   Debian packages   nginx-light (canned-bytes server), python3-venv,
#                     lua-cjson (lower-bound decoder), gcc + Lua headers,
#                     libnginx-mod-http-lua (+ nginx) and wrk (the load generator
#                     of the OpenResty section; a tool, never a runtime dependency)
#   kubectl           built from k8s.io/kubernetes/cmd/kubectl at K8S_VERSION
#                     (tools/versions.sh) in a wrapper module, as
#                     tools/build-control-plane.sh builds the control plane:
#                     $CACHE/kubectl/$K8S_VERSION/bin/kubectl
#   client-go peer    bench/clientgo/main.go built against client-go
#                     v0.<minor>.<patch> of K8S_VERSION in
#                     $CACHE/bench/clientgo/<version>/ (generated go.mod)
#   Python peer       virtualenv $CACHE/bench-venv with the
#                     `kubernetes` client whose major matches the Kubernetes minor
#   C helpers         build/bench/: curlpeer-lua5.4, curlpeer-luajit (libcurl +
#                     lua-cjson lower bound), lua5.4/luajit benchutil.so
#                     (getrusage and clocks for the Lua peers)
#
# Environment: K8S_VERSION (tools/versions.sh), K8S_LUA_CACHE (~/.cache/k8s-lua),
# BENCH_PY_KUBERNETES (pip requirement, default kubernetes==<minor>.*).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=../tools/versions.sh
. "$ROOT/tools/versions.sh"
# shellcheck source=../tools/k8s-module.sh
. "$ROOT/tools/k8s-module.sh"
CACHE=${K8S_LUA_CACHE:-$HOME/.cache/k8s-lua}
MINOR=${K8S_VERSION#1.}; MINOR=${MINOR%%.*}
PATCH=${K8S_VERSION##*.}
CLIENTGO_VERSION=v0.$MINOR.$PATCH
PY_REQ=${BENCH_PY_KUBERNETES:-kubernetes==$MINOR.*}

log() { echo "bench-setup: $*" >&2; }

export GOFLAGS=-mod=mod
export GOSUMDB=${GOSUMDB:-off}
export CGO_ENABLED=0 # same build flags as the control plane: its compiled packages are reused

need_go() {
  command -v go >/dev/null 2>&1 || { log "Go is not installed (needed to build kubectl and the client-go peer)"; exit 1; }
}

# ------------------------------------------------------------ Debian ----
debs() {
  local p missing_pkgs=()
  for p in nginx-light python3-venv lua-cjson gcc liblua5.4-dev libluajit2-5.1-dev libcurl4-openssl-dev libnginx-mod-http-lua wrk; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing_pkgs+=("$p")
  done
  # nginx (full) instead of nginx-light is fine too
  if [[ " ${missing_pkgs[*]} " == *" nginx-light "* ]] && command -v nginx >/dev/null 2>&1; then
    missing_pkgs=("${missing_pkgs[@]/nginx-light}")
  fi
  local want=()
  for p in "${missing_pkgs[@]}"; do [ -n "$p" ] && want+=("$p"); done
  [ ${#want[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${want[*]}"
  local SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  # policy-rc.d-free environments may try to start the nginx service; we only need the binary
  $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
}

# ----------------------------------------------------------- kubectl ----
# The wrapper module of tools/k8s-module.sh, as tools/build-control-plane.sh.
kubectl_build() {
  local W="$CACHE/kubectl/$K8S_VERSION"
  [ -x "$W/bin/kubectl" ] && return 0
  need_go
  log "building kubectl v$K8S_VERSION (first run only)"
  mkdir -p "$W/bin"
  (
    cd "$W"
    k8s_wrapper_module kubectlbuild k8s.io/kubernetes/cmd/kubectl
    local V=k8s.io/client-go/pkg/version C=k8s.io/component-base/version LD
    LD="-s -w"
    for v in $V $C; do
      LD="$LD -X $v.gitVersion=v$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$MINOR -X $v.gitTreeState=clean"
    done
    go build -trimpath -ldflags "$LD" -o bin/kubectl.tmp k8s.io/kubernetes/cmd/kubectl
    mv bin/kubectl.tmp bin/kubectl
  )
}

# ---------------------------------------------------- client-go peer ----
clientgo_build() {
  local W="$CACHE/bench/clientgo/$CLIENTGO_VERSION"
  local sum
  sum=$(cat "$HERE/clientgo/main.go" | md5sum | cut -c1-12)
  [ -x "$W/bin/clientgo" ] && [ "$(cat "$W/bin/.src" 2>/dev/null)" = "$sum" ] && return 0
  need_go
  log "building the client-go peer against client-go $CLIENTGO_VERSION"
  mkdir -p "$W/bin"
  (
    cd "$W"
    cp "$HERE/clientgo/main.go" main.go
    if [ ! -f go.mod ]; then
      go mod init local/clientgobench >/dev/null 2>&1
      go mod edit -require="k8s.io/client-go@$CLIENTGO_VERSION" \
        -require="k8s.io/api@$CLIENTGO_VERSION" -require="k8s.io/apimachinery@$CLIENTGO_VERSION"
    fi
    go mod tidy >/dev/null 2>&1 || go mod tidy
    # the build must resolve exactly the pinned client-go
    go list -m k8s.io/client-go | grep -q " $CLIENTGO_VERSION\$" || { log "client-go is not $CLIENTGO_VERSION"; exit 1; }
    go build -trimpath -ldflags "-s -w" -o bin/clientgo.tmp .
    mv bin/clientgo.tmp bin/clientgo
    echo "$sum" > bin/.src
  )
}

# ------------------------------------------------------- Python peer ----
venv_setup() {
  local V="$CACHE/bench-venv"
  if [ -x "$V/bin/python" ] && [ "$(cat "$V/.requirement" 2>/dev/null)" = "$PY_REQ" ]; then echo "$V"; return 0; fi
  log "creating the Python virtualenv $V ($PY_REQ)"
  rm -rf "$V"
  /usr/bin/python3 -m venv "$V" >&2
  "$V/bin/pip" install -q --disable-pip-version-check "$PY_REQ" >&2
  echo "$PY_REQ" > "$V/.requirement"
  echo "$V"
}

# --------------------------------------------------------- C helpers ----
# build/bench is git-ignored (build/); rebuilt when a source is newer.
c_build() {
  local B="$ROOT/build/bench" CC=${CC:-gcc} F="-O2 -g -Wall -Wextra"
  mkdir -p "$B/lua5.4" "$B/luajit"
  local src=$HERE/c
  if [ ! -x "$B/curlpeer-lua5.4" ] || [ "$src/curlpeer.c" -nt "$B/curlpeer-lua5.4" ] || [ "$src/procstat.h" -nt "$B/curlpeer-lua5.4" ]; then
    $CC $F -I/usr/include/lua5.4 -o "$B/curlpeer-lua5.4" "$src/curlpeer.c" -lcurl -llua5.4 -lm -ldl
  fi
  if [ ! -x "$B/curlpeer-luajit" ] || [ "$src/curlpeer.c" -nt "$B/curlpeer-luajit" ] || [ "$src/procstat.h" -nt "$B/curlpeer-luajit" ]; then
    $CC $F -I/usr/include/luajit-2.1 -o "$B/curlpeer-luajit" "$src/curlpeer.c" -lcurl -lluajit-5.1 -lm -ldl
  fi
  if [ ! -f "$B/lua5.4/benchutil.so" ] || [ "$src/benchutil.c" -nt "$B/lua5.4/benchutil.so" ] || [ "$src/procstat.h" -nt "$B/lua5.4/benchutil.so" ]; then
    $CC $F -fPIC -shared -I/usr/include/lua5.4 -o "$B/lua5.4/benchutil.so" "$src/benchutil.c"
  fi
  if [ ! -f "$B/luajit/benchutil.so" ] || [ "$src/benchutil.c" -nt "$B/luajit/benchutil.so" ] || [ "$src/procstat.h" -nt "$B/luajit/benchutil.so" ]; then
    $CC $F -fPIC -shared -I/usr/include/luajit-2.1 -o "$B/luajit/benchutil.so" "$src/benchutil.c"
  fi
}

if [ $# -gt 0 ]; then # only the named steps: debs c kubectl clientgo venv
  for step in "$@"; do
    case $step in
      debs) debs ;; c) c_build ;; kubectl) kubectl_build ;; clientgo) clientgo_build ;; venv) venv_setup >/dev/null ;;
      *) log "unknown step $step"; exit 2 ;;
    esac
  done
  exit 0
fi
debs
c_build
kubectl_build
clientgo_build
VENV=$(venv_setup)
echo "BENCH_KUBECTL=$CACHE/kubectl/$K8S_VERSION/bin/kubectl"
echo "BENCH_CLIENTGO=$CACHE/bench/clientgo/$CLIENTGO_VERSION/bin/clientgo"
echo "BENCH_CLIENTGO_VERSION=$CLIENTGO_VERSION"
echo "BENCH_PYTHON=$VENV/bin/python"
echo "BENCH_CURLPEER_LUA54=$ROOT/build/bench/curlpeer-lua5.4"
echo "BENCH_CURLPEER_LUAJIT=$ROOT/build/bench/curlpeer-luajit"
echo "BENCH_UTIL_CPATH_LUA54=$ROOT/build/bench/lua5.4/?.so"
echo "BENCH_UTIL_CPATH_LUAJIT=$ROOT/build/bench/luajit/?.so"
echo "BENCH_WRK=$(command -v wrk || echo /usr/bin/wrk)"

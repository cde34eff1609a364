#!/usr/bin/env bash
# Toxiproxy (a TCP proxy with an HTTP API that injects network faults) for the
# fault specs, built from its Go module at a pinned version and cached outside
# the repo, like the control plane.
#
#   tools/toxiproxy.sh build        # builds if missing (cached, fast when built), prints the binary
#   tools/toxiproxy.sh start DIR    # builds if needed, starts the server on a free loopback
#                                   # port, writes DIR/toxiproxy.env, prints its path
#   tools/toxiproxy.sh stop DIR     # kills exactly the pid in DIR/toxiproxy.env; idempotent
#
# DIR/toxiproxy.env: TOXIPROXY_URL=http://127.0.0.1:PORT, TOXIPROXY_PID,
# TOXIPROXY_LOG (the server's log; it names each accepted client; LOG_LEVEL,
# default info, sets its level).
#
# Environment:
#   TOXIPROXY_VERSION (default in tools/versions.sh)  github.com/Shopify/toxiproxy/v2 release
#   K8S_LUA_CACHE     (default ~/.cache/k8s-lua)
set -euo pipefail
set +m # no job control: $! below is the server's own pid
# a tool, not code under test: no sanitizer preloaded into Go or curl (the
# ASan spec run preloads it into every child; the Go server hangs under it)
unset LD_PRELOAD

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
. "$HERE/versions.sh"
CACHE=${K8S_LUA_CACHE:-$HOME/.cache/k8s-lua}
BINDIR="$CACHE/toxiproxy/$TOXIPROXY_VERSION"
BIN="$BINDIR/toxiproxy-server"
MODULE=github.com/Shopify/toxiproxy/v2

log() { echo "toxiproxy: $*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}

build() {
  if [ -x "$BIN" ]; then echo "$BIN"; return 0; fi
  command -v go >/dev/null 2>&1 || die "Go is not installed (needed to build toxiproxy-server)"
  log "building $MODULE/cmd/server@$TOXIPROXY_VERSION"
  mkdir -p "$BINDIR"
  # go install names the binary after the package (server): install into a
  # private directory, then rename into place atomically.
  local tmp
  tmp=$(mktemp -d "$BINDIR/.build.XXXXXX")
  if ! GOBIN="$tmp" GOFLAGS=-mod=mod GOSUMDB=${GOSUMDB:-off} CGO_ENABLED=0 \
       go install -trimpath -ldflags "-s -w" "$MODULE/cmd/server@$TOXIPROXY_VERSION" >&2; then
    rm -rf "$tmp"
    die "go install $MODULE/cmd/server@$TOXIPROXY_VERSION failed"
  fi
  mv -f "$tmp/server" "$BIN"
  rm -rf "$tmp"
  echo "$BIN"
}

# running PID: the process exists and is not a zombie.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# alive PID: the process exists, is not a zombie and runs toxiproxy-server.
alive() {
  local pid=$1 stat exe
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ] || return 1
  exe=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1) || return 1
  [ "${exe##*/}" = toxiproxy-server ]
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 12000))
}

start() {
  local dir=${1:?usage: tools/toxiproxy.sh start DIR}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/toxiproxy.env" ]; then
    local old
    old=$(sed -n 's/^TOXIPROXY_PID=//p' "$dir/toxiproxy.env")
    alive "$old" && die "a toxiproxy-server (pid $old) already runs for $dir; stop it first"
    rm -f "$dir/toxiproxy.env"
  fi
  build >/dev/null
  local attempt port pid url i
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    url="http://127.0.0.1:$port"
    LOG_LEVEL=${LOG_LEVEL:-info} setsid "$BIN" -host 127.0.0.1 -port "$port" </dev/null >"$dir/toxiproxy.log" 2>&1 &
    pid=$!
    for i in $(seq 200); do # up to ~20 s (the machine may be busy)
      running "$pid" || break # (not alive: until it execs, $pid runs bash)
      if curl -fsS --max-time 2 "$url/version" >/dev/null 2>&1; then
        printf 'TOXIPROXY_URL=%s\nTOXIPROXY_PID=%s\nTOXIPROXY_LOG=%s\n' "$url" "$pid" "$dir/toxiproxy.log" \
          >"$dir/toxiproxy.env.tmp"
        mv -f "$dir/toxiproxy.env.tmp" "$dir/toxiproxy.env"
        echo "$dir/toxiproxy.env"
        return 0
      fi
      sleep 0.1
    done
    if running "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      die "toxiproxy-server (pid $pid) did not answer on $url; log: $dir/toxiproxy.log"
    fi
    wait "$pid" 2>/dev/null || true
    # the port was taken between the probe and the bind: try another one
    grep -q "address already in use" "$dir/toxiproxy.log" 2>/dev/null || break
    log "port $port was taken; retrying"
  done
  tail -n 20 "$dir/toxiproxy.log" >&2 || true
  die "toxiproxy-server exited early; log: $dir/toxiproxy.log"
}

stop() {
  local dir=${1:?usage: tools/toxiproxy.sh stop DIR} pid i
  [ -f "$dir/toxiproxy.env" ] || return 0
  pid=$(sed -n 's/^TOXIPROXY_PID=//p' "$dir/toxiproxy.env")
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$dir/toxiproxy.env"
}

case ${1:-} in
  build) build ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) usage; exit 2 ;;
esac

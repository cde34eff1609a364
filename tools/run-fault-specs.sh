#!/usr/bin/env bash
# The fault-matrix rows that stop, kill or restart control-plane components
# or need API server flags (reliability.md 3.10, section 7): a second,
# "faults" control plane in its own state dir, spec/faults/*_spec.lua through
# tools/run-specs.sh on Lua 5.4 and LuaJIT against it, then the control plane
# is stopped (also on failure or interruption). The main suite's control
# plane is not touched. Ends with "fault specs: N passed, N failed" on stderr
# (the form tools/run-tests.sh counts) and exits non-zero on failure.
# Usage: tools/run-fault-specs.sh [spec files...]   (default spec/faults/*_spec.lua)
# Environment: SPEC_BUILD (build dir with <interp>/k8s/core.so, relative,
# default build; `make all` first), SPEC_INTERPS (default "lua5.4 luajit"),
# SPEC_WRAP, SPEC_PER_FILE (see tools/run-specs.sh), K8S_LUA_FAULTS_KEEP=1
# (leave the control plane running, print its state dir).
#
# kube-apiserver flags of the faults instance, and why:
#   --min-request-timeout=7          a watch without timeoutSeconds is ended by
#                                    the server after 7-14 s (row 15)
#   --goaway-chance=0.02             an HTTP/2 request gets a GOAWAY with 2 %
#                                    chance (row 17; the filter acts on HTTP/2
#                                    only: HTTP/1.1 connections are left alone)
#   --shutdown-send-retry-after=true after SIGTERM and the delay, new requests
#   --shutdown-delay-duration=2s     get 429 Retry-After: 5 + Connection: close
#                                    while requests are in flight (row 14); 2 s
#                                    keeps every restart short
#   --permit-port-sharing=true       SO_REUSEPORT: a new kube-apiserver starts
#                                    on the port while the old one drains, as a
#                                    second replica behind a load balancer would
#                                    take the retried requests (row 14)
#   --audit-policy-file, --audit-log-path   every request of user "admin" on
#                                    configmaps/podtemplates is logged, so a spec
#                                    counts what reached the server (row 13: one
#                                    request, no retry; row 20: none at all)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${SPEC_BUILD:-build}
t0=$(date +%s)

summary() { echo "fault specs: $1 passed, $2 failed" >&2; }

for interp in ${SPEC_INTERPS:-lua5.4 luajit}; do
  if [ ! -f "$BUILD_DIR/$interp/k8s/core.so" ]; then
    echo "run-fault-specs: no $BUILD_DIR/$interp/k8s/core.so (make all${SPEC_BUILD:+ BUILD=$SPEC_BUILD})" >&2
    summary 0 1; exit 1
  fi
done

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  shopt -s nullglob; files=(spec/faults/*_spec.lua); shopt -u nullglob
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "run-fault-specs: no spec/faults/*_spec.lua" >&2; summary 0 1; exit 1
fi

STATE=$(mktemp -d /tmp/k8s-lua-faults-cp.XXXXXX)
rmdir "$STATE" # control-plane.sh start makes it
spec_pid=
cleanup() {
  local pid
  trap - EXIT INT TERM
  if [ -n "$spec_pid" ] && kill -0 "$spec_pid" 2>/dev/null; then
    # interrupted: the busted run (run-specs.sh's children) ends first
    pkill -TERM -P "$spec_pid" 2>/dev/null; kill -TERM "$spec_pid" 2>/dev/null
  fi
  if [ -d "$STATE" ]; then
    # a spec may have left etcd or kube-apiserver stopped (SIGSTOP), or
    # processes of its own running (an API server during a handover, the
    # webhook, a Lua child): those are ended by pid, only if their command
    # line names this state dir or spec/faults/
    for pid in $(cat "$STATE/etcd.pid" "$STATE/apiserver.pid" 2>/dev/null); do
      [[ $pid =~ ^[0-9]+$ ]] && kill -CONT "$pid" 2>/dev/null
    done
    if [ -f "$STATE/faults-extra.pids" ]; then
      local cmd
      while read -r pid; do
        [[ $pid =~ ^[0-9]+$ ]] || continue
        cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || continue
        case $cmd in *"$STATE"*|*spec/faults/*) kill -TERM "$pid" 2>/dev/null ;; esac
      done <"$STATE/faults-extra.pids"
    fi
    if [ "${K8S_LUA_FAULTS_KEEP:-0}" = 1 ]; then
      echo "run-fault-specs: control plane kept running in $STATE" >&2
    else
      tools/control-plane.sh stop "$STATE" >/dev/null 2>&1 || echo "run-fault-specs: could not stop $STATE" >&2
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export K8S_LUA_APISERVER_EXTRA_ARGS="--min-request-timeout=7 --goaway-chance=0.02 --shutdown-send-retry-after=true \
--shutdown-delay-duration=2s --permit-port-sharing=true --audit-policy-file=$ROOT/spec/faults/audit-policy.yaml \
--audit-log-path=$STATE/audit.log"
if ! tools/control-plane.sh start "$STATE" >/dev/null; then
  echo "run-fault-specs: the faults control plane failed to start" >&2; summary 0 1; exit 1
fi
touch "$STATE/faults" # spec/faults/helper.lua runs only against a state dir with this marker
echo "run-fault-specs: faults control plane up in $(( $(date +%s) - t0 ))s ($STATE)" >&2

# the specs read $K8S_LUA_STATE/env (spec/helper.lua); the main suite's
# variables (tools/run-tests.sh exports them) are replaced
set -a; . "$STATE/env"; set +a
export SPEC_BUILD=$BUILD_DIR

log=$(mktemp)
# in the background, so that a signal reaches the traps above at once
SPEC_LABEL="fault specs" tools/run-specs.sh "${files[@]}" 2> >(tee "$log" >&2) &
spec_pid=$!
wait "$spec_pid"
rc=$?
spec_pid=
sleep 0.2 # the tee
line=$(grep -E '^fault specs: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
rm -f "$log"
p=0; f=1
if [ -n "$line" ]; then
  line=${line#fault specs: }
  p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
fi
[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
echo "run-fault-specs: $(( $(date +%s) - t0 ))s in all" >&2
summary "$p" "$f"
[ "$f" -eq 0 ]

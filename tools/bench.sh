#!/usr/bin/env bash
# `make bench`: compare this library (Lua 5.4, LuaJIT) with client-go (JSON,
# protobuf), the official Python client, kubectl (one process per call) and
# the raw libcurl + lua-cjson lower bound, on GET, LIST, pager, WATCH and on
# canned bytes served by nginx; this library inside nginx (cosockets vs
# the blocking libcurl driver vs a static answer, under wrk); and shared
# informers (sync, memory, CPU per update) against client-go's. Method: bench/README.md.
#
#   tools/bench.sh [--tiny] [run.lua options...]
#     --tiny              a few objects, one round, every peer (part of `make test`);
#                         writes build/bench/tiny/ instead of bench/
#     --rounds N          rounds (default 5); --objects N (5000); --gets N (1000);
#     --kubectl-gets N    (200); --page N (500); --watch-modified N (200);
#     --informer-objects N (10000) --informer-updates N (1000)
#     --informer-watchlist 0|1 (1)   the informer section (workload `informer`)
#     --apply-objects N   (200; --tiny: 10) the apply section (workload `apply`:
#                         k8s.apply.Apply against kubectl apply --server-side -f)
#     --peers a,b  --workloads a,b   subsets (ids: see bench/run.lua; the
#                         OpenResty section is the workload `openresty`); a
#                         full run of some workloads keeps the others' figures
#                         of the previous bench/results.json
#     --ngx-duration S (10) --ngx-warmup S (3) --ngx-connections N (32)
#     --ngx-workers N (2) --ngx-threads N (2)   the OpenResty section (wrk)
#
# Control plane: with KUBECONFIG set, its current context is used (the
# K8S_LUA_* variables of tools/control-plane.sh's env file are used when
# present); otherwise a private one is started with tools/control-plane.sh and
# stopped at the end. Data lives in fresh namespaces ($NS, and $NS-inf for the
# informer section) that are deleted at the end.
# Peers are installed/built by bench/setup.sh (cached in ~/.cache/k8s-lua).
# Writes bench/results.json and bench/RESULTS.md; the last stderr line is
# "bench: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

log() { echo "bench: $*" >&2; }
die() { log "$*"; echo "bench: 0 passed, 1 failed" >&2; exit 1; }

t_start=$(date +%s)
make -s all >&2 || die "build failed"

PEERS_ENV=$(bench/setup.sh) || die "installing the peers failed (bench/setup.sh)"
set -a; eval "$PEERS_ENV"; set +a
log "peers ready in $(( $(date +%s) - t_start ))s"

STATE="" WORK="" NS=""
cleanup() {
  set +e
  if [ -n "$WORK" ] && [ -f "$WORK/nginx/nginx.pid" ]; then
    kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null
  fi
  if [ -n "$NS" ] && [ -z "$STATE" ] && [ -n "${BENCH_KUBECONFIG:-}" ]; then
    "$BENCH_KUBECTL" --kubeconfig "$BENCH_KUBECONFIG" delete namespace "$NS" "$NS-inf" --ignore-not-found --wait=false >/dev/null 2>&1
  fi
  [ -n "$STATE" ] && tools/control-plane.sh stop "$STATE" >/dev/null 2>&1
  [ -n "$WORK" ] && [ -z "${BENCH_KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${KUBECONFIG:-}" ]; then
  STATE=$(mktemp -d /tmp/k8s-lua-bench-cp.XXXXXX)
  log "starting a private control plane in $STATE"
  tools/control-plane.sh start "$STATE" >/dev/null || die "control plane failed to start"
  set -a; . "$STATE/env"; set +a
fi

WORK=$(mktemp -d /tmp/k8s-lua-bench.XXXXXX)
NS=k8s-lua-bench-$(date +%s)-$$
export BENCH_ROOT=$ROOT BENCH_WORK=$WORK BENCH_NS=$NS BENCH_KUBECONFIG=$WORK/bench.kubeconfig
# the OpenResty section's nginx prefix (spec/ngx/helper.lua) goes into the scratch dir
export K8S_LUA_NGX_TMP=$WORK

# One set of credentials for every peer: the control plane's admin token when
# its env is exported, else whatever the current KUBECONFIG context holds.
if [ -n "${K8S_LUA_SERVER:-}" ] && [ -n "${K8S_LUA_ADMIN_TOKEN:-}" ] && [ -n "${K8S_LUA_CA:-}" ]; then
  export BENCH_SERVER=$K8S_LUA_SERVER BENCH_CA=$K8S_LUA_CA BENCH_TOKEN=$K8S_LUA_ADMIN_TOKEN
else
  view=$("$BENCH_KUBECTL" config view --raw --minify --flatten -o json) || die "cannot read KUBECONFIG"
  eval "$(printf '%s' "$view" | /usr/bin/python3 -c '
import base64, json, shlex, sys
c = json.load(sys.stdin)
cl = c["clusters"][0]["cluster"]; us = c["users"][0]["user"]
work = sys.argv[1]
def put(name, b64):
    p = work + "/" + name
    open(p, "wb").write(base64.b64decode(b64))
    return p
print("export BENCH_SERVER=" + shlex.quote(cl["server"]))
if cl.get("certificate-authority-data"):
    print("export BENCH_CA=" + shlex.quote(put("ca.crt", cl["certificate-authority-data"])))
if us.get("token"):
    print("export BENCH_TOKEN=" + shlex.quote(us["token"]))
elif us.get("client-certificate-data"):
    print("export BENCH_CERT=" + shlex.quote(put("client.crt", us["client-certificate-data"])))
    print("export BENCH_KEY=" + shlex.quote(put("client.key", us["client-key-data"])))
else:
    sys.exit("bench: the current context has neither a token nor a client certificate")
' "$WORK")" || die "unsupported KUBECONFIG credentials"
fi
{
  echo "apiVersion: v1"
  echo "kind: Config"
  echo "clusters: [{name: bench, cluster: {server: \"$BENCH_SERVER\", certificate-authority: \"${BENCH_CA:-}\"}}]"
  if [ -n "${BENCH_TOKEN:-}" ]; then
    echo "users: [{name: bench, user: {token: \"$BENCH_TOKEN\"}}]"
  else
    echo "users: [{name: bench, user: {client-certificate: \"$BENCH_CERT\", client-key: \"$BENCH_KEY\"}}]"
  fi
  echo "contexts: [{name: bench, context: {cluster: bench, user: bench, namespace: \"$NS\"}}]"
  echo "current-context: bench"
} > "$BENCH_KUBECONFIG"
chmod 600 "$BENCH_KUBECONFIG"

LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;" \
LUA_CPATH="$ROOT/build/lua5.4/?.so;$ROOT/build/bench/lua5.4/?.so;;" \
  lua5.4 bench/run.lua "$@"
rc=$?
# run.lua printed the "bench: N passed, N failed" line; make sure a crash still reports one
# run.lua prints "bench: N passed, N failed" and exits 0 or 3; anything else is a crash
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
  log "bench/run.lua crashed (exit $rc)"; echo "bench: 0 passed, 1 failed" >&2
fi
exit $rc

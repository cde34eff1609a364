#!/usr/bin/env bash
# `make bench-memory`: the memory budget. Each workload of bench/memory.lua
# (setup, GET, LIST of N ConfigMaps, N watch events) runs in its own Lua 5.4
# process under valgrind's dhat, which counts every malloc deterministically:
#   total_bytes, blocks   allocated over the run (for get/list/watch: minus
#                          what `setup` allocates, i.e. the operation's cost)
#   peak_bytes            heap in use at the process's peak (t-gmax)
# The figures are compared with bench/memory-baseline.json; any figure more
# than 10 % over its baseline fails (kube-rs's rule). Update the baseline
# only on purpose: tools/bench-memory.sh --update.
#   tools/bench-memory.sh [--update] [--objects N (5000)]
# Control plane: BENCH_SERVER/BENCH_CA/BENCH_TOKEN, else the K8S_LUA_* of a
# control plane's env, else a private one is started and stopped.
# Last stderr line: "bench-memory: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
update=0; objects=5000
while [ $# -gt 0 ]; do
  case $1 in
    --update) update=1 ;;
    --objects) objects=$2; shift ;;
    *) echo "usage: tools/bench-memory.sh [--update] [--objects N]" >&2; exit 2 ;;
  esac
  shift
done
BASE=bench/memory-baseline.json
OUT=build/bench/memory.json
die() { echo "bench-memory: $*" >&2; echo "bench-memory: 0 passed, 1 failed" >&2; exit 1; }
make -s all >&2 || die "build failed"
command -v valgrind >/dev/null || die "valgrind missing (make deps)"

STATE="" NS=""
cleanup() {
  set +e
  [ -n "$NS" ] && [ -z "$STATE" ] && curl -s --cacert "$BENCH_CA" -H "Authorization: Bearer $BENCH_TOKEN" \
    -X DELETE "$BENCH_SERVER/api/v1/namespaces/$NS" >/dev/null 2>&1
  [ -n "$STATE" ] && tools/control-plane.sh stop "$STATE" >/dev/null 2>&1 && rm -rf "$STATE"
}
trap cleanup EXIT
if [ -z "${BENCH_SERVER:-}" ]; then
  if [ -z "${K8S_LUA_SERVER:-}" ]; then
    STATE=$(mktemp -d /tmp/k8s-lua-mem-cp.XXXXXX)
    echo "bench-memory: starting a private control plane in $STATE" >&2
    tools/control-plane.sh start "$STATE" >/dev/null || die "control plane failed to start"
    set -a; . "$STATE/env"; set +a
  fi
  BENCH_SERVER=$K8S_LUA_SERVER BENCH_CA=$K8S_LUA_CA BENCH_TOKEN=$K8S_LUA_ADMIN_TOKEN
fi
# a fresh namespace of fixed-length name: the same bytes on every run
NS=k8s-lua-mem-$(date +%s)
export BENCH_SERVER BENCH_CA BENCH_TOKEN BENCH_NS=$NS BENCH_OBJECTS=$objects
export LUA_PATH="./lua/?.lua;./lua/?/init.lua;;" LUA_CPATH="./build/lua5.4/?.so;;"
t0=$(date +%s)
lua5.4 bench/memory.lua seed "$objects" >/dev/null || die "seeding $objects ConfigMaps failed"
echo "bench-memory: seeded $objects ConfigMaps in $NS in $(( $(date +%s) - t0 ))s" >&2

mkdir -p build/bench
declare -A TB BK PK
for w in setup get list watch; do
  log=$(mktemp)
  if ! valgrind --tool=dhat --dhat-out-file=/dev/null lua5.4 bench/memory.lua "$w" >"$log.out" 2>"$log"; then
    cat "$log" "$log.out" >&2; rm -f "$log" "$log.out"; die "workload $w failed"
  fi
  grep -q "^ok $w" "$log.out" || { cat "$log" "$log.out" >&2; rm -f "$log" "$log.out"; die "workload $w did not finish"; }
  tot=$(sed -n 's/^==[0-9]*== Total: *\([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p' "$log" | tr -d ,)
  pk=$(sed -n 's/^==[0-9]*== At t-gmax: *\([0-9,]*\) bytes.*/\1/p' "$log" | tr -d ,)
  rm -f "$log" "$log.out"
  [ -n "$tot" ] && [ -n "$pk" ] || die "no dhat summary for $w"
  TB[$w]=${tot% *}; BK[$w]=${tot#* }; PK[$w]=$pk
done
for w in get list watch; do
  TB[$w]=$(( TB[$w] - TB[setup] )); BK[$w]=$(( BK[$w] - BK[setup] ))
done
{
  echo "{"
  echo "  \"objects\": $objects,"
  sep=""
  for w in setup get list watch; do
    printf '%s  "%s": { "total_bytes": %d, "blocks": %d, "peak_bytes": %d }' "$sep" "$w" "${TB[$w]}" "${BK[$w]}" "${PK[$w]}"
    sep=$',\n'
  done
  printf '\n}\n'
} >"$OUT"

if [ $update -eq 1 ]; then
  cp "$OUT" "$BASE"
  echo "bench-memory: baseline written to $BASE" >&2
fi
[ -f "$BASE" ] || die "no baseline ($BASE): run tools/bench-memory.sh --update on purpose"
# compare: every figure against 110 % of its baseline
lua5.4 - "$BASE" "$OUT" <<'LUA'
local cjson = require "cjson"
local function load(p) local f = assert(io.open(p)); local s = f:read("a"); f:close(); return cjson.decode(s) end
local base, cur = load(arg[1]), load(arg[2])
local pass, fail = 0, 0
if base.objects ~= cur.objects then
  io.stderr:write(("bench-memory: the baseline is for %d objects, this run %d\n"):format(base.objects, cur.objects))
  fail = 1
else
  io.stderr:write(("%-6s %-12s %14s %14s %8s\n"):format("", "figure", "baseline", "now", "ratio"))
  for _, w in ipairs({ "setup", "get", "list", "watch" }) do
    for _, f in ipairs({ "total_bytes", "blocks", "peak_bytes" }) do
      local b, c = base[w][f], cur[w][f]
      local ratio = b > 0 and c / b or (c > 0 and math.huge or 1)
      local ok = c <= b * 1.10
      io.stderr:write(("%-6s %-12s %14d %14d %7.3fx %s\n"):format(w, f, b, c, ratio, ok and "" or "  > 110 %: FAIL"))
      if ok then pass = pass + 1 else fail = fail + 1 end
    end
  end
end
io.stderr:write(("bench-memory: %d passed, %d failed\n"):format(pass, fail))
os.exit(fail == 0 and 0 or 1)
LUA

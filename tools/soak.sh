#!/usr/bin/env bash
# Informer soak (tools/soak.lua) on Lua 5.4 and LuaJIT: a flat Lua and C heap
# while objects churn. `make soak` runs 600 s per interpreter; `make test`
# runs a short form. Needs the control plane's env (K8S_LUA_STATE).
#   tools/soak.sh [SECONDS] [OBJECTS]      SOAK_WRAP="env LD_PRELOAD=..." for ASan
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}; objs=${2:-200}
BUILD_DIR=${SPEC_BUILD:-build}
pass=0; fail=0
for interp in lua5.4 luajit; do
  log=$(mktemp)
  ${SOAK_WRAP:-} env LUA_PATH="./lua/?.lua;./lua/?/init.lua;;" LUA_CPATH="./$BUILD_DIR/$interp/?.so;;" \
    "$interp" tools/soak.lua "$secs" "$objs" 2>"$log"; rc=$?
  sed "s/^/[$interp] /" "$log" >&2
  line=$(grep -E '^soak: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1); rm -f "$log"
  if [ -z "$line" ]; then echo "[$interp] soak: no summary (rc=$rc)" >&2; fail=$((fail+1)); continue; fi
  line=${line#soak: }; p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
  pass=$((pass+p)); fail=$((fail+f))
  [ $rc -ne 0 ] && [ "$f" -eq 0 ] && fail=$((fail+1))
done
echo "${SOAK_LABEL:-soak}: $pass passed, $fail failed" >&2
[ $fail -eq 0 ]

#!/usr/bin/env bash
# Run the busted specs on Lua 5.4 and on LuaJIT (TAP output), then print the
# combined count. Usage: tools/run-specs.sh [busted args...]
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0; fail=0; status=0
for interp in lua5.4 luajit; do
  echo "== busted on $interp" >&2
  out=$("$interp" /usr/bin/busted --lpath="./?.lua;./lua/?.lua;./lua/?/init.lua" \
        --cpath="./build/$interp/?.so" -o TAP "$@" spec 2>&1); rc=$?
  echo "$out" | sed "s/^/[$interp] /"
  p=$(echo "$out" | grep -cE '^ok [0-9]+')
  f=$(echo "$out" | grep -cE '^not ok [0-9]+')
  if ! echo "$out" | grep -qE '^1\.\.[0-9]+'; then
    echo "busted on $interp did not finish (rc=$rc)" >&2; f=$((f+1))
  fi
  pass=$((pass+p)); fail=$((fail+f))
  [ $rc -ne 0 ] && status=1
done
echo "specs: $pass passed, $fail failed" >&2
[ $fail -eq 0 ] && [ $status -eq 0 ]

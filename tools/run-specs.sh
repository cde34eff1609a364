#!/usr/bin/env bash
# Run the busted specs on Lua 5.4 and on LuaJIT (TAP output), then print the
# combined count. Usage: tools/run-specs.sh [spec files...]
# Environment: SPEC_BUILD (build dir holding <interp>/k8s/core.so, default
# build), SPEC_INTERPS (default "lua5.4 luajit"), SPEC_WRAP (a command
# prefix such as valgrind), SPEC_LABEL (label of the summary line).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${SPEC_BUILD:-build}
read -r -a WRAP <<<"${SPEC_WRAP:-}"
files=("$@"); [ ${#files[@]} -eq 0 ] && files=(spec/*_spec.lua) # spec/ngx: tools/run-ngx-specs.sh
pass=0; fail=0; status=0
for interp in ${SPEC_INTERPS:-lua5.4 luajit}; do
  echo "== busted on $interp${SPEC_WRAP:+ under ${WRAP[0]}}" >&2
  for attempt in 1 2; do
    out=$("${WRAP[@]}" "$interp" /usr/bin/busted --lpath="./?.lua;./lua/?.lua;./lua/?/init.lua" \
          --cpath="./$BUILD_DIR/$interp/?.so" -o TAP "${files[@]}" 2>&1); rc=$?
    f=$(echo "$out" | grep -cE '^not ok [0-9]+')
    # LeakSanitizer's stop-the-world tracer itself sometimes crashes at a
    # process exit ("Tracer caught signal 11", google/sanitizers#1353): that
    # is no finding about this code, so the run is made once more. A real
    # leak or error reproduces; the first run's output is kept in the log.
    if [ $attempt = 1 ] && { [ $rc -ne 0 ] || [ "$f" -gt 0 ]; } &&
       echo "$out" | grep -q 'Tracer caught signal'; then
      echo "$out" | sed "s/^/[$interp, first run] /"
      echo "busted on $interp: LeakSanitizer's tracer crashed; running the specs again" >&2
      continue
    fi
    break
  done
  echo "$out" | sed "s/^/[$interp] /"
  p=$(echo "$out" | grep -cE '^ok [0-9]+')
  if ! echo "$out" | grep -qE '^1\.\.[0-9]+'; then
    echo "busted on $interp did not finish (rc=$rc)" >&2; f=$((f+1))
  fi
  if [ $rc -ne 0 ] && [ $f -eq 0 ]; then
    echo "busted on $interp exited $rc (memory errors?)" >&2; f=$((f+1))
  fi
  pass=$((pass+p)); fail=$((fail+f))
  [ $rc -ne 0 ] && status=1
done
echo "${SPEC_LABEL:-specs}: $pass passed, $fail failed" >&2
[ $fail -eq 0 ] && [ $status -eq 0 ]

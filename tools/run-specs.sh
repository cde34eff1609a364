#!/usr/bin/env bash
# Run the busted specs on Lua 5.4 and on LuaJIT (TAP output), then print the
# combined count. Usage: tools/run-specs.sh [spec files...]
# Environment: SPEC_BUILD (build dir holding <interp>/k8s/core.so, default
# build), SPEC_INTERPS (default "lua5.4 luajit"), SPEC_WRAP (a command
# prefix such as valgrind), SPEC_LABEL (label of the summary line),
# SPEC_PER_FILE=1 (one busted process per spec file; the default under a
# sanitizer preload, so that a crash is pinned to its file).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${SPEC_BUILD:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=./$BUILD_DIR ;; esac
read -r -a WRAP <<<"${SPEC_WRAP:-}"
files=("$@"); [ ${#files[@]} -eq 0 ] && files=(spec/*_spec.lua) # spec/ngx: tools/run-ngx-specs.sh
per_file=${SPEC_PER_FILE:-}
[ -z "$per_file" ] && case ${LD_PRELOAD:-} in *asan*) per_file=1 ;; esac
pass=0; fail=0; status=0

# one busted run of the given files: sets out, rc
busted_run() {
  local interp=$1; shift
  out=$("${WRAP[@]}" "$interp" /usr/bin/busted --lpath="./?.lua;./lua/?.lua;./lua/?/init.lua" \
        --cpath="$BUILD_DIR/$interp/?.so" -o TAP "$@" 2>&1); rc=$?
}

for interp in ${SPEC_INTERPS:-lua5.4 luajit}; do
  echo "== busted on $interp${SPEC_WRAP:+ under ${WRAP[0]}}${per_file:+, one process per file}" >&2
  if [ -n "$per_file" ]; then groups=("${files[@]}"); else groups=("${files[*]}"); fi
  for group in "${groups[@]}"; do
    read -r -a gfiles <<<"$group"
    label=$interp; [ -n "$per_file" ] && label="$interp $(basename "$group" .lua)"
    busted_run "$interp" "${gfiles[@]}"
    f=$(echo "$out" | grep -cE '^not ok [0-9]+')
    # LeakSanitizer's stop-the-world tracer itself sometimes crashes at a
    # process exit ("Tracer caught signal 11", google/sanitizers#1353): that
    # is no finding about this code. Only the run that crashed is made once
    # more, and the log says so; a real leak or error reproduces, and the
    # first run's output is kept in the log.
    if { [ $rc -ne 0 ] || [ "$f" -gt 0 ]; } && echo "$out" | grep -q 'Tracer caught signal'; then
      echo "$out" | sed "s/^/[$label, first run] /"
      echo "busted on $label: LeakSanitizer's tracer crashed; running ${gfiles[*]} again (only these)" >&2
      busted_run "$interp" "${gfiles[@]}"
      f=$(echo "$out" | grep -cE '^not ok [0-9]+')
    fi
    echo "$out" | sed "s/^/[$label] /"
    p=$(echo "$out" | grep -cE '^ok [0-9]+')
    if ! echo "$out" | grep -qE '^1\.\.[0-9]+'; then
      echo "busted on $label did not finish (rc=$rc)" >&2; f=$((f+1))
    fi
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
      echo "busted on $label exited $rc (memory errors?)" >&2; f=$((f+1))
    fi
    pass=$((pass+p)); fail=$((fail+f))
    [ $rc -ne 0 ] && status=1
  done
done
echo "${SPEC_LABEL:-specs}: $pass passed, $fail failed" >&2
[ $fail -eq 0 ] && [ $status -eq 0 ]

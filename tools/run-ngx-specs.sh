#!/usr/bin/env bash
# Run the specs that drive a real nginx (spec/ngx/*_spec.lua, harness in
# spec/ngx/helper.lua) with busted on Lua 5.4 (TAP output). The code under
# test runs inside nginx's LuaJIT, so one busted interpreter is enough.
# Prints "ngx specs: N passed, N failed" on stderr (the form tools/run-tests.sh
# counts) and exits non-zero on failure.
# Builds first (`make -s all`: nginx loads build/luajit/k8s/core.so).
# Usage: tools/run-ngx-specs.sh [spec files...]
# Environment: KUBECONFIG (passed to nginx for specs that need the control
# plane; harness_spec.lua does not), K8S_LUA_KEEP_NGX (keep nginx prefixes),
# SPEC_INTERP (busted interpreter, default lua5.4).
set -uo pipefail
cd "$(dirname "$0")/.."
interp=${SPEC_INTERP:-lua5.4}

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  shopt -s nullglob; files=(spec/ngx/*_spec.lua); shopt -u nullglob
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "no spec/ngx/*_spec.lua" >&2; echo "ngx specs: 0 passed, 1 failed" >&2; exit 1
fi

# nginx prefixes of this run live here; whatever nginx is left in it at the
# end is reported as a failure and stopped (by pid).
NGX_TMP=$(mktemp -d "${TMPDIR:-/tmp}/k8s-lua-ngx-run.XXXXXX")
export K8S_LUA_NGX_TMP=$NGX_TMP
leftovers() { # master pids whose prefix is under $NGX_TMP
  local f pid
  for f in "$NGX_TMP"/*/logs/master.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || continue
    grep -q ' Z ' "/proc/$pid/stat" 2>/dev/null && continue
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "-p $NGX_TMP/" && echo "$pid"
  done
}
stop_leftovers() { # QUIT, then KILL each master and its workers
  local pids pid kids i
  pids=$(leftovers); [ -n "$pids" ] || return 0
  kids=$(for pid in $pids; do pgrep -P "$pid"; done)
  for pid in $pids; do kill -QUIT "$pid" 2>/dev/null; done
  for i in $(seq 50); do [ -z "$(leftovers)" ] && break; sleep 0.1; done
  for pid in $(leftovers); do kill -KILL "$pid" 2>/dev/null; done
  for pid in $kids; do # workers of a killed master would run on
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q '^nginx: ' && kill -KILL "$pid" 2>/dev/null
  done
  return 0
}
cleanup() {
  stop_leftovers
  if [ -n "${K8S_LUA_KEEP_NGX:-}" ]; then echo "ngx specs: prefixes kept in $NGX_TMP" >&2
  else rm -rf "$NGX_TMP"; fi
}
trap cleanup EXIT

# nginx loads build/luajit/k8s/core.so: build it from the current sources
if ! make -s all >&2; then
  echo "build failed" >&2; echo "ngx specs: 0 passed, 1 failed" >&2; exit 1
fi

echo "== busted on $interp: ${files[*]}" >&2
# Output to a file, not $(...): a stray background child of a spec holding
# the pipe must not keep this script waiting once busted has exited.
"$interp" /usr/bin/busted --lpath="./?.lua;./lua/?.lua;./lua/?/init.lua" \
  --cpath="./build/$interp/?.so" -o TAP "${files[@]}" >"$NGX_TMP/busted.out" 2>&1; rc=$?
out=$(cat "$NGX_TMP/busted.out")
echo "$out" | sed "s/^/[ngx $interp] /"
p=$(echo "$out" | grep -cE '^ok [0-9]+')
f=$(echo "$out" | grep -cE '^not ok [0-9]+')
if ! echo "$out" | grep -qE '^1\.\.[0-9]+'; then
  echo "busted on $interp did not finish (rc=$rc)" >&2; f=$((f+1))
fi
if [ $rc -ne 0 ] && [ $f -eq 0 ]; then
  echo "busted on $interp exited $rc" >&2; f=$((f+1))
fi
left=$(leftovers | tr '\n' ' ')
if [ -n "$left" ]; then
  echo "FAILED: nginx left running after the specs (pids ${left% })" >&2; f=$((f+1))
  stop_leftovers
fi
echo "ngx specs: $p passed, $f failed" >&2
[ $f -eq 0 ] && [ $rc -eq 0 ]

#!/usr/bin/env bash
# `make test`: build, start a private control plane, run the C tests, the
# memory checks and the busted specs on Lua 5.4 and LuaJIT, then stop the
# control plane (also when tests fail). Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

make -s all tests || { echo "build failed" >&2; echo "0 passed, 1 failed"; exit 1; }
# the real kubectl, which spec/applyset_spec.lua runs against this library
# (built once into ~/.cache/k8s-lua, a few minutes; cached afterwards)
bench/setup.sh kubectl >/dev/null 2>&1 || echo "bench/setup.sh kubectl failed: spec/applyset_spec.lua will fail" >&2

STATE=$(mktemp -d /tmp/k8s-lua-test.XXXXXX)
cleanup() { tools/control-plane.sh stop "$STATE" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
t0=$(date +%s)
# PodTemplates without a watch cache: the informer spec makes a real 410 by
# compacting etcd (a watch-cached resource may still serve an old RV)
export K8S_LUA_APISERVER_EXTRA_ARGS="${K8S_LUA_APISERVER_EXTRA_ARGS:-} --watch-cache-sizes=podtemplates#0"
if ! tools/control-plane.sh start "$STATE" >/dev/null; then
  echo "control plane failed to start" >&2; echo "0 passed, 1 failed"; exit 1
fi
echo "control plane up in $(( $(date +%s) - t0 ))s" >&2
set -a; . "$STATE/env"; set +a

total_pass=0; total_fail=0
FAILURES=$(mktemp)
count() { # parse "<label>: N passed, N failed" from a log file; $2 names the step
  local line p f
  line=$(grep -E '(^|: )[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
  if [ -z "$line" ]; then
    total_fail=$((total_fail+1)); echo "$2: no summary line (crashed?)" >>"$FAILURES"; return
  fi
  line=${line##*: }
  p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
  total_pass=$((total_pass+p)); total_fail=$((total_fail+f))
  if [ "$f" -gt 0 ]; then # name what failed, so that the last lines of the log say it
    grep -E 'did not finish|exited [0-9]+ \(|crashed|^(\[[^]]*\] )?not ok|^FAIL |FAILED|ERROR SUMMARY: [1-9]|ERROR: (Address|Leak)Sanitizer|runtime error:|^\[[^]]*\] (spec|FAIL)' "$1" \
      | head -20 | sed "s|^|$2: |" >>"$FAILURES"
  fi
}
run() { # run a step, tee its stderr summary into a log
  local log; log=$(mktemp)
  "$@" 2> >(tee "$log" >&2) || total_fail=$((total_fail + 0))
  sleep 0.2
  count "$log" "$*"; rm -f "$log"
}

# the committed protobuf schema table is what tools/protogen generates
run tools/gen-proto-schema.sh --check
run make -s test-c
run tools/check-memory.sh
run tools/run-specs.sh
run tools/run-ngx-specs.sh
# rows of the fault matrix that stop or restart control-plane components, on
# a second control plane of their own (the one above is not touched)
run tools/run-fault-specs.sh
run tools/soak.sh 15 100
run tools/check-rock.sh
# make install PREFIX=<tmp>, examples/c built with pkg-config and run
run tools/check-install.sh
# every committed fuzz input under gcc ASan+UBSan, then a short libFuzzer run
# of every target (`make fuzz` runs 60 s each); the dhat memory budget
run tools/fuzz.sh replay
run tools/fuzz.sh run "${FUZZ_TEST_SECONDS:-10}"
run tools/bench-memory.sh
if [ -x tools/bench.sh ] && [ -f bench/run.lua ]; then
  run tools/bench.sh --tiny
fi

if [ -s "$FAILURES" ]; then echo "== what failed"; cat "$FAILURES"; fi
rm -f "$FAILURES"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

#!/usr/bin/env bash
# Run C test programs; each prints "N passed, N failed". Prints the sum.
# Usage: tools/run-c-tests.sh [--wrap "valgrind ..."] build/tests/test_*
set -uo pipefail
WRAP=()
if [ "${1:-}" = "--wrap" ]; then read -r -a WRAP <<<"$2"; shift 2; fi
pass=0; fail=0; status=0
for t in "$@"; do
  echo "== ${WRAP[*]:+${WRAP[*]} }$t" >&2
  out=$("${WRAP[@]}" "$t") ; rc=$?
  echo "$out"
  line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
  if [ -z "$line" ]; then
    echo "$t: no summary line (crashed?) rc=$rc" >&2; fail=$((fail+1)); status=1; continue
  fi
  p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
  pass=$((pass+p)); fail=$((fail+f))
  [ $rc -ne 0 ] && status=1
done
echo "C tests: $pass passed, $fail failed" >&2
[ $fail -eq 0 ] && [ $status -eq 0 ]

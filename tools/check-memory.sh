#!/usr/bin/env bash
# `make check-memory`: the C tests under AddressSanitizer+UBSan, then under
# valgrind memcheck; any error or leak fails. Live tests need the control
# plane's env (tools/run-tests.sh exports it).
set -uo pipefail
cd "$(dirname "$0")/.."
SAN="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
make -s BUILD=build-asan OPT="$SAN" tests >&2 || { echo "memory: 0 passed, 1 failed" >&2; exit 1; }
make -s tests >&2 || { echo "memory: 0 passed, 1 failed" >&2; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=98
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
pass=0; fail=0
one() {
  local log; log=$(mktemp)
  tools/run-c-tests.sh "$@" 2>"$log" >/dev/null; rc=$?
  cat "$log" >&2
  line=$(grep -E '^C tests: ' "$log" | tail -1); rm -f "$log"
  line=${line#C tests: }
  p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
  [ -z "$p" ] && p=0; [ -z "$f" ] && f=1
  [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
  pass=$((pass+p)); fail=$((fail+f))
}
echo "== AddressSanitizer + UBSan" >&2
one build-asan/tests/test_*
echo "== valgrind memcheck" >&2
one --wrap "valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=97 --suppressions=tools/valgrind.supp" build/tests/test_*
echo "memory: $pass passed, $fail failed" >&2
[ $fail -eq 0 ]

#!/usr/bin/env bash
# Fuzzing (fuzz/README.md):
#   tools/fuzz.sh replay [TARGET...]     every committed input of fuzz/corpus/<t> and
#                                        fuzz/regress/<t> under gcc ASan+UBSan (part of
#                                        `make test`); "fuzz-replay: N passed, N failed"
#   tools/fuzz.sh run SECONDS [TARGET...]   clang-14 libFuzzer, SECONDS per target, two at
#                                        a time; a crash, leak, timeout or violated
#                                        property fails; "fuzz: N passed, N failed"
#   tools/fuzz.sh coverage [TARGET...]   line coverage of src/ per target (llvm-cov-14)
#                                        over the corpus plus what `run` found
# Targets: the names of fuzz/*.c (fuzz/lua_*.c run as <name>-lua5.4 and <name>-luajit).
# New inputs found by `run` go to build-fuzz/new/<t>; crashes to build-fuzz/crash/.
# Turn a crash into a regression: cp build-fuzz/crash/<bin>-crash-* fuzz/regress/<t>/
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-replay}; shift || true
JOBS=${FUZZ_JOBS:-2}
# build folders (override to run several fuzz sessions side by side)
RB=${FUZZ_REPLAY_BUILD:-build-asan}; FB=${FUZZ_BUILD:-build-fuzz}; CB=${FUZZ_COV_BUILD:-build-cov}

bins_for() { # BUILD_DIR [TARGET...] -> binary paths
  local b=$1; shift
  local all=()
  for src in fuzz/*.c; do
    local t; t=$(basename "$src" .c)
    [ "$t" = replay ] && continue
    if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$t"; then continue; fi
    case $t in
      lua_*) all+=("$b/fuzz/$t-lua5.4" "$b/fuzz/$t-luajit") ;;
      *) all+=("$b/fuzz/$t") ;;
    esac
  done
  printf '%s\n' "${all[@]}"
}
target_of() { local n; n=$(basename "$1"); n=${n%-lua5.4}; echo "${n%-luajit}"; }
flags_of() { sed -n 's|^// fuzz-flags: ||p' "fuzz/$1.c" | head -1; }

case $mode in
replay)
  SAN="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  mapfile -t bins < <(bins_for "$RB" "$@")
  make -s BUILD="$RB" OPT="$SAN" FUZZ_ENGINE=replay "${bins[@]}" >&2 ||
    { echo "fuzz-replay: 0 passed, 1 failed" >&2; exit 1; }
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=98:intercept_tls_get_addr=0
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  pass=0; fail=0
  for bin in "${bins[@]}"; do
    t=$(target_of "$bin")
    if out=$("$bin" "fuzz/corpus/$t" "fuzz/regress/$t" 2>&1); then
      echo "ok $(basename "$bin"): ${out##*replay: }" >&2; pass=$((pass+1))
    else
      echo "$out" | tail -40 >&2
      echo "not ok $(basename "$bin")" >&2; fail=$((fail+1))
    fi
  done
  echo "fuzz-replay: $pass passed, $fail failed" >&2
  [ $fail -eq 0 ] ;;
run)
  secs=${1:-60}; shift || true
  command -v clang-14 >/dev/null || { echo "fuzz: clang-14 missing (make deps)" >&2; echo "fuzz: 0 passed, 1 failed" >&2; exit 1; }
  OPTF="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  mapfile -t bins < <(bins_for "$FB" "$@")
  make -s BUILD="$FB" CC=clang-14 OPT="$OPTF" FUZZ_ENGINE=libfuzzer "${bins[@]}" >&2 ||
    { echo "fuzz: 0 passed, 1 failed" >&2; exit 1; }
  mkdir -p "$FB/logs" "$FB/crash"
  export ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  one() {
    local bin=$1 t n; t=$(target_of "$bin"); n=$(basename "$bin")
    mkdir -p "$FB/new/$t"
    local dict=(); [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
    local dirs=("$FB/new/$t" "fuzz/corpus/$t"); [ -d "fuzz/regress/$t" ] && dirs+=("fuzz/regress/$t")
    # shellcheck disable=SC2046
    "$bin" "${dirs[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -seed="$(( $(date +%j) * 1000 + ${#n} ))" -print_final_stats=1 "${dict[@]}" \
      -artifact_prefix="$FB/crash/$n-" $(flags_of "$t") >"$FB/logs/$n.log" 2>&1
    local rc=$?
    local execs cov
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$FB/logs/$n.log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$FB/logs/$n.log" | tail -1)
    if [ $rc -eq 0 ]; then
      echo "ok $n: ${execs:-?} runs in ${secs}s, $cov"
    else
      echo "not ok $n (rc=$rc): log $FB/logs/$n.log"
      grep -E 'ERROR|property violated|SUMMARY|Test unit written' "$FB/logs/$n.log" | head -8 | sed 's/^/    /'
    fi
  }
  export -f one target_of flags_of; export secs FB
  results=$(printf '%s\n' "${bins[@]}" | xargs -P "$JOBS" -I{} bash -c 'one "$@"' _ {})
  echo "$results" >&2
  pass=$(grep -c '^ok ' <<<"$results"); fail=$(grep -c '^not ok ' <<<"$results")
  echo "fuzz: $pass passed, $fail failed" >&2
  [ "$fail" -eq 0 ] ;;
coverage)
  OPTC="-O1 -g -fprofile-instr-generate -fcoverage-mapping"
  mapfile -t bins < <(bins_for "$CB" "$@")
  make -s BUILD="$CB" CC=clang-14 OPT="$OPTC" FUZZ_ENGINE=replay "${bins[@]}" >&2 || exit 1
  mkdir -p "$CB/prof"
  printf '%-26s %s\n' target "lines covered (src/ files the target reaches)"
  for bin in "${bins[@]}"; do
    t=$(target_of "$bin"); n=$(basename "$bin")
    rm -f "$CB/prof/$n".*
    LLVM_PROFILE_FILE="$CB/prof/$n.profraw" "$bin" "fuzz/corpus/$t" "fuzz/regress/$t" "$FB/new/$t" >/dev/null 2>&1
    llvm-profdata-14 merge -o "$CB/prof/$n.profdata" "$CB/prof/$n.profraw" 2>/dev/null || continue
    # the source files the target exercises (any line hit), their line coverage
    llvm-cov-14 report "$bin" -instr-profile="$CB/prof/$n.profdata" 2>/dev/null |
      awk -v n="$n" '$1 ~ /(^|\/)src\// && $(NF-3)+0 > 0 { split($1, p, "/"); files = files " " p[length(p)] "=" $(NF-3);
                      tl += $(NF-5); ml += $(NF-4) }
                     END { if (tl) printf "%-26s %5.1f%% of %d lines:%s\n", n, 100*(tl-ml)/tl, tl, files }'
  done ;;
*) echo "usage: tools/fuzz.sh replay|run SECONDS|coverage [TARGET...]" >&2; exit 2 ;;
esac

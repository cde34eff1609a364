#!/usr/bin/env bash
# `make install` into a temporary prefix, then build examples/c/list_watch.c
# against the installed library with `pkg-config --cflags --libs k8s` and run
# it against the control plane (its env loaded, as tools/run-tests.sh does):
# the first watch event must be the ADDED of a ConfigMap the LIST printed.
# Prints "install: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0; fail=0
P=$(mktemp -d /tmp/k8s-lua-install.XXXXXX)
trap 'rm -rf "$P"' EXIT
ok() { pass=$((pass+1)); echo "ok   $*" >&2; }
ko() { fail=$((fail+1)); echo "FAIL $*" >&2; }

if make -s install PREFIX="$P" >"$P.log" 2>&1; then
  ok "make install PREFIX=$P"
else
  ko "make install"; cat "$P.log" >&2
fi
rm -f "$P.log"
for f in lib/libk8s.so lib/libk8s.a include/k8s.h include/k8s/rest.h lib/pkgconfig/k8s.pc; do
  [ -f "$P/$f" ] && ok "installed $f" || ko "missing $f"
done
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
ns=kube-system
bin="$P/list_watch"
# shellcheck disable=SC2046
if cc -std=c11 -Wall -Wextra -Werror -o "$bin" examples/c/list_watch.c $(pkg-config --cflags --libs k8s) 2>"$P/cc.log"; then
  ok "examples/c/list_watch.c builds with pkg-config --cflags --libs k8s"
  out=$(env -u LD_PRELOAD LD_LIBRARY_PATH="$P/lib" "$bin" "$ns" 2>&1); rc=$?
  listed=$(echo "$out" | sed -n '/^configmaps in /,/^first watch event/p' | grep '^  ' | sort)
  watched=$(echo "$out" | sed -n '/^first watch event: ADDED$/,$p' | grep '^  ')
  if [ $rc -eq 0 ] && [ -n "$listed" ] && [ -n "$watched" ] && echo "$listed" | grep -qxF "$watched"; then
    ok "list_watch lists and watches $ns"
  else
    ko "list_watch exited $rc:"; echo "$out" | tail -5 >&2
  fi
  LD_LIBRARY_PATH="$P/lib" ldd "$bin" | grep -q "$P/lib/libk8s.so" && ok "runs on the installed libk8s.so" \
    || ko "not linked to $P/lib/libk8s.so"
else
  ko "examples/c/list_watch.c does not build"; cat "$P/cc.log" >&2
fi
echo "install: $pass passed, $fail failed" >&2
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# `luarocks make` builds and installs the rock for Lua 5.4 into a temporary
# tree; the installed module must load and run the quickstart example
# against the control plane (KUBECONFIG from tools/run-tests.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
TREE=$(mktemp -d /tmp/k8s-lua-rock.XXXXXX)
trap 'rm -rf "$TREE"; rm -f src/*.o src/lua/*.o' EXIT
pass=0; fail=0
if luarocks --lua-version=5.4 --tree "$TREE" make k8s-lua-scm-1.rockspec >"$TREE.log" 2>&1; then
  pass=$((pass+1))
else
  echo "luarocks make failed:" >&2; tail -20 "$TREE.log" >&2; fail=$((fail+1))
fi
rm -f "$TREE.log"
out=$(cd /tmp && LUA_PATH="$TREE/share/lua/5.4/?.lua;$TREE/share/lua/5.4/?/init.lua" \
      LUA_CPATH="$TREE/lib/lua/5.4/?.so" lua5.4 "$OLDPWD/examples/quickstart.lua" 2>&1)
if echo "$out" | grep -q "server version: ${K8S_LUA_K8S_VERSION:-v}"; then
  pass=$((pass+1))
else
  echo "the installed rock did not run the quickstart:" >&2; echo "$out" | tail -5 >&2; fail=$((fail+1))
fi
echo "rock: $pass passed, $fail failed" >&2
[ $fail -eq 0 ]

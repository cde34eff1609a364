#!/usr/bin/env bash
# `make demo`: run examples/quickstart.lua on Lua 5.4 against the local
# control plane (started here and stopped afterwards), or against your own
# cluster when KUBECONFIG is set.
set -euo pipefail
cd "$(dirname "$0")/.."
export LUA_PATH="./lua/?.lua;./lua/?/init.lua;;" LUA_CPATH="./build/lua5.4/?.so;;"
if [ -n "${KUBECONFIG:-}" ]; then
  exec lua5.4 examples/quickstart.lua
fi
STATE=$(mktemp -d /tmp/k8s-lua-demo.XXXXXX)
trap 'tools/control-plane.sh stop "$STATE" >/dev/null 2>&1 || true' EXIT INT TERM
KUBECONFIG=$(tools/control-plane.sh start "$STATE")
export KUBECONFIG
lua5.4 examples/quickstart.lua

#!/usr/bin/env bash
# Run a command against a control plane: the running one whose env file the
# environment names (K8S_LUA_SERVER and K8S_LUA_STATE, as `set -a; . STATE/env`
# or tools/run-tests.sh give), else a private one started here (as
# tools/run-tests.sh starts it) and stopped when the command ends, also when
# it fails. Lets every make target that needs a control plane run on its own.
#   tools/with-control-plane.sh tools/check-memory.sh
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -n "${K8S_LUA_SERVER:-}" ] && [ -n "${K8S_LUA_STATE:-}" ] && [ -f "$K8S_LUA_STATE/env" ]; then
  exec "$@"
fi
STATE=$(mktemp -d /tmp/k8s-lua-cp.XXXXXX)
cleanup() { tools/control-plane.sh stop "$STATE" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
export K8S_LUA_APISERVER_EXTRA_ARGS="${K8S_LUA_APISERVER_EXTRA_ARGS:-} --watch-cache-sizes=podtemplates#0"
echo "with-control-plane: starting a private control plane in $STATE" >&2
if ! tools/control-plane.sh start "$STATE" >/dev/null; then
  echo "with-control-plane: the control plane failed to start (logs in $STATE)" >&2
  exit 1
fi
set -a; . "$STATE/env"; set +a
"$@"

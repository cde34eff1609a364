#!/usr/bin/env bash
# examples/nginx/run.sh [PORT]: start Debian's nginx with this example in the
# foreground (Ctrl-C stops it). KUBECONFIG selects the cluster, as kubectl.
#   curl 'http://127.0.0.1:8080/pods?namespace=kube-system'
#   curl -N 'http://127.0.0.1:8080/watch?namespace=default'
#   curl 'http://127.0.0.1:8080/endpoints?namespace=default&service=kubernetes'   # from the shared cache
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${1:-8080}
[ -f "$REPO/build/luajit/k8s/core.so" ] || make -s -C "$REPO" all
PREFIX=$(mktemp -d /tmp/k8s-lua-nginx-example.XXXXXX)
trap 'rm -rf "$PREFIX"' EXIT
sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@REPO@|$REPO|g" -e "s|@PORT@|$PORT|g" \
  "$REPO/examples/nginx/nginx.conf.in" >"$PREFIX/nginx.conf"
[ "$(id -u)" = 0 ] && sed -i '1i user root;' "$PREFIX/nginx.conf"   # workers can read root's 0600 key files
echo "nginx on http://127.0.0.1:$PORT (/pods, /watch); log: $PREFIX/error.log" >&2
/usr/sbin/nginx -p "$PREFIX" -c "$PREFIX/nginx.conf" -e "$PREFIX/error.log"

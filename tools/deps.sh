#!/usr/bin/env bash
# Install the Debian packages the project needs, only those missing.
# Idempotent and quiet when everything is there.
set -euo pipefail
PKGS=(
  build-essential pkg-config openssl curl ca-certificates python3
  liblua5.4-dev lua5.4 libluajit2-5.1-dev luajit2
  nginx libnginx-mod-http-lua libhttp-parser-dev
  libcurl4-openssl-dev libssl-dev libyaml-dev libjansson-dev
  lua-cjson lua-busted luarocks valgrind
  clang-14 libclang-rt-14-dev llvm-14 tinyproxy-bin
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Sourced by tools/build-control-plane.sh and bench/setup.sh: the wrapper Go
# module that builds commands of k8s.io/kubernetes at K8S_VERSION
# (tools/versions.sh). Needs a log function.

# k8s_wrapper_module NAME PACKAGE...: in the current directory, a module
# local/NAME that requires k8s.io/kubernetes@v$K8S_VERSION, with the staging
# replace list generated from the release's own go.mod (k8s.io/x =>
# k8s.io/x@v0.<minor>.<patch>), the release's godebug settings, and a tools.go
# importing the PACKAGEs.
k8s_wrapper_module() {
  local name=$1 pkg GOMOD G m n=0
  local sver=v0.${K8S_VERSION#1.}
  shift
  rm -f go.mod go.sum
  go mod init "local/$name" >/dev/null 2>&1
  GOMOD=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\([^"]*\)".*/\1/p')
  [ -f "$GOMOD" ] || { log "cannot download k8s.io/kubernetes@v$K8S_VERSION"; return 1; }
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/src/.*#\1#p' "$GOMOD"); do
    go mod edit -replace="$m=$m@$sver"; n=$((n+1))
  done
  log "replaced $n staging modules with @$sver"
  G=$(sed -n 's/^godebug //p' "$GOMOD" | tr -d '()' | xargs echo -n || true)
  if [ -n "$G" ]; then go mod edit -godebug="$G" || true; fi
  go get "k8s.io/kubernetes@v$K8S_VERSION" >/dev/null 2>&1 || go get "k8s.io/kubernetes@v$K8S_VERSION"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for pkg in "$@"; do printf '\t_ "%s"\n' "$pkg"; done
    printf ')\n'
  } > tools.go
  go mod tidy >/dev/null 2>&1 || true
}

#!/usr/bin/env bash
# A throwaway local Kubernetes control plane (etcd + kube-apiserver +
# kube-controller-manager) on 127.0.0.1, for integration tests.
#
#   tools/control-plane.sh start  [STATE_DIR]  # build (cached) + start; prints the kubeconfig path
#   tools/control-plane.sh stop   [STATE_DIR]  # kill by saved pids, delete state; idempotent
#   tools/control-plane.sh status [STATE_DIR]  # exit 0 if all three pids alive and /readyz ok
#   tools/control-plane.sh restart-apiserver [STATE_DIR]  # stop kube-apiserver by pid, start it again on the same port
#   tools/control-plane.sh env    [STATE_DIR]  # print the KEY=VALUE env file
#
# STATE_DIR defaults to ${K8S_LUA_STATE:-/tmp/k8s-lua-cp}. `start` on a state dir
# that already holds a healthy control plane reuses it.
#
# Files in STATE_DIR: kubeconfig (contexts admin-cert, admin-token, restricted;
# current admin-cert), env (KUBECONFIG, K8S_LUA_SERVER, K8S_LUA_CA,
# K8S_LUA_ADMIN_TOKEN, K8S_LUA_RESTRICTED_TOKEN, K8S_LUA_ADMIN_CERT,
# K8S_LUA_ADMIN_KEY, K8S_LUA_K8S_VERSION, K8S_LUA_STATE, ...; plain KEY=VALUE
# lines, use `set -a; . env; set +a` to export), ca.crt, admin.{crt,key},
# tokens.csv, {etcd,apiserver,kcm}.{pid,log}.
#
# Users: admin-cert (CN=admin, O=system:masters), admin-token (user admin,
# group system:masters), restricted (token, user "restricted", no groups: RBAC
# gives it only the system:authenticated defaults).
#
# Environment:
#   K8S_VERSION, ETCD_VERSION          see tools/versions.sh
#   K8S_LUA_CACHE                      binary cache (see tools/build-control-plane.sh)
#   K8S_LUA_STATE                      default state dir
#   K8S_LUA_START_TIMEOUT              seconds per readiness wait (default 120)
#   K8S_LUA_{ETCD,APISERVER,KCM}_EXTRA_ARGS  extra flags (word-split) for that component
#   K8S_LUA_KEEP_STATE_ON_FAILURE=1    keep the state dir (logs) when start fails
set -euo pipefail
set +m # no job control: `setsid` below must not fork, so $! is the component's pid

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
. "$HERE/versions.sh"

MARKER=.k8s-lua-control-plane
COMPONENTS_STOP_ORDER=(kcm apiserver etcd)

log() { echo "control-plane: $*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}

# Binary basename for a component (used to make sure a pid is really ours).
bin_name() {
  case $1 in
    etcd) echo etcd ;;
    apiserver) echo kube-apiserver ;;
    kcm) echo kube-controller-manager ;;
  esac
}

# alive NAME PID: the process exists, is not a zombie and runs NAME's binary.
alive() {
  local name=$1 pid=$2 stat exe
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/stat" ] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ] || return 1
  exe=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1) || return 1
  [ "${exe##*/}" = "$(bin_name "$name")" ]
}

pid_of() { # pid_of STATE NAME
  local f="$1/$2.pid"
  [ -f "$f" ] && cat "$f" 2>/dev/null || true
}

# kill_components STATE: TERM each component in order kcm, apiserver, etcd,
# wait up to ~10 s for it, then KILL. Only pids whose command line is ours.
kill_components() {
  local state=$1 name pid i left=0
  for name in "${COMPONENTS_STOP_ORDER[@]}"; do
    pid=$(pid_of "$state" "$name")
    [ -n "$pid" ] || continue
    alive "$name" "$pid" || continue
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      alive "$name" "$pid" || break
      sleep 0.1
    done
    if alive "$name" "$pid"; then
      log "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        alive "$name" "$pid" || break
        sleep 0.1
      done
    fi
    if alive "$name" "$pid"; then
      log "could not kill $name (pid $pid)"
      left=1
      continue
    fi
    # Reap it if it is our child (failure path of `start`).
    wait "$pid" 2>/dev/null || true
  done
  return "$left"
}

# remove_state STATE: delete the etcd data dir (only where start puts it) and STATE.
remove_state() {
  local state=$1 dd
  if [ -f "$state/etcd.datadir" ]; then
    dd=$(cat "$state/etcd.datadir")
    case $dd in
      /dev/shm/k8s-lua-etcd.*|"$state"/etcd-data) rm -rf -- "$dd" ;;
    esac
  fi
  rm -rf -- "$state"
}

resolve_state() {
  local s=${1:-${K8S_LUA_STATE:-/tmp/k8s-lua-cp}}
  [ -n "$s" ] || die "empty state dir"
  case $s in /*) ;; *) s="$PWD/$s" ;; esac
  # Paths go unquoted into YAML and the env file: keep them plain.
  [[ $s =~ ^[A-Za-z0-9._/+-]+$ ]] || die "state dir '$s' must match [A-Za-z0-9._/+-]+"
  s=${s%/}
  [ -n "$s" ] && [ "$s" != / ] || die "refusing to use / as state dir"
  echo "$s"
}

is_our_state() { [ -f "$1/$MARKER" ]; }

all_alive() {
  local state=$1 name
  for name in etcd apiserver kcm; do
    alive "$name" "$(pid_of "$state" "$name")" || return 1
  done
}

readyz_ok() {
  local state=$1 server
  server=$(sed -n 's/^K8S_LUA_SERVER=//p' "$state/env" 2>/dev/null) || return 1
  [ -n "$server" ] || return 1
  [ "$(curl -s --max-time 5 --cacert "$state/ca.crt" "$server/readyz" 2>/dev/null)" = ok ]
}

healthy() { is_our_state "$1" && [ -f "$1/kubeconfig" ] && all_alive "$1" && readyz_ok "$1"; }

# free_ports N: N distinct free TCP ports on 127.0.0.1.
free_ports() {
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
  else
    local out=() p
    while [ ${#out[@]} -lt "$1" ]; do
      p=$((20000 + RANDOM % 12000))
      [[ " ${out[*]} " == *" $p "* ]] && continue
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
      out+=("$p")
    done
    echo "${out[*]}"
  fi
}

# ---------------------------------------------------------------- start ----

S_STATE= S_PHASE= S_DONE=0 S_STARTED=() S_SIGNAL=

start_cleanup() {
  local rc=$?
  set +e
  [ "$S_DONE" = 1 ] && return 0
  [ -n "$S_STATE" ] || exit "$rc"
  [ "$rc" != 0 ] || rc=1
  if [ -n "$S_SIGNAL" ]; then
    log "interrupted by SIG$S_SIGNAL (during: ${S_PHASE:-setup}); cleaning up"
    S_PHASE= S_STARTED=()
  else
    log "start failed (during: ${S_PHASE:-setup})"
  fi
  local name shown=" "
  for name in "$S_PHASE" "${S_STARTED[@]}"; do
    [ -n "$name" ] || continue
    [[ $shown == *" $name "* ]] && continue
    # Show the failing phase's log, and the log of any component that died.
    if [ "$name" = "$S_PHASE" ] || ! alive "$name" "$(pid_of "$S_STATE" "$name")"; then
      if [ -s "$S_STATE/$name.log" ]; then
        echo "----- last 40 lines of $S_STATE/$name.log -----" >&2
        tail -n 40 "$S_STATE/$name.log" >&2
        echo "-----" >&2
      fi
    fi
    shown+="$name "
  done
  kill_components "$S_STATE" || K8S_LUA_KEEP_STATE_ON_FAILURE=1
  if [ "${K8S_LUA_KEEP_STATE_ON_FAILURE:-0}" = 1 ]; then
    rm -f "$S_STATE"/*.pid
    log "state kept in $S_STATE"
  else
    remove_state "$S_STATE"
  fi
  exit "$rc"
}

# launch NAME BIN ARGS...: start in its own session, pid -> STATE/NAME.pid.
launch() {
  local name=$1; shift
  setsid "$@" </dev/null >"$S_STATE/$name.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$S_STATE/$name.pid"
  printf '%q ' "$@" >"$S_STATE/$name.cmd"   # for restart-apiserver
  S_STARTED+=("$name")
}

# wait_until NAME TIMEOUT CMD...: poll CMD every 0.25 s; fail if NAME dies.
wait_until() {
  local name=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    alive "$name" "$(pid_of "$S_STATE" "$name")" || die "$name exited early"
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${timeout}s waiting for: $*"
    sleep 0.25
  done
}

# secs T0: seconds since $EPOCHREALTIME value T0, one decimal.
secs() {
  local now=${EPOCHREALTIME/,/.} t=${1/,/.}
  awk -v a="$t" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}
# lap NAME: append "NAME Xs" (time since the previous lap) to $times.
lap() { times+="$1 $(secs "$t_lap")s "; t_lap=$EPOCHREALTIME; }

is_ok() { [ "$(curl -s --max-time 5 "$@" 2>/dev/null)" = ok ]; }
etcd_ok() { curl -fs --max-time 5 "$1" | grep -q '"health":"true"'; }

cmd_start() {
  local state t_start=$EPOCHREALTIME t_lap=$EPOCHREALTIME times=""
  state=$(resolve_state "${1:-}")

  if [ -d "$state" ]; then
    if healthy "$state"; then
      log "reusing the control plane already running in $state"
      echo "$state/kubeconfig"
      return 0
    fi
    if is_our_state "$state"; then
      log "cleaning up stale control-plane state in $state"
      kill_components "$state" || die "cannot clean up $state"
      remove_state "$state"
    elif [ -n "$(ls -A "$state")" ]; then
      die "$state exists, is not empty and is not a control-plane state dir"
    fi
  fi

  # Binaries (cached). Its stderr passes through; its failure message is enough.
  local cache
  cache=$("$HERE/build-control-plane.sh") || exit $?
  lap build
  local ETCD="$cache/etcd/$ETCD_VERSION/bin/etcd"
  local KBIN="$cache/kubernetes/$K8S_VERSION/bin"
  local APISERVER="$KBIN/kube-apiserver" KCM="$KBIN/kube-controller-manager"
  local b
  for b in "$ETCD" "$APISERVER" "$KCM"; do
    [ -x "$b" ] || die "missing binary $b"
  done
  command -v openssl >/dev/null || die "openssl is not installed"
  command -v curl >/dev/null || die "curl is not installed"

  mkdir -p "$state"
  S_STATE=$state
  trap start_cleanup EXIT
  trap 'S_SIGNAL=INT; exit 130' INT
  trap 'S_SIGNAL=TERM; exit 143' TERM
  touch "$state/$MARKER"
  chmod 700 "$state"
  local timeout=${K8S_LUA_START_TIMEOUT:-120}

  # --- certificates and tokens
  S_PHASE=openssl
  local D=$state
  (
    cd "$D"
    umask 077
    exec >>openssl.log 2>&1
    # RSA keys in parallel (the slow part).
    local k pids=()
    for k in ca apiserver admin kcm sa; do
      openssl genrsa -out "$k.key" 2048 & pids+=($!)
    done
    for k in "${pids[@]}"; do wait "$k"; done
    openssl req -x509 -new -key ca.key -days 3650 -subj /CN=k8s-lua-test-ca -out ca.crt
    leaf() { # leaf NAME SUBJECT EKU [SAN]
      openssl req -new -key "$1.key" -out "$1.csr" -subj "$2" \
        -addext "extendedKeyUsage=$3" ${4:+-addext "subjectAltName=$4"}
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 \
        -copy_extensions copyall -out "$1.crt"
      rm -f "$1.csr"
    }
    leaf apiserver /CN=kube-apiserver serverAuth \
      "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    leaf admin /CN=admin/O=system:masters clientAuth
    leaf kcm /CN=system:kube-controller-manager clientAuth
    openssl rsa -in sa.key -pubout -out sa.pub
  )
  local ADMIN_TOKEN RESTRICTED_TOKEN
  ADMIN_TOKEN=$(openssl rand -hex 32)
  RESTRICTED_TOKEN=$(openssl rand -hex 32)
  (
    umask 077
    printf '%s\n' "$ADMIN_TOKEN,admin,uid-admin,\"system:masters\"" \
      "$RESTRICTED_TOKEN,restricted,uid-restricted" >"$D/tokens.csv"
  )

  local ports EC EP AP KP
  lap certs
  ports=$(free_ports 4)
  read -r EC EP AP KP <<<"$ports"
  local SERVER="https://127.0.0.1:$AP"

  # --- etcd
  S_PHASE=etcd
  local ED
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    ED=$(mktemp -d /dev/shm/k8s-lua-etcd.XXXXXX)
  else
    ED="$D/etcd-data"
    mkdir -p "$ED"
  fi
  echo "$ED" >"$D/etcd.datadir"
  local extra=()
  read -r -a extra <<<"${K8S_LUA_ETCD_EXTRA_ARGS:-}"
  launch etcd "$ETCD" --name k8s-lua --data-dir "$ED" \
    --listen-client-urls "http://127.0.0.1:$EC" --advertise-client-urls "http://127.0.0.1:$EC" \
    --listen-peer-urls "http://127.0.0.1:$EP" --initial-advertise-peer-urls "http://127.0.0.1:$EP" \
    --initial-cluster "k8s-lua=http://127.0.0.1:$EP" \
    --unsafe-no-fsync --log-level warn ${extra[@]+"${extra[@]}"}
  wait_until etcd 30 etcd_ok "http://127.0.0.1:$EC/health"
  lap etcd

  # --- kube-apiserver
  S_PHASE=apiserver
  extra=()
  read -r -a extra <<<"${K8S_LUA_APISERVER_EXTRA_ARGS:-}"
  launch apiserver "$APISERVER" \
    --etcd-servers="http://127.0.0.1:$EC" \
    --bind-address=127.0.0.1 --secure-port="$AP" \
    --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
    --tls-cert-file="$D/apiserver.crt" --tls-private-key-file="$D/apiserver.key" \
    --client-ca-file="$D/ca.crt" --token-auth-file="$D/tokens.csv" \
    --authorization-mode=Node,RBAC \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$D/sa.pub" --service-account-signing-key-file="$D/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true \
    --v=1 ${extra[@]+"${extra[@]}"}
  wait_until apiserver "$timeout" is_ok --cacert "$D/ca.crt" "$SERVER/readyz"
  lap apiserver

  # --- kube-controller-manager
  S_PHASE=kcm
  cat >"$D/kcm.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $SERVER
    certificate-authority: $D/ca.crt
users:
- name: kcm
  user:
    client-certificate: $D/kcm.crt
    client-key: $D/kcm.key
contexts:
- name: kcm
  context:
    cluster: local
    user: kcm
current-context: kcm
EOF
  mkdir -p "$D/kcm-serving"
  extra=()
  read -r -a extra <<<"${K8S_LUA_KCM_EXTRA_ARGS:-}"
  launch kcm "$KCM" --kubeconfig="$D/kcm.kubeconfig" \
    --authentication-kubeconfig="$D/kcm.kubeconfig" --authorization-kubeconfig="$D/kcm.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KP" --cert-dir="$D/kcm-serving" \
    --authentication-skip-lookup=true \
    --leader-elect=false --use-service-account-credentials=true --controllers='*' \
    --kube-api-qps=200 --kube-api-burst=400 \
    --service-account-private-key-file="$D/sa.key" --root-ca-file="$D/ca.crt" \
    --cluster-signing-cert-file="$D/ca.crt" --cluster-signing-key-file="$D/ca.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --v=1 ${extra[@]+"${extra[@]}"}
  wait_until kcm "$timeout" is_ok -k "https://127.0.0.1:$KP/healthz"
  # The service-account controller creating `default` proves kcm reconciles.
  wait_until kcm "$timeout" curl -fs --max-time 5 --cacert "$D/ca.crt" \
    --cert "$D/admin.crt" --key "$D/admin.key" \
    "$SERVER/api/v1/namespaces/default/serviceaccounts/default"
  lap kcm

  # --- client files
  S_PHASE=kubeconfig
  (
    umask 077
    cat >"$D/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $SERVER
    certificate-authority: $D/ca.crt
users:
- name: admin-cert
  user:
    client-certificate: $D/admin.crt
    client-key: $D/admin.key
- name: admin-token
  user:
    token: "$ADMIN_TOKEN"
- name: restricted
  user:
    token: "$RESTRICTED_TOKEN"
contexts:
- name: admin-cert
  context:
    cluster: local
    user: admin-cert
    namespace: default
- name: admin-token
  context:
    cluster: local
    user: admin-token
    namespace: default
- name: restricted
  context:
    cluster: local
    user: restricted
    namespace: default
current-context: admin-cert
EOF
    cat >"$D/env" <<EOF
KUBECONFIG=$D/kubeconfig
K8S_LUA_SERVER=$SERVER
K8S_LUA_CA=$D/ca.crt
K8S_LUA_ADMIN_TOKEN=$ADMIN_TOKEN
K8S_LUA_RESTRICTED_TOKEN=$RESTRICTED_TOKEN
K8S_LUA_ADMIN_CERT=$D/admin.crt
K8S_LUA_ADMIN_KEY=$D/admin.key
K8S_LUA_K8S_VERSION=v$K8S_VERSION
K8S_LUA_ETCD_VERSION=$ETCD_VERSION
K8S_LUA_ETCD_ENDPOINT=http://127.0.0.1:$EC
K8S_LUA_STATE=$D
EOF
  )

  S_DONE=1
  trap - EXIT INT TERM
  log "control plane v$K8S_VERSION up at $SERVER in $(secs "$t_start")s [${times% }] (state: $D)"
  echo "$D/kubeconfig"
}

# ----------------------------------------------------------------- stop ----

cmd_stop() {
  local state
  state=$(resolve_state "${1:-}")
  [ -d "$state" ] || return 0
  if ! is_our_state "$state"; then
    if [ -z "$(ls -A "$state")" ]; then
      rmdir "$state"
      return 0
    fi
    die "$state is not a control-plane state dir; not touching it"
  fi
  kill_components "$state" || die "left $state in place"
  remove_state "$state"
}

# restart-apiserver: stop kube-apiserver by its pid and start it again with
# the same flags on the same port (for the specs: a restart mid-watch).
cmd_restart-apiserver() {
  local state pid i
  state=$(resolve_state "${1:-}")
  [ -f "$state/apiserver.cmd" ] || die "no restartable apiserver in $state"
  pid=$(pid_of "$state" apiserver)
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 100); do alive apiserver "$pid" || break; sleep 0.1; done
  alive apiserver "$pid" && kill -KILL "$pid" 2>/dev/null
  for i in $(seq 50); do alive apiserver "$pid" || break; sleep 0.1; done
  S_STATE=$state
  setsid bash -c "exec $(cat "$state/apiserver.cmd")" </dev/null >>"$state/apiserver.log" 2>&1 &
  echo "$!" >"$state/apiserver.pid"
  local server
  server=$(sed -n 's/^K8S_LUA_SERVER=//p' "$state/env")
  wait_until apiserver 60 is_ok --cacert "$state/ca.crt" "$server/readyz"
  log "apiserver restarted (pid $(cat "$state/apiserver.pid"))"
}

cmd_status() {
  local state
  state=$(resolve_state "${1:-}")
  if healthy "$state"; then
    echo "running: $(sed -n 's/^K8S_LUA_SERVER=//p' "$state/env") (state: $state)"
  else
    echo "not running (state: $state)"
    return 1
  fi
}

cmd_env() {
  local state
  state=$(resolve_state "${1:-}")
  [ -f "$state/env" ] || die "no control plane in $state (run: $0 start)"
  cat "$state/env"
}

case ${1:-} in
  start|stop|status|env|restart-apiserver)
    cmd=$1; shift
    [ $# -le 1 ] || { usage; exit 2; }
    "cmd_$cmd" "$@"
    ;;
  -h|--help|help) usage ;;
  *) usage; exit 2 ;;
esac

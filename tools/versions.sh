# Pinned control-plane versions, sourced by tools/build-control-plane.sh and
# tools/control-plane.sh. Override with the environment variables.
K8S_VERSION=${K8S_VERSION:-1.35.4}     # k8s.io/kubernetes release (no leading v)
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}  # go.etcd.io/etcd/server/v3 release
TOXIPROXY_VERSION=${TOXIPROXY_VERSION:-v2.12.0}  # github.com/Shopify/toxiproxy/v2 (pin it: @latest is stale on the module proxy)

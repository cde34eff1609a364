-- Quickstart: print the server version and the namespaces of a cluster.
-- Uses $KUBECONFIG (or ~/.kube/config, or the in-cluster config).
--   lua5.4 examples/quickstart.lua        (make demo runs it against the local control plane)
local k8s = require "k8s"

local config = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))
local cs = assert(k8s.NewForConfig(config))

local version = assert(cs:Discovery():ServerVersion())
print("server version: " .. version.gitVersion)

local namespaces = assert(cs:CoreV1():Namespaces():List())
print("namespaces:")
for _, ns in ipairs(namespaces.items) do
  print("  " .. ns.metadata.name .. "  (" .. ns.status.phase .. ")")
end

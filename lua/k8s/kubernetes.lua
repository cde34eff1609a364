--- kubernetes.NewForConfig: the Clientset.
--   local cs = assert(k8s.NewForConfig(config))
--   cs:CoreV1():Pods("default"):Get("name")
-- Group-version methods (CoreV1, AppsV1, RbacV1, ...) and resource methods
-- (Pods, ConfigMaps, NetworkPolicies, ...) come from the C core's generated
-- resource table; see cs:GroupVersions() and gv:Resources().
-- cs:Discovery() returns the discovery client (k8s.discovery) sharing the
-- clientset's connections.
-- @module k8s.kubernetes
local restconfig = require "k8s.restconfig"

local M = {}

--- NewForConfig(config) -> clientset | nil, err. An invalid config raises.
function M.NewForConfig(config)
  return restconfig.new_client(2, restconfig.normalize(config), false)
end

--- NewForConfigOrDie: as NewForConfig, raising on any error.
function M.NewForConfigOrDie(config)
  local cs, err = M.NewForConfig(config)
  if not cs then error(tostring(err), 2) end
  return cs
end

return M

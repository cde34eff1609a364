--- dynamic.NewForConfig: a client for any GroupVersionResource, objects as
-- plain tables (which must carry apiVersion and kind).
--   local dc = assert(k8s.dynamic.NewForConfig(config))
--   dc:Resource{ Group = "apps", Version = "v1", Resource = "deployments" }:Namespace("ns"):List()
-- dc:Discovery() returns the discovery client sharing this client's
-- connections.
-- @module k8s.dynamic
local restconfig = require "k8s.restconfig"

local M = {}

--- NewForConfig(config) -> dynamic client | nil, err.
function M.NewForConfig(config)
  return restconfig.new_client(2, restconfig.normalize(config), true)
end

return M

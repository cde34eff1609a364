--- dynamic.NewForConfig: a client for any GroupVersionResource, objects as
-- plain tables (which must carry apiVersion and kind).
--   local dc = assert(k8s.dynamic.NewForConfig(config))
--   dc:Resource{ Group = "apps", Version = "v1", Resource = "deployments" }:Namespace("ns"):List()
-- @module k8s.dynamic
local rest = require "k8s.rest"
local discovery = require "k8s.discovery"

local M = {}
local mt = debug.getregistry()["k8s.DynamicClient"]

--- dc:Discovery(): the discovery client sharing this client's connections.
function mt.__methods.Discovery(self)
  return discovery.new(self:_discovery_client())
end

--- NewForConfig(config) -> dynamic client | nil, err.
function M.NewForConfig(config)
  return rest._new_client(2, rest._normalize(config), true)
end

return M

--- client-go's `rest` package: RESTClientFor, UnversionedRESTClientFor,
-- InClusterConfig, auth provider plugins.
-- @module k8s.rest
local core = require "k8s.core"

local M = {}

local function copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = copy(v) end
  return setmetatable(c, getmetatable(t))
end
M.CopyConfig = copy

-- ContentConfig.GroupVersion may be "apps/v1" or { Group = "apps", Version = "v1" }.
local function normalize(config)
  if type(config) ~= "table" then
    error("config must be a table, got " .. type(config), 3)
  end
  local cc = config.ContentConfig
  if type(cc) == "table" and type(cc.GroupVersion) == "table" then
    config = copy(config)
    local gv = config.ContentConfig.GroupVersion
    if gv.Group and gv.Group ~= "" then
      config.ContentConfig.GroupVersion = gv.Group .. "/" .. (gv.Version or "")
    else
      config.ContentConfig.GroupVersion = gv.Version or ""
    end
  end
  return config
end
M._normalize = normalize

--- rest.RESTClientFor: a client for config.ContentConfig.GroupVersion at config.APIPath.
-- Invalid configs raise; returns client | nil, err.
function M.RESTClientFor(config)
  config = normalize(config)
  local gv = config.ContentConfig and config.ContentConfig.GroupVersion
  if gv == nil or gv == "" then
    error("RESTClientFor: GroupVersion is required when initializing a RESTClient (config.ContentConfig.GroupVersion)", 2)
  end
  if config.APIPath == nil then
    error("RESTClientFor: APIPath is required (config.APIPath, \"/api\" or \"/apis\")", 2)
  end
  return core.rest_client_for(config, true)
end

--- rest.UnversionedRESTClientFor: a client without a group-version (AbsPath requests).
function M.UnversionedRESTClientFor(config)
  return core.rest_client_for(normalize(config), false)
end

--- flowcontrol.NewTokenBucketRateLimiter(qps, burst).
function M.NewTokenBucketRateLimiter(qps, burst)
  return core.new_token_bucket(qps, burst)
end

return M

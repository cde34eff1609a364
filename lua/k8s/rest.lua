--- client-go's `rest` package: RESTClientFor, UnversionedRESTClientFor,
-- InClusterConfig, auth provider plugins.
-- @module k8s.rest
local core = require "k8s.core"
local restconfig = require "k8s.restconfig"

local M = {}

--- CopyConfig(config): a deep copy (the metatables kept).
M.CopyConfig = restconfig.copy

--- RegisterAuthProviderPlugin(name, factory): factory(clusterAddress, config, persister)
-- returns a provider { Token = function(self, invalidate) return token, expiresAtEpochSeconds end,
-- Login = function(self) end (optional) }. Registering a name twice raises.
-- Token is called when a RESTClient has no unexpired token (each client
-- caches its own), and with invalidate = true after a 401, before the one
-- retry. It runs on a Lua thread of its own: an error in it becomes the
-- request's error (reason "AuthProviderError", naming the provider). A
-- Token that makes a request needing its own token gets an error. The
-- persister's Persist(tbl) writes tbl back as the auth-provider config of
-- the kubeconfig user that named the plugin.
M.RegisterAuthProviderPlugin = restconfig.register_auth_provider_plugin

--- ClientNamespace(client) -> the `Namespace` of the config a Clientset or
-- dynamic client was made from (a kubeconfig context's namespace, as
-- clientcmd fills it in), or nil. Apply, Delete and Diff use it as kubectl
-- uses the context's namespace.
M.ClientNamespace = restconfig.client_namespace

--- rest.RESTClientFor: a client for config.ContentConfig.GroupVersion at config.APIPath.
-- Invalid configs raise; returns client | nil, err.
function M.RESTClientFor(config)
  config = restconfig.normalize(config)
  local gv = config.ContentConfig and config.ContentConfig.GroupVersion
  if gv == nil or gv == "" then
    error("RESTClientFor: GroupVersion is required when initializing a RESTClient (config.ContentConfig.GroupVersion)", 2)
  end
  if config.APIPath == nil then
    error("RESTClientFor: APIPath is required (config.APIPath, \"/api\" or \"/apis\")", 2)
  end
  return restconfig.call(2, core.rest_client_for, config, true)
end

--- rest.UnversionedRESTClientFor: a client without a group-version (AbsPath requests).
function M.UnversionedRESTClientFor(config)
  return restconfig.call(2, core.rest_client_for, restconfig.normalize(config), false)
end

--- rest.InClusterConfig() -> config | nil, err. The service-account token
-- is used as BearerTokenFile (re-read, so rotation is picked up); the
-- directory can be redirected with K8S_LUA_SERVICEACCOUNT_DIR.
function M.InClusterConfig()
  return core.in_cluster_config()
end

--- flowcontrol.NewTokenBucketRateLimiter(qps, burst).
function M.NewTokenBucketRateLimiter(qps, burst)
  return core.new_token_bucket(qps, burst)
end

return M

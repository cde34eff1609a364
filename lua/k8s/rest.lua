--- client-go's `rest` package: RESTClientFor, UnversionedRESTClientFor,
-- InClusterConfig, auth provider plugins.
-- @module k8s.rest
local core = require "k8s.core"

local M = {}

--- Call a core constructor, re-raising argument errors at the caller's
-- caller (the user's line), not inside this library.
function M._call(level, fn, ...)
  local ok, a, b = pcall(fn, ...)
  if not ok then error(a, level + 1) end
  return a, b
end

local function copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = copy(v) end
  return setmetatable(c, getmetatable(t))
end
M.CopyConfig = copy

-- Auth provider plugins, by name (rest.RegisterAuthProviderPlugin).
local plugins = {}

--- RegisterAuthProviderPlugin(name, factory): factory(clusterAddress, config, persister)
-- returns a provider { Token = function(self, invalidate) return token, expiresAtEpochSeconds end,
-- Login = function(self) end (optional) }. Registering a name twice raises.
-- Token is called when a RESTClient has no unexpired token (each client
-- caches its own), and with invalidate = true after a 401, before the one
-- retry. It runs on a Lua thread of its own: an error in it becomes the
-- request's error (reason "AuthProviderError", naming the provider). A
-- Token that makes a request needing its own token gets an error.
function M.RegisterAuthProviderPlugin(name, factory)
  if type(name) ~= "string" or name == "" then
    error("RegisterAuthProviderPlugin: name must be a non-empty string", 2)
  end
  if type(factory) ~= "function" then
    error("RegisterAuthProviderPlugin: factory must be a function", 2)
  end
  if plugins[name] then
    error("RegisterAuthProviderPlugin: auth Provider Plugin \"" .. name .. "\" was registered twice", 2)
  end
  plugins[name] = factory
end

--- The persister handed to a plugin: Persist(tbl) writes tbl back as the
-- auth-provider config of the kubeconfig user that named the plugin.
-- config.AuthConfigPersister is either such a target ({ File, User }, set by
-- k8s.clientcmd for kubeconfig users) or, as in client-go, an object of your
-- own with a Persist(self, tbl) method, which is then handed over as is.
local function new_persister(target)
  if type(target) == "table" and type(target.Persist) == "function" then
    return target
  end
  return {
    Persist = function(_, tbl)
      if type(tbl) ~= "table" then error("Persist: config must be a table", 2) end
      if not target or not target.File then
        return nil, setmetatable({ code = 0, reason = "NoPersister",
          message = "this config was not loaded from a kubeconfig file: nothing to persist to",
          retryAfterSeconds = 0 }, core.error_mt)
      end
      return core.persist_auth_provider(target.File, target.User, tbl)
    end,
  }
end

-- Turn config.AuthProvider into a TokenSource the C core calls.
local function resolve_auth_provider(config)
  local ap = config.AuthProvider
  if ap == nil or config.TokenSource ~= nil then return config end
  if type(ap) ~= "table" or type(ap.Name) ~= "string" then
    error("config.AuthProvider must be { Name = string, Config = table }", 4)
  end
  if ap.Config ~= nil and type(ap.Config) ~= "table" then
    error("config.AuthProvider.Config must be a table, got " .. type(ap.Config), 4)
  end
  local factory = plugins[ap.Name]
  if not factory then
    error("config.AuthProvider: no Auth Provider found for name \"" .. ap.Name .. "\"", 4)
  end
  local cfgcopy = {}
  for k, v in pairs(ap.Config or {}) do cfgcopy[k] = v end
  local ok, provider = pcall(factory, config.Host or "", cfgcopy, new_persister(config.AuthConfigPersister))
  if not ok then
    error("config.AuthProvider: plugin \"" .. ap.Name .. "\" failed: " .. tostring(provider), 4)
  end
  if type(provider) ~= "table" or type(provider.Token) ~= "function" then
    error("config.AuthProvider: plugin \"" .. ap.Name .. "\" must return a table with a Token method", 4)
  end
  config.TokenSource = function(invalidate)
    local token, exp = provider:Token(invalidate)
    if token == nil and type(provider.Login) == "function" then
      provider:Login()
      token, exp = provider:Token(invalidate)
    end
    return token, exp
  end
  return config
end

-- ContentConfig.GroupVersion may be "apps/v1" or { Group = "apps", Version = "v1" }.
local function normalize(config)
  if type(config) ~= "table" then
    error("config must be a table, got " .. type(config), 3)
  end
  if config.AuthProvider ~= nil and config.TokenSource == nil then
    config = resolve_auth_provider(copy(config))
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

-- the Namespace of the config each client was made from (weak keys)
local client_namespaces = setmetatable({}, { __mode = "k" })

--- rest.ClientNamespace(client) -> the `Namespace` of the config a Clientset
-- or dynamic client was made from (a kubeconfig context's namespace, as
-- clientcmd fills it in), or nil. Apply, Delete and Diff use it as kubectl
-- uses the context's namespace.
function M.ClientNamespace(client)
  return client_namespaces[client]
end

-- NewForConfig's tail (config normalized): remember the config's namespace.
function M._new_client(level, config, dynamic)
  local c, err = M._call(level + 1, core.new_clientset, config, dynamic)
  if c and type(config.Namespace) == "string" and config.Namespace ~= "" then
    client_namespaces[c] = config.Namespace
  end
  return c, err
end

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
  return M._call(2, core.rest_client_for, config, true)
end

--- rest.UnversionedRESTClientFor: a client without a group-version (AbsPath requests).
function M.UnversionedRESTClientFor(config)
  return M._call(2, core.rest_client_for, normalize(config), false)
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

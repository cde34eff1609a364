--- Internal, not part of the API: what turns a rest.Config table into
-- clients, shared by k8s.rest, k8s.kubernetes and k8s.dynamic (auth provider
-- plugins, the config's normal form, the constructors' error level, each
-- client's namespace). The public functions are k8s.rest's.
-- @module k8s.restconfig
local core = require "k8s.core"

local M = {}

--- call(level, fn, ...): call a core constructor, re-raising argument
-- errors `level` frames above the caller (the user's line), not inside
-- this library.
function M.call(level, fn, ...)
  local ok, a, b = pcall(fn, ...)
  if not ok then error(a, level + 1) end
  return a, b
end

--- copy(t): rest.CopyConfig, a deep copy with the metatables kept.
local function copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = copy(v) end
  return setmetatable(c, getmetatable(t))
end
M.copy = copy

-- Auth provider plugins, by name (rest.RegisterAuthProviderPlugin).
local plugins = {}

--- register_auth_provider_plugin(name, factory): rest.RegisterAuthProviderPlugin
-- (documented there).
function M.register_auth_provider_plugin(name, factory)
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
        return nil, require("k8s.errors").New("NoPersister",
          "this config was not loaded from a kubeconfig file: nothing to persist to")
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

--- normalize(config) -> the config the core takes: AuthProvider resolved to a
-- TokenSource; ContentConfig.GroupVersion may be "apps/v1" or { Group = "apps", Version = "v1" }.
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
M.normalize = normalize

-- the Namespace of the config each client was made from (weak keys)
local client_namespaces = setmetatable({}, { __mode = "k" })

--- client_namespace(client): rest.ClientNamespace (documented there).
function M.client_namespace(client)
  return client_namespaces[client]
end

--- new_client(level, config, dynamic) -> client | nil, err: NewForConfig's
-- tail (config normalized); argument errors are raised `level` frames up.
-- Remembers the config's namespace.
function M.new_client(level, config, dynamic)
  local c, err = M.call(level + 1, core.new_clientset, config, dynamic)
  if c and type(config.Namespace) == "string" and config.Namespace ~= "" then
    client_namespaces[c] = config.Namespace
  end
  return c, err
end

return M

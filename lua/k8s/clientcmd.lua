--- client-go's clientcmd: kubeconfig loading with the default loading rules
-- (KUBECONFIG list, ~/.kube/config), overrides, BuildConfigFromFlags, and
-- the in-cluster fallback. The C core does the loading, merging and
-- validation; configs come back as plain rest.Config tables (plus Namespace).
-- @module k8s.clientcmd
local core = require "k8s.core"

local M = {}

-- A config whose user names an auth-provider carries AuthConfigPersister =
-- { File = <the kubeconfig file that defined the user>, User = <its name> },
-- so that the plugin's persister:Persist(tbl) writes back to that entry
-- (clientcmd's PersisterForUser).
local function attach_persister(config, info)
  if config and info and type(config.AuthProvider) == "table" and info.UserFile and info.User then
    config.AuthConfigPersister = { File = info.UserFile, User = info.User }
  end
  return config, info
end

--- BuildConfigFromFlags(masterUrl, kubeconfigPath) -> config | nil, err.
-- Both empty: in-cluster config when available, else the default loading
-- rules. masterUrl overrides the server of the loaded config.
function M.BuildConfigFromFlags(masterUrl, kubeconfigPath)
  if masterUrl ~= nil and type(masterUrl) ~= "string" then
    error("BuildConfigFromFlags: masterUrl must be a string", 2)
  end
  if kubeconfigPath ~= nil and type(kubeconfigPath) ~= "string" then
    error("BuildConfigFromFlags: kubeconfigPath must be a string", 2)
  end
  local config, info = core.build_config_from_flags(masterUrl or "", kubeconfigPath or "")
  if not config then return nil, info end
  return (attach_persister(config, info))
end

--- NewNonInteractiveDeferredLoadingClientConfig(loadingRules, overrides):ClientConfig()
-- in one call. `overrides` is named after clientcmd's ConfigOverrides:
--   { CurrentContext = "ctx", ClusterName = "c", AuthInfoName = "u",
--     Namespace = "ns", Server = "https://...", ExplicitPath = "/path/kubeconfig" }
-- Returns config, info (Context, Cluster, User, UserFile, Namespace, Files) | nil, err.
function M.LoadConfig(overrides)
  if overrides ~= nil and type(overrides) ~= "table" then
    error("LoadConfig: overrides must be a table", 2)
  end
  local config, info = core.clientcmd_load(overrides)
  if not config then return nil, info end
  return attach_persister(config, info)
end

--- ClientConfig for a named context of the default loading rules (or an explicit file).
function M.ConfigForContext(context, kubeconfigPath)
  if type(context) ~= "string" or context == "" then
    error("ConfigForContext: context must be a non-empty string", 2)
  end
  local ov = { CurrentContext = context }
  if kubeconfigPath and kubeconfigPath ~= "" then ov.ExplicitPath = kubeconfigPath end
  local config, info = core.clientcmd_load(ov)
  if not config then return nil, info end
  return attach_persister(config, info)
end

return M

--- k8s for Lua: a Kubernetes client with a C core, modelled on client-go.
--   local k8s = require "k8s"
--   local config = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))
--   local cs = assert(k8s.NewForConfig(config))
--   local pod, err = cs:CoreV1():Pods("default"):Get("name")
-- See the README and API.md for the whole surface.
-- @module k8s
local core = require "k8s.core"

local k8s = {
  _VERSION = core.version(),
  --- JSON null (the same value as cjson.null).
  null = core.null,
  --- Metatable marking a table as a JSON array (decoded arrays carry it).
  array_mt = core.array_mt,
  errors = require "k8s.errors",
  rest = require "k8s.rest",
  json = { encode = core.json_encode, decode = core.json_decode },
  --- YAML streams as Kubernetes reads them (src/lua/yaml.h): decode(text)
  -- -> array of documents | nil, err; encode(value), encode_all(list).
  yaml = { decode = core.yaml_decode, encode = core.yaml_encode, encode_all = core.yaml_encode_all },
  --- apimachinery types.PatchType values (media types).
  types = {
    JSONPatchType = "application/json-patch+json",
    MergePatchType = "application/merge-patch+json",
    StrategicMergePatchType = "application/strategic-merge-patch+json",
    ApplyPatchType = "application/apply-patch+yaml",
  },
}

--- Run(seconds | fn | nil): drive every task started in this process
-- (informers, leader electors, loop.spawn) until time is up, fn() returns
-- true, or no task is left. Outside nginx only (nginx drives its timers).
function k8s.Run(arg)
  return require("k8s.loop").Run(arg)
end

--- An empty JSON array value: setmetatable({}, k8s.array_mt).
function k8s.empty_array()
  return setmetatable({}, core.array_mt)
end

k8s.flowcontrol = { NewTokenBucketRateLimiter = k8s.rest.NewTokenBucketRateLimiter }

-- Modules that may not be present in every build stage load lazily.
local lazy = { clientcmd = "k8s.clientcmd", dynamic = "k8s.dynamic", pager = "k8s.pager", kubernetes = "k8s.kubernetes",
  informers = "k8s.informers", cache = "k8s.cache", labels = "k8s.labels", loop = "k8s.loop",
  leaderelection = "k8s.leaderelection", resourcelock = "k8s.resourcelock", runtime = "k8s.runtime",
  apply = "k8s.apply", restmapper = "k8s.restmapper", retry = "k8s.retry", wait = "k8s.wait" }
setmetatable(k8s, {
  __index = function(t, k)
    local m = lazy[k]
    if m then
      local v = require(m)
      rawset(t, k, v)
      return v
    end
    if k == "dynamicinformer" then
      local inf = require "k8s.informers"
      local v = { NewDynamicSharedInformerFactory = inf.NewDynamicSharedInformerFactory,
        NewFilteredDynamicSharedInformerFactory = inf.NewFilteredDynamicSharedInformerFactory }
      rawset(t, k, v)
      return v
    end
    if k == "NewForConfig" or k == "NewForConfigOrDie" then
      local v = require("k8s.kubernetes")[k]
      rawset(t, k, v)
      return v
    end
    return nil
  end,
})

-- Inside nginx's lua module, the cosocket driver serves every call.
if type(ngx) == "table" and type(ngx.get_phase) == "function" and ngx.config and ngx.config.ngx_lua_version then
  k8s.ngx = require "k8s.ngx"
end

return k8s

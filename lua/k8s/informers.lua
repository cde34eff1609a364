--- client-go's informers: SharedIndexInformer (tools/cache), the shared
-- informer factory (informers) and the dynamic one (dynamic/dynamicinformer).
--   local factory = k8s.informers.NewSharedInformerFactory(cs, 0)
--   local pods = factory:CoreV1():Pods()
--   pods:Informer():AddEventHandler({ OnAdd = function(obj, initial) end })
--   factory:Start()                         -- does not block
--   factory:WaitForCacheSync(30)            -- drives the loop (plain Lua) until synced
--   pods:Lister():Pods("ns"):Get("name")
-- Outside nginx the informers are tasks of k8s.loop: k8s.Run(...) drives
-- them together with the program's own tasks; handlers run on that loop,
-- one at a time. Inside nginx each informer runs in a timer of the worker
-- that starts it.
-- @module k8s.informers
local rt = require "k8s.runtime"
local cache = require "k8s.cache"
local reflector = require "k8s.reflector"

local M = {}

local Informer = { __name = "k8s.SharedIndexInformer" }
Informer.__index = Informer

local function log_to_stderr(level, msg)
  if level == "error" or os.getenv("K8S_LUA_V") then
    if rt.nginx then ngx.log(level == "error" and ngx.ERR or ngx.INFO, msg)
    else io.stderr:write("k8s.informer: ", msg, "\n") end
  end
end

--- NewSharedIndexInformer(lw, groupResource, resyncSeconds, opts) -> informer.
-- lw: a resource client (List, Watch); groupResource: { Group =, Resource = };
-- opts: Indexers (map name -> function(obj) -> list of values; the
-- "namespace" index is always there), TweakListOptions, UseWatchList,
-- WatchListTimeout, OnHandlerError (function(err, ...)).
function M.NewSharedIndexInformer(lw, gr, resync, opts)
  opts = opts or {}
  local indexers = { [cache.NamespaceIndex] = cache.MetaNamespaceIndexFunc }
  for k, f in pairs(opts.Indexers or {}) do indexers[k] = f end
  local indexer = cache.NewIndexer(cache.DeletionHandlingMetaNamespaceKeyFunc, indexers)
  local name = (gr.Group ~= "" and gr.Group and (gr.Resource .. "." .. gr.Group)) or gr.Resource
  local p = cache.NewProcessor(indexer, { now = rt.now, OnHandlerError = opts.OnHandlerError or function(err)
    log_to_stderr("error", name .. ": an event handler raised: " .. tostring(err))
  end })
  local inf = setmetatable({
    lw = lw, gr = gr, name = name, resync = resync or 0, indexer = indexer, p = p, opts = opts,
  }, Informer)
  inf.reflector = reflector.new(lw, p, {
    Name = name, TweakListOptions = opts.TweakListOptions, UseWatchList = opts.UseWatchList,
    WatchListTimeout = opts.WatchListTimeout, Log = opts.Log or log_to_stderr,
  })
  return inf
end

--- inf:AddEventHandler(handler) -> registration (handler: OnAdd, OnUpdate, OnDelete).
function Informer:AddEventHandler(h)
  return self:AddEventHandlerWithResyncPeriod(h, self.resync)
end

--- inf:AddEventHandlerWithResyncPeriod(handler, seconds) -> registration.
function Informer:AddEventHandlerWithResyncPeriod(h, period)
  if type(h) ~= "table" then error("AddEventHandler: handler must be a table with OnAdd/OnUpdate/OnDelete", 2) end
  if self.stopped then return nil, "handler cannot be added to a stopped informer" end
  return self.p:AddEventHandler(h, period or 0)
end

--- inf:RemoveEventHandler(registration)
function Informer:RemoveEventHandler(reg) return self.p:RemoveEventHandler(reg) end

--- inf:AddIndexers({ name = function(obj) return { values } end })
function Informer:AddIndexers(map)
  if type(map) ~= "table" then error("AddIndexers: expects a table of index functions", 2) end
  if self.stopped then return nil, "informer has already stopped" end
  return self.indexer:AddIndexers(map)
end

--- inf:GetIndexer() / inf:GetStore(): the cache.
function Informer:GetIndexer() return self.indexer end
Informer.GetStore = Informer.GetIndexer

--- inf:HasSynced(): the initial list is in the cache.
function Informer:HasSynced() return self.p:HasSynced() end

--- inf:LastSyncResourceVersion()
function Informer:LastSyncResourceVersion() return self.reflector:LastSyncResourceVersion() end

--- inf:IsStopped(): Stop was called and the reflector's task has ended.
function Informer:IsStopped() return self.stopped == true and not self.running end

--- inf:Run(): start the reflector (and the resync) as tasks; returns at once.
function Informer:Run()
  if self.started then return end
  self.started = true
  self.running = true
  local r = self.reflector
  rt.spawn(function()
    local ok, err = pcall(r.Run, r)
    if r == self.reflector then self.running = false end
    if not ok then error(err, 0) end
  end)
  if self.resync and self.resync > 0 then
    rt.spawn(function()
      local period = math.max(self.resync, 1)
      while not self.stopped and not rt.exiting() do
        rt.sleep(period)
        if self.stopped then break end
        if self.p:HasSynced() then self.p:Resync() end
      end
    end)
  end
end

--- inf:Stop(): the reflector and the resync end.
function Informer:Stop()
  self.stopped = true
  self.reflector:Stop()
end

-- ---- listers ----

local function new_lister(inf, namespaced, method)
  local base = cache.NewLister(inf.indexer, inf.gr)
  local l = { base = base }
  --- lister:List(selector) -> objects | nil, err
  function l:List(selector) return base:List(selector) end
  if namespaced then
    --- lister:<Resource>(ns) (e.g. Pods(ns)) / lister:Namespace(ns): List(selector), Get(name)
    local function ns_lister(_, ns) return base:ByNamespace(ns) end
    l.Namespace = ns_lister
    if method then l[method] = ns_lister end
  else
    --- lister:Get(name) -> obj | nil, err (IsNotFound)
    function l:Get(name) return base:Get(name) end
  end
  return l
end

-- ---- the shared informer factory ----

local Factory = { __name = "k8s.SharedInformerFactory" }
Factory.__index = Factory

--- NewSharedInformerFactory(clientset, resyncSeconds) -> factory.
function M.NewSharedInformerFactory(cs, resync)
  return M.NewSharedInformerFactoryWithOptions(cs, resync, {})
end

--- NewSharedInformerFactoryWithOptions(clientset, resyncSeconds, { Namespace =, TweakListOptions = }) -> factory.
function M.NewSharedInformerFactoryWithOptions(cs, resync, o)
  if cs == nil then error("NewSharedInformerFactory: clientset is required", 2) end
  if resync ~= nil and (type(resync) ~= "number" or resync < 0) then
    error("NewSharedInformerFactory: resyncSeconds must be a number >= 0", 2)
  end
  o = o or {}
  if o.TweakListOptions ~= nil and type(o.TweakListOptions) ~= "function" then
    error("NewSharedInformerFactoryWithOptions: TweakListOptions must be a function", 2)
  end
  return setmetatable({ cs = cs, resync = resync or 0, ns = o.Namespace or "", tweak = o.TweakListOptions,
    informers = {}, order = {}, opts = o }, Factory)
end

-- The informer for one resource client, shared per factory.
function Factory:_informer_for(key, lw, gr)
  local inf = self.informers[key]
  if not inf then
    inf = M.NewSharedIndexInformer(lw, gr, self.resync, {
      TweakListOptions = self.tweak, UseWatchList = self.opts.UseWatchList,
      WatchListTimeout = self.opts.WatchListTimeout, OnHandlerError = self.opts.OnHandlerError })
    self.informers[key] = inf
    self.order[#self.order + 1] = key
    if self.started then inf:Run() end
  end
  return inf
end

local LIST, WATCH = 2, 128

-- factory:CoreV1(), factory:AppsV1(), ...: one method per group-version of the Clientset.
Factory.__index = function(self, k)
  local m = rawget(Factory, k)
  if m ~= nil then return m end
  if type(k) ~= "string" then return nil end
  local gvc = self.cs[k] and self.cs[k](self.cs)
  if not gvc or type(gvc) ~= "userdata" then return nil end
  local factory = self
  return function()
    local gv = {}
    for _, r in ipairs(gvc:Resources()) do
      if r.verbs % (LIST * 2) >= LIST and r.verbs % (WATCH * 2) >= WATCH and not r.name:find("/", 1, true) then
        gv[r.method] = function()
          local ns = r.namespaced and factory.ns or nil
          local lw = r.namespaced and gvc[r.method](gvc, ns) or gvc[r.method](gvc)
          local info = lw:Info()
          local key = k .. "/" .. r.name .. "/" .. (ns or "")
          local gr = { Group = info.Group, Resource = info.Resource }
          local t = {}
          --- typed:Informer() -> SharedIndexInformer
          function t.Informer() return factory:_informer_for(key, lw, gr) end
          --- typed:Lister() -> lister
          function t.Lister() return new_lister(factory:_informer_for(key, lw, gr), r.namespaced, r.method) end
          return t
        end
      end
    end
    return gv
  end
end

--- factory:Start(): start every informer requested so far (does not block).
function Factory:Start()
  self.started = true
  for _, key in ipairs(self.order) do self.informers[key]:Run() end
end

--- factory:Shutdown(): stop every informer.
function Factory:Shutdown()
  for _, key in ipairs(self.order) do self.informers[key]:Stop() end
end

local function wait_synced(informers, timeout)
  local deadline = timeout and rt.now() + timeout
  local function all()
    for _, inf in pairs(informers) do if not inf:HasSynced() then return false end end
    return true
  end
  local function expired() return deadline and rt.now() >= deadline end
  if not rt.nginx and not require("k8s.loop").in_task() then
    require("k8s.loop").Run(function() return all() or expired() end)
  else
    while not all() and not expired() do rt.sleep(0.1) end
  end
end

--- factory:WaitForCacheSync(timeoutSeconds) -> { [resource] = synced }.
-- Outside nginx and outside a task it drives the loop (k8s.Run) meanwhile.
function Factory:WaitForCacheSync(timeout)
  local list = {}
  for _, key in ipairs(self.order) do list[#list + 1] = self.informers[key] end
  wait_synced(list, timeout)
  local r = {}
  for _, key in ipairs(self.order) do
    local inf = self.informers[key]
    r[inf.name] = inf:HasSynced()
  end
  return r
end

--- WaitForCacheSync(timeoutSeconds, informer...) -> true when all synced (cache.WaitForCacheSync).
function M.WaitForCacheSync(timeout, ...)
  local list = { ... }
  wait_synced(list, timeout)
  for _, inf in ipairs(list) do if not inf:HasSynced() then return false end end
  return true
end

-- ---- dynamicinformer ----

local DynFactory = { __name = "k8s.DynamicSharedInformerFactory" }
DynFactory.__index = DynFactory

--- dynamicinformer.NewDynamicSharedInformerFactory(dynamicClient, resyncSeconds) -> factory
function M.NewDynamicSharedInformerFactory(dc, resync)
  return M.NewFilteredDynamicSharedInformerFactory(dc, resync, "", nil)
end

--- dynamicinformer.NewFilteredDynamicSharedInformerFactory(dc, resync, namespace, tweak)
function M.NewFilteredDynamicSharedInformerFactory(dc, resync, ns, tweak)
  if dc == nil then error("NewDynamicSharedInformerFactory: dynamic client is required", 2) end
  local f = setmetatable({ cs = dc, resync = resync or 0, ns = ns or "", tweak = tweak, informers = {}, order = {},
    opts = {} }, DynFactory)
  return f
end

--- dyn:ForResource({ Group =, Version =, Resource = }) -> { Informer = fn, Lister = fn }
function DynFactory:ForResource(gvr)
  if type(gvr) ~= "table" or type(gvr.Resource) ~= "string" or gvr.Resource == "" then
    error("ForResource: expects { Group =, Version =, Resource = }", 2)
  end
  local rc = self.cs:Resource(gvr)
  local lw = self.ns ~= "" and rc:Namespace(self.ns) or rc
  local key = (gvr.Group or "") .. "/" .. (gvr.Version or "") .. "/" .. gvr.Resource .. "/" .. self.ns
  local gr = { Group = gvr.Group or "", Resource = gvr.Resource }
  local factory = self
  local t = {}
  function t.Informer() return Factory._informer_for(factory, key, lw, gr) end
  function t.Lister() return new_lister(Factory._informer_for(factory, key, lw, gr), true, nil) end
  return t
end

DynFactory.Start = Factory.Start
DynFactory.Shutdown = Factory.Shutdown
DynFactory.WaitForCacheSync = Factory.WaitForCacheSync

return M

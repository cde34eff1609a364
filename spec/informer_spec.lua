-- Informers against the real control plane: the reflector's initial sync
-- (WatchList with its end bookmark, and LIST), events to handlers in order,
-- the cache equal to a fresh LIST after churn, listers and indexers, resync
-- without API calls, handler errors, and a relist that finds a delete made
-- while nobody was watching (DeletedFinalStateUnknown). Tasks run on the
-- plain-Lua loop, driven by k8s.Run.
local H = require "spec.helper"
local k8s = require "k8s"
local loop = require "k8s.loop"
local cache = require "k8s.cache"

local function run_until(fn, timeout)
  local deadline = loop.now() + (timeout or 30)
  k8s.Run(function() return fn() or loop.now() > deadline end)
  return fn()
end

local function sorted_keys(objs)
  local out = {}
  for _, o in ipairs(objs) do out[#out + 1] = o.metadata.namespace .. "/" .. o.metadata.name .. "@" .. o.metadata.resourceVersion end
  table.sort(out)
  return out
end

describe("informers (" .. H.interpreter .. ")", function()
  local cs, ns

  setup(function()
    local cfg = H.config("admin-token")
    cfg.QPS, cfg.Burst = -1, 0
    cs = assert(k8s.NewForConfig(cfg))
    ns = H.namespace(cs)
  end)

  teardown(function() H.cleanup_namespaces() end)

  for _, mode in ipairs { "WatchList", "LIST" } do
    it("syncs (" .. mode .. "), delivers add/update/delete in order, and equals a fresh LIST after churn", function()
      local cms = cs:CoreV1():ConfigMaps(ns)
      local prefix = H.name(mode == "LIST" and "l" or "w")
      for i = 1, 3 do assert(cms:Create({ metadata = { name = prefix .. "-pre" .. i, labels = { set = prefix } } })) end
      local factory = k8s.informers.NewSharedInformerFactoryWithOptions(cs, 0, {
        Namespace = ns, UseWatchList = mode == "WatchList",
        TweakListOptions = function(o) o.labelSelector = "set=" .. prefix end })
      local inf = factory:CoreV1():ConfigMaps():Informer()
      local seen = {}
      local reg = inf:AddEventHandler({
        OnAdd = function(obj, initial) seen[#seen + 1] = "add " .. obj.metadata.name .. (initial and " initial" or "") end,
        OnUpdate = function(old, new) seen[#seen + 1] = "update " .. new.metadata.name .. " " .. tostring(old.data and old.data.v) .. ">" .. tostring(new.data and new.data.v) end,
        OnDelete = function(obj) seen[#seen + 1] = "delete " .. (obj.metadata and obj.metadata.name or obj.Key) end,
      })
      factory:Start()
      local synced = factory:WaitForCacheSync(30)
      assert.is_true(synced["configmaps"])
      assert.is_true(inf:HasSynced())
      assert.is_true(reg:HasSynced())
      assert.are.equal(3, #seen)
      for i = 1, 3 do assert.is_true(H.contains(seen, "add " .. prefix .. "-pre" .. i .. " initial")) end
      if mode == "WatchList" then
        assert.is_true(inf.reflector.stats.watchlists >= 1)
        assert.are.equal(0, inf.reflector.stats.lists)
      else
        assert.is_true(inf.reflector.stats.lists >= 1)
      end

      -- churn from another task of the same loop
      local done = false
      loop.spawn(function()
        local name = prefix .. "-new"
        assert(cms:Create({ metadata = { name = name, labels = { set = prefix } }, data = { v = "1" } }))
        local o = assert(cms:Get(name))
        o.data.v = "2"
        assert(cms:Update(o))
        assert(cms:Delete(name))
        assert(cms:Delete(prefix .. "-pre1"))
        done = true
      end)
      assert.is_true(run_until(function()
        return done and H.contains(seen, "delete " .. prefix .. "-pre1")
      end), table.concat(seen, ", "))
      local tail = { (table.unpack or unpack)(seen, 4) }
      assert.are.same({ "add " .. prefix .. "-new", "update " .. prefix .. "-new 1>2",
        "delete " .. prefix .. "-new", "delete " .. prefix .. "-pre1" }, tail)

      local fresh = assert(cms:List({ labelSelector = "set=" .. prefix }))
      assert.are.same(sorted_keys(fresh.items), sorted_keys(inf:GetIndexer():List()))
      -- the lister answers from the cache
      local lister = factory:CoreV1():ConfigMaps():Lister()
      assert.are.equal(prefix .. "-pre2", lister:ConfigMaps(ns):Get(prefix .. "-pre2").metadata.name)
      local _, nf = lister:ConfigMaps(ns):Get(prefix .. "-pre1")
      assert.is_true(k8s.errors.IsNotFound(nf))
      factory:Shutdown()
    end)
  end

  it("resyncs from the cache without API calls, reports handler errors and goes on", function()
    local cms = cs:CoreV1():ConfigMaps(ns)
    local prefix = H.name("r")
    assert(cms:Create({ metadata = { name = prefix .. "-a", labels = { set = prefix, tier = "web" } } }))
    assert(cms:Create({ metadata = { name = prefix .. "-b", labels = { set = prefix, tier = "db" } } }))
    local errs = {}
    local factory = k8s.informers.NewSharedInformerFactoryWithOptions(cs, 1, {
      Namespace = ns, TweakListOptions = function(o) o.labelSelector = "set=" .. prefix end,
      OnHandlerError = function(err) errs[#errs + 1] = tostring(err) end })
    local inf = factory:CoreV1():ConfigMaps():Informer()
    local adds, syncs = 0, 0
    inf:AddEventHandler({
      OnAdd = function(obj)
        adds = adds + 1
        if obj.metadata.name == prefix .. "-a" then error("handler boom") end
      end,
      OnUpdate = function(old, new)
        if old.metadata.resourceVersion == new.metadata.resourceVersion then syncs = syncs + 1 end
      end,
    })
    assert(inf:AddIndexers({ byTier = function(obj) return { obj.metadata.labels and obj.metadata.labels.tier } end }))
    factory:Start()
    assert.is_true(factory:WaitForCacheSync(30)["configmaps"])
    assert.are.equal(2, adds) -- the error did not stop the second add
    assert.are.equal(1, #errs)
    assert.matches("handler boom", errs[1], 1, true)
    local before = loop.stats().connects
    assert.is_true(run_until(function() return syncs >= 4 end, 10))
    assert.are.equal(before, loop.stats().connects, "a resync made API calls")
    local web = inf:GetIndexer():ByIndex("byTier", "web")
    assert.are.equal(1, #web)
    assert.are.equal(prefix .. "-a", web[1].metadata.name)
    local byns = inf:GetIndexer():ByIndex("namespace", ns)
    assert.are.equal(2, #byns)
    local l = factory:CoreV1():ConfigMaps():Lister()
    assert.are.equal(1, #l:List("tier!=web"))
    local _, perr = l:List("tier in (web")
    assert.is_truthy(perr)
    local _, ierr = inf:GetIndexer():ByIndex("nope", "x")
    assert.matches("Index with name nope does not exist", tostring(ierr), 1, true)
    factory:Shutdown()
  end)

  -- PodTemplates: tools/run-tests.sh starts the apiserver with their watch
  -- cache off (--watch-cache-sizes=podtemplates#0), so they are served by
  -- etcd and a compaction makes an old resourceVersion a real 410
  it("relists after a real 410 (etcd compacted) and reports a delete it did not see as DeletedFinalStateUnknown", function()
    local cms = cs:CoreV1():PodTemplates(ns)
    local prefix = H.name("g")
    for _, n in ipairs { "keep", "gone", "changed" } do
      assert(cms:Create({ metadata = { name = prefix .. "-" .. n, labels = { set = prefix, v = "1" } },
        template = { spec = { containers = { { name = "c", image = "example/none" } } } } }))
    end
    local factory = k8s.informers.NewSharedInformerFactoryWithOptions(cs, 0, {
      Namespace = ns, TweakListOptions = function(o) o.labelSelector = "set=" .. prefix end })
    local inf = factory:CoreV1():PodTemplates():Informer()
    local events = {}
    inf:AddEventHandler({
      OnAdd = function(obj, initial) if not initial then events[#events + 1] = "add " .. obj.metadata.name end end,
      OnUpdate = function(_, new) events[#events + 1] = "update " .. new.metadata.name end,
      OnDelete = function(obj)
        if cache.IsDeletedFinalStateUnknown(obj) then
          events[#events + 1] = "dfsu " .. obj.Key .. " " .. tostring(obj.Obj and obj.Obj.metadata.name)
        else
          events[#events + 1] = "delete " .. obj.metadata.name
        end
      end,
    })
    factory:Start()
    assert.is_true(factory:WaitForCacheSync(30)["podtemplates"])
    -- the gap: the informer stops watching; the server changes meanwhile
    factory:Shutdown()
    assert.is_true(run_until(function() return inf:IsStopped() end, 20))
    assert(cms:Delete(prefix .. "-gone"))
    local c = assert(cms:Get(prefix .. "-changed"))
    c.metadata.labels.v = "2"
    assert(cms:Update(c))
    assert(cms:Create({ metadata = { name = prefix .. "-new", labels = { set = prefix } },
      template = { spec = { containers = { { name = "c", image = "example/none" } } } } }))
    -- compact etcd at its current revision (etcd's HTTP gateway): RV 1 is gone
    local function etcd(path, body)
      local p = assert(io.popen("env -u LD_PRELOAD -u ASAN_OPTIONS curl -s -m 10 -X POST "
        .. H.env.K8S_LUA_ETCD_ENDPOINT .. path .. " -d '" .. body .. "'"))
      local out = p:read("*a")
      p:close()
      return out
    end
    local rev = assert(etcd("/v3/kv/range", '{"key":"AA=="}'):match('"revision":"(%d+)"'), "etcd revision")
    assert.matches('"header"', etcd("/v3/kv/compaction", '{"revision":"' .. rev .. '","physical":true}'))
    -- the same cache, resumed by a reflector that last synced at RV 1: its
    -- watch gets a real 410 (compacted), it relists at its last RV (then at
    -- "") and the delete made meanwhile is found by the relist
    inf.stopped, inf.started = false, false
    inf.reflector = require("k8s.reflector").new(inf.lw, inf.p, { UseWatchList = false, ResumeResourceVersion = "1",
      TweakListOptions = function(o) o.labelSelector = "set=" .. prefix end })
    inf:Run()
    assert.is_true(run_until(function() return #events >= 3 end, 30), table.concat(events, ", "))
    assert.are.equal(1, inf.reflector.stats.expired, "watch outcomes: " .. table.concat(inf.reflector.stats.outcomes, "; "))
    assert.is_true(inf.reflector.stats.lists >= 1)
    table.sort(events)
    assert.are.same({ "add " .. prefix .. "-new", "dfsu " .. ns .. "/" .. prefix .. "-gone " .. prefix .. "-gone",
      "update " .. prefix .. "-changed" }, events)
    inf:Stop()
    local fresh = assert(cms:List({ labelSelector = "set=" .. prefix }))
    assert.are.same(sorted_keys(fresh.items), sorted_keys(inf:GetIndexer():List()))
  end)

  it("falls back to LIST+WATCH when the server refuses WatchList (a 422 from a stub of Watch only)", function()
    local cms = cs:CoreV1():ConfigMaps(ns)
    local prefix = H.name("f")
    assert(cms:Create({ metadata = { name = prefix .. "-a", labels = { set = prefix } } }))
    local refused = 0
    -- the real client, but a Watch asking for initial events is refused as by a server with the gate off
    local lw = setmetatable({
      Watch = function(_, o)
        if o.sendInitialEvents then
          refused = refused + 1
          return nil, setmetatable({ code = 422, reason = "Invalid",
            message = "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled" }, getmetatable(select(2, cms:Get("x-does-not-exist"))))
        end
        return cms:Watch(o)
      end,
    }, { __index = function(_, k) return function(_, ...) return cms[k](cms, ...) end end })
    local inf = k8s.informers.NewSharedIndexInformer(lw, { Group = "", Resource = "configmaps" }, 0,
      { TweakListOptions = function(o) o.labelSelector = "set=" .. prefix end })
    local names = {}
    inf:AddEventHandler({ OnAdd = function(o) names[#names + 1] = o.metadata.name end })
    inf:Run()
    assert.is_true(k8s.informers.WaitForCacheSync(30, inf))
    assert.are.equal(1, refused)
    assert.is_true(inf.reflector.stats.lists >= 1)
    assert.are.same({ prefix .. "-a" }, names)
    inf:Stop()
  end)

  it("recovers when kube-apiserver restarts mid-watch, with no duplicate OnAdd", function()
    local cms = cs:CoreV1():ConfigMaps(ns)
    local prefix = H.name("rs")
    for i = 1, 3 do assert(cms:Create({ metadata = { name = prefix .. "-" .. i, labels = { set = prefix } } })) end
    local factory = k8s.informers.NewSharedInformerFactoryWithOptions(cs, 0, {
      Namespace = ns, TweakListOptions = function(o) o.labelSelector = "set=" .. prefix end })
    local inf = factory:CoreV1():ConfigMaps():Informer()
    local adds = {}
    inf:AddEventHandler({ OnAdd = function(o) adds[o.metadata.name] = (adds[o.metadata.name] or 0) + 1 end })
    factory:Start()
    assert.is_true(factory:WaitForCacheSync(30)["configmaps"])
    -- restart the apiserver from a task of the loop, while the watch is open
    local restarted
    loop.spawn(function()
      -- without the sanitizer preload of a memory-check run (bash, curl and Go are not ours)
      restarted = os.execute("env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS tools/control-plane.sh restart-apiserver "
        .. H.env.K8S_LUA_STATE .. " >/dev/null 2>&1")
      restarted = restarted == true or restarted == 0
    end)
    assert.is_true(run_until(function() return restarted ~= nil end, 90))
    assert.is_true(restarted)
    assert(cms:Create({ metadata = { name = prefix .. "-after", labels = { set = prefix } } }))
    assert.is_true(run_until(function() return adds[prefix .. "-after"] == 1 end, 60))
    for i = 1, 3 do assert.are.equal(1, adds[prefix .. "-" .. i]) end
    local fresh = assert(cms:List({ labelSelector = "set=" .. prefix }))
    assert.are.same(sorted_keys(fresh.items), sorted_keys(inf:GetIndexer():List()))
    factory:Shutdown()
  end)

  it("gives clear errors for bad input and keeps the process alive", function()
    assert.has_error(function() k8s.informers.NewSharedInformerFactory(nil, 0) end,
      "NewSharedInformerFactory: clientset is required")
    assert.has_error(function() k8s.informers.NewSharedInformerFactory(cs, -1) end)
    local factory = k8s.informers.NewSharedInformerFactory(cs, 0)
    assert.is_nil(factory:CoreV1().NoSuchThings)
    assert.is_nil(factory.NoSuchGroupV1)
    local dc = assert(k8s.dynamic.NewForConfig(H.config("admin-token")))
    local dyn = k8s.dynamicinformer.NewDynamicSharedInformerFactory(dc, 0)
    local bad = dyn:ForResource({ Group = "nope.example.com", Version = "v1", Resource = "widgets" }):Informer()
    dyn:Start()
    local r = dyn:WaitForCacheSync(2)
    assert.is_false(r["widgets.nope.example.com"])
    assert.is_false(bad:HasSynced())
    dyn:Shutdown()
    assert(cs:CoreV1():Namespaces():Get(ns)) -- still alive
  end)
end)

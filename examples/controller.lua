-- examples/controller.lua [seconds] [namespace] [once]: a small controller.
-- It keeps a ConfigMap "pod-inventory" in every namespace that lists the
-- namespace's pods, reconciled from a pod informer's events (answers from
-- the informer's cache, no LIST per event), with leader election over a
-- Lease so that two copies can run: only the leader reconciles.
--   lua5.4 examples/controller.lua 60            # all namespaces, for 60 s
--   lua5.4 examples/controller.lua 20 my-ns      # one namespace
--   lua5.4 examples/controller.lua 60 my-ns once # stop once all it saw is reconciled (at most 60 s)
local k8s = require "k8s"
local loop = require "k8s.loop"

local seconds = tonumber(arg[1]) or 60
local only_ns = arg[2] or ""
local once = arg[3] == "once"
local done = false -- once: every namespace seen at the start is reconciled

local cs = assert(k8s.NewForConfig(assert(k8s.clientcmd.BuildConfigFromFlags("", ""))))
local identity = ("controller-%d-%s"):format(os.time(), tostring({}):match("0x(%x+)") or tostring(os.clock()))

local factory = k8s.informers.NewSharedInformerFactoryWithOptions(cs, 0, { Namespace = only_ns })
local pods = factory:CoreV1():Pods()

-- a work queue of namespaces (client-go's workqueue: one entry per key)
local queue, queued = {}, {}
local function enqueue(obj)
  if obj.Key then obj = obj.Obj or { metadata = { namespace = obj.Key:match("^([^/]*)/") } } end
  local ns = obj.metadata and obj.metadata.namespace
  if ns and not queued[ns] then
    queued[ns] = true
    queue[#queue + 1] = ns
  end
end
pods:Informer():AddEventHandler({
  OnAdd = enqueue,
  OnUpdate = function(_, new) enqueue(new) end,
  OnDelete = enqueue,
})

local function reconcile(ns)
  local names = {}
  for _, p in ipairs(assert(pods:Lister():Pods(ns):List())) do names[#names + 1] = p.metadata.name end
  table.sort(names)
  local _, err = cs:CoreV1():ConfigMaps(ns):Apply({
    apiVersion = "v1", kind = "ConfigMap",
    metadata = { name = "pod-inventory", labels = { ["app.kubernetes.io/managed-by"] = "pod-inventory-controller" } },
    data = { pods = table.concat(names, "\n"), count = tostring(#names) },
  }, { fieldManager = "pod-inventory-controller", force = true })
  if err then
    print("reconcile " .. ns .. " failed: " .. tostring(err))
    enqueue({ metadata = { namespace = ns } }) -- retried later
    return false
  end
  print(("reconciled %s: %d pods"):format(ns, #names))
  return true
end

local le = assert(k8s.leaderelection.NewLeaderElector({
  Lock = assert(k8s.resourcelock.New("leases", only_ns ~= "" and only_ns or "default", "pod-inventory-controller",
    cs:CoordinationV1(), { Identity = identity })),
  LeaseDuration = 15, RenewDeadline = 10, RetryPeriod = 2, ReleaseOnCancel = true, Name = "pod-inventory-controller",
  Callbacks = {
    OnStartedLeading = function(ctx)
      print(identity .. " is leading")
      factory:Start()
      while not ctx:Done() do
        local ns = table.remove(queue, 1)
        if ns and pods:Informer():HasSynced() then
          queued[ns] = nil
          if reconcile(ns) and once and #queue == 0 then done = true end
        else
          if ns then table.insert(queue, 1, ns) end
          loop.sleep(0.2)
        end
      end
      factory:Shutdown()
    end,
    OnStoppedLeading = function() print(identity .. " stopped leading") end,
    OnNewLeader = function(who) if who ~= identity then print("the leader is " .. who) end end,
  },
}))

le:Run()
local deadline = loop.now() + seconds
k8s.Run(function() return done or loop.now() >= deadline end)
le:Stop()
k8s.Run(function() return le:Stopped() end) -- releases the Lease

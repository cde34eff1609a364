-- tools/soak.lua SECONDS [OBJECTS]: an informer (a watch plus its LISTs) over
-- OBJECTS ConfigMaps while a task of the same loop keeps changing them (every
-- tenth change deletes one and creates a new one) and another task LISTs and
-- GETs them, for SECONDS; at the end the informer's cache must equal a LIST.
-- The Lua heap and
-- the C heap (core.heap_bytes) are measured after a warm-up and at the end,
-- after full collections. Fails (exit 1) when either grew by more than
-- 1 MiB + 10 %. Prints "soak: N passed, N failed". Needs K8S_LUA_STATE.
local k8s = require "k8s"
local loop = require "k8s.loop"
local core = require "k8s.core"

local seconds = tonumber(arg[1]) or 600
local objects = tonumber(arg[2]) or 200
local state = assert(os.getenv("K8S_LUA_STATE"), "K8S_LUA_STATE is not set")
local env = {}
for line in io.lines(state .. "/env") do
  local k, v = line:match("^([%w_]+)=(.*)$")
  if k then env[k] = v end
end
local cs = assert(k8s.NewForConfig({ Host = env.K8S_LUA_SERVER, BearerToken = env.K8S_LUA_ADMIN_TOKEN,
  TLSClientConfig = { CAFile = env.K8S_LUA_CA }, QPS = -1 }))
local ns = ("soak-%d-%s"):format(os.time() % 100000, tostring({}):match("0x(%x+)") or "0")
assert(cs:CoreV1():Namespaces():Create({ metadata = { name = ns } }))
local cms = cs:CoreV1():ConfigMaps(ns)
for i = 1, objects do
  assert(cms:Create({ metadata = { name = "o" .. i, labels = { soak = "1" } }, data = { v = "0", pad = ("x"):rep(512) } }))
end

local factory = k8s.informers.NewSharedInformerFactoryWithOptions(cs, 0, { Namespace = ns })
local inf = factory:CoreV1():ConfigMaps():Informer()
local events = 0
inf:AddEventHandler({ OnAdd = function() events = events + 1 end, OnUpdate = function() events = events + 1 end,
  OnDelete = function() events = events + 1 end })
factory:Start()
assert(factory:WaitForCacheSync(60)["configmaps"], "informer did not sync")

local stop = false
local updates, churned, lists, gets = 0, 0, 0, 0
local names = {}
for i = 1, objects do names[i] = "o" .. i end
local writer_done, reader_done = false, false
loop.spawn(function()
  local i, made = 0, 0
  while not stop do
    i = i % objects + 1
    if (updates + churned) % 10 == 9 then
      -- churn: the object leaves, a new one takes its place
      made = made + 1
      local name = "n" .. made
      if cms:Delete(names[i]) and cms:Create({ metadata = { name = name, labels = { soak = "1" } },
        data = { v = "0", pad = ("x"):rep(512) } }) then
        names[i] = name
        churned = churned + 1
      end
    else
      local o = cms:Get(names[i])
      if o then
        o.data.v = tostring(updates)
        if cms:Update(o) then updates = updates + 1 end
      end
    end
    loop.sleep(0.01)
  end
  writer_done = true
end)
-- a reader beside the informer: LIST and GET, as automation does
local bad_reads = 0
loop.spawn(function()
  local j = 0
  while not stop do
    local l = cms:List({ labelSelector = "soak=1" })
    if l then
      lists = lists + 1
      if #l.items < objects - 1 or #l.items > objects + 1 then bad_reads = bad_reads + 1 end
    end
    j = j % objects + 1
    if cms:Get(names[j]) then gets = gets + 1 end
    loop.sleep(0.05)
  end
  reader_done = true
end)

local function heaps()
  collectgarbage("collect")
  collectgarbage("collect")
  return collectgarbage("count") * 1024, core.heap_bytes()
end

local t0 = loop.now()
k8s.Run(math.max(seconds * 0.25, 3))            -- warm-up: pools, buffers, caches at their size
local lua0, c0 = heaps()
k8s.Run(seconds - (loop.now() - t0))
local lua1, c1 = heaps()
stop = true
local function wait_for(cond, secs)  -- a condition, bounded so that a failure never hangs
  local limit = loop.now() + secs
  local met = false
  k8s.Run(function() met = cond(); return met or loop.now() > limit end)
  return met
end
local quiet = wait_for(function() return writer_done and reader_done end, 60)
-- the informer's cache converges on what the server holds
local want = assert(cms:List())  -- everything the informer watches (kube-root-ca.crt too)
local function cache_matches()
  local keys = inf:GetStore():ListKeys()
  if #keys ~= #want.items then return false end
  local have = {}
  for _, k in ipairs(keys) do have[k] = true end
  for _, o in ipairs(want.items) do
    if not have[ns .. "/" .. o.metadata.name] then return false end
  end
  return true
end
local converged = quiet and wait_for(cache_matches, 60)
if not converged then
  io.stderr:write(("soak: cache %d keys, server %d objects (writer %s, reader %s)\n"):format(
    #inf:GetStore():ListKeys(), #want.items, tostring(writer_done), tostring(reader_done)))
  local on_server = {}
  for _, o in ipairs(want.items) do on_server[ns .. "/" .. o.metadata.name] = true end
  local seen = {}
  for _, k in ipairs(inf:GetStore():ListKeys()) do
    if not on_server[k] then io.stderr:write("soak: in the cache only: " .. k .. "\n") end
    if seen[k] then io.stderr:write("soak: twice in the cache's keys: " .. k .. "\n") end
    seen[k] = true
  end
end
factory:Shutdown()
k8s.Run(function() return inf:IsStopped() end)
cs:CoreV1():Namespaces():Delete(ns)

local function mib(b) return b / 1048576 end
local pass, fail = 0, 0
local function check(what, a, b)
  local limit = 1048576 + a * 0.10
  local ok = b - a <= limit
  io.stderr:write(("soak %s: %s heap %.2f MiB -> %.2f MiB (growth %.2f MiB, limit %.2f MiB)\n"):format(
    ok and "ok" or "FAILED", what, mib(a), mib(b), mib(b - a), mib(limit)))
  if ok then pass = pass + 1 else fail = fail + 1 end
end
io.stderr:write(("soak: %s, %d s, %d objects, %d updates, %d deleted+created, %d lists, %d gets, %d events\n"):format(
  jit and "LuaJIT" or _VERSION, seconds, objects, updates, churned, lists, gets, events))
check("Lua", lua0, lua1)
check("C", c0, c1)
local function expect(ok, what)
  io.stderr:write(("soak %s: %s\n"):format(ok and "ok" or "FAILED", what))
  if ok then pass = pass + 1 else fail = fail + 1 end
end
expect(converged, "the informer's cache equals a LIST of the server's objects")
expect(lists > 0 and gets > 0 and churned > 0, "LIST, GET and churn all ran")
expect(bad_reads == 0, ("every LIST held %d objects (+-1 mid-churn): %d did not"):format(objects, bad_reads))
if events < updates + churned then
  io.stderr:write("soak FAILED: the informer saw fewer events than updates\n")
  fail = fail + 1
else
  pass = pass + 1
end
io.stderr:write(("soak: %d passed, %d failed\n"):format(pass, fail))
-- no os.exit: the interpreter closes the state (every object collected), so
-- LeakSanitizer sees what the library really keeps
cs, factory, inf = nil, nil, nil
collectgarbage("collect")
if fail > 0 then error("soak failed", 0) end

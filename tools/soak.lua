-- tools/soak.lua SECONDS [OBJECTS]: an informer over OBJECTS ConfigMaps while
-- a task of the same loop keeps changing them, for SECONDS; the Lua heap and
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
local updates = 0
loop.spawn(function()
  local i = 0
  while not stop do
    i = i % objects + 1
    local o = cms:Get("o" .. i)
    if o then
      o.data.v = tostring(updates)
      if cms:Update(o) then updates = updates + 1 end
    end
    loop.sleep(0.01)
  end
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
io.stderr:write(("soak: %s, %d s, %d objects, %d updates, %d events\n"):format(
  jit and "LuaJIT" or _VERSION, seconds, objects, updates, events))
check("Lua", lua0, lua1)
check("C", c0, c1)
if events < updates then
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

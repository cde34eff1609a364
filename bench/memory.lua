-- bench/memory.lua WORKLOAD: one workload of the memory budget
-- (tools/bench-memory.sh runs each under valgrind's dhat, Lua 5.4).
--   seed N     create ConfigMaps mem-00000.. (about 1 KiB each, as the bench's)
--   setup      load the library, make a clientset, GET one ConfigMap (the
--              connection is up); every other workload starts the same way
--   get        + one GET of a ConfigMap
--   list       + one LIST of the N ConfigMaps (label selector)
--   watch      + a watch from resourceVersion 0: N ADDED events, then Stop
-- Environment: BENCH_SERVER, BENCH_CA, BENCH_TOKEN, BENCH_NS, BENCH_OBJECTS (N).
local k8s = require "k8s"

local workload = arg[1] or "setup"
local ns = assert(os.getenv("BENCH_NS"), "BENCH_NS is not set")
local n = tonumber(os.getenv("BENCH_OBJECTS") or "5000")
local cs = assert(k8s.NewForConfig({
  Host = assert(os.getenv("BENCH_SERVER"), "BENCH_SERVER is not set"),
  BearerToken = assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set"),
  TLSClientConfig = { CAFile = assert(os.getenv("BENCH_CA"), "BENCH_CA is not set") },
  QPS = -1,
}))
local cms = cs:CoreV1():ConfigMaps(ns)
local selector = "app=k8s-lua-mem"

if workload == "seed" then
  local count = tonumber(arg[2]) or n
  local _, err = cs:CoreV1():Namespaces():Create({ metadata = { name = ns } })
  if err and not k8s.errors.IsAlreadyExists(err) then error(tostring(err)) end
  local filler = {}
  for i = 1, 8 do filler[i] = string.format("%02d", i) end
  for i = 0, count - 1 do
    local _, e = cms:Create({
      metadata = { name = string.format("mem-%05d", i), labels = { app = "k8s-lua-mem", shard = tostring(i % 10) } },
      data = {
        index = string.format("%05d", i),
        ["config.yaml"] = string.rep(string.format("key-%05d: value ", i) .. table.concat(filler) .. "\n", 10),
        mode = (i % 2 == 0) and "even" or "odd",
      },
    })
    if e and not k8s.errors.IsAlreadyExists(e) then error(tostring(e)) end
  end
  print(("seeded %d"):format(count))
  return
end

assert(cms:Get("mem-00000"))
collectgarbage("collect")

if workload == "get" then
  local o = assert(cms:Get("mem-00001"))
  assert(o.data.index == "00001")
elseif workload == "list" then
  local l = assert(cms:List({ labelSelector = selector }))
  assert(#l.items == n, ("listed %d of %d"):format(#l.items, n))
elseif workload == "watch" then
  local w = assert(cms:Watch({ resourceVersion = "0", labelSelector = selector }))
  for i = 1, n do
    local ev, err = w:Next(60)
    assert(ev, ("event %d of %d: %s"):format(i, n, tostring(err)))
    assert(ev.type == "ADDED", ev.type)
  end
  w:Stop()
elseif workload ~= "setup" then
  error("usage: memory.lua seed N|setup|get|list|watch")
end
print("ok " .. workload)

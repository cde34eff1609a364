--- This library's benchmark peer (Lua 5.4 or LuaJIT), driven by bench/run.lua.
--   lua5.4 bench/peers/k8slua.lua get|list|pager|watch|informer|apply   -- one measurement, JSON on stdout
--   lua5.4 bench/peers/k8slua.lua write                  -- the watch workload's writer
--   lua5.4 bench/peers/k8slua.lua seed FROM TO           -- create ConfigMaps bench-FROM..TO
-- Environment: see bench/run.lua (BENCH_SERVER, BENCH_CA, BENCH_TOKEN, ...).
-- CPU and RSS come from getrusage/proc via the small C helper bench/c/benchutil.c.
local k8s = require "k8s"
local u = require "benchutil"

local STAMP = "bench.k8s-lua.io/t"
local function env(k, d) local v = os.getenv(k); if v == nil or v == "" then return d end; return v end
local function envn(k, d) return tonumber(env(k, d)) end

local function emit(t) io.write(k8s.json.encode(t), "\n"); io.flush() end
local function fail(msg)
  io.stderr:write("k8slua peer: ", tostring(msg), "\n")
  emit { ok = false, error = tostring(msg) }
  os.exit(1)
end

local config = {
  Host = env("BENCH_SERVER"),
  BearerToken = env("BENCH_TOKEN"),
  TLSClientConfig = { CAFile = env("BENCH_CA"), CertFile = env("BENCH_CERT"), KeyFile = env("BENCH_KEY") },
  QPS = -1, -- no client-side rate limit (client-go gets the same)
  -- JSON or protobuf (bench/run.lua's -pb peers); unset: the clientset's default (protobuf)
  ContentConfig = env("BENCH_CONTENT_TYPE") and { ContentType = env("BENCH_CONTENT_TYPE") } or nil,
}
local cs, err = k8s.NewForConfig(config)
if not cs then fail(err) end
local ns = env("BENCH_NS", "default")
local cms = cs:CoreV1():ConfigMaps(ns)

local workload = arg[1]
local out = { ok = true }

if workload == "get" then
  local name = env("BENCH_NAME")
  local n = envn("BENCH_N", 1000)
  for _ = 1, envn("BENCH_WARMUP", 20) do
    local cm, e = cms:Get(name)
    if not cm then fail(e) end
  end
  local u0, s0 = u.rusage()
  local t0 = u.now()
  for _ = 1, n do
    local cm, e = cms:Get(name)
    if not cm then fail(e) end
    if cm.metadata.name ~= name then fail("wrong object " .. tostring(cm.metadata.name)) end
  end
  local t1 = u.now()
  local u1, s1 = u.rusage()
  out.n, out.wall, out.user, out.sys = n, t1 - t0, u1 - u0, s1 - s0

elseif workload == "list" or workload == "pager" then
  local warm, e = cms:List { limit = 1 } -- warm the connection: only the LIST is timed
  if not warm then fail(e) end
  warm = nil
  collectgarbage()
  local rss0 = u.vmrss()
  local u0, s0 = u.rusage()
  local t0 = u.now()
  local list
  if workload == "list" then
    list, e = cms:List()
  else
    list, e = k8s.pager.List(cms, { limit = envn("BENCH_PAGE", 500) })
  end
  local t1 = u.now()
  local u1, s1 = u.rusage()
  if not list then fail(e) end
  if #list.items > 0 and not list.items[1].metadata.name then fail("empty object") end
  local _, _, maxrss = u.rusage()
  out.n, out.items, out.wall, out.user, out.sys = 1, #list.items, t1 - t0, u1 - u0, s1 - s0
  out.rss0_kb, out.maxrss_kb = rss0, maxrss

elseif workload == "watch" then
  local want_added = envn("BENCH_WATCH_ADDED", 0)
  local want_mod = envn("BENCH_WATCH_MODIFIED", 0)
  local ready = env("BENCH_READY_FILE")
  local warm, e = cms:List { limit = 1 }
  if not warm then fail(e) end
  local u0, s0 = u.rusage()
  local t0 = u.now()
  local w, werr = cms:Watch {} -- no resourceVersion: synthetic ADDED for every object, then changes
  if not w then fail(werr) end
  local added, mod, events, delays = 0, 0, 0, {}
  while added < want_added or mod < want_mod do
    local ev, e2 = w:Next(120)
    if not ev then fail("watch ended early: " .. tostring(e2) .. " after " .. added .. " ADDED, " .. mod .. " MODIFIED") end
    local now_us = u.unix_us()
    events = events + 1
    if ev.type == "ADDED" then
      added = added + 1
      if added == want_added then
        out.added_wall = u.now() - t0
        local au, as = u.rusage()
        out.added_user, out.added_sys = au - u0, as - s0
        if ready then u.touch(ready) end
      end
    elseif ev.type == "MODIFIED" and added >= want_added then
      local a = ev.object.metadata.annotations
      local st = a and a[STAMP]
      if st then
        mod = mod + 1
        delays[mod] = (now_us - tonumber(st)) / 1e6
      end
    elseif ev.type == "ERROR" then
      fail("ERROR event: " .. tostring(ev.object and ev.object.message))
    end
  end
  local t1 = u.now()
  local u1, s1 = u.rusage()
  w:Stop()
  out.n, out.events, out.wall, out.user, out.sys = events, events, t1 - t0, u1 - u0, s1 - s0
  out.delays = setmetatable(delays, k8s.array_mt)

elseif workload == "informer" then
  -- A shared informer factory with one ConfigMaps informer over the namespace:
  -- from Start to HasSynced (wall, CPU, peak RSS, RSS growth, then the Lua heap
  -- after a full collection), then CPU per OnUpdate while a separate writer
  -- process (started by bench/run.lua, waiting for BENCH_READY_FILE) stamps
  -- BENCH_INF_UPDATES objects. The informer's tasks run on k8s.loop (k8s.Run).
  local loop = require "k8s.loop"
  local want = envn("BENCH_INF_UPDATES", 0)
  local ready = env("BENCH_READY_FILE")
  local timeout = envn("BENCH_READY_TIMEOUT", 300)
  -- warm the connection the informer will use: the loop's pool (a call made
  -- outside a task would go through libcurl and warm nothing for it)
  local warmed, werr
  loop.spawn(function()
    local l, e = cms:List { limit = 1 }
    warmed, werr = l ~= nil, e
  end)
  k8s.Run(function() return warmed ~= nil end)
  if not warmed then fail("warm-up list: " .. tostring(werr)) end
  local factory = k8s.informers.NewSharedInformerFactoryWithOptions(cs, 0, {
    Namespace = ns, UseWatchList = env("BENCH_INF_WATCHLIST", "1") ~= "0" })
  local inf = factory:CoreV1():ConfigMaps():Informer()
  local adds, updates, delays = 0, 0, {}
  inf:AddEventHandler {
    OnAdd = function() adds = adds + 1 end,
    OnUpdate = function(old, new)
      local a, b = new.metadata.annotations, old.metadata.annotations
      local st = a and a[STAMP]
      if st and st ~= (b and b[STAMP]) then
        updates = updates + 1
        delays[updates] = (u.unix_us() - tonumber(st)) / 1e6
      end
    end,
  }
  collectgarbage()
  local rss0 = u.vmrss()
  local u0, s0 = u.rusage()
  local t0 = u.now()
  factory:Start()
  local synced = factory:WaitForCacheSync(timeout)["configmaps"]
  local t1 = u.now()
  local u1, s1, maxrss = u.rusage()
  if not synced then fail("the informer did not sync within " .. timeout .. " s") end
  collectgarbage()
  collectgarbage()
  out.heap_kb = collectgarbage("count")
  out.items, out.adds = inf:GetIndexer():Len(), adds
  local st = inf.reflector.stats
  out.mode = st.lists == 0 and st.watchlists > 0 and "WatchList" or "LIST+WATCH"
  out.sync_wall, out.sync_user, out.sync_sys = t1 - t0, u1 - u0, s1 - s0
  out.rss0_kb, out.maxrss_kb = rss0, maxrss
  -- the update phase: from the ready signal to the last OnUpdate
  local u2, s2 = u.rusage()
  local t2 = u.now()
  if ready then u.touch(ready) end
  local deadline = t2 + timeout
  k8s.Run(function() return updates >= want or u.now() > deadline end)
  local t3 = u.now()
  local u3, s3 = u.rusage()
  if updates < want then fail(("saw %d of %d updates"):format(updates, want)) end
  factory:Shutdown()
  out.n, out.events, out.wall, out.user, out.sys = updates, updates, t3 - t2, u3 - u2, s3 - s2
  out.delays = setmetatable(delays, k8s.array_mt)

elseif workload == "write" then
  -- wait for the watcher's "ready" file, then stamp BENCH_WATCH_MODIFIED objects
  -- one after the other with the write's wall-clock time (microseconds)
  local ready = env("BENCH_READY_FILE")
  local n = envn("BENCH_WATCH_MODIFIED", 0)
  local names = envn("BENCH_OBJECTS", 1)
  local deadline = u.now() + envn("BENCH_READY_TIMEOUT", 300)
  while not u.exists(ready) do
    if u.now() > deadline then fail("writer: the watcher never got ready") end
    u.sleep(0.005)
  end
  for i = 1, n do
    local name = string.format("bench-%05d", (i - 1) % names)
    local body = string.format('{"metadata":{"annotations":{"%s":"%.0f"}}}', STAMP, u.unix_us())
    local _, e = cms:Patch(name, k8s.types.MergePatchType, body)
    if e then fail(e) end
    u.sleep(tonumber(env("BENCH_WRITE_GAP", "0.002")))
  end
  out.n = n

elseif workload == "seed" then
  -- ConfigMaps of about 1 KiB as served (data + metadata + managedFields)
  local from, to = tonumber(arg[2]), tonumber(arg[3])
  local filler = {}
  for i = 1, 40 do filler[i] = string.format("%02d", i) end
  for i = from, to do
    local name = string.format("bench-%05d", i)
    local obj = {
      apiVersion = "v1", kind = "ConfigMap",
      metadata = { name = name, labels = { app = "k8s-lua-bench", shard = tostring(i % 10) } },
      data = {
        index = tostring(i),
        ["config.yaml"] = string.rep("key-" .. i .. ": value " .. table.concat(filler, "", 1, 8) .. "\n", 10),
        ["mode"] = (i % 2 == 0) and "even" or "odd",
      },
    }
    local _, e = cms:Create(obj)
    if e and not k8s.errors.IsAlreadyExists(e) then fail(e) end
  end
  out.n = to - from + 1

elseif workload == "apply" then
  -- the folder of BENCH_APPLY_N manifests (bench/run.lua writes it) applied
  -- into the fresh namespace BENCH_NS in one k8s.apply.Apply call, as
  -- `kubectl apply --server-side -f DIR -n NS`: files read in name order and
  -- decoded, every document mapped (discovery: this process has no cache,
  -- so it is part of the timed section), then one apply PATCH per object
  local dir, want = env("BENCH_APPLY_DIR"), envn("BENCH_APPLY_N", 0)
  local p = io.popen("ls -1 " .. "'" .. dir:gsub("'", "'\\''") .. "'")
  local files = {}
  for f in p:lines() do files[#files + 1] = dir .. "/" .. f end
  p:close()
  table.sort(files)
  local warm, e = cms:List { limit = 1 } -- warm the connection: only the apply is timed
  if not warm then fail(e) end
  local u0, s0 = u.rusage()
  local t0 = u.now()
  local docs = {}
  for _, path in ipairs(files) do
    local f = assert(io.open(path, "rb"))
    local list, derr = k8s.yaml.decode(f:read("a"))
    f:close()
    if not list then fail(path .. ": " .. tostring(derr)) end
    for _, d in ipairs(list) do if d ~= k8s.null then docs[#docs + 1] = d end end
  end
  local res, aerr = k8s.apply.Apply(cs, docs, { Namespace = ns, Concurrency = envn("BENCH_APPLY_CONCURRENCY", 1) })
  local t1 = u.now()
  local u1, s1, maxrss = u.rusage()
  if not res then fail(aerr) end
  local created = 0
  for _, r in ipairs(res) do if r.Action == "created" then created = created + 1 end end
  if created ~= want then fail(("created %d of %d objects"):format(created, want)) end
  out.n, out.wall, out.user, out.sys, out.maxrss_kb = created, t1 - t0, u1 - u0, s1 - s0, maxrss

else
  fail("usage: k8slua.lua get|list|pager|watch|informer|apply|write|seed")
end
emit(out)

-- Helpers for spec/faults/*_spec.lua: the fault-matrix rows that stop, kill
-- or restart control-plane components or need API server flags. They run
-- only on the second, "faults" control plane that tools/run-fault-specs.sh
-- starts (its state dir carries the marker file `faults`), never on the
-- main one. Processes are ended by the pids in the state dir; subprocess
-- tools run without LD_PRELOAD (the specs may run under an ASan preload).
local H = require "spec.helper"
local k8s = require "k8s"
local loop = require "k8s.loop"
local assert = require "luassert"

local F = {}

F.STATE = H.env.K8S_LUA_STATE
assert(H.exists(F.STATE .. "/faults"), "spec/faults/ stops and restarts control-plane components: run it through "
  .. "tools/run-fault-specs.sh (its own control plane), not against " .. F.STATE)
F.AUDIT = F.STATE .. "/audit.log"
F.SERVER = H.env.K8S_LUA_SERVER
F.PORT = assert(tonumber(F.SERVER:match(":(%d+)$")))
F.BUILD = os.getenv("SPEC_BUILD") or "build"
-- pids of processes a spec starts besides the control plane (an API server
-- during a handover, the webhook): tools/run-fault-specs.sh ends the ones
-- still alive when it stops the control plane
F.EXTRA_PIDS = F.STATE .. "/faults-extra.pids"
-- prefix of a command left running in the background: no LD_PRELOAD, and
-- none of busted's descriptors (spec/faults/detach.sh)
F.DETACH = "env -u LD_PRELOAD " .. H.ROOT .. "/spec/faults/detach.sh"

--- A shell command run without LD_PRELOAD: its stdout and stderr.
function F.sh(cmd)
  return H.sh("env -u LD_PRELOAD sh -c " .. H.shq(cmd))
end

--- Whether the shell command (without LD_PRELOAD) exits 0.
function F.ok(cmd)
  local r = os.execute("env -u LD_PRELOAD sh -c " .. H.shq(cmd) .. " >/dev/null 2>&1")
  return r == true or r == 0
end

--- A diagnostic line in the TAP output (what the server did on the wire).
function F.diag(fmt, ...)
  io.stderr:write("# faults: ", string.format(fmt, ...), "\n")
end

--- The pid in STATE/<name>.pid.
function F.pid(name)
  return assert(tonumber(H.read(F.STATE .. "/" .. name .. ".pid"):match("%d+")), "no pid for " .. name)
end

--- Whether pid is a live process (not a zombie).
function F.alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if not f then return false end
  local s = f:read("*a") or ""
  f:close()
  local state = s:match("%) (%a)")
  return state ~= nil and state ~= "Z"
end

--- Send a signal to a pid of this control plane.
function F.kill(sig, pid)
  os.execute("kill -" .. sig .. " " .. math.floor(pid) .. " 2>/dev/null")
end

--- SIGSTOP, then wait until every thread of pid is stopped (the signal is
-- only queued when kill returns).
function F.stop(pid)
  F.kill("STOP", pid)
  F.eventually(function()
    local out = F.sh("cat /proc/" .. math.floor(pid) .. "/task/*/stat 2>/dev/null")
    if out == "" then return false end
    for state in out:gmatch("%) (%a) ") do
      if state ~= "T" and state ~= "t" then return false end
    end
    return true
  end, 30, "process " .. pid .. " to stop")
end

function F.add_extra_pid(pid)
  local f = assert(io.open(F.EXTRA_PIDS, "a"))
  f:write(math.floor(pid), "\n")
  f:close()
end

--- Drive the k8s.loop tasks (informers, writers, watches) until cond()
-- is true; raises after timeout seconds. cond must not call the API.
function F.drive_until(cond, timeout, what)
  local deadline = loop.now() + (timeout or 60)
  k8s.Run(function() return cond() or loop.now() > deadline end)
  if not cond() then error("timed out waiting for " .. (what or "a condition"), 2) end
end

--- Poll cond (it may call the API, on the blocking driver) until true.
F.eventually = H.eventually

--- Advance etcd's global revision (a key outside /registry, through
-- etcd's gRPC gateway): every resourceVersion seen before is then older
-- than what a freshly started watch cache lists at.
function F.etcd_bump()
  local out = F.sh("curl -sf -XPOST " .. H.env.K8S_LUA_ETCD_ENDPOINT
    .. "/v3/kv/put -d '{\"key\":\"azhzLWx1YS1mYXVsdHMvYnVtcA==\",\"value\":\"MQ==\"}'")
  assert(out:find('"revision"', 1, true), "etcd put failed: " .. out)
end

--- Audit events (JSON lines of STATE/audit.log) of a stage whose requestURI
-- is uri: how many.
function F.audit_count(uri, stage)
  local f = io.open(F.AUDIT, "r")
  if not f then return 0 end
  local n = 0
  local want = '"requestURI":"' .. uri .. '"'
  local st = '"stage":"' .. (stage or "RequestReceived") .. '"'
  for line in f:lines() do
    if line:find(want, 1, true) and line:find(st, 1, true) then n = n + 1 end
  end
  f:close()
  return n
end

--- /readyz of the API server on a new connection: the body ("ok" when ready).
function F.readyz()
  return F.sh("curl -s --max-time 5 --cacert " .. H.shq(H.env.K8S_LUA_CA) .. " " .. H.shq(F.SERVER .. "/readyz"))
end

--- A task that creates ConfigMaps labelled k8s-lua-fault=<label> in cms's
-- namespace, one at a time, pace seconds apart: first the names queued
-- with W:add(name), then, while W.prefix is set, prefix1, prefix2, ... A
-- create that fails is tried again with the same name until it succeeds
-- (AlreadyExists on a retry: the lost answer of a create that happened).
-- W.created lists the names in creation order, W.errors the reasons of
-- the failed tries, W.recovered counts creates that succeeded after a
-- failed try. W:stop() ends the task.
function F.writer(cms, label, pace)
  local W = { created = {}, queue = {}, errors = {}, n = 0, stopped = false }
  function W:add(name) self.queue[#self.queue + 1] = name end
  function W:stop() self.stopped = true end
  function W:has(name) return H.contains(self.created, name) end
  W.task = loop.spawn(function()
    while not W.stopped do
      local name = table.remove(W.queue, 1)
      if not name and W.prefix then
        W.n = W.n + 1
        name = string.format("%s%04d", W.prefix, W.n)
      end
      if name then
        local tries = 0
        while not W.stopped do
          tries = tries + 1
          local o, err = cms:Create({ metadata = { name = name, labels = { ["k8s-lua-fault"] = label } } })
          if o or (tries > 1 and k8s.errors.IsAlreadyExists(err)) then
            W.created[#W.created + 1] = name
            if tries > 1 then W.recovered = (W.recovered or 0) + 1 end
            break
          end
          W.errors[#W.errors + 1] = tostring(err and err.reason)
          loop.sleep(pace)
        end
      end
      loop.sleep(pace)
    end
  end)
  return W
end

--- An informer on the ConfigMaps labelled k8s-lua-fault=<label> in ns,
-- with a handler counting every call: I.adds[name], I.updates[name],
-- I.deletes[name]. tweak(opts) may change the list/watch options further.
function F.informer(cs, ns, label, tweak)
  local I = { adds = {}, updates = {}, deletes = {}, order = {} }
  I.factory = k8s.informers.NewSharedInformerFactoryWithOptions(cs, 0, {
    Namespace = ns,
    TweakListOptions = function(o)
      o.labelSelector = "k8s-lua-fault=" .. label
      if tweak then tweak(o) end
    end,
  })
  I.inf = I.factory:CoreV1():ConfigMaps():Informer()
  local function inc(t, obj)
    local n = obj.metadata and obj.metadata.name or tostring(obj.Key)
    t[n] = (t[n] or 0) + 1
    return n
  end
  I.inf:AddEventHandler({
    OnAdd = function(obj) I.order[#I.order + 1] = inc(I.adds, obj) end,
    OnUpdate = function(_, obj) inc(I.updates, obj) end,
    OnDelete = function(obj) inc(I.deletes, obj.Obj or obj) end,
  })
  function I:has_all(names)
    for _, n in ipairs(names) do
      if not self.adds[n] then return false end
    end
    return true
  end
  --- the names in the informer's store, sorted
  function I:store_names()
    local out = {}
    for _, o in ipairs(self.inf:GetStore():List()) do out[#out + 1] = o.metadata.name end
    table.sort(out)
    return out
  end
  function I:stats() return self.inf.reflector.stats end
  I.factory:Start()
  return I
end

--- Every name of names added exactly once, nothing else added, no update or
-- delete, and the store holds exactly names.
function F.assert_exactly_once(I, names)
  local want = {}
  for _, n in ipairs(names) do want[#want + 1] = n end
  table.sort(want)
  for _, n in ipairs(want) do
    assert.are.equal(1, I.adds[n] or 0, "OnAdd calls for " .. n)
  end
  local extra = {}
  for n in pairs(I.adds) do
    if not H.contains(want, n) then extra[#extra + 1] = n end
  end
  assert.are.same({}, extra, "OnAdd for objects never created")
  assert.are.same({}, I.updates, "OnUpdate calls (nothing was modified)")
  assert.are.same({}, I.deletes, "OnDelete calls (nothing was deleted)")
  assert.are.same(want, I:store_names())
end

--- Start a Lua child (this interpreter, the spec build of the module) in
-- the background: `env` (name -> value) added to the environment, its
-- stdout and stderr to out. The child's pid is appended to F.EXTRA_PIDS.
function F.spawn_lua(script, args, env, out)
  local parts = { "env" }
  parts[#parts + 1] = "LUA_PATH=" .. H.shq("./?.lua;./lua/?.lua;./lua/?/init.lua;;")
  parts[#parts + 1] = "LUA_CPATH=" .. H.shq("./" .. F.BUILD .. "/" .. H.INTERP .. "/?.so;;")
  for k, v in pairs(env or {}) do parts[#parts + 1] = k .. "=" .. H.shq(v) end
  parts[#parts + 1] = H.INTERP .. " " .. H.shq(script)
  for _, a in ipairs(args or {}) do parts[#parts + 1] = H.shq(a) end
  os.execute("(cd " .. H.shq(H.ROOT) .. "; " .. H.ROOT .. "/spec/faults/detach.sh " .. table.concat(parts, " ") .. " </dev/null >" .. H.shq(out)
    .. " 2>&1 & echo $! >>" .. H.shq(F.EXTRA_PIDS) .. ")")
end

--- tools/control-plane.sh restart-apiserver (the same flags, the same
-- port), in the background: true once it has ended, with its exit code in
-- dir/restart.rc and its output in dir/restart.log.
function F.restart_apiserver_bg(dir)
  os.execute("(cd " .. H.shq(H.ROOT) .. " && " .. F.DETACH .. " tools/control-plane.sh restart-apiserver " .. H.shq(F.STATE)
    .. " </dev/null >" .. H.shq(dir .. "/restart.log") .. " 2>&1; echo $? >" .. H.shq(dir .. "/restart.rc") .. ") &")
end

--- The same, waiting for it (teardowns: the control plane must be up for
-- what runs next).
function F.restart_apiserver()
  os.execute("cd " .. H.shq(H.ROOT) .. " && " .. F.DETACH .. " tools/control-plane.sh restart-apiserver " .. H.shq(F.STATE)
    .. " </dev/null >/dev/null 2>&1")
end

--- A temporary directory (removed by F.rmdir).
function F.tmpdir()
  return (F.sh("mktemp -d /tmp/k8s-lua-faults.XXXXXX"):gsub("%s+$", ""))
end

function F.rmdir(d)
  if d and d:match("^/tmp/k8s%-lua%-faults%.") then os.execute("rm -rf " .. H.shq(d)) end
end

return F

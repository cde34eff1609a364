-- A leader elector in a process of its own, for spec/leaderelection_spec.lua.
-- Usage: <interp> elector.lua NAMESPACE LEASE IDENTITY EVENTS_FILE [release]
-- Connects with the admin token of the control plane in $K8S_LUA_STATE/env,
-- runs an elector (LeaseDuration 4, RenewDeadline 3, RetryPeriod 1) and
-- appends its events to EVENTS_FILE, one per line, times from the monotonic
-- clock (the same clock in every process of the machine), printed exactly
-- (%.17g) so that the spec can compare them with the elector's own sums:
--   ready <t>              the elector was started
--   try <t>                a try (tryAcquireOrRenew) starts; <t> is taken
--                          before the try's own clock reading
--   new <t> <identity>     OnNewLeader
--   started <t>            OnStartedLeading
--   observed <t> <holder>  the elector's observedTime changed to <t> (its
--                          record then names <holder>, "-" for none)
--   ctxdone <t>            the leader context became done
--   stopped <t>            OnStoppedLeading (the process then exits)
-- It stops (releasing the lease when "release" was given) once the file
-- EVENTS_FILE.stop exists, and after 90 s in any case.
local k8s = require "k8s"
local rt = require "k8s.runtime"
local leaderelection = require "k8s.leaderelection"
local resourcelock = require "k8s.resourcelock"

local ns, lease, id, file, release = arg[1], arg[2], arg[3], arg[4], arg[5] == "release"
assert(ns and lease and id and file, "usage: elector.lua NAMESPACE LEASE IDENTITY EVENTS_FILE [release]")

-- LuaJIT does not seed math.random: seed it, so jitter differs per process
math.randomseed(math.floor(rt.walltime() * 1e6) % 2147483647)

local env = {}
for line in io.lines(assert(os.getenv("K8S_LUA_STATE"), "K8S_LUA_STATE is not set") .. "/env") do
  local k, v = line:match("^([%w_]+)=(.*)$")
  if k then env[k] = v end
end
local cs = assert(k8s.NewForConfig({
  Host = env.K8S_LUA_SERVER, BearerToken = env.K8S_LUA_ADMIN_TOKEN,
  TLSClientConfig = { CAFile = env.K8S_LUA_CA },
}))

local out = assert(io.open(file, "a"))
local function emit(kind, ...)
  local parts = { kind, string.format("%.17g", rt.now()) }
  for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
  out:write(table.concat(parts, " "), "\n")
  out:flush()
end

local lock = assert(resourcelock.New("leases", ns, lease, cs:CoordinationV1(), { Identity = id }))
local le = assert(leaderelection.NewLeaderElector({
  Lock = lock, LeaseDuration = 4, RenewDeadline = 3, RetryPeriod = 1, ReleaseOnCancel = release, Name = lease,
  Callbacks = {
    OnStartedLeading = function(ctx)
      emit("started")
      while not ctx:Done() do rt.sleep(0.02) end
      emit("ctxdone")
    end,
    OnStoppedLeading = function() emit("stopped") end,
    OnNewLeader = function(who) emit("new", who) end,
  },
}))

-- each try's start (the elector calls self._tryAcquireOrRenew)
local try = le._tryAcquireOrRenew
le._tryAcquireOrRenew = function(self, ctx)
  emit("try")
  return try(self, ctx)
end

-- the elector's local observation clock, as it changes
rt.spawn(function()
  local last
  while not le:Stopped() do
    local t = le.observedTime
    if t and t ~= last then
      last = t
      local h = le.observedRecord.HolderIdentity
      out:write(string.format("observed %.17g %s\n", t, h ~= "" and h or "-"))
      out:flush()
    end
    rt.sleep(0.01)
  end
end)

assert(le:Run())
emit("ready")
local stopfile, deadline = file .. ".stop", rt.now() + 90
local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() end
  return f ~= nil
end
local last_check = 0
k8s.Run(function()
  if le:Stopped() then return true end
  local now = rt.now()
  if now - last_check >= 0.1 then
    last_check = now
    if now > deadline or exists(stopfile) then le:Stop() end
  end
  return false
end)
k8s.Run(1) -- the leader's task notices its context (ends early when no task is left)
out:close()

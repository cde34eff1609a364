--- client-go's tools/leaderelection over a Lease lock (k8s.resourcelock).
--   local le = assert(k8s.leaderelection.NewLeaderElector({
--     Lock = lock, LeaseDuration = 15, RenewDeadline = 10, RetryPeriod = 2,
--     ReleaseOnCancel = true, Name = "my-lock",
--     Callbacks = { OnStartedLeading = function(ctx) end, OnStoppedLeading = function() end,
--                   OnNewLeader = function(identity) end } }))
--   le:Run()                                  -- starts the elector as a task; returns at once
--   k8s.Run(function() return done end)       -- plain Lua: drive it (inside nginx: timers)
--   le:Stop()                                 -- cancel: renewing ends, release, OnStoppedLeading
-- Durations are seconds (numbers). The algorithm is client-go v0.35's:
-- expiry is judged by the local monotonic time since the record was last
-- seen to change, never by the record's renewTime; standbys retry every
-- RetryPeriod·[1, 2.2); the leader renews every RetryPeriod and gives up
-- when no try succeeds within RenewDeadline.
--
-- Each try (and each request of the release) runs as a task of its own
-- while the elector waits for it with a deadline, so a request that hangs
-- cannot keep a leader past RenewDeadline, and Stop is prompt: a request
-- left behind ends later on its own, and its result is ignored (as a Go
-- request whose context was cancelled).
--
-- Inside nginx every worker that runs an elector is a candidate of its own:
-- give each a distinct identity (e.g. hostname .. "_" .. ngx.worker.pid()),
-- or run the elector in one worker only. Worker exit cancels the elector
-- (release when ReleaseOnCancel).
-- @module k8s.leaderelection
local rt = require "k8s.runtime"
local errors = require "k8s.errors"
local resourcelock = require "k8s.resourcelock"

local M = {}
local unpack = table.unpack or unpack
local floor, ceil = math.floor, math.ceil
local function pack(...) return { n = select("#", ...), ... } end

--- JitterFactor: standbys wait RetryPeriod·(1 + JitterFactor·rand) between tries.
M.JitterFactor = 1.2

--- logger: nil, or function(level, message) receiving what client-go logs
-- through klog (level 0 info, 2/4/5 verbose, "error").
M.logger = nil

local new_error = require("k8s.errors").New

local function log(level, msg)
  local l = M.logger
  if l then pcall(l, level, msg) end
end

local function report(msg)
  if rt.nginx then
    ngx.log(ngx.ERR, "k8s.leaderelection: ", msg)
  else
    io.stderr:write("k8s.leaderelection: ", tostring(msg), "\n")
  end
end

--- MicroTime(unixSeconds) -> "2006-01-02T15:04:05.000000Z" (metav1.MicroTime on the wire).
function M.MicroTime(t)
  local us = floor(t * 1e6 + 0.5)
  local s = floor(us / 1e6)
  local frac = floor(us - s * 1e6)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. string.format(".%06dZ", frac)
end

-- ---- contexts ----

local Context = { __name = "k8s.leaderelection.Context" }
Context.__index = Context
M.Context = Context

-- new_context(parent, timeout): done when cancelled, when the parent is
-- done, or timeout seconds from now.
local function new_context(parent, timeout)
  return setmetatable({ parent = parent, deadline = timeout and rt.now() + timeout or nil }, Context)
end

--- ctx:Done() -> true once the context is cancelled (leadership lost, the
-- elector stopped, a deadline passed). It stays true.
function Context:Done()
  if self.err then return true end
  local p = self.parent
  if p and p:Done() then
    self.err = p.err
    return true
  end
  if self.deadline and rt.now() >= self.deadline then
    self.err = "context deadline exceeded"
    return true
  end
  if self.exiting and rt.exiting() then
    self.err = "context canceled"
    return true
  end
  return false
end

--- ctx:Err() -> nil, "context canceled" or "context deadline exceeded".
function Context:Err()
  if self:Done() then return self.err end
  return nil
end

function Context:_cancel()
  if not self.err then self.err = "context canceled" end
end

-- Sleep until the monotonic time t, in slices so that a cancelled context
-- is noticed within SLICE. Returns false when ctx became done.
local SLICE = 0.1
local function sleep_until(ctx, t)
  while not ctx:Done() do
    local left = t - rt.now()
    if left <= 0 then return true end
    rt.sleep(left < SLICE and left or SLICE)
  end
  return false
end

local function ctx_failure(ctx)
  local e = ctx:Err() or "context canceled"
  return nil, new_error(e == "context deadline exceeded" and "Timeout" or "Canceled", e)
end

-- await(ctx, fn, ...): run fn(...) as a task and wait for its results, or
-- until ctx is done (then nil, err; the task goes on, and the lock ignores
-- what its request brings back, since ctx is done).
local function await(ctx, fn, ...)
  if ctx:Done() then return ctx_failure(ctx) end
  local box = {}
  local args = { n = select("#", ...), ... }
  local ok, serr = rt.spawn(function()
    box.r = pack(pcall(fn, unpack(args, 1, args.n)))
  end)
  if not ok then return nil, new_error("InternalError", "cannot start a task: " .. tostring(serr)) end
  local d = 0.002
  while not box.r do
    if ctx:Done() then return ctx_failure(ctx) end
    rt.sleep(d)
    if d < 0.05 then d = d * 2 end
  end
  local r = box.r
  if not r[1] then error(r[2], 0) end
  return unpack(r, 2, r.n)
end

-- A uniform number in [0, 1): math.random() shifted by the clock's
-- microseconds, so that processes whose math.random was never seeded
-- (LuaJIT, nginx) still retry apart. The global seed is left alone.
local function jitter()
  return (math.random() + (floor(rt.walltime() * 1e6) % 1000) / 1000) % 1
end

-- ---- the elector ----

local LeaderElector = { __name = "k8s.leaderelection.LeaderElector" }
LeaderElector.__index = LeaderElector
M.LeaderElector = LeaderElector

local function ns(x) return floor(x * 1e9 + 0.5) end
local function trunc(x) return x >= 0 and floor(x) or ceil(x) end

local function config_error(msg) return nil, new_error("Invalid", msg) end

--- NewLeaderElector(config) -> elector | nil, err. The checks and their
-- messages are client-go's, in its order. A value of the wrong type raises.
function M.NewLeaderElector(lec)
  if type(lec) ~= "table" then error("k8s.leaderelection.NewLeaderElector: expects a config table", 2) end
  local function dur(name)
    local v = lec[name]
    if v == nil then return 0 end -- a Go zero value
    if type(v) ~= "number" or v ~= v then
      error("k8s.leaderelection.NewLeaderElector: " .. name .. " must be a number of seconds", 3)
    end
    return v
  end
  local LD, RD, RP = dur("LeaseDuration"), dur("RenewDeadline"), dur("RetryPeriod")
  local cbs = lec.Callbacks
  if cbs ~= nil and type(cbs) ~= "table" then
    error("k8s.leaderelection.NewLeaderElector: Callbacks must be a table", 2)
  end
  cbs = cbs or {}
  for _, k in ipairs { "OnStartedLeading", "OnStoppedLeading", "OnNewLeader" } do
    local f = cbs[k]
    if f ~= nil and type(f) ~= "function" and not (getmetatable(f) or {}).__call then
      error("k8s.leaderelection.NewLeaderElector: Callbacks." .. k .. " must be a function", 2)
    end
  end

  if ns(LD) <= ns(RD) then return config_error("leaseDuration must be greater than renewDeadline") end
  if ns(RD) <= trunc(M.JitterFactor * ns(RP)) then
    return config_error("renewDeadline must be greater than retryPeriod*JitterFactor")
  end
  if ns(LD) < 1 then return config_error("leaseDuration must be greater than zero") end
  if ns(RD) < 1 then return config_error("renewDeadline must be greater than zero") end
  if ns(RP) < 1 then return config_error("retryPeriod must be greater than zero") end
  if cbs.OnStartedLeading == nil then return config_error("OnStartedLeading callback must not be nil") end
  if cbs.OnStoppedLeading == nil then return config_error("OnStoppedLeading callback must not be nil") end
  if lec.Lock == nil then return config_error("Lock must not be nil.") end
  local id = lec.Lock:Identity()
  if id == nil or id == "" then return config_error("Lock identity is empty") end
  if lec.Coordinated then return config_error("Coordinated leader election is not supported") end

  local config = {
    Lock = lec.Lock, LeaseDuration = LD, RenewDeadline = RD, RetryPeriod = RP,
    ReleaseOnCancel = lec.ReleaseOnCancel and true or false, Name = lec.Name or "",
    Callbacks = { OnStartedLeading = cbs.OnStartedLeading, OnStoppedLeading = cbs.OnStoppedLeading,
                  OnNewLeader = cbs.OnNewLeader },
  }
  return setmetatable({
    config = config,
    observedRecord = resourcelock.LeaseSpecToLeaderElectionRecord(nil),
    observedRawRecord = nil,
    observedTime = nil, -- rt.now() of the last change seen; nil: never
    reportedLeader = "",
    running = false,
    stopped = false,
  }, LeaderElector)
end

--- le:GetLeader() -> the identity of the last observed leader ("" if none).
function LeaderElector:GetLeader()
  return self.observedRecord.HolderIdentity
end

--- le:IsLeader() -> whether the last observed leader is this elector.
function LeaderElector:IsLeader()
  return self.observedRecord.HolderIdentity == self.config.Lock:Identity()
end

--- le:Check(maxTolerableExpiredLease) -> true | nil, err: for a health
-- check; fails when this elector believes it leads but has seen no change
-- for longer than LeaseDuration + maxTolerableExpiredLease seconds.
function LeaderElector:Check(maxTolerableExpiredLease)
  if not self:IsLeader() then return true end
  if rt.now() - (self.observedTime or 0) > self.config.LeaseDuration + (tonumber(maxTolerableExpiredLease) or 0) then
    return nil, new_error("LeaderElection", "failed election to renew leadership on lease " .. self.config.Name)
  end
  return true
end

--- le:Stopped() -> true once Run has ended (after OnStoppedLeading).
function LeaderElector:Stopped()
  return self.stopped
end

function LeaderElector:_isLeaseValid(now)
  return self.observedTime ~= nil and self.observedTime + self.observedRecord.LeaseDurationSeconds > now
end

function LeaderElector:_setObservedRecord(r)
  self.observedRecord = r
  self.observedTime = rt.now()
end

-- tryAcquireOrRenew: one try; true when we hold the lease after it.
function LeaderElector:_tryAcquireOrRenew(ctx)
  local lock = self.config.Lock
  local desc = lock:Describe()
  local now = rt.now()
  local stamp = M.MicroTime(rt.walltime())
  local rec = {
    HolderIdentity = lock:Identity(),
    LeaseDurationSeconds = trunc(self.config.LeaseDuration),
    RenewTime = stamp, AcquireTime = stamp, LeaderTransitions = 0,
    Strategy = "", PreferredHolder = "",
  }

  -- 1. the leader's fast path: update the Lease we hold, as last seen
  if self:IsLeader() and self:_isLeaseValid(now) then
    local old = self.observedRecord
    rec.AcquireTime, rec.LeaderTransitions = old.AcquireTime, old.LeaderTransitions
    local ok, err = lock:Update(ctx, rec)
    if ok then
      self:_setObservedRecord(rec)
      return true
    end
    log(2, "Failed to update lease optimistically, falling back to slow path: " .. desc .. ": " .. tostring(err))
  end

  -- 2. get or create the record
  local old, raw = lock:Get(ctx)
  if not old then
    local err = raw
    if not errors.IsNotFound(err) then
      log("error", "Error retrieving lease lock " .. desc .. ": " .. tostring(err))
      return false
    end
    local ok, cerr = lock:Create(ctx, rec)
    if not ok then
      log("error", "Error initially creating lease lock " .. desc .. ": " .. tostring(cerr))
      return false
    end
    self:_setObservedRecord(rec)
    return true
  end

  -- 3. a changed record restarts the local expiry clock
  if self.observedRawRecord ~= raw then
    self:_setObservedRecord(old)
    self.observedRawRecord = raw
  end
  if old.HolderIdentity ~= "" and self:_isLeaseValid(now) and not self:IsLeader() then
    log(4, "Lease is held by " .. old.HolderIdentity .. " and has not yet expired: " .. desc)
    return false
  end

  -- 4. take over, or renew on the slow path
  if self:IsLeader() then
    rec.AcquireTime, rec.LeaderTransitions = old.AcquireTime, old.LeaderTransitions
  else
    rec.LeaderTransitions = old.LeaderTransitions + 1
  end
  local ok, err = lock:Update(ctx, rec)
  if not ok then
    log("error", "Failed to update lease " .. desc .. ": " .. tostring(err))
    return false
  end
  self:_setObservedRecord(rec)
  return true
end

function LeaderElector:_maybeReportTransition()
  local h = self.observedRecord.HolderIdentity
  if h == self.reportedLeader then return end
  self.reportedLeader = h
  local cb = self.config.Callbacks.OnNewLeader
  if cb then
    local ok, err = rt.spawn(cb, h)
    if not ok then report("cannot start OnNewLeader: " .. tostring(err)) end
  end
end

-- acquire: try every RetryPeriod·[1, 2.2) until a try succeeds (true) or
-- ctx is done (false).
function LeaderElector:_acquire(ctx)
  local rp = self.config.RetryPeriod
  log(0, "Attempting to acquire leader lease " .. self.config.Lock:Describe() .. "...")
  while not ctx:Done() do
    local succeeded = await(ctx, self._tryAcquireOrRenew, self, ctx)
    self:_maybeReportTransition()
    if succeeded then
      log(0, "Successfully acquired lease " .. self.config.Lock:Describe())
      return true
    end
    sleep_until(ctx, rt.now() + rp * (1 + jitter() * M.JitterFactor))
  end
  return false
end

-- PollUntilContextTimeout(ctx, RetryPeriod, RenewDeadline, immediate): a
-- try at once, then at the ticks of a RetryPeriod ticker started with it (a
-- tick missed during a long try is taken at once, as Go's ticker keeps one),
-- until one succeeds or ctx is done.
function LeaderElector:_poll(ctx)
  local rp = self.config.RetryPeriod
  local t0, k = rt.now(), 1
  while true do
    if await(ctx, self._tryAcquireOrRenew, self, ctx) then return true end
    if not sleep_until(ctx, t0 + k * rp) then return false end
    k = floor((rt.now() - t0) / rp) + 1
  end
end

-- renew: every RetryPeriod, a poll of at most RenewDeadline; ends when one
-- fails or ctx is done; then the release when ReleaseOnCancel.
function LeaderElector:_renew(ctx)
  local renewCtx = new_context(ctx)
  while not renewCtx:Done() do
    local ok = self:_poll(new_context(renewCtx, self.config.RenewDeadline))
    self:_maybeReportTransition()
    if not ok then
      log(0, "Failed to renew lease " .. self.config.Lock:Describe())
      renewCtx:_cancel()
      break
    end
    log(5, "Successfully renewed lease " .. self.config.Lock:Describe())
    sleep_until(renewCtx, rt.now() + self.config.RetryPeriod)
  end
  if self.config.ReleaseOnCancel then self:_release() end
end

-- release: give the lease up if we hold it: holderIdentity "",
-- leaseDurationSeconds 1, transitions kept; within RenewDeadline.
function LeaderElector:_release()
  local lock = self.config.Lock
  local ctx = new_context(nil, self.config.RenewDeadline)
  local old, err = await(ctx, lock.Get, lock, ctx)
  if not old then
    log("error", "error retrieving resource lock " .. lock:Describe() .. ": " .. tostring(err))
    return false
  end
  if not self:IsLeader() then return true end
  local stamp = M.MicroTime(rt.walltime())
  local rec = {
    HolderIdentity = "", LeaseDurationSeconds = 1, RenewTime = stamp, AcquireTime = stamp,
    LeaderTransitions = old.LeaderTransitions, Strategy = "", PreferredHolder = "",
  }
  local ok, uerr = await(ctx, lock.Update, lock, ctx, rec)
  if not ok then
    log("error", "Failed to release lease " .. lock:Describe() .. ": " .. tostring(uerr))
    return false
  end
  self:_setObservedRecord(rec)
  return true
end

function LeaderElector:_run(runCtx)
  local cbs = self.config.Callbacks
  local ok, err = pcall(function()
    if not self:_acquire(runCtx) then return end -- stopped before leading
    local leaderCtx = new_context(runCtx)
    self.leaderCtx = leaderCtx
    local sok, serr = rt.spawn(cbs.OnStartedLeading, leaderCtx)
    if not sok then report("cannot start OnStartedLeading: " .. tostring(serr)) end
    local rok, rerr = pcall(self._renew, self, leaderCtx)
    leaderCtx:_cancel()
    if not rok then error(rerr, 0) end
  end)
  if self.leaderCtx then self.leaderCtx:_cancel() end
  if not ok then report("elector " .. self.config.Lock:Describe() .. " failed: " .. tostring(err)) end
  local sok, serr = pcall(cbs.OnStoppedLeading)
  if not sok then report("OnStoppedLeading failed: " .. tostring(serr)) end
  self.running = false
  self.stopped = true
end

--- le:Run() -> true | nil, err: start the elector as a task of the running
-- environment and return at once. Plain Lua: k8s.Run drives it; inside
-- nginx it runs in a timer. It runs until le:Stop() (or the nginx worker
-- exits) or until it loses the lease; OnStoppedLeading is always called
-- at the end, even by an elector that never led. Run again after it ended
-- starts a new election.
function LeaderElector:Run()
  if self.running then error("k8s.leaderelection: the elector is already running", 2) end
  local runCtx = new_context(nil)
  runCtx.exiting = true
  self.ctx, self.leaderCtx = runCtx, nil
  self.running, self.stopped = true, false
  local ok, err = rt.spawn(function() self:_run(runCtx) end)
  if not ok then
    self.running, self.stopped = false, true
    return nil, new_error("InternalError", "cannot start the elector: " .. tostring(err))
  end
  return true
end

--- le:Stop(): cancel the run (client-go: cancel Run's context). The leader
-- context is done at once; the elector then ends its loop, releases the
-- lease when ReleaseOnCancel, and calls OnStoppedLeading, as the loop goes
-- on (plain Lua: drive it, e.g. k8s.Run(function() return le:Stopped() end)).
function LeaderElector:Stop()
  if self.ctx then self.ctx:_cancel() end
end

--- RunOrDie(config[, stop]) -> elector: NewLeaderElector (raising on a bad
-- config), Run, and in plain Lua drive the loop until the elector has
-- stopped (from inside a task: wait, yielding). stop, a function, is asked
-- as the loop runs; when it returns true the elector is stopped.
-- Inside nginx RunOrDie must not block: it is le:Run() and returns the
-- elector at once.
function M.RunOrDie(lec, stop)
  local le, err = M.NewLeaderElector(lec)
  if not le then error(tostring(err), 2) end
  local ok, rerr = le:Run()
  if not ok then error(tostring(rerr), 2) end
  if rt.nginx then return le end
  local loop = require "k8s.loop"
  local function check()
    if stop and not le.ctx:Done() and stop() then le:Stop() end
    return le.stopped
  end
  if loop.in_task() then
    while not check() do rt.sleep(SLICE) end
  else
    loop.Run(check)
  end
  return le
end

return M

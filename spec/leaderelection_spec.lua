-- Leader election with the Lease lock (client-go's tools/leaderelection)
-- against the real control plane: the configuration checks, the Lease a
-- new leader creates, renewals, a takeover from a SIGKILLed leader in
-- another process, release on cancel, OnStoppedLeading for an elector that
-- never led, and a leader losing its lease to a third party's update.
-- Timings: LeaseDuration 4, RenewDeadline 3, RetryPeriod 1. Every wait is
-- for a condition with a bound (hit only on failure); times are then checked
-- only against the lower bounds client-go's algorithm guarantees, and
-- promptness as an order of events (which try took over), never against an
-- upper time bound.
local H = require "spec.helper"
local k8s = require "k8s"
local rt = require "k8s.runtime"
local loop = require "k8s.loop"
local leaderelection = require "k8s.leaderelection"
local resourcelock = require "k8s.resourcelock"

local LD, RD, RP = 4, 3, 1
local MICRO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%d%d%dZ$"

-- Drive the loop until cond() is truthy or timeout seconds pass; cond's value.
local function drive(cond, timeout, what)
  local v = cond()
  if v then return v end
  local deadline, done = rt.now() + timeout, false
  loop.spawn(function() while not done and rt.now() < deadline do rt.sleep(0.05) end end) -- keeps the loop alive
  k8s.Run(function()
    v = cond()
    return v or rt.now() >= deadline
  end)
  done = true
  assert(v, "timed out after " .. timeout .. "s waiting for " .. what)
  return v
end

local function index_of(list, x)
  for i, v in ipairs(list) do if v == x then return i end end
end

-- Unix seconds of a MicroTime (UTC), from the civil date.
local function unix(ts)
  local y, m, d, hh, mm, ss = ts:match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):([%d.]+)Z$")
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m <= 2 then y, m = y - 1, m + 12 end
  local days = 365 * y + math.floor(y / 4) - math.floor(y / 100) + math.floor(y / 400)
    + math.floor((153 * (m - 3) + 2) / 5) + d - 719469
  return days * 86400 + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
end

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

describe("leaderelection (" .. H.interpreter .. ")", function()
  local cs, ns, leases
  local electors, procs, lease_names = {}, {}, {}
  local tmp

  setup(function()
    cs = assert(k8s.NewForConfig(H.config("admin-token")))
    ns = H.namespace(cs)
    leases = cs:CoordinationV1():Leases(ns)
    tmp = H.sh("mktemp -d"):gsub("%s+$", "")
  end)

  teardown(function()
    for _, name in ipairs(lease_names) do leases:Delete(name) end
    H.cleanup_namespaces()
    os.execute("rm -rf " .. H.shq(tmp))
  end)

  local function lease_name()
    local n = H.name("le")
    lease_names[#lease_names + 1] = n
    return n
  end

  -- An elector of this process; ev records its callbacks in order.
  local function elector(name, id, o)
    o = o or {}
    local ev = { list = {} }
    local function add(e) ev.list[#ev.list + 1] = e end
    local lock = assert(resourcelock.New("leases", ns, name, cs:CoordinationV1(), { Identity = id }))
    local le = assert(leaderelection.NewLeaderElector({
      Lock = lock, LeaseDuration = LD, RenewDeadline = RD, RetryPeriod = RP,
      ReleaseOnCancel = o.release, Name = name,
      Callbacks = {
        OnStartedLeading = function(ctx)
          ev.ctx, ev.started_at = ctx, rt.now()
          add("started")
          while not ctx:Done() do rt.sleep(0.02) end
          ev.ctxdone_at = rt.now()
        end,
        OnStoppedLeading = function()
          ev.stopped_at = rt.now()
          add("stopped")
        end,
        OnNewLeader = function(who) add("new:" .. who) end,
      },
    }))
    electors[#electors + 1] = { le = le, ev = ev }
    return le, ev
  end

  -- Watch one Lease from now on; w.events gets each event with its time.
  local function watch_lease(name)
    local w = { events = {} }
    loop.spawn(function()
      local watch = assert(leases:Watch({ fieldSelector = "metadata.name=" .. name }))
      w.open = true
      while not w.stop do
        local e, err = watch:Next(0.1)
        if e then
          e.at = rt.now()
          w.events[#w.events + 1] = e
        elseif err == nil then
          break
        end
      end
      watch:Stop()
      w.closed = true
    end)
    drive(function() return w.open end, 10, "the watch to open")
    return w
  end

  after_each(function()
    leaderelection.logger = nil
    for _, e in ipairs(electors) do e.le:Stop() end
    drive(function()
      for _, e in ipairs(electors) do
        if not e.le:Stopped() or (e.ev.started_at and not e.ev.ctxdone_at) then return false end
      end
      return true
    end, RD + 5, "the electors to stop")
    electors = {}
    for _, p in ipairs(procs) do os.execute("kill -9 " .. p.pid .. " 2>/dev/null") end
    procs = {}
  end)

  it("rejects bad configurations with client-go's errors, and the process lives on", function()
    local lock = assert(resourcelock.New("leases", ns, "x", cs:CoordinationV1(), { Identity = "me" }))
    local noid = assert(resourcelock.New("leases", ns, "x", cs:CoordinationV1(), { Identity = "" }))
    local cbs = { OnStartedLeading = function() end, OnStoppedLeading = function() end }
    local UNSET = {}
    local function cfg(t)
      local c = { Lock = lock, LeaseDuration = LD, RenewDeadline = RD, RetryPeriod = RP, Callbacks = cbs }
      for k, v in pairs(t) do
        if v == UNSET then c[k] = nil else c[k] = v end
      end
      return c
    end
    local cases = {
      { cfg { LeaseDuration = 3 }, "leaseDuration must be greater than renewDeadline" },
      { cfg { LeaseDuration = 2 }, "leaseDuration must be greater than renewDeadline" },
      { cfg { RenewDeadline = 1.2 }, "renewDeadline must be greater than retryPeriod*JitterFactor" },
      { cfg { RetryPeriod = 2.5 }, "renewDeadline must be greater than retryPeriod*JitterFactor" },
      { cfg { LeaseDuration = 0, RenewDeadline = -1, RetryPeriod = -1 }, "leaseDuration must be greater than zero" },
      { cfg { LeaseDuration = 1, RenewDeadline = -1, RetryPeriod = -1 }, "renewDeadline must be greater than zero" },
      { cfg { RetryPeriod = 0 }, "retryPeriod must be greater than zero" },
      { cfg { LeaseDuration = UNSET, RenewDeadline = UNSET }, "leaseDuration must be greater than renewDeadline" },
      { cfg { Callbacks = { OnStoppedLeading = cbs.OnStoppedLeading } }, "OnStartedLeading callback must not be nil" },
      { cfg { Callbacks = {} }, "OnStartedLeading callback must not be nil" },
      { cfg { Callbacks = { OnStartedLeading = cbs.OnStartedLeading } }, "OnStoppedLeading callback must not be nil" },
      { cfg { Lock = UNSET }, "Lock must not be nil." },
      { cfg { Lock = noid }, "Lock identity is empty" },
    }
    for i, c in ipairs(cases) do
      local le, err = leaderelection.NewLeaderElector(c[1])
      assert.is_nil(le, "case " .. i)
      assert.equal(c[2], err.message, "case " .. i)
      assert.equal(0, err.code)
      assert.matches(c[2], tostring(err), 1, true)
      assert(leases:List(), "the process lives on and still talks to the server") -- after every error case
    end
    -- the lock types client-go removed, and an unknown one
    for lt, msg in pairs({
      endpoints = "endpoints lock is removed, migrate to leases",
      configmaps = "configmaps lock is removed, migrate to leases",
      endpointsleases = "endpointsleases lock is removed, migrate to leases",
      configmapsleases = "configmapsleases lock is removed, migrated to leases",
      bogus = "Invalid lock-type bogus",
    }) do
      local l, err = resourcelock.New(lt, ns, "x", cs:CoordinationV1(), { Identity = "me" })
      assert.is_nil(l)
      assert.equal(msg, err.message)
      assert(leases:List(), "the process lives on")
    end
    -- values of the wrong type are argument errors (raised)
    assert.has_error(function() leaderelection.NewLeaderElector(cfg { LeaseDuration = "4" }) end)
    assert.has_error(function() leaderelection.NewLeaderElector("nope") end)
    local ok, err = pcall(leaderelection.RunOrDie, cfg { RetryPeriod = 0 })
    assert.is_false(ok)
    assert.matches("retryPeriod must be greater than zero", tostring(err), 1, true)
    -- a good configuration still works afterwards; Run twice is an error
    local le = assert(leaderelection.NewLeaderElector(cfg {}))
    assert.is_false(le:IsLeader())
    assert.equal("", le:GetLeader())
    assert.is_true(le:Check(0))
    assert.is_nil(leases:Get("x"))
  end)

  it("acquires a fresh Lease: exactly client-go's fields, OnNewLeader(id) then OnStartedLeading", function()
    local name = lease_name()
    local w = watch_lease(name)
    local le, ev = elector(name, "alpha")
    local t0 = rt.walltime()
    assert(le:Run())
    assert.has_error(function() le:Run() end)
    drive(function() return ev.started_at end, 10, "OnStartedLeading")
    assert.same({ "new:alpha", "started" }, ev.list)
    assert.is_true(le:IsLeader())
    assert.equal("alpha", le:GetLeader())
    assert.is_true(le:Check(0))
    assert.is_false(ev.ctx:Done())
    drive(function() return #w.events >= 1 end, 5, "the ADDED event")
    local added = w.events[1]
    assert.equal("ADDED", added.type)
    local spec = added.object.spec
    assert.same({ "acquireTime", "holderIdentity", "leaseDurationSeconds", "leaseTransitions", "renewTime" }, keys(spec))
    assert.equal("alpha", spec.holderIdentity)
    assert.equal(4, spec.leaseDurationSeconds)
    assert.equal(0, spec.leaseTransitions)
    assert.matches(MICRO, spec.acquireTime)
    assert.equal(spec.acquireTime, spec.renewTime)
    -- the wall-clock time of the acquisition
    assert.is_true(math.abs(unix(spec.acquireTime) - t0) <= 5, "acquireTime is now")
    w.stop = true
  end)

  it("renews: renewTime advances every RetryPeriod while acquireTime and transitions stay", function()
    local name = lease_name()
    local w = watch_lease(name)
    local le, ev = elector(name, "alpha")
    assert(le:Run())
    drive(function() return ev.started_at end, 10, "OnStartedLeading")
    drive(function() return #w.events >= 5 end, 5 * 2.2 * RP + 3, "four renewals")
    w.stop = true
    local first = w.events[1].object.spec
    local last_renew = first.renewTime
    for i = 2, #w.events do
      local e = w.events[i]
      local spec = e.object.spec
      assert.equal("MODIFIED", e.type)
      assert.same(keys(first), keys(spec))
      assert.equal("alpha", spec.holderIdentity)
      assert.equal(first.acquireTime, spec.acquireTime)
      assert.equal(0, spec.leaseTransitions)
      assert.equal(4, spec.leaseDurationSeconds)
      assert.matches(MICRO, spec.renewTime)
      assert.is_true(spec.renewTime > last_renew, "renewTime advances")
      -- the first renewal follows the creation at once (client-go's renew loop
      -- starts with a try); then each try is stamped at its start, at least
      -- RetryPeriod after the previous renewal succeeded (the stamps are
      -- rounded to the microsecond)
      if i > 2 then
        local gap = unix(spec.renewTime) - unix(last_renew)
        assert.is_true(gap >= RP - 2e-6, "renewTime advances by RetryPeriod at least (" .. gap .. "s)")
      end
      last_renew = spec.renewTime
    end
    assert.is_true(le:IsLeader())
    assert.same({ "new:alpha", "started" }, ev.list)
  end)

  it("two processes: one leads; after a SIGKILL the other takes over after LeaseDuration unchanged", function()
    local name = lease_name()
    local plugin = H.ROOT .. "/spec/plugins/elector.lua"
    local function start(id)
      local file = tmp .. "/" .. name .. "-" .. id .. ".events"
      local cmd = table.concat({
        "cd / && env",
        H.lua_env(),
        "K8S_LUA_STATE=" .. H.shq(os.getenv("K8S_LUA_STATE")),
        H.INTERP, H.shq(plugin), H.shq(ns), H.shq(name), H.shq(id), H.shq(file),
        ">" .. H.shq(file .. ".log") .. " 2>&1 & echo $!",
      }, " ")
      local p = assert(io.popen(cmd))
      local pid = tonumber(p:read("*l"))
      p:close()
      assert(pid, "no pid")
      local proc = { pid = pid, id = id, file = file }
      procs[#procs + 1] = proc
      return proc
    end
    local function events(proc)
      local out = {}
      local f = io.open(proc.file, "rb")
      if not f then return out end
      for line in f:lines() do
        local kind, t, rest = line:match("^(%S+) (%S+) ?(.*)$")
        if kind then out[#out + 1] = { kind = kind, t = tonumber(t), arg = rest } end
      end
      f:close()
      return out
    end
    local function find(proc, kind, arg)
      for _, e in ipairs(events(proc)) do
        if e.kind == kind and (arg == nil or e.arg == arg) then return e end
      end
    end
    local function count(proc, kind)
      local n = 0
      for _, e in ipairs(events(proc)) do if e.kind == kind then n = n + 1 end end
      return n
    end

    local a, b = start("proc-a"), start("proc-b")
    local leader = drive(function()
      return (find(a, "started") and a) or (find(b, "started") and b)
    end, 15, "one process to lead")
    local standby = leader == a and b or a
    -- the standby follows the leader and, while it renews, never leads
    drive(function() return find(standby, "new", leader.id) end, 10, "the standby's OnNewLeader(leader)")
    local seen = count(standby, "observed")
    drive(function() return count(standby, "observed") >= seen + 2 end, 4 * 2.2 * RP + 2, "the standby to see renewals")
    assert.is_nil(find(standby, "started"))
    assert.is_nil(find(leader, "stopped"))
    local lease = assert(leases:Get(name))
    assert.equal(leader.id, lease.spec.holderIdentity)
    assert.equal(0, lease.spec.leaseTransitions)

    -- SIGKILL: no release
    assert.equal("0", H.sh("kill -9 " .. leader.pid .. "; echo $?"):match("(%d+)%s*$"))
    local started = drive(function() return find(standby, "started") end, LD + 2 * 2.2 * RP + 5, "the takeover")
    -- the last change of the record the standby saw, while the old leader
    -- held it; the standby's tries up to OnStartedLeading (the last one took over)
    local last_seen, tries = nil, {}
    for _, e in ipairs(events(standby)) do
      if e.kind == "observed" and e.arg == leader.id then last_seen = e.t end
      if e.kind == "try" then tries[#tries + 1] = e.t end
      if e.kind == "started" then break end
    end
    assert(last_seen, "the standby observed the leader's record")
    local waited = started.t - last_seen
    assert.is_true(waited >= LD, "no takeover before LeaseDuration unchanged (" .. waited .. "s)")
    -- the takeover is the first try that started once the record had stayed
    -- unchanged for LeaseDuration (a try logs its start before it reads the
    -- clock it judges expiry by: one that started later found it expired)
    local expiry = last_seen + LD
    assert.is_true(#tries >= 1 and tries[#tries] > last_seen, "the takeover try follows the last observation")
    for i = 1, #tries - 1 do
      assert.is_true(tries[i] < expiry, "a try started " .. (tries[i] - last_seen)
        .. "s after the last change, past LeaseDuration, and did not take over")
    end
    lease = assert(leases:Get(name))
    assert.equal(standby.id, lease.spec.holderIdentity)
    assert.equal(1, lease.spec.leaseTransitions)
    assert.equal(4, lease.spec.leaseDurationSeconds)
    assert(find(standby, "new", standby.id), "OnNewLeader(survivor):\n" .. H.read(standby.file))

    -- the survivor stops on request: its leader context ends, then OnStoppedLeading
    H.write(standby.file .. ".stop", "")
    drive(function() return find(standby, "stopped") and find(standby, "ctxdone") end, RD + 5,
      "the survivor to stop, and its leader context to end")
  end)

  it("ReleaseOnCancel: Stop writes holder \"\" and leaseDurationSeconds 1, and the standby takes over at once", function()
    local name = lease_name()
    local a, aev = elector(name, "alpha", { release = true })
    assert(a:Run())
    drive(function() return aev.started_at end, 10, "alpha to lead")
    local w = watch_lease(name)
    -- beta's tries, each finding the lease held (client-go logs them at V(4))
    local tries = {}
    leaderelection.logger = function(level, msg)
      if level == 4 and msg:find("held by alpha", 1, true) then tries[#tries + 1] = rt.now() end
    end
    local b, bev = elector(name, "beta")
    assert(b:Run())
    drive(function() return index_of(bev.list, "new:alpha") end, 10, "beta's OnNewLeader(alpha)")
    drive(function() return #tries >= 4 end, 4 * 2.2 * RP + 2, "beta's retries")
    for i = 2, #tries do
      local gap = tries[i] - tries[i - 1]
      assert.is_true(gap >= RP, "beta waits RetryPeriod at least between tries (" .. gap .. "s)")
    end
    assert.is_true(#w.events >= 2, "alpha renewed meanwhile")

    -- when beta's tries read the Lease, and which of them took over (its
    -- only Update); when alpha's release was sent and answered
    local alock, block = a.config.Lock, b.config.Lock
    local bgets, btook, rel_sent, rel_done = {}, nil, nil, nil
    local bget, bupdate, aupdate = block.Get, block.Update, alock.Update
    block.Get = function(self, ctx)
      local g = { sent = rt.now() }
      bgets[#bgets + 1] = g
      local r, raw = bget(self, ctx)
      g.answered = rt.now()
      return r, raw
    end
    block.Update = function(self, ctx, rec)
      local ok, err = bupdate(self, ctx, rec)
      if ok and not btook then btook = #bgets end
      return ok, err
    end
    alock.Update = function(self, ctx, rec)
      if rec.HolderIdentity ~= "" then return aupdate(self, ctx, rec) end
      rel_sent = rt.now()
      local ok, err = aupdate(self, ctx, rec)
      rel_done = rt.now()
      return ok, err
    end
    -- Stop between two renewals: one stopped in flight could land after
    -- the release's read and make its Update conflict
    local renewed = a.observedRecord.RenewTime
    drive(function() return a.observedRecord.RenewTime ~= renewed end, RD + 2, "a renewal by alpha")
    a:Stop()
    assert.is_true(aev.ctx:Done(), "the leader context is done at once")
    drive(function() return a:Stopped() and bev.started_at end, 2.2 * RP + RD + 2, "the release and beta's takeover")
    assert(rel_done, "alpha sent its release")
    assert(btook, "beta's takeover Update")
    -- beta took over with a read answered after the release was sent, at
    -- the first try whose read was sent after the release was answered
    assert.is_true(bgets[btook].answered >= rel_sent, "beta took over before alpha released")
    for i = 1, btook - 1 do
      assert.is_true(bgets[i].sent < rel_done, "a try of beta read the released Lease and did not take over")
    end
    assert.same({ "new:alpha", "started", "stopped" }, aev.list)
    assert.is_false(a:IsLeader())
    assert.equal("", a:GetLeader())
    assert.same({ "new:alpha", "new:beta", "started" }, bev.list) -- never OnNewLeader("")

    drive(function()
      for _, e in ipairs(w.events) do
        if e.object.spec.holderIdentity == "beta" then return true end
      end
    end, 5, "the takeover event")
    w.stop = true
    local rel
    for i, e in ipairs(w.events) do
      local spec = e.object.spec
      if spec.holderIdentity == "" then
        rel = i
        break
      end
      assert.equal("alpha", spec.holderIdentity, "beta never wrote while alpha renewed")
    end
    assert(rel, "a release was written")
    local released, taken = w.events[rel].object.spec, w.events[rel + 1].object.spec
    assert.equal(1, released.leaseDurationSeconds)
    assert.equal(0, released.leaseTransitions)
    assert.matches(MICRO, released.acquireTime)
    assert.equal(released.acquireTime, released.renewTime)
    assert.equal("beta", taken.holderIdentity)
    assert.equal(1, taken.leaseTransitions)
    assert.equal(4, taken.leaseDurationSeconds)
    assert.equal(taken.acquireTime, taken.renewTime)
  end)

  it("calls OnStoppedLeading when stopped before it ever led", function()
    -- stopped before its first try
    local name = lease_name()
    local le, ev = elector(name, "alpha")
    assert(le:Run())
    le:Stop()
    drive(function() return le:Stopped() end, 5, "the elector to stop")
    assert.same({ "stopped" }, ev.list)
    local _, err = leases:Get(name)
    assert.is_true(k8s.errors.IsNotFound(err), "no Lease was created")

    -- a standby behind a Lease someone else holds
    local now = leaderelection.MicroTime(rt.walltime())
    local held = assert(leases:Create({
      metadata = { name = name },
      spec = { holderIdentity = "someone-else", leaseDurationSeconds = 3600, acquireTime = now, renewTime = now,
               leaseTransitions = 7 },
    }))
    local b, bev = elector(name, "beta")
    assert(b:Run())
    drive(function() return index_of(bev.list, "new:someone-else") end, 10, "OnNewLeader(someone-else)")
    assert.equal("someone-else", b:GetLeader())
    b:Stop()
    drive(function() return b:Stopped() end, 5, "the standby to stop")
    assert.same({ "new:someone-else", "stopped" }, bev.list)
    assert.equal(held.metadata.resourceVersion, assert(leases:Get(name)).metadata.resourceVersion)

    -- Run again after the end: a new run, stopped again
    assert(b:Run())
    b:Stop()
    drive(function() return b:Stopped() end, 5, "the standby to stop again")
    assert.same({ "new:someone-else", "stopped", "stopped" }, bev.list)
  end)

  it("a third party taking the Lease makes the leader step down (ctx done, OnStoppedLeading)", function()
    local name = lease_name()
    local le, ev = elector(name, "alpha", { release = true })
    assert(le:Run())
    drive(function() return ev.started_at end, 10, "alpha to lead")
    drive(function() return le.observedRecord.RenewTime ~= le.observedRecord.AcquireTime end, 5, "a renewal")
    -- no try is in flight now (the renewal just ended, the next one is
    -- RetryPeriod away); alpha's requests from now on, with their outcome
    local renewed_at = le.observedTime
    local lock, updates, gets = le.config.Lock, {}, 0
    local update, get = lock.Update, lock.Get
    lock.Update = function(self, ctx, rec)
      local ok, err = update(self, ctx, rec)
      updates[#updates + 1] = ok and "ok" or (k8s.errors.IsConflict(err) and "conflict" or tostring(err))
      return ok, err
    end
    lock.Get = function(self, ctx)
      gets = gets + 1
      return get(self, ctx)
    end
    -- outside the loop calls block, and the elector waits meanwhile
    local cur = assert(leases:Get(name))
    local now = leaderelection.MicroTime(rt.walltime())
    cur.spec.holderIdentity, cur.spec.leaseDurationSeconds = "intruder", 60
    cur.spec.acquireTime, cur.spec.renewTime = now, now
    cur.spec.leaseTransitions = cur.spec.leaseTransitions + 1
    local taken = assert(leases:Update(cur))
    drive(function() return le:Stopped() end, RP + RD + 5, "alpha to step down")
    assert.is_true(ev.ctx:Done())
    drive(function() return ev.ctxdone_at end, 1, "OnStartedLeading to see its context done")
    -- the fast path conflicts (it is taken while alpha's own clock still
    -- holds the lease valid), the slow path sees the new holder (and the
    -- release only reads), and the renew loop gives up once RenewDeadline
    -- passes without a success: a poll that started RetryPeriod after the
    -- last renewal at the earliest
    assert.is_true(#updates <= 1, "alpha wrote once at most: " .. table.concat(updates, ", "))
    for _, u in ipairs(updates) do assert.equal("conflict", u) end
    assert.is_true(gets >= 2, "the slow path and the release read the Lease")
    local took = ev.stopped_at - renewed_at
    assert.is_true(took >= RP + RD, "stepped down only after RetryPeriod + RenewDeadline (" .. took .. "s)")
    assert.same({ "new:alpha", "started", "new:intruder", "stopped" }, ev.list)
    assert.is_false(le:IsLeader())
    assert.equal("intruder", le:GetLeader())
    assert.is_true(le:Check(0))
    -- alpha neither overwrote nor released the intruder's Lease
    local after = assert(leases:Get(name))
    assert.equal(taken.metadata.resourceVersion, after.metadata.resourceVersion)
    assert.equal("intruder", after.spec.holderIdentity)
  end)

  it("a leader whose requests hang steps down once RenewDeadline passes", function()
    local name = lease_name()
    local le, ev = elector(name, "alpha")
    assert(le:Run())
    drive(function() return ev.started_at end, 10, "alpha to lead")
    -- switch between two renewals: no try in flight on the good client
    drive(function() return le.observedRecord.RenewTime ~= le.observedRecord.AcquireTime end, 5, "a renewal")
    local renewed_at = le.observedTime
    -- a server that never answers: its listen queue takes the connections
    local p = assert(io.popen("exec python3 -c 'import socket,time,sys,os; s=socket.socket(); "
      .. "s.bind((\"127.0.0.1\",0)); s.listen(64); print(os.getpid(), s.getsockname()[1]); sys.stdout.flush(); "
      .. "time.sleep(60)'"))
    local pid, port = (p:read("*l") or ""):match("^(%d+) (%d+)$")
    procs[#procs + 1] = { pid = tonumber(pid) }
    assert(tonumber(port), "the silent server's port")
    local cfg = H.config("admin-token")
    cfg.Host = "https://127.0.0.1:" .. port
    local silent = assert(k8s.NewForConfig(cfg))
    le.config.Lock.Client = silent:CoordinationV1()
    drive(function() return le:Stopped() end, RP + RD + 5, "alpha to step down")
    -- the poll after the last renewal (RetryPeriod later at the earliest)
    -- gave up at its RenewDeadline, no answer having come
    local took = ev.stopped_at - renewed_at
    assert.is_true(took >= RP + RD, "stepped down once RenewDeadline passed (" .. took .. "s)")
    assert.equal(renewed_at, le.observedTime, "no request was answered")
    assert.is_true(ev.ctx:Done())
    assert.same({ "new:alpha", "started", "stopped" }, ev.list)
    -- the requests left behind end when the server goes; their results are ignored
    os.execute("kill -9 " .. pid)
    p:close()
    assert.equal("alpha", le:GetLeader())
  end)

  it("RunOrDie drives the loop until the elector stops", function()
    local name = lease_name()
    local lock = assert(resourcelock.New("leases", ns, name, cs:CoordinationV1(), { Identity = "solo" }))
    local events, stop, renewed = {}, false, false
    -- a completed renewal (after the Create): the stop then comes between
    -- two renewals, and the release cannot conflict with one in flight
    local update = lock.Update
    lock.Update = function(self, ctx, rec)
      local ok, err = update(self, ctx, rec)
      if ok and rec.HolderIdentity == "solo" then renewed = true end
      return ok, err
    end
    local le = leaderelection.RunOrDie({
      Lock = lock, LeaseDuration = LD, RenewDeadline = RD, RetryPeriod = RP, ReleaseOnCancel = true, Name = name,
      Callbacks = {
        OnStartedLeading = function(ctx)
          events[#events + 1] = "started"
          while not renewed and not ctx:Done() do rt.sleep(0.02) end
          stop = true
        end,
        OnStoppedLeading = function() events[#events + 1] = "stopped" end,
        OnNewLeader = function(id) events[#events + 1] = "new:" .. id end,
      },
    }, function() return stop end)
    assert.is_true(le:Stopped())
    assert.same({ "new:solo", "started", "stopped" }, events)
    local lease = assert(leases:Get(name))
    assert.equal("", lease.spec.holderIdentity)
    assert.equal(1, lease.spec.leaseDurationSeconds)
  end)
end)

--- client-go's tools/leaderelection/resourcelock, Lease lock only.
--   local lock = assert(k8s.resourcelock.New("leases", "ns", "my-lock", cs:CoordinationV1(),
--                                            { Identity = "me" }))
-- The other lock types of old client-go (endpoints, configmaps and their
-- *leases multilocks) are removed there too: New returns nil, err for them.
-- A lock keeps the Lease it last read or wrote; Update sends that object
-- back with new spec fields, so a concurrent change fails with 409 Conflict.
-- Records are LeaderElectionRecord tables: HolderIdentity, LeaseDurationSeconds,
-- AcquireTime, RenewTime (MicroTime strings, nil for the zero time),
-- LeaderTransitions, Strategy, PreferredHolder.
-- @module k8s.resourcelock
local core = require "k8s.core"

local M = {}

M.LeaderElectionRecordAnnotationKey = "control-plane.alpha.kubernetes.io/leader"
M.LeasesResourceLock = "leases"

local new_error = require("k8s.errors").New

-- The error of a context that is done (ctx:Err()), as a Go request would give.
local function ctx_error(ctx)
  if ctx and ctx.Done and ctx:Done() then
    local e = ctx.Err and ctx:Err() or "context canceled"
    return new_error(e == "context deadline exceeded" and "Timeout" or "Canceled", e)
  end
end

--- LeaseSpecToLeaderElectionRecord(spec) -> record.
function M.LeaseSpecToLeaderElectionRecord(spec)
  spec = type(spec) == "table" and spec or {}
  local function str(v) return type(v) == "string" and v or nil end
  local function num(v) return type(v) == "number" and math.floor(v) or 0 end
  return {
    HolderIdentity = str(spec.holderIdentity) or "",
    LeaseDurationSeconds = num(spec.leaseDurationSeconds),
    AcquireTime = str(spec.acquireTime),
    RenewTime = str(spec.renewTime),
    LeaderTransitions = num(spec.leaseTransitions),
    Strategy = str(spec.strategy) or "",
    PreferredHolder = str(spec.preferredHolder) or "",
  }
end

--- LeaderElectionRecordToLeaseSpec(record) -> spec: all five core fields are
-- written (a zero time as null); strategy and preferredHolder only when set.
function M.LeaderElectionRecordToLeaseSpec(r)
  local spec = {
    holderIdentity = r.HolderIdentity or "",
    leaseDurationSeconds = math.floor(r.LeaseDurationSeconds or 0),
    acquireTime = r.AcquireTime or core.null,
    renewTime = r.RenewTime or core.null,
    leaseTransitions = math.floor(r.LeaderTransitions or 0),
  }
  if r.PreferredHolder and r.PreferredHolder ~= "" then spec.preferredHolder = r.PreferredHolder end
  if r.Strategy and r.Strategy ~= "" then spec.strategy = r.Strategy end
  return spec
end

-- client-go compares json.Marshal(record), where the times are metav1.Time:
-- RFC 3339 to the second, in UTC. The server writes MicroTime in UTC.
local function second(t)
  if type(t) ~= "string" then return "null" end
  local s = t:match("^(%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d)")
  return s and (s .. "Z") or t
end

--- RawRecord(record) -> the string client-go's lock returns as the raw record.
function M.RawRecord(r)
  return string.format("%q|%d|%s|%s|%d|%q|%q", r.HolderIdentity or "", r.LeaseDurationSeconds or 0,
    second(r.AcquireTime), second(r.RenewTime), r.LeaderTransitions or 0, r.Strategy or "", r.PreferredHolder or "")
end

local LeaseLock = { __name = "k8s.resourcelock.LeaseLock" }
LeaseLock.__index = LeaseLock
M.LeaseLock = LeaseLock

--- NewLeaseLock{ LeaseMeta = {Namespace=, Name=}, Client = cs:CoordinationV1(),
-- LockConfig = {Identity=}, Labels = {...} } -> a LeaseLock (client-go's struct literal).
function M.NewLeaseLock(t)
  if type(t) ~= "table" then error("k8s.resourcelock.NewLeaseLock: expects a table", 2) end
  local meta = t.LeaseMeta or {}
  return setmetatable({
    LeaseMeta = { Namespace = meta.Namespace or "", Name = meta.Name or "" },
    Client = t.Client,
    LockConfig = t.LockConfig or {},
    Labels = t.Labels,
  }, LeaseLock)
end

local function leases(self)
  local c = self.Client
  if c == nil then error("k8s.resourcelock: the lock has no Client", 3) end
  return c:Leases(self.LeaseMeta.Namespace)
end

--- lock:Get([ctx]) -> record, raw | nil, err. Keeps the Lease read.
function LeaseLock:Get(ctx)
  local lease, err = leases(self):Get(self.LeaseMeta.Name)
  local cerr = ctx_error(ctx)
  if cerr then return nil, cerr end
  if not lease then return nil, err end
  self.lease = lease
  local r = M.LeaseSpecToLeaderElectionRecord(lease.spec)
  return r, M.RawRecord(r)
end

--- lock:Create([ctx], record) -> true | nil, err.
function LeaseLock:Create(ctx, ler)
  local lease = {
    apiVersion = "coordination.k8s.io/v1", kind = "Lease",
    metadata = { name = self.LeaseMeta.Name, namespace = self.LeaseMeta.Namespace,
                 labels = (self.Labels and next(self.Labels)) and self.Labels or nil },
    spec = M.LeaderElectionRecordToLeaseSpec(ler),
  }
  local created, err = leases(self):Create(lease)
  local cerr = ctx_error(ctx)
  if cerr then return nil, cerr end
  if not created then return nil, err end
  self.lease = created
  return true
end

--- lock:Update([ctx], record) -> true | nil, err: the kept Lease with this
-- record as its spec and the lock's Labels merged in.
function LeaseLock:Update(ctx, ler)
  local lease = self.lease
  if lease == nil then
    return nil, new_error("LeaderElection", "lease not initialized, call get or create first")
  end
  lease.spec = M.LeaderElectionRecordToLeaseSpec(ler)
  if self.Labels ~= nil and next(self.Labels) ~= nil then
    lease.metadata = lease.metadata or {}
    local labels = lease.metadata.labels
    if type(labels) ~= "table" then labels = {}; lease.metadata.labels = labels end
    for k, v in pairs(self.Labels) do labels[k] = v end
  end
  local updated, err = leases(self):Update(lease)
  local cerr = ctx_error(ctx)
  if cerr then return nil, cerr end
  if not updated then return nil, err end
  self.lease = updated
  return true
end

--- lock:RecordEvent(s): events are not recorded (no EventRecorder).
function LeaseLock:RecordEvent(_) end

--- lock:Describe() -> "namespace/name".
function LeaseLock:Describe()
  return self.LeaseMeta.Namespace .. "/" .. self.LeaseMeta.Name
end

--- lock:Identity() -> LockConfig.Identity.
function LeaseLock:Identity()
  return self.LockConfig.Identity or ""
end

local removed = {
  endpoints = "endpoints lock is removed, migrate to leases",
  configmaps = "configmaps lock is removed, migrate to leases",
  endpointsleases = "endpointsleases lock is removed, migrate to leases",
  configmapsleases = "configmapsleases lock is removed, migrated to leases", -- sic, as client-go
}

local function new(lockType, ns, name, coordinationClient, rlc, labels)
  if lockType == M.LeasesResourceLock then
    return M.NewLeaseLock({
      LeaseMeta = { Namespace = ns, Name = name },
      Client = coordinationClient,
      LockConfig = rlc,
      Labels = labels,
    })
  end
  local msg = removed[lockType] or ("Invalid lock-type " .. tostring(lockType))
  return nil, new_error("Invalid", msg)
end

--- New(lockType, ns, name, coordinationClient, rlc) -> lock | nil, err.
-- rlc = { Identity = "..." }; rlc.Labels (or LeaseLock.Labels) are merged
-- into the Lease's labels. Only "leases" works.
function M.New(lockType, ns, name, coordinationClient, rlc)
  rlc = rlc or {}
  return new(lockType, ns, name, coordinationClient, { Identity = rlc.Identity, EventRecorder = rlc.EventRecorder },
    rlc.Labels)
end

--- NewWithLabels(lockType, ns, name, coordinationClient, rlc, labels) -> lock | nil, err.
function M.NewWithLabels(lockType, ns, name, coordinationClient, rlc, labels)
  return new(lockType, ns, name, coordinationClient, rlc or {}, labels)
end

--- NewFromKubeconfig(lockType, ns, name, rlc, config, renewDeadline) -> lock | nil, err:
-- a clientset of its own whose requests time out after renewDeadline/2 (at least 1s).
function M.NewFromKubeconfig(lockType, ns, name, rlc, config, renewDeadline)
  local c = require("k8s.rest").CopyConfig(config)
  local timeout = (tonumber(renewDeadline) or 0) / 2
  if timeout < 1 then timeout = 1 end
  c.Timeout = timeout
  local cs, err = require("k8s.kubernetes").NewForConfig(c)
  if not cs then return nil, err end
  return M.New(lockType, ns, name, cs:CoordinationV1(), rlc)
end

return M

--- Informer caches shared by every nginx worker (k8s.ngx.SharedInformer).
-- One worker at a time runs the informer (list+watch, client-go's reflector)
-- in a timer and writes the cache into a lua_shared_dict; every worker reads
-- it through the lister API, with a per-worker LRU of decoded objects. The
-- worker that runs it holds a lease in the dict; when it exits or dies
-- (the lease expires), another worker takes over, loads what the dict holds
-- and relists, so deletes made meanwhile are found (client-go's Replace).
--
--   http { lua_shared_dict k8s 32m;
--          init_worker_by_lua_block {
--            require("k8s").ngx.SharedInformer({ dict = "k8s", name = "endpoints",
--              config = function() return assert(k8s.clientcmd.BuildConfigFromFlags("", "")) end,
--              resource = { Group = "", Version = "v1", Resource = "endpoints" } }):Start()
--          } }
--   -- in a request: local ep, err = k8s.ngx.SharedInformer("endpoints"):Lister():ByNamespace("ns"):Get("web")
--
-- The dict holds: the objects as JSON (o:<name>:<ns/name>), a key list per
-- namespace, the namespaces, the resourceVersion, a synced flag and a
-- generation counter. Writes use safe_set: a full dict is never evicted
-- silently; it is logged as an error and marks the cache unsynced.
-- @module k8s.ngxinformer
local core = require "k8s.core"
local cache = require "k8s.cache"
local labels = require "k8s.labels"

local M = {}
local registry = {}   -- name -> shared informer object (per worker)

local SI = { __name = "k8s.ngx.SharedInformer" }
SI.__index = SI

local encode, decode = core.json_encode, core.json_decode

local function K(self, kind, rest) return kind .. ":" .. self.name .. (rest and (":" .. rest) or "") end

--- SharedInformer(opts) -> shared informer; SharedInformer(name) -> the one made with that name.
-- opts: dict (a lua_shared_dict name), name (unique per cache), resource
-- ({ Group, Version, Resource }), config (a rest.Config table, or a function
-- returning one), namespace ("" = all), TweakListOptions (function(opts)),
-- LeaseTTL (seconds, 10), LRUSize (objects per worker, 10000).
function M.SharedInformer(o)
  if type(o) == "string" then
    local si = registry[o]
    if not si then error("k8s.ngx.SharedInformer: no shared informer named " .. o, 2) end
    return si
  end
  if type(o) ~= "table" then error("k8s.ngx.SharedInformer: expects an options table or a name", 2) end
  if type(o.dict) ~= "string" or not ngx.shared[o.dict] then
    error("k8s.ngx.SharedInformer: dict " .. tostring(o.dict) .. " is not a lua_shared_dict of nginx.conf", 2)
  end
  if type(o.name) ~= "string" or not o.name:match("^[%w_.%-]+$") then
    error("k8s.ngx.SharedInformer: name must be a non-empty string of letters, digits, '_', '.', '-'", 2)
  end
  if type(o.resource) ~= "table" or type(o.resource.Resource) ~= "string" or type(o.resource.Version) ~= "string" then
    error("k8s.ngx.SharedInformer: resource must be { Group =, Version =, Resource = }", 2)
  end
  if o.config == nil then error("k8s.ngx.SharedInformer: config is required", 2) end
  local lru = require("resty.lrucache").new(o.LRUSize or 10000)
  local si = setmetatable({ o = o, name = o.name, dict = ngx.shared[o.dict], ttl = o.LeaseTTL or 10, lru = lru,
    gr = { Group = o.resource.Group or "", Resource = o.resource.Resource } }, SI)
  registry[o.name] = si
  return si
end

-- ---- reading (every worker) ----

--- si:HasSynced(): the cache holds a complete list (and no write failed since).
function SI:HasSynced() return self.dict:get(K(self, "s")) == true end

--- si:Leader(): the pid of the worker running the informer, or nil.
function SI:Leader() return self.dict:get(K(self, "lease")) end

--- si:LastSyncResourceVersion()
function SI:LastSyncResourceVersion() return self.dict:get(K(self, "rv")) end

local function decode_list(s)
  if not s or s == "" then return {} end
  return decode(s) or {}
end

function SI:_obj(key)
  local raw = self.dict:get(K(self, "o", key))
  if not raw then return nil end
  local hit = self.lru:get(key)
  if hit and hit.raw == raw then return hit.obj end
  local obj = decode(raw)
  self.lru:set(key, { raw = raw, obj = obj })
  return obj
end

function SI:_keys(ns)
  if ns and ns ~= "" then return decode_list(self.dict:get(K(self, "n", ns))) end
  local all = {}
  for _, n in ipairs(decode_list(self.dict:get(K(self, "ns")))) do
    for _, key in ipairs(decode_list(self.dict:get(K(self, "n", n)))) do all[#all + 1] = key end
  end
  return all
end

local function parse_selector(sel)
  if sel == nil or sel == "" then return nil end
  if type(sel) == "string" then return labels.Parse(sel) end
  return sel
end

function SI:_list(ns, sel)
  local s, err = parse_selector(sel)
  if sel ~= nil and sel ~= "" and not s then return nil, err end
  local out = setmetatable({}, core.array_mt)
  for _, key in ipairs(self:_keys(ns)) do
    local obj = self:_obj(key)
    if obj and (not s or s:Matches(obj.metadata and obj.metadata.labels)) then out[#out + 1] = obj end
  end
  return out
end

function SI:_get(ns, name)
  local key = (ns and ns ~= "") and (ns .. "/" .. name) or name
  local obj = self:_obj(key)
  if obj then return obj end
  return nil, cache.NewNotFound(self.gr, name)
end

--- si:Lister(): List(selector), ByNamespace(ns) / Namespace(ns) -> { List(selector), Get(name) }, Get(name).
function SI:Lister()
  local si = self
  local l = {}
  function l:List(sel) return si:_list(nil, sel) end
  function l:Get(name) return si:_get(nil, name) end
  local function by_ns(_, ns)
    return { List = function(_, sel) return si:_list(ns, sel) end, Get = function(_, name) return si:_get(ns, name) end }
  end
  l.ByNamespace, l.Namespace = by_ns, by_ns
  return l
end

-- ---- writing (the worker holding the lease) ----

function SI:_fail(what, err)
  ngx.log(ngx.ERR, "k8s.ngx.SharedInformer ", self.name, ": ", what, ": ", tostring(err),
    " (the cache is marked unsynced; enlarge lua_shared_dict ", self.o.dict, ")")
  self.dict:set(K(self, "s"), false)
  self.failed = true
end

function SI:_write(key, obj)
  local ok, err = self.dict:safe_set(K(self, "o", key), encode(obj))
  if not ok then return self:_fail("writing " .. key, err) end
  local ns = obj.metadata and obj.metadata.namespace or ""
  local set = self.index[ns]
  if not set then
    set = {}
    self.index[ns] = set
    self.ns_dirty = true
  end
  if not set[key] then
    set[key] = true
    self.dirty[ns] = true
  end
end

function SI:_remove(key)
  self.dict:delete(K(self, "o", key))
  local ns = key:find("/", 1, true) and key:match("^([^/]*)/") or ""
  local set = self.index[ns]
  if set and set[key] then
    set[key] = nil
    self.dirty[ns] = true
  end
end

function SI:_flush()
  for ns in pairs(self.dirty) do
    local keys = {}
    for key in pairs(self.index[ns] or {}) do keys[#keys + 1] = key end
    table.sort(keys)
    if #keys == 0 then
      self.dict:delete(K(self, "n", ns))
      self.index[ns] = nil
      self.ns_dirty = true
    else
      local ok, err = self.dict:safe_set(K(self, "n", ns), encode(setmetatable(keys, core.array_mt)))
      if not ok then self:_fail("writing the index of namespace " .. ns, err) end
    end
  end
  self.dirty = {}
  if self.ns_dirty then
    local list = {}
    for ns in pairs(self.index) do list[#list + 1] = ns end
    table.sort(list)
    local ok, err = self.dict:safe_set(K(self, "ns"), encode(setmetatable(list, core.array_mt)))
    if not ok then self:_fail("writing the namespaces", err) end
    self.ns_dirty = false
  end
  self.dict:incr(K(self, "g"), 1, 0)
end

-- Run the informer while this worker holds the lease.
function SI:_lead()
  local k8s = require "k8s"
  local o = self.o
  local cfg = type(o.config) == "function" and o.config() or o.config
  local dc, err = k8s.dynamic.NewForConfig(cfg)
  if not dc then
    ngx.log(ngx.ERR, "k8s.ngx.SharedInformer ", self.name, ": ", tostring(err))
    return
  end
  local rc = dc:Resource(o.resource)
  local lw = (o.namespace and o.namespace ~= "") and rc:Namespace(o.namespace) or rc
  local indexer = cache.NewIndexer(cache.DeletionHandlingMetaNamespaceKeyFunc,
    { [cache.NamespaceIndex] = cache.MetaNamespaceIndexFunc })
  self.index, self.dirty, self.ns_dirty, self.failed = {}, {}, false, false
  -- what the dict holds (a previous leader's cache): the relist diffs against it
  for _, key in ipairs(self:_keys(nil)) do
    local obj = self:_obj(key)
    if obj then
      indexer:Add(obj)
      local ns = obj.metadata.namespace or ""
      self.index[ns] = self.index[ns] or {}
      self.index[ns][key] = true
    end
  end
  local p = cache.NewProcessor(indexer, { now = function() ngx.update_time(); return ngx.now() end })
  local si = self
  p:AddEventHandler({
    OnAdd = function(obj) si:_write(cache.MetaNamespaceKeyFunc(obj), obj) end,
    OnUpdate = function(_, obj) si:_write(cache.MetaNamespaceKeyFunc(obj), obj) end,
    OnDelete = function(obj) si:_remove(cache.DeletionHandlingMetaNamespaceKeyFunc(obj)) end,
  })
  -- flush the indexes after each step of the reflector
  local replace, event = p.Replace, p.OnWatchEvent
  function p.Replace(pp, list, rv)
    local r, e = replace(pp, list, rv)
    si:_flush()
    si.dict:set(K(si, "rv"), rv)
    if not si.failed then si.dict:set(K(si, "s"), true) end
    return r, e
  end
  function p.OnWatchEvent(pp, t, obj)
    local r, e = event(pp, t, obj)
    si:_flush()
    return r, e
  end
  function p.SetResourceVersion(_, rv) si.dict:set(K(si, "rv"), rv) end
  local refl = require("k8s.reflector").new(lw, p, { Name = self.name, TweakListOptions = o.TweakListOptions,
    Log = function(level, msg) ngx.log(level == "error" and ngx.ERR or ngx.INFO, msg) end })
  self.reflector = refl
  refl:Run()
end

--- si:Start(): in every worker (init_worker_by_lua*): one of them runs the
-- informer; the others take over when it exits or dies.
function SI:Start()
  if self.started then return true end
  self.started = true
  local si = self
  local pid = ngx.worker.pid()
  local lease = K(self, "lease")
  local function renew(premature)
    if premature or ngx.worker.exiting() then return end
    if si.dict:get(lease) == pid then
      si.dict:set(lease, pid, si.ttl)
      local ok = ngx.timer.at(si.ttl / 3, renew)
      if not ok and si.reflector then si.reflector:Stop() end
    elseif si.reflector then
      si.reflector:Stop() -- lost the lease
    end
  end
  local function loop(premature)
    if premature then return end
    while not ngx.worker.exiting() do
      if si.dict:add(lease, pid, si.ttl) then
        ngx.timer.at(si.ttl / 3, renew)
        local ok, err = pcall(si._lead, si)
        if not ok then ngx.log(ngx.ERR, "k8s.ngx.SharedInformer ", si.name, ": ", tostring(err)) end
        si.reflector = nil
        if si.dict:get(lease) == pid then si.dict:delete(lease) end
      end
      if ngx.worker.exiting() then break end
      ngx.sleep(math.max(si.ttl / 5, 0.2))
    end
  end
  return ngx.timer.at(0, loop)
end

return M

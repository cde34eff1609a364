--- client-go's tools/cache core, in pure Lua and without I/O: object keys,
-- DeletedFinalStateUnknown, the Indexer (ThreadSafeStore), listers, and the
-- processor that sits between a reflector and event handlers (RealFIFO +
-- processDeltas + sharedProcessor, run synchronously).
--   local cache = require "k8s.cache"
--   local idx = cache.NewIndexer(cache.DeletionHandlingMetaNamespaceKeyFunc,
--                                { [cache.NamespaceIndex] = cache.MetaNamespaceIndexFunc })
--   local p = cache.NewProcessor(idx, { now = os.time })
--   local reg = p:AddEventHandler({ OnAdd = function(obj, isInInitialList) end }, 0)
--   p:Replace(list.items, list.metadata.resourceVersion)   -- the reflector's LIST
--   p:OnWatchEvent("MODIFIED", obj)                        -- each watch event
--   local pods = cache.NewLister(idx, { Group = "", Resource = "pods" })
--   pods:ByNamespace("default"):Get("web")                 --> obj | nil, err (IsNotFound)
-- Objects are decoded JSON tables (metadata.name, .namespace, .labels,
-- .resourceVersion). Invalid arguments raise; runtime failures return
-- `nil, err` where err is a k8s error object (code, reason, message, status,
-- retryAfterSeconds; `tostring(err)` is one line).
-- @module k8s.cache
local labels = require "k8s.labels"

local M = {
  --- Name of the namespace index that generated informers always register.
  NamespaceIndex = "namespace",
}

local ok_core, core = pcall(require, "k8s.core")
if not (ok_core and type(core) == "table") then core = nil end
local array_mt = core and core.array_mt or nil

local errors = require "k8s.errors"
local new_error = errors.New

local function array(t)
  if array_mt then return setmetatable(t or {}, array_mt) end
  return t or {}
end

local function errmsg(err)
  if type(err) == "table" and err.message ~= nil then return tostring(err.message) end
  return tostring(err)
end

-- ---------------------------------------------------------------------------
-- Keys and DeletedFinalStateUnknown

local dfsu_mt = { __name = "k8s.cache.DeletedFinalStateUnknown" }
dfsu_mt.__tostring = function(d) return "DeletedFinalStateUnknown{Key=" .. tostring(d.Key) .. "}" end

--- NewDeletedFinalStateUnknown(key, obj) -> { Key = key, Obj = obj }: the
-- tombstone handed to OnDelete when a relist finds an object gone; obj (the
-- last known state) may be nil.
function M.NewDeletedFinalStateUnknown(key, obj)
  if type(key) ~= "string" then
    error("NewDeletedFinalStateUnknown: key must be a string, got " .. type(key), 2)
  end
  return setmetatable({ Key = key, Obj = obj }, dfsu_mt)
end

--- IsDeletedFinalStateUnknown(x) -> bool: whether x is such a tombstone.
function M.IsDeletedFinalStateUnknown(x)
  return getmetatable(x) == dfsu_mt
end

local function meta_of(obj)
  if type(obj) ~= "table" then return nil end
  local md = obj.metadata
  if type(md) ~= "table" then return nil end
  return md
end

local function str_or_empty(v)
  if type(v) == "string" then return v end
  return ""
end

local function describe(obj)
  if type(obj) ~= "table" then return type(obj) end
  local md = meta_of(obj)
  if md and type(md.name) == "string" then
    return string.format("%s %q", tostring(obj.kind or "object"), md.name)
  end
  return "a table without metadata.name"
end

--- MetaNamespaceKeyFunc(obj) -> "namespace/name", or "name" for an object
-- without a namespace | nil, err. A string (client-go's ExplicitKey) is
-- returned as is.
function M.MetaNamespaceKeyFunc(obj)
  if type(obj) == "string" then return obj end
  local md = meta_of(obj)
  if not md or type(md.name) ~= "string" then
    return nil, new_error("InvalidObject", "object has no meta: expected a table with metadata.name, got " .. describe(obj))
  end
  local ns = str_or_empty(md.namespace)
  if ns ~= "" then return ns .. "/" .. md.name end
  return md.name
end

--- DeletionHandlingMetaNamespaceKeyFunc(obj) -> key | nil, err: the Key of a
-- DeletedFinalStateUnknown, else MetaNamespaceKeyFunc(obj).
function M.DeletionHandlingMetaNamespaceKeyFunc(obj)
  if getmetatable(obj) == dfsu_mt then return obj.Key end
  return M.MetaNamespaceKeyFunc(obj)
end

--- SplitMetaNamespaceKey(key) -> namespace, name ("" namespace for a key
-- without "/") | nil, err ("unexpected key format: ...").
function M.SplitMetaNamespaceKey(key)
  if type(key) ~= "string" then
    error("SplitMetaNamespaceKey: key must be a string, got " .. type(key), 2)
  end
  local ns, name = key:match("^([^/]*)/([^/]*)$")
  if ns then return ns, name end
  if not key:find("/", 1, true) then return "", key end
  return nil, new_error("InvalidKey", string.format("unexpected key format: %q", key))
end

--- MetaNamespaceIndexFunc(obj) -> { namespace } ("" for cluster-scoped
-- objects) | nil, err: the index function of the "namespace" index.
function M.MetaNamespaceIndexFunc(obj)
  local md = meta_of(obj)
  if not md then
    return nil, new_error("InvalidObject", "object has no meta: expected a table with metadata, got " .. describe(obj))
  end
  return { str_or_empty(md.namespace) }
end

-- ---------------------------------------------------------------------------
-- Indexer (client-go's ThreadSafeStore + storeIndex)

local Indexer = {}
local indexer_mt = { __name = "k8s.cache.Indexer", __index = Indexer }

local function check_indexers(indexers, what)
  if indexers == nil then return {} end
  if type(indexers) ~= "table" then
    error(what .. ": indexers must be a table of name -> index function, got " .. type(indexers), 3)
  end
  for name, fn in pairs(indexers) do
    if type(name) ~= "string" or name == "" then
      error(what .. ": indexers: every index name must be a non-empty string, got " .. type(name), 3)
    end
    if type(fn) ~= "function" then
      error(what .. ": indexers: index " .. string.format("%q", name) .. " must be a function, got " .. type(fn), 3)
    end
  end
  return indexers
end

local function sorted_names(map)
  local names = {}
  for name in pairs(map) do names[#names + 1] = name end
  table.sort(names)
  return names
end

--- NewIndexer(keyFunc, indexers) -> indexer. keyFunc(obj) -> key | nil, err
-- (nil: DeletionHandlingMetaNamespaceKeyFunc); indexers: name -> index
-- function (may be nil). An index function fn(obj) returns a list of string
-- values (a single string or nil are accepted too) or nil, err; it may raise.
function M.NewIndexer(keyFunc, indexers)
  if keyFunc ~= nil and type(keyFunc) ~= "function" then
    error("NewIndexer: keyFunc must be a function or nil, got " .. type(keyFunc), 2)
  end
  indexers = check_indexers(indexers, "NewIndexer")
  local self = setmetatable({
    keyFunc = keyFunc or M.DeletionHandlingMetaNamespaceKeyFunc,
    items = {},   -- key -> object
    order = {},   -- keys in insertion order; false marks a removed slot
    pos = {},     -- key -> index in order
    holes = 0,
    indexers = {}, names = {},
    indices = {},  -- index name -> value -> { key -> true }
    counts = {},   -- index name -> value -> number of keys
    keyvals = {},  -- index name -> key -> list of values the key is filed under
  }, indexer_mt)
  for name, fn in pairs(indexers) do
    self.indexers[name] = fn
    self.indices[name], self.counts[name], self.keyvals[name] = {}, {}, {}
  end
  self.names = sorted_names(self.indexers)
  return self
end

--- NewStore(keyFunc) -> an indexer without indexes (client-go's NewStore).
function M.NewStore(keyFunc)
  if keyFunc ~= nil and type(keyFunc) ~= "function" then
    error("NewStore: keyFunc must be a function or nil, got " .. type(keyFunc), 2)
  end
  return M.NewIndexer(keyFunc, nil)
end

--- indexer:KeyOf(obj) -> key | nil, err: the key function of this indexer;
-- a DeletedFinalStateUnknown always gives its Key (whatever the key function),
-- so that a relist's tombstones delete what they name.
function Indexer:KeyOf(obj)
  if getmetatable(obj) == dfsu_mt then return obj.Key end
  local ok, key, err = pcall(self.keyFunc, obj)
  if not ok then err, key = key, nil end
  if type(key) ~= "string" then
    return nil, new_error("KeyError", "couldn't create key for object (" .. describe(obj) .. "): " ..
      (err ~= nil and errmsg(err) or "the key function returned " .. type(key)))
  end
  return key
end

-- The values of index `name` for obj: a list of distinct strings | nil, err.
local function index_values(name, fn, obj, key)
  local ok, res, ferr = pcall(fn, obj)
  local problem
  if not ok then
    problem = "raised: " .. errmsg(res)
  elseif res == nil and ferr ~= nil then
    problem = "failed: " .. errmsg(ferr)
  end
  if not problem then
    if res == nil then return {} end
    if type(res) == "string" then return { res } end
    if type(res) ~= "table" then
      problem = "returned " .. type(res) .. " (expected a list of strings)"
    else
      local out, seen = {}, {}
      for i, v in ipairs(res) do
        if type(v) ~= "string" then
          problem = "returned a non-string value (" .. type(v) .. ") at position " .. i
          break
        end
        if not seen[v] then seen[v] = true; out[#out + 1] = v end
      end
      if not problem then return out end
    end
  end
  return nil, new_error("IndexError", string.format("index function %q %s (object %q)", name, problem, key))
end

-- All index values of obj, by index name | nil, err. Nothing is changed.
local function all_index_values(self, obj, key, names)
  local vals = {}
  for _, name in ipairs(names or self.names) do
    local v, err = index_values(name, self.indexers[name], obj, key)
    if not v then return nil, err end
    vals[name] = v
  end
  return vals
end

local function unfile(self, name, key)
  local kv = self.keyvals[name]
  local old = kv[key]
  if not old then return end
  local index, counts = self.indices[name], self.counts[name]
  for _, v in ipairs(old) do
    local set = index[v]
    if set and set[key] then
      set[key] = nil
      local n = counts[v] - 1
      if n == 0 then index[v], counts[v] = nil, nil else counts[v] = n end
    end
  end
  kv[key] = nil
end

local function file(self, name, key, values)
  local index, counts = self.indices[name], self.counts[name]
  for _, v in ipairs(values) do
    local set = index[v]
    if not set then set = {}; index[v] = set; counts[v] = 0 end
    if not set[key] then set[key] = true; counts[v] = counts[v] + 1 end
  end
  self.keyvals[name][key] = values
end

local function same_values(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

local function reindex(self, key, vals)
  for name, values in pairs(vals) do
    local old = self.keyvals[name][key]
    if not (old and same_values(old, values)) then
      unfile(self, name, key)
      file(self, name, key, values)
    end
  end
end

local function compact(self)
  local order, pos = {}, {}
  for _, k in ipairs(self.order) do
    if k then order[#order + 1] = k; pos[k] = #order end
  end
  self.order, self.pos, self.holes = order, pos, 0
end

local function put(self, key, obj, vals)
  reindex(self, key, vals)
  if self.items[key] == nil then
    local order = self.order
    order[#order + 1] = key
    self.pos[key] = #order
  end
  self.items[key] = obj
end

local function remove(self, key)
  if self.items[key] == nil then return end
  for _, name in ipairs(self.names) do unfile(self, name, key) end
  self.items[key] = nil
  self.order[self.pos[key]] = false
  self.pos[key] = nil
  self.holes = self.holes + 1
  if self.holes > 16 and self.holes * 2 > #self.order then compact(self) end
end

--- indexer:Add(obj) -> true | nil, err. Adds or replaces the object under
-- its key and updates every index. When the key cannot be computed or an
-- index function fails, err names the index and the key and nothing changes.
function Indexer:Add(obj)
  local key, err = self:KeyOf(obj)
  if not key then return nil, err end
  local vals
  vals, err = all_index_values(self, obj, key)
  if not vals then return nil, err end
  put(self, key, obj, vals)
  return true
end

--- indexer:Update(obj) -> true | nil, err (the same as Add: old index
-- values of the key are removed, new ones added).
Indexer.Update = Indexer.Add

--- indexer:Delete(obj) -> true | nil, err (a missing key is no error; a
-- DeletedFinalStateUnknown is deleted by its Key with the default keyFunc).
function Indexer:Delete(obj)
  local key, err = self:KeyOf(obj)
  if not key then return nil, err end
  remove(self, key)
  return true
end

--- indexer:Get(obj) -> stored object, exists | nil, false, err (key error).
function Indexer:Get(obj)
  local key, err = self:KeyOf(obj)
  if not key then return nil, false, err end
  local item = self.items[key]
  return item, item ~= nil
end

--- indexer:GetByKey(key) -> stored object, exists.
function Indexer:GetByKey(key)
  if type(key) ~= "string" then
    error("GetByKey: key must be a string, got " .. type(key), 2)
  end
  local item = self.items[key]
  return item, item ~= nil
end

--- indexer:List() -> list of every stored object, in insertion order.
function Indexer:List()
  local out, items, n = {}, self.items, 0
  for _, k in ipairs(self.order) do
    if k then n = n + 1; out[n] = items[k] end
  end
  return array(out)
end

--- indexer:ListKeys() -> list of every key, in insertion order.
function Indexer:ListKeys()
  local out, n = {}, 0
  for _, k in ipairs(self.order) do
    if k then n = n + 1; out[n] = k end
  end
  return array(out)
end

--- indexer:Len() -> the number of stored objects.
function Indexer:Len()
  return #self.order - self.holes
end

--- indexer:Replace(list, resourceVersion) -> true | nil, err: the store then
-- holds exactly the objects of list (in list order); resourceVersion is
-- accepted for interface parity and not used. On a key or index error
-- nothing changes.
-- Replace's arguments (indexer and processor), raising at the caller's caller.
local function check_replace_args(list, resourceVersion)
  if type(list) ~= "table" then
    error("Replace: list must be a list of objects, got " .. type(list), 3)
  end
  if resourceVersion ~= nil and type(resourceVersion) ~= "string" then
    error("Replace: resourceVersion must be a string or nil, got " .. type(resourceVersion), 3)
  end
end

function Indexer:Replace(list, resourceVersion)
  check_replace_args(list, resourceVersion)
  local keys, vals = {}, {}
  for i, obj in ipairs(list) do
    local key, err = self:KeyOf(obj)
    if not key then return nil, err end
    local v
    v, err = all_index_values(self, obj, key)
    if not v then return nil, err end
    keys[i], vals[i] = key, v
  end
  self.items, self.order, self.pos, self.holes = {}, {}, {}, 0
  for _, name in ipairs(self.names) do
    self.indices[name], self.counts[name], self.keyvals[name] = {}, {}, {}
  end
  for i, obj in ipairs(list) do put(self, keys[i], obj, vals[i]) end
  return true
end

--- indexer:Resync() -> true (a no-op, as client-go's store).
function Indexer:Resync()
  return true
end

local function no_index(name)
  return new_error("IndexNotFound", string.format("Index with name %s does not exist", tostring(name)))
end

local function check_name(name, what)
  if type(name) ~= "string" then
    error(what .. ": indexName must be a string, got " .. type(name), 3)
  end
end

-- Keys of a set, in insertion order of the store.
local function ordered_keys(self, set)
  local keys, pos = {}, self.pos
  for k in pairs(set) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return pos[a] < pos[b] end)
  return keys
end

--- indexer:Index(indexName, obj) -> list of stored objects that share an
-- index value with obj | nil, err ("Index with name X does not exist", or
-- the index function's failure).
function Indexer:Index(indexName, obj)
  check_name(indexName, "Index")
  local fn = self.indexers[indexName]
  if not fn then return nil, no_index(indexName) end
  local key = self:KeyOf(obj) or "?"
  local values, err = index_values(indexName, fn, obj, key)
  if not values then return nil, err end
  local index, union = self.indices[indexName], {}
  for _, v in ipairs(values) do
    for k in pairs(index[v] or {}) do union[k] = true end
  end
  local out = {}
  for i, k in ipairs(ordered_keys(self, union)) do out[i] = self.items[k] end
  return array(out)
end

--- indexer:IndexKeys(indexName, value) -> list of keys filed under value |
-- nil, err (unknown index).
function Indexer:IndexKeys(indexName, value)
  check_name(indexName, "IndexKeys")
  if type(value) ~= "string" then error("IndexKeys: value must be a string, got " .. type(value), 2) end
  if not self.indexers[indexName] then return nil, no_index(indexName) end
  return array(ordered_keys(self, self.indices[indexName][value] or {}))
end

--- indexer:ByIndex(indexName, value) -> list of stored objects filed under
-- value (in insertion order) | nil, err (unknown index).
function Indexer:ByIndex(indexName, value)
  check_name(indexName, "ByIndex")
  if type(value) ~= "string" then error("ByIndex: value must be a string, got " .. type(value), 2) end
  if not self.indexers[indexName] then return nil, no_index(indexName) end
  local out = {}
  for i, k in ipairs(ordered_keys(self, self.indices[indexName][value] or {})) do out[i] = self.items[k] end
  return array(out)
end

--- indexer:ListIndexFuncValues(indexName) -> sorted list of the values that
-- index currently holds (empty for an unknown index, as client-go).
function Indexer:ListIndexFuncValues(indexName)
  check_name(indexName, "ListIndexFuncValues")
  local out = {}
  for v in pairs(self.indices[indexName] or {}) do out[#out + 1] = v end
  table.sort(out)
  return array(out)
end

--- indexer:GetIndexers() -> a copy of the name -> index function table.
function Indexer:GetIndexers()
  local out = {}
  for k, v in pairs(self.indexers) do out[k] = v end
  return out
end

--- indexer:AddIndexers(indexers) -> true | nil, err. Allowed while items are
-- stored: the new indexes are built for them. A name already present gives
-- "indexer conflict: [names]"; an index function failing on a stored object
-- gives its error; in both cases nothing is added.
function Indexer:AddIndexers(indexers)
  if type(indexers) ~= "table" then
    error("AddIndexers: indexers must be a table of name -> index function, got " .. type(indexers), 2)
  end
  check_indexers(indexers, "AddIndexers")
  local conflict = {}
  for name in pairs(indexers) do
    if self.indexers[name] then conflict[#conflict + 1] = name end
  end
  if #conflict > 0 then
    table.sort(conflict)
    return nil, new_error("IndexerConflict", "indexer conflict: [" .. table.concat(conflict, " ") .. "]")
  end
  local names = sorted_names(indexers)
  local computed = {}
  for _, key in ipairs(self:ListKeys()) do
    local vals = {}
    for _, name in ipairs(names) do
      local v, err = index_values(name, indexers[name], self.items[key], key)
      if not v then return nil, err end
      vals[name] = v
    end
    computed[key] = vals
  end
  for _, name in ipairs(names) do
    self.indexers[name] = indexers[name]
    self.indices[name], self.counts[name], self.keyvals[name] = {}, {}, {}
  end
  self.names = sorted_names(self.indexers)
  for key, vals in pairs(computed) do
    for name, values in pairs(vals) do file(self, name, key, values) end
  end
  return true
end

-- ---------------------------------------------------------------------------
-- Listers (client-go's listers/generic_helpers.go and tools/cache/listers.go)

local function not_found(gr, name)
  local qualified = gr.Resource
  if gr.Group ~= "" then qualified = qualified .. "." .. gr.Group end
  local msg = string.format('%s "%s" not found', qualified, name)
  local details = { name = name, kind = gr.Resource }
  if gr.Group ~= "" then details.group = gr.Group end
  local status = {
    kind = "Status", apiVersion = "v1", metadata = {}, status = "Failure",
    message = msg, reason = "NotFound", details = details, code = 404,
  }
  return new_error("NotFound", msg, 404, { status = status })
end

-- nil | "" | string | selector -> selector | nil, err
local function to_selector(selector, what)
  if selector == nil or selector == "" then return labels.Everything() end
  if type(selector) == "string" then return labels.Parse(selector) end
  if labels.IsSelector(selector) then return selector end
  error(what .. ": selector must be a label selector string, a k8s.labels selector or nil, got " ..
    type(selector), 3)
end

local function labels_of(obj)
  local md = meta_of(obj)
  return md and md.labels or nil
end

local function filter(objs, sel)
  if sel:Empty() then return array(objs) end
  local out = {}
  for _, obj in ipairs(objs) do
    if sel:Matches(labels_of(obj)) then out[#out + 1] = obj end
  end
  return array(out)
end

local function by_namespace(indexer, ns)
  if ns == "" then return indexer:List() end
  local ok, objs = pcall(indexer.ByIndex, indexer, M.NamespaceIndex, ns)
  if ok and type(objs) == "table" then return objs end
  -- no namespace index: scan
  local out = {}
  for _, obj in ipairs(indexer:List()) do
    local md = meta_of(obj)
    if md and str_or_empty(md.namespace) == ns then out[#out + 1] = obj end
  end
  return out
end

local Lister = {}
local lister_mt = { __name = "k8s.cache.Lister", __index = Lister }
local NamespaceLister = {}
local nslister_mt = { __name = "k8s.cache.NamespaceLister", __index = NamespaceLister }

--- NewLister(indexer, groupResource) -> lister (client-go's GenericLister).
-- groupResource = { Group = "" (core) | "apps" | ..., Resource = "pods" }
-- names the resource in NotFound errors.
function M.NewLister(indexer, groupResource)
  if type(indexer) ~= "table" or type(indexer.List) ~= "function" or type(indexer.GetByKey) ~= "function" then
    error("NewLister: indexer must be an indexer (with List and GetByKey), got " .. type(indexer), 2)
  end
  if type(groupResource) ~= "table" or type(groupResource.Resource) ~= "string" or groupResource.Resource == "" then
    error("NewLister: groupResource must be a table { Group = ..., Resource = ... } with a non-empty Resource", 2)
  end
  if groupResource.Group ~= nil and type(groupResource.Group) ~= "string" then
    error("NewLister: groupResource.Group must be a string, got " .. type(groupResource.Group), 2)
  end
  return setmetatable({ indexer = indexer,
    gr = { Group = groupResource.Group or "", Resource = groupResource.Resource } }, lister_mt)
end

--- lister:List(selector) -> list of cached objects whose labels match |
-- nil, err (a selector string that does not parse). selector: nil or "" (all
-- objects), a label selector string ("app=web,tier!=db"), or a k8s.labels
-- selector.
function Lister:List(selector)
  local sel, err = to_selector(selector, "List")
  if not sel then return nil, err end
  return filter(self.indexer:List(), sel)
end

--- lister:Get(name) -> obj | nil, err: the cluster-scoped object `name`; a
-- missing one gives a NotFound error (code 404, reason NotFound, message
-- `<resource>[.<group>] "<name>" not found`, status a metav1.Status).
function Lister:Get(name)
  if type(name) ~= "string" then error("Get: name must be a string, got " .. type(name), 2) end
  local obj, exists = self.indexer:GetByKey(name)
  if not exists then return nil, not_found(self.gr, name) end
  return obj
end

--- lister:ByNamespace(namespace) -> a namespace lister with List(selector)
-- and Get(name); namespace "" means all namespaces.
function Lister:ByNamespace(namespace)
  if type(namespace) ~= "string" then
    error("ByNamespace: namespace must be a string, got " .. type(namespace), 2)
  end
  return setmetatable({ indexer = self.indexer, gr = self.gr, namespace = namespace }, nslister_mt)
end

--- nsLister:List(selector) -> the matching objects of this namespace (via
-- the "namespace" index, or a scan when the indexer has none) | nil, err.
function NamespaceLister:List(selector)
  local sel, err = to_selector(selector, "List")
  if not sel then return nil, err end
  return filter(by_namespace(self.indexer, self.namespace), sel)
end

--- nsLister:Get(name) -> obj | nil, err (NotFound as lister:Get).
function NamespaceLister:Get(name)
  if type(name) ~= "string" then error("Get: name must be a string, got " .. type(name), 2) end
  local key = name
  if self.namespace ~= "" then key = self.namespace .. "/" .. name end
  local obj, exists = self.indexer:GetByKey(key)
  if not exists then return nil, not_found(self.gr, name) end
  return obj
end

--- NewNotFound(groupResource, name) -> the NotFound error a lister returns.
function M.NewNotFound(groupResource, name)
  if type(groupResource) ~= "table" or type(groupResource.Resource) ~= "string" then
    error("NewNotFound: groupResource must be a table { Group = ..., Resource = ... }", 2)
  end
  if type(name) ~= "string" then error("NewNotFound: name must be a string, got " .. type(name), 2) end
  return not_found({ Group = groupResource.Group or "", Resource = groupResource.Resource }, name)
end

-- ---------------------------------------------------------------------------
-- Processor: RealFIFO + processDeltas + sharedProcessor, synchronously

local Processor = {}
local processor_mt = { __name = "k8s.cache.Processor", __index = Processor }
local Registration = {}
local registration_mt = { __name = "k8s.cache.ResourceEventHandlerRegistration", __index = Registration }

local MINIMUM_RESYNC_PERIOD = 1

local function default_now()
  if type(ngx) == "table" and type(ngx.now) == "function" then return ngx.now() end
  return os.time()
end

local function log_error(msg)
  if type(ngx) == "table" and type(ngx.log) == "function" then
    ngx.log(ngx.ERR, msg)
  else
    io.stderr:write(msg, "\n")
  end
end

local function traceback(e)
  if type(e) == "string" then return debug.traceback(e, 2) end
  return e
end

--- NewProcessor(indexer, opts) -> processor. opts (all optional):
--   now            function() -> seconds: the clock used for resync periods
--                  (default ngx.now inside nginx, else os.time);
--   OnHandlerError function(err, reg, method, obj): called when a handler
--                  raises (method is "OnAdd", "OnUpdate" or "OnDelete"; err
--                  a string with traceback, or the raised value); default:
--                  written to io.stderr (ngx.log inside nginx);
--   OnError        function(err): an object of a Replace that could not be
--                  stored (an index function failed); default: logged;
--   Transform      function(obj) -> obj | nil, err: applied to every object
--                  from OnWatchEvent and Replace before it is stored;
--   KeyFunc        the key function (default indexer:KeyOf, else
--                  DeletionHandlingMetaNamespaceKeyFunc);
--   Name           a name used in log lines.
function M.NewProcessor(indexer, opts)
  if type(indexer) ~= "table" then
    error("NewProcessor: indexer must be an indexer, got " .. type(indexer), 2)
  end
  for _, m in ipairs({ "Add", "Update", "Delete", "GetByKey", "List", "ListKeys" }) do
    if type(indexer[m]) ~= "function" then
      error("NewProcessor: indexer must be an indexer (it has no " .. m .. " method)", 2)
    end
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("NewProcessor: opts must be a table or nil, got " .. type(opts), 2)
  end
  opts = opts or {}
  for _, f in ipairs({ "now", "OnHandlerError", "OnError", "Transform", "KeyFunc" }) do
    if opts[f] ~= nil and type(opts[f]) ~= "function" then
      error("NewProcessor: opts." .. f .. " must be a function, got " .. type(opts[f]), 2)
    end
  end
  if opts.Name ~= nil and type(opts.Name) ~= "string" then
    error("NewProcessor: opts.Name must be a string, got " .. type(opts.Name), 2)
  end
  local keyOf = opts.KeyFunc
  if not keyOf then
    if type(indexer.KeyOf) == "function" then
      keyOf = function(obj) return indexer:KeyOf(obj) end
    else
      keyOf = M.DeletionHandlingMetaNamespaceKeyFunc
    end
  end
  return setmetatable({
    indexer = indexer,
    keyOf = keyOf,
    now = opts.now or default_now,
    onHandlerError = opts.OnHandlerError,
    onError = opts.OnError,
    transform = opts.Transform,
    name = opts.Name or "informer",
    listeners = {},   -- replaced, never mutated, so that a loop over it is a snapshot
    synced = false,   -- RealFIFO's populated (and, synchronously, initialPopulationCount == 0)
    rv = "",
  }, processor_mt)
end

local function key_of(self, obj)
  local ok, key, err = pcall(self.keyOf, obj)
  if not ok then err, key = key, nil end
  if type(key) ~= "string" then
    if errors.IsError(err) then return nil, err end
    return nil, new_error("KeyError", "couldn't create key for object (" .. describe(obj) .. "): " ..
      (err ~= nil and errmsg(err) or "the key function returned " .. type(key)))
  end
  return key
end

local function transform(self, obj)
  if not self.transform or getmetatable(obj) == dfsu_mt then return obj end
  local ok, res, err = pcall(self.transform, obj)
  if ok and res ~= nil then return res end
  return nil, new_error("TransformError", "transform failed for " .. describe(obj) .. ": " ..
    errmsg(ok and (err or "it returned nil") or res))
end

local function report_processing_error(self, err)
  if self.onError then
    local ok, e = pcall(self.onError, err)
    if ok then return end
    log_error("k8s.cache: " .. self.name .. ": OnError raised: " .. errmsg(e))
  end
  log_error("k8s.cache: " .. self.name .. ": " .. errmsg(err))
end

local function obj_label(obj)
  if getmetatable(obj) == dfsu_mt then return tostring(obj.Key) end
  local k = M.MetaNamespaceKeyFunc(obj)
  return k or describe(obj)
end

local function call(self, reg, method, a, b)
  local fn = reg.handler[method]
  if fn == nil then return end
  local ok, err = xpcall(fn, traceback, a, b)
  if ok then return end
  local obj = method == "OnUpdate" and b or a
  if self.onHandlerError then
    local hok, herr = pcall(self.onHandlerError, err, reg, method, obj)
    if hok then return end
    log_error("k8s.cache: " .. self.name .. ": OnHandlerError raised: " .. errmsg(herr))
  end
  log_error(string.format("k8s.cache: %s: handler %s failed in %s for %q: %s",
    self.name, reg.name or tostring(reg), method, obj_label(obj), errmsg(err)))
end

local function deliver_add(self, reg, obj, isInInitialList)
  if isInInitialList then reg.pending = reg.pending + 1 end
  call(self, reg, "OnAdd", obj, isInInitialList)
  if isInInitialList then reg.pending = reg.pending - 1 end
end

-- sharedProcessor.distribute: non-sync notifications go to every handler,
-- sync ones (same resourceVersion) to handlers chosen by the last resync check.
-- One deliberate difference: client-go's addListener starts a listener as
-- "syncing" (p.listeners[listener] = true) and only shouldResync, which never
-- runs when resync is off, clears it, so there a relist replays unchanged
-- objects to every handler of an informer without resync. Here a handler is
-- syncing only when chosen by a Resync, so a relist never replays unchanged
-- objects to a handler that is not due a resync (the documented contract).
local function distribute(self, method, sync, a, b)
  local ls = self.listeners
  for i = 1, #ls do
    local reg = ls[i]
    if not reg.removed and (not sync or reg.syncing) then
      if method == "OnAdd" then
        deliver_add(self, reg, a, b)
      else
        call(self, reg, method, a, b)
      end
    end
  end
end

local function rv_of(obj)
  local md = meta_of(obj)
  if not md then return nil end
  return str_or_empty(md.resourceVersion)
end

-- processDeltas for Added/Updated/Replaced/Sync: update or add, then notify.
local function upsert(self, key, obj, isInInitialList)
  local old, exists = self.indexer:GetByKey(key)
  if exists then
    local ok, err = self.indexer:Update(obj)
    if not ok then return nil, err end
    local orv, nrv = rv_of(old), rv_of(obj)
    distribute(self, "OnUpdate", orv ~= nil and orv == nrv, old, obj)
  else
    local ok, err = self.indexer:Add(obj)
    if not ok then return nil, err end
    distribute(self, "OnAdd", false, obj, isInInitialList)
  end
  return true
end

-- processDeltas for Deleted.
local function delete(self, obj)
  local ok, err = self.indexer:Delete(obj)
  if not ok then return nil, err end
  distribute(self, "OnDelete", false, obj)
  return true
end

local event_types = { ADDED = true, MODIFIED = true, DELETED = true }

--- p:OnWatchEvent(type, obj) -> true | nil, err. type is "ADDED",
-- "MODIFIED" or "DELETED" ("BOOKMARK" is ignored: pass its RV to
-- SetResourceVersion). ADDED/MODIFIED update the indexer and call OnUpdate
-- (old, new) when the key is cached, else add it and call OnAdd(obj, false);
-- DELETED removes the key and calls OnDelete(obj), as client-go's RealFIFO,
-- even for a key that was not cached. err (key, transform or index failure)
-- means the event changed nothing and no handler was called.
function Processor:OnWatchEvent(eventType, obj)
  if eventType == "BOOKMARK" then return true end
  if not event_types[eventType] then
    error("OnWatchEvent: type must be ADDED, MODIFIED or DELETED, got " .. tostring(eventType), 2)
  end
  if type(obj) ~= "table" then
    error("OnWatchEvent: obj must be a table, got " .. type(obj), 2)
  end
  local err
  obj, err = transform(self, obj)
  if not obj then return nil, err end
  local key
  key, err = key_of(self, obj)
  if not key then return nil, err end
  self.synced = true -- an Add/Update/Delete before any Replace marks the queue populated
  if eventType == "DELETED" then return delete(self, obj) end
  return upsert(self, key, obj, false)
end

--- p:Replace(list, resourceVersion) -> true | nil, err: the result of a
-- LIST (or a WatchList's initial events), as RealFIFO.Replace then
-- processDeltas: first every cached key absent from list gets OnDelete(
-- DeletedFinalStateUnknown{ Key, Obj = cached object }), then each item in
-- list order is an update (OnUpdate(old, new) to every handler; when old and
-- new have the same resourceVersion only to handlers due a resync) or an add
-- (OnAdd(obj, isInInitialList), true only during the first Replace). After
-- it HasSynced() is true and LastSyncResourceVersion() is resourceVersion.
-- err (a key or transform failure) means nothing changed; an object that
-- fails an index function is skipped and reported to opts.OnError.
function Processor:Replace(list, resourceVersion)
  check_replace_args(list, resourceVersion)
  local objs, keys, present = {}, {}, {}
  for i, item in ipairs(list) do
    local obj, err = transform(self, item)
    if not obj then return nil, err end
    local key
    key, err = key_of(self, obj)
    if not key then return nil, err end
    objs[i], keys[i], present[key] = obj, key, true
  end
  local indexer = self.indexer
  for _, k in ipairs(indexer:ListKeys()) do
    if not present[k] then
      local old, exists = indexer:GetByKey(k)
      local ok, err = delete(self, M.NewDeletedFinalStateUnknown(k, exists and old or nil))
      if not ok then report_processing_error(self, err) end
    end
  end
  local initial = not self.synced
  for i = 1, #objs do
    local ok, err = upsert(self, keys[i], objs[i], initial)
    if not ok then report_processing_error(self, err) end
  end
  self.synced = true
  if resourceVersion ~= nil then self.rv = resourceVersion end
  return true
end

-- sharedProcessor.shouldResync: choose the handlers due now.
local function should_resync(self)
  local now, any = self.now(), false
  for _, reg in ipairs(self.listeners) do
    local due = reg.period > 0 and now >= reg.nextResync
    reg.syncing = due
    if due then
      any = true
      reg.nextResync = now + reg.period
    end
  end
  return any
end

--- p:Resync() -> bool: the periodic resync. Handlers whose resync period has
-- elapsed (by opts.now) are chosen and get OnUpdate(o, o) for every cached
-- object; no API call is involved. Returns whether any handler was due. The
-- chosen handlers also receive same-resourceVersion updates of a Replace
-- until the next Resync.
function Processor:Resync()
  if not should_resync(self) then return false end
  for _, obj in ipairs(self.indexer:List()) do
    distribute(self, "OnUpdate", true, obj, obj)
  end
  return true
end

--- p:NextResyncAt() -> the earliest time (opts.now clock) a handler is due
-- a resync, or nil when no handler has a resync period.
function Processor:NextResyncAt()
  local t
  for _, reg in ipairs(self.listeners) do
    if reg.period > 0 and (t == nil or reg.nextResync < t) then t = reg.nextResync end
  end
  return t
end

--- p:AddEventHandler(handler, resyncPeriod) -> registration.
-- handler: a table with optional OnAdd(obj, isInInitialList),
-- OnUpdate(old, new), OnDelete(obj) functions (called without self) and an
-- optional Name used in error reports. resyncPeriod: seconds, 0 or nil =
-- never, below 1 raised to 1. Handlers are called in registration order. A
-- handler added while objects are cached gets OnAdd(obj, true) for each
-- before this returns.
function Processor:AddEventHandler(handler, resyncPeriod)
  if type(handler) ~= "table" then
    error("AddEventHandler: handler must be a table with OnAdd/OnUpdate/OnDelete functions, got " .. type(handler), 2)
  end
  for _, m in ipairs({ "OnAdd", "OnUpdate", "OnDelete" }) do
    if handler[m] ~= nil and type(handler[m]) ~= "function" then
      error("AddEventHandler: handler." .. m .. " must be a function, got " .. type(handler[m]), 2)
    end
  end
  if resyncPeriod ~= nil and (type(resyncPeriod) ~= "number" or resyncPeriod < 0 or resyncPeriod ~= resyncPeriod) then
    error("AddEventHandler: resyncPeriod must be a number of seconds >= 0, got " .. tostring(resyncPeriod), 2)
  end
  local period = resyncPeriod or 0
  if period > 0 and period < MINIMUM_RESYNC_PERIOD then period = MINIMUM_RESYNC_PERIOD end
  local reg = setmetatable({
    processor = self, handler = handler,
    name = type(handler.Name) == "string" and handler.Name or nil,
    period = period, nextResync = self.now() + period,
    syncing = false, pending = 0, removed = false,
  }, registration_mt)
  local ls = {}
  for i, r in ipairs(self.listeners) do ls[i] = r end
  ls[#ls + 1] = reg
  self.listeners = ls
  local items = self.indexer:List()
  reg.pending = reg.pending + #items
  for _, obj in ipairs(items) do
    reg.pending = reg.pending - 1
    if not reg.removed then deliver_add(self, reg, obj, true) end
  end
  return reg
end

--- p:RemoveEventHandler(reg) -> true: the handler gets no further calls
-- (removing twice, or a registration of another processor, does nothing).
function Processor:RemoveEventHandler(reg)
  if getmetatable(reg) ~= registration_mt then
    error("RemoveEventHandler: reg must be a registration returned by AddEventHandler, got " .. type(reg), 2)
  end
  if reg.processor ~= self or reg.removed then return true end
  reg.removed = true
  local ls = {}
  for _, r in ipairs(self.listeners) do
    if r ~= reg then ls[#ls + 1] = r end
  end
  self.listeners = ls
  return true
end

--- p:HasSynced() -> bool: the first Replace (initial list) has been stored.
function Processor:HasSynced()
  return self.synced
end

--- p:LastSyncResourceVersion() -> the last resourceVersion given to Replace
-- or SetResourceVersion ("" before any).
function Processor:LastSyncResourceVersion()
  return self.rv
end

--- p:SetResourceVersion(rv): record the resourceVersion of the latest event
-- (the reflector calls this after every event, bookmarks included).
function Processor:SetResourceVersion(rv)
  if type(rv) ~= "string" then
    error("SetResourceVersion: rv must be a string, got " .. type(rv), 2)
  end
  self.rv = rv
end

--- p:GetIndexer() -> the indexer this processor feeds.
function Processor:GetIndexer()
  return self.indexer
end

--- reg:HasSynced() -> bool: the processor has synced and this handler has
-- returned from every OnAdd(obj, true) it was due.
function Registration:HasSynced()
  return self.processor.synced and self.pending == 0
end

--- reg:Name() -> the handler's Name, or nil.
function Registration:Name()
  return self.name
end

return M

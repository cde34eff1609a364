-- k8s.cache and k8s.labels (client-go's tools/cache core and apimachinery's
-- label selectors): keys, DeletedFinalStateUnknown, the indexer, listers,
-- label selector parsing and matching, and the processor between a reflector
-- and event handlers. Pure Lua: no control plane is needed.
local cache = require "k8s.cache"
local labels = require "k8s.labels"
local errors = require "k8s.errors"
local core = require "k8s.core"

local interp = jit and "luajit" or _VERSION

local function pod(ns, name, rv, lbls, extra)
  local o = { kind = "Pod", metadata = { name = name, namespace = ns, resourceVersion = rv or "1", labels = lbls } }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function node(name, rv, lbls)
  return { kind = "Node", metadata = { name = name, resourceVersion = rv or "1", labels = lbls } }
end

local function names(list)
  local out = {}
  for i, o in ipairs(list) do out[i] = o.metadata.name end
  return out
end

local function sorted(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c
end

local function new_indexer(extra)
  local idx = { [cache.NamespaceIndex] = cache.MetaNamespaceIndexFunc }
  for k, v in pairs(extra or {}) do idx[k] = v end
  return cache.NewIndexer(cache.DeletionHandlingMetaNamespaceKeyFunc, idx)
end

-- A handler that records every call as a flat event, in order, into `log`.
local function recorder(log, tag)
  return {
    Name = tag,
    OnAdd = function(obj, initial)
      log[#log + 1] = { tag = tag, ev = "add", name = obj.metadata.name, initial = initial, obj = obj }
    end,
    OnUpdate = function(old, new)
      log[#log + 1] = { tag = tag, ev = "update", name = new.metadata.name, old = old, new = new }
    end,
    OnDelete = function(obj)
      local name = cache.IsDeletedFinalStateUnknown(obj) and ("dfsu:" .. obj.Key) or obj.metadata.name
      log[#log + 1] = { tag = tag, ev = "delete", name = name, obj = obj }
    end,
  }
end

local function summary(log)
  local out = {}
  for i, e in ipairs(log) do
    local s = (e.tag and (e.tag .. ":") or "") .. e.ev .. ":" .. e.name
    if e.ev == "add" then s = s .. ":" .. tostring(e.initial) end
    out[i] = s
  end
  return out
end

describe("k8s.cache keys (" .. interp .. ")", function()
  it("MetaNamespaceKeyFunc gives ns/name or name, and an error without metadata", function()
    assert.equal("default/web", cache.MetaNamespaceKeyFunc(pod("default", "web")))
    assert.equal("node-1", cache.MetaNamespaceKeyFunc(node("node-1")))
    assert.equal("n1", cache.MetaNamespaceKeyFunc({ metadata = { name = "n1", namespace = "" } }))
    assert.equal("n1", cache.MetaNamespaceKeyFunc({ metadata = { name = "n1", namespace = core.null } }))
    assert.equal("explicit/key", cache.MetaNamespaceKeyFunc("explicit/key"))
    local key, err = cache.MetaNamespaceKeyFunc({ spec = {} })
    assert.is_nil(key)
    assert.matches("object has no meta", err.message)
    assert.is_nil((cache.MetaNamespaceKeyFunc(42)))
  end)

  it("SplitMetaNamespaceKey splits 1 or 2 parts and rejects more", function()
    local ns, name = cache.SplitMetaNamespaceKey("default/web")
    assert.equal("default", ns); assert.equal("web", name)
    ns, name = cache.SplitMetaNamespaceKey("node-1")
    assert.equal("", ns); assert.equal("node-1", name)
    local a, err = cache.SplitMetaNamespaceKey("a/b/c")
    assert.is_nil(a)
    assert.equal('unexpected key format: "a/b/c"', err.message)
    assert.has_error(function() cache.SplitMetaNamespaceKey(nil) end,
      "SplitMetaNamespaceKey: key must be a string, got nil")
  end)

  it("DeletedFinalStateUnknown is { Key, Obj } and DeletionHandlingMetaNamespaceKeyFunc reads Key", function()
    local last = pod("ns", "gone")
    local d = cache.NewDeletedFinalStateUnknown("ns/gone", last)
    assert.equal("ns/gone", d.Key)
    assert.equal(last, d.Obj)
    assert.is_true(cache.IsDeletedFinalStateUnknown(d))
    assert.is_false(cache.IsDeletedFinalStateUnknown({ Key = "ns/gone" }))
    assert.is_false(cache.IsDeletedFinalStateUnknown(last))
    assert.equal("ns/gone", cache.DeletionHandlingMetaNamespaceKeyFunc(d))
    assert.equal("ns/x", cache.DeletionHandlingMetaNamespaceKeyFunc(pod("ns", "x")))
    local nilobj = cache.NewDeletedFinalStateUnknown("k", nil)
    assert.is_nil(nilobj.Obj)
    assert.has_error(function() cache.NewDeletedFinalStateUnknown(nil, last) end)
  end)

  it("MetaNamespaceIndexFunc gives { namespace } and NamespaceIndex is \"namespace\"", function()
    assert.same({ "ns" }, cache.MetaNamespaceIndexFunc(pod("ns", "a")))
    assert.same({ "" }, cache.MetaNamespaceIndexFunc(node("n")))
    assert.equal("namespace", cache.NamespaceIndex)
  end)
end)

describe("k8s.cache indexer (" .. interp .. ")", function()
  it("adds, updates, gets, lists and deletes by key", function()
    local idx = new_indexer()
    local a, b = pod("ns1", "a"), pod("ns2", "b")
    assert.is_true(idx:Add(a))
    assert.is_true(idx:Add(b))
    local got, exists = idx:Get(pod("ns1", "a"))
    assert.equal(a, got); assert.is_true(exists)
    got, exists = idx:GetByKey("ns2/b")
    assert.equal(b, got); assert.is_true(exists)
    got, exists = idx:GetByKey("ns2/zzz")
    assert.is_nil(got); assert.is_false(exists)
    assert.same({ "ns1/a", "ns2/b" }, idx:ListKeys())
    assert.same({ "a", "b" }, names(idx:List()))
    assert.equal(2, idx:Len())
    local a2 = pod("ns1", "a", "2")
    assert.is_true(idx:Update(a2))
    assert.equal(a2, (idx:GetByKey("ns1/a")))
    assert.same({ "ns1/a", "ns2/b" }, idx:ListKeys())
    assert.is_true(idx:Delete(a2))
    assert.is_true(idx:Delete(pod("nope", "nope")))
    assert.same({ "ns2/b" }, idx:ListKeys())
    assert.same({}, idx:ByIndex("namespace", "ns1"))
    assert.same({ "b" }, names(idx:ByIndex("namespace", "ns2")))
    -- a DeletedFinalStateUnknown deletes by its Key
    assert.is_true(idx:Delete(cache.NewDeletedFinalStateUnknown("ns2/b", nil)))
    assert.equal(0, idx:Len())
    assert.same({}, idx:ListIndexFuncValues("namespace"))
  end)

  it("returns a key error for an object without metadata and changes nothing", function()
    local idx = new_indexer()
    local ok, err = idx:Add({ spec = {} })
    assert.is_nil(ok)
    assert.matches("couldn't create key for object", err.message)
    assert.matches("object has no meta", err.message)
    local obj, exists, gerr = idx:Get({})
    assert.is_nil(obj); assert.is_false(exists); assert.is_not_nil(gerr)
    assert.equal(0, idx:Len())
  end)

  it("keeps list order stable through many deletes", function()
    local idx = new_indexer()
    for i = 1, 100 do assert(idx:Add(pod("ns", "p" .. i))) end
    for i = 1, 100 do if i % 3 ~= 0 then assert(idx:Delete(pod("ns", "p" .. i))) end end
    local want = {}
    for i = 3, 99, 3 do want[#want + 1] = "p" .. i end
    assert.same(want, names(idx:List()))
    assert.same(want, names(idx:ByIndex("namespace", "ns")))
    assert.equal(#want, idx:Len())
  end)

  it("supports multi-value index functions and moves values on update", function()
    local byContainer = function(obj)
      local out = {}
      for _, c in ipairs(obj.spec.containers) do out[#out + 1] = c.image end
      return out
    end
    local idx = new_indexer({ byImage = byContainer })
    local a = pod("ns", "a", "1", nil, { spec = { containers = { { image = "nginx" }, { image = "redis" } } } })
    local b = pod("ns", "b", "1", nil, { spec = { containers = { { image = "redis" }, { image = "redis" } } } })
    assert(idx:Add(a)); assert(idx:Add(b))
    assert.same({ "nginx", "redis" }, idx:ListIndexFuncValues("byImage"))
    assert.same({ "a" }, names(idx:ByIndex("byImage", "nginx")))
    assert.same({ "a", "b" }, names(idx:ByIndex("byImage", "redis")))
    assert.same({ "ns/a", "ns/b" }, idx:IndexKeys("byImage", "redis"))
    -- Index(name, obj): every object sharing any value with obj
    local probe = pod("ns", "probe", "1", nil, { spec = { containers = { { image = "nginx" } } } })
    assert.same({ "a" }, names(idx:Index("byImage", probe)))
    local probe2 = pod("ns", "probe", "1", nil, { spec = { containers = { { image = "nginx" }, { image = "redis" } } } })
    assert.same({ "a", "b" }, names(idx:Index("byImage", probe2)))
    -- update a: nginx,redis -> busybox
    local a2 = pod("ns", "a", "2", nil, { spec = { containers = { { image = "busybox" } } } })
    assert(idx:Update(a2))
    assert.same({ "busybox", "redis" }, idx:ListIndexFuncValues("byImage"))
    assert.same({}, idx:ByIndex("byImage", "nginx"))
    assert.same({ "b" }, names(idx:ByIndex("byImage", "redis")))
    assert.equal(a2, idx:ByIndex("byImage", "busybox")[1])
    assert(idx:Delete(b))
    assert.same({ "busybox" }, idx:ListIndexFuncValues("byImage"))
  end)

  it("accepts a single string or nil from an index function", function()
    local idx = new_indexer({ byNode = function(obj) return obj.spec and obj.spec.nodeName end })
    assert(idx:Add(pod("ns", "a", "1", nil, { spec = { nodeName = "n1" } })))
    assert(idx:Add(pod("ns", "b", "1", nil, { spec = {} })))
    assert.same({ "n1" }, idx:ListIndexFuncValues("byNode"))
    assert.same({ "a" }, names(idx:ByIndex("byNode", "n1")))
  end)

  it("reports an unknown index as `Index with name X does not exist`", function()
    local idx = new_indexer()
    assert(idx:Add(pod("ns", "a")))
    for _, call in ipairs({
      function() return idx:ByIndex("nope", "x") end,
      function() return idx:IndexKeys("nope", "x") end,
      function() return idx:Index("nope", pod("ns", "a")) end,
    }) do
      local res, err = call()
      assert.is_nil(res)
      assert.equal("Index with name nope does not exist", err.message)
    end
    assert.same({}, idx:ListIndexFuncValues("nope"))
  end)

  it("AddIndexers builds indexes for stored items and refuses a conflicting name", function()
    local idx = new_indexer()
    assert(idx:Add(pod("ns", "a", "1", { app = "web" })))
    assert(idx:Add(pod("ns", "b", "1", { app = "db" })))
    assert.is_true(idx:AddIndexers({ byApp = function(o) return { o.metadata.labels.app } end }))
    assert.same({ "a" }, names(idx:ByIndex("byApp", "web")))
    assert.same({ "db", "web" }, idx:ListIndexFuncValues("byApp"))
    assert(idx:Add(pod("ns", "c", "1", { app = "web" })))
    assert.same({ "a", "c" }, names(idx:ByIndex("byApp", "web")))
    local ok, err = idx:AddIndexers({ byApp = function() return {} end, other = function() return {} end })
    assert.is_nil(ok)
    assert.equal("indexer conflict: [byApp]", err.message)
    assert.is_nil(idx:GetIndexers().other) -- nothing was added
    local names_ = {}
    for k in pairs(idx:GetIndexers()) do names_[#names_ + 1] = k end
    assert.same({ "byApp", "namespace" }, sorted(names_))
    assert.has_error(function() idx:AddIndexers({ bad = "not a function" }) end)
  end)

  it("AddIndexers whose function fails on a stored item adds nothing", function()
    local idx = new_indexer()
    assert(idx:Add(pod("ns", "a")))
    local ok, err = idx:AddIndexers({ broken = function(o) return { o.spec.nodeName } end })
    assert.is_nil(ok)
    assert.matches('index function "broken" raised', err.message)
    assert.matches('"ns/a"', err.message)
    assert.is_nil(idx:GetIndexers().broken)
  end)

  it("a raising index function gives nil, err naming the index and key; the store stays consistent", function()
    local idx = new_indexer({ byNode = function(o) return { o.spec.nodeName } end })
    local good = pod("ns", "a", "1", nil, { spec = { nodeName = "n1" } })
    assert(idx:Add(good))
    -- update that raises: the old object and its index entries stay
    local ok, err = idx:Update(pod("ns", "a", "2"))
    assert.is_nil(ok)
    assert.equal("IndexError", err.reason)
    assert.matches('index function "byNode" raised', err.message)
    assert.matches('"ns/a"', err.message)
    assert.equal(good, (idx:GetByKey("ns/a")))
    assert.same({ "a" }, names(idx:ByIndex("byNode", "n1")))
    assert.same({ "a" }, names(idx:ByIndex("namespace", "ns")))
    -- add that raises: nothing is stored
    ok, err = idx:Add(pod("ns", "b"))
    assert.is_nil(ok)
    assert.matches('"ns/b"', err.message)
    assert.same({ "ns/a" }, idx:ListKeys())
    assert.same({ "ns" }, idx:ListIndexFuncValues("namespace"))
    -- an index function returning nil, err, or non-strings, is an error too
    local idx2 = new_indexer({ f = function() return nil, "no node" end })
    ok, err = idx2:Add(pod("ns", "c"))
    assert.is_nil(ok)
    assert.matches('index function "f" failed: no node', err.message)
    local idx3 = new_indexer({ g = function() return { 1 } end })
    ok, err = idx3:Add(pod("ns", "c"))
    assert.is_nil(ok)
    assert.matches("non%-string", err.message)
  end)

  it("Replace swaps the whole content in list order and keeps the old one on error", function()
    local idx = new_indexer({ byNode = function(o) return { o.spec.nodeName } end })
    assert(idx:Add(pod("ns", "old", "1", nil, { spec = { nodeName = "n0" } })))
    assert.is_true(idx:Replace({
      pod("ns", "z", "1", nil, { spec = { nodeName = "n1" } }),
      pod("other", "y", "1", nil, { spec = { nodeName = "n1" } }),
    }, "10"))
    assert.same({ "ns/z", "other/y" }, idx:ListKeys())
    assert.same({ "n1" }, idx:ListIndexFuncValues("byNode"))
    assert.same({ "z", "y" }, names(idx:ByIndex("byNode", "n1")))
    local ok, err = idx:Replace({ pod("ns", "q"), { nometa = true } }, "11")
    assert.is_nil(ok); assert.is_not_nil(err)
    ok, err = idx:Replace({ pod("ns", "q") }, "11") -- no spec: byNode raises
    assert.is_nil(ok); assert.matches("byNode", err.message)
    assert.same({ "ns/z", "other/y" }, idx:ListKeys())
  end)

  it("raises on invalid arguments, naming them", function()
    assert.has_error(function() cache.NewIndexer("x") end, "NewIndexer: keyFunc must be a function or nil, got string")
    assert.has_error(function() cache.NewIndexer(nil, { a = 1 }) end)
    local idx = new_indexer()
    assert.has_error(function() idx:GetByKey(1) end, "GetByKey: key must be a string, got number")
    assert.has_error(function() idx:ByIndex("namespace", nil) end)
    assert.has_error(function() idx:Replace("x") end)
  end)
end)

describe("k8s.labels (" .. interp .. ")", function()
  local accepted = {
    { "", "" },
    { "   ", "" },
    { "app=web", "app=web" },
    { "app==web", "app==web" },
    { "app!=web", "app!=web" },
    { "  tier != db ,  app = web ", "app=web,tier!=db" },
    { "env in (prod, staging)", "env in (prod,staging)" },
    { "env notin (b,a)", "env notin (a,b)" },
    { "env in (x)", "env in (x)" },
    { "app", "app" },
    { "!canary", "!canary" },
    { "! canary", "!canary" },
    { "app=", "app=" },
    { "app in ()", "app in ()" },
    { "app in (,a)", "app in (,a)" },
    { "example.com/role=x", "example.com/role=x" },
    { "k8s.io/app.name_x-y=A.b_c-9", "k8s.io/app.name_x-y=A.b_c-9" },
    { "replicas>2", "replicas>2" },
    { "replicas<10", "replicas<10" },
    { "b=1,a=2", "a=2,b=1" },
    { "in in (in,notin)", "in in (in,notin)" },
    { string.rep("k", 63) .. "=" .. string.rep("v", 63), string.rep("k", 63) .. "=" .. string.rep("v", 63) },
  }
  for _, case in ipairs(accepted) do
    it("parses " .. string.format("%q", case[1]), function()
      local sel, err = labels.Parse(case[1])
      assert.is_nil(err)
      assert.equal(case[2], sel:String())
      -- the canonical form parses to itself
      assert.equal(case[2], assert(labels.Parse(sel:String())):String())
    end)
  end

  local rejected = {
    { "app=web,", "identifier after ','" },
    { ",app", "found ','" },
    { "app=web=x", "expected: ',' or 'end of string'" },
    { "app in web", "expected: '('" },
    { "app in (a b)", "expected: ',' or ')'" },
    { "app in (a", "expected: ',' or ')'" },
    { "!app=web", "expected: ',' or 'end of string'" },
    { "app web", "found 'web'" },
    { "-app=x", "invalid label key" },
    { "Example.com/a=b", "prefix part" },
    { "/a=b", "prefix part must be non-empty" },
    { "a/=b", "name part must be non-empty" },
    { "a/b/c=d", "qualified name" },
    { string.rep("k", 64) .. "=v", "no more than 63" },
    { "app=" .. string.rep("v", 64), "no more than 63" },
    { "app=-web", "invalid label value" },
    { "app=web-", "invalid label value" },
    { "app in (ok,bad_)", "invalid label value" },
    { "replicas>two", "must be an integer" },
    { "replicas<", "must be an integer" },
    { "app=w@b", "invalid label value" },
    { "a!", "found '!'" },
  }
  for _, case in ipairs(rejected) do
    it("rejects " .. string.format("%q", case[1]), function()
      local sel, err = labels.Parse(case[1])
      assert.is_nil(sel)
      assert.equal("InvalidSelector", err.reason)
      local prefix = string.format("unable to parse label selector %q: at position ", case[1])
      assert.equal(prefix, err.message:sub(1, #prefix))
      assert.matches("^%d+: ", err.message:sub(#prefix + 1))
      assert.is_truthy(err.message:find(case[2], 1, true), err.message)
      assert.matches("^k8s: InvalidSelector: ", tostring(err))
    end)
  end

  it("names the position of the problem", function()
    local _, err = labels.Parse("app=web,tier in (a b)")
    assert.matches("at position 20: found 'b'", err.message)
    _, err = labels.Parse("app=web,,x")
    assert.matches("at position 9: found ','", err.message)
  end)

  it("matches label sets as apimachinery does", function()
    local function m(sel, ls) return assert(labels.Parse(sel)):Matches(ls) end
    local ls = { app = "web", tier = "frontend", replicas = "3" }
    assert.is_true(m("app=web", ls))
    assert.is_true(m("app==web", ls))
    assert.is_false(m("app=db", ls))
    assert.is_false(m("missing=x", ls))
    assert.is_true(m("app!=db", ls))
    assert.is_true(m("missing!=x", ls)) -- absent keys satisfy != and notin
    assert.is_false(m("app!=web", ls))
    assert.is_true(m("tier in (frontend,backend)", ls))
    assert.is_false(m("tier in (backend)", ls))
    assert.is_false(m("missing in (x)", ls))
    assert.is_true(m("tier notin (backend)", ls))
    assert.is_true(m("missing notin (x)", ls))
    assert.is_false(m("tier notin (frontend)", ls))
    assert.is_true(m("app", ls))
    assert.is_false(m("missing", ls))
    assert.is_true(m("!missing", ls))
    assert.is_false(m("!app", ls))
    assert.is_true(m("replicas>2", ls))
    assert.is_false(m("replicas>3", ls))
    assert.is_true(m("replicas<4", ls))
    assert.is_false(m("app>1", ls)) -- not an integer
    assert.is_false(m("missing<5", ls))
    assert.is_true(m("app=web,tier!=db,!canary", ls))
    assert.is_false(m("app=web,canary", ls))
    assert.is_true(m("app=", { app = "" }))
    assert.is_true(m("app in ()", { app = "" }))
    assert.is_true(m("", nil))
    assert.is_true(m("!app", nil))
    assert.is_false(m("app", nil))
    assert.is_true(m("!app", core.null))
  end)

  it("Everything, Nothing and SelectorFromSet", function()
    assert.is_true(labels.Everything():Empty())
    assert.is_true(labels.Everything():Matches({ a = "b" }))
    assert.is_true(labels.Everything():Matches(nil))
    assert.equal("", labels.Everything():String())
    assert.is_false(labels.Nothing():Empty())
    assert.is_false(labels.Nothing():Matches({}))
    assert.is_true(labels.Parse(""):Empty())
    assert.is_false(labels.Parse("a"):Empty())
    local sel = labels.SelectorFromSet({ tier = "db", app = "web" })
    assert.equal("app=web,tier=db", sel:String())
    assert.equal("app=web,tier=db", tostring(sel))
    assert.is_true(sel:Matches({ app = "web", tier = "db", x = "y" }))
    assert.is_false(sel:Matches({ app = "web" }))
    assert.is_true(labels.SelectorFromSet({}):Empty())
    assert.is_true(labels.SelectorFromSet(nil):Empty())
    assert.is_true(labels.IsSelector(sel))
    assert.is_false(labels.IsSelector("app=web"))
    assert.same({ { Key = "app", Operator = "=", Values = { "web" } }, { Key = "tier", Operator = "=", Values = { "db" } } },
      sel:Requirements())
    local bad, err = labels.ValidatedSelectorFromSet({ app = "-x" })
    assert.is_nil(bad); assert.matches("invalid label value", err.message)
    assert.is_truthy(labels.ValidatedSelectorFromSet({ app = "x" }))
    assert.has_error(function() labels.SelectorFromSet({ app = 1 }) end)
    assert.has_error(function() labels.Parse(nil) end, "labels.Parse: selector must be a string, got nil")
  end)
end)

describe("k8s.cache listers (" .. interp .. ")", function()
  local idx, pods, nodes
  before_each(function()
    idx = new_indexer()
    assert(idx:Replace({
      pod("ns1", "web-1", "1", { app = "web", tier = "frontend" }),
      pod("ns1", "db-1", "1", { app = "db", tier = "db" }),
      pod("ns2", "web-2", "1", { app = "web", tier = "frontend" }),
      pod("ns2", "nolabels", "1"),
    }, "5"))
    pods = cache.NewLister(idx, { Group = "", Resource = "pods" })
    local nidx = new_indexer()
    assert(nidx:Add(node("node-a", "1", { zone = "a" })))
    assert(nidx:Add(node("node-b", "1", { zone = "b" })))
    nodes = cache.NewLister(nidx, { Group = "", Resource = "nodes" })
  end)

  it("List with nil, \"\", a string or a selector object", function()
    assert.same({ "web-1", "db-1", "web-2", "nolabels" }, names(pods:List()))
    assert.same({ "web-1", "db-1", "web-2", "nolabels" }, names(pods:List("")))
    assert.same({ "web-1", "web-2" }, names(pods:List("app=web")))
    assert.same({ "web-1", "web-2", "nolabels" }, names(pods:List("tier!=db")))
    assert.same({ "web-1", "web-2" }, names(pods:List("app=web,tier!=db")))
    assert.same({ "db-1" }, names(pods:List("app in (db,cache)")))
    assert.same({ "nolabels" }, names(pods:List("!app")))
    assert.same({ "web-1", "web-2" }, names(pods:List(labels.SelectorFromSet({ app = "web" }))))
    assert.same({ "web-1", "db-1", "web-2", "nolabels" }, names(pods:List(labels.Everything())))
  end)

  it("List with labels.Nothing() gives nothing and a bad selector gives nil, err", function()
    assert.same({}, pods:List(labels.Nothing()))
    local list, err = pods:List("app=web,")
    assert.is_nil(list)
    assert.equal("InvalidSelector", err.reason)
    assert.matches('unable to parse label selector "app=web,"', err.message)
    assert.has_error(function() pods:List(42) end)
  end)

  it("ByNamespace lists one namespace (\"\" = all) and gets by name", function()
    assert.same({ "web-1", "db-1" }, names(pods:ByNamespace("ns1"):List()))
    assert.same({ "web-1" }, names(pods:ByNamespace("ns1"):List("app=web")))
    assert.same({ "web-2" }, names(pods:ByNamespace("ns2"):List(labels.SelectorFromSet({ app = "web" }))))
    assert.same({}, names(pods:ByNamespace("empty"):List()))
    assert.same({ "web-1", "db-1", "web-2", "nolabels" }, names(pods:ByNamespace(""):List()))
    local p = assert(pods:ByNamespace("ns2"):Get("web-2"))
    assert.equal("web-2", p.metadata.name)
    local list, err = pods:ByNamespace("ns1"):List("a in b")
    assert.is_nil(list); assert.is_not_nil(err)
  end)

  it("ByNamespace scans when there is no namespace index", function()
    local plain = cache.NewIndexer(nil, nil)
    assert(plain:Add(pod("ns1", "a", "1", { app = "web" })))
    assert(plain:Add(pod("ns2", "b", "1", { app = "web" })))
    assert(plain:Add(pod("ns1", "c", "1", { app = "db" })))
    local l = cache.NewLister(plain, { Resource = "pods" })
    assert.same({ "a", "c" }, names(l:ByNamespace("ns1"):List()))
    assert.same({ "a" }, names(l:ByNamespace("ns1"):List("app=web")))
  end)

  it("Get of a missing object is a NotFound status error", function()
    local obj, err = pods:ByNamespace("ns1"):Get("missing")
    assert.is_nil(obj)
    assert.is_true(errors.IsNotFound(err))
    assert.equal(404, err.code)
    assert.equal("NotFound", err.reason)
    assert.equal('pods "missing" not found', err.message)
    assert.equal(core.error_mt, getmetatable(err))
    assert.equal("k8s: NotFound (404): pods \"missing\" not found", tostring(err))
    assert.same({
      kind = "Status", apiVersion = "v1", metadata = {}, status = "Failure",
      message = 'pods "missing" not found', reason = "NotFound", code = 404,
      details = { name = "missing", kind = "pods" },
    }, err.status)
    assert.equal(0, err.retryAfterSeconds)
    -- a pod of another namespace is not found either
    assert.is_nil((pods:ByNamespace("ns1"):Get("web-2")))
    -- a group is part of the message
    local deps = cache.NewLister(idx, { Group = "apps", Resource = "deployments" })
    local _, derr = deps:ByNamespace("ns1"):Get("web")
    assert.equal('deployments.apps "web" not found', derr.message)
    assert.equal("apps", derr.status.details.group)
    assert.is_true(errors.IsNotFound(derr))
    assert.is_false(errors.IsConflict(derr))
  end)

  it("cluster-scoped Get and List", function()
    assert.equal("node-a", assert(nodes:Get("node-a")).metadata.name)
    local n, err = nodes:Get("node-z")
    assert.is_nil(n)
    assert.equal('nodes "node-z" not found', err.message)
    assert.is_true(errors.IsNotFound(err))
    assert.same({ "node-b" }, names(nodes:List("zone=b")))
    assert.is_true(errors.IsNotFound(cache.NewNotFound({ Group = "", Resource = "pods" }, "x")))
  end)

  it("raises on invalid arguments", function()
    assert.has_error(function() cache.NewLister(nil, { Resource = "pods" }) end)
    assert.has_error(function() cache.NewLister(idx, { Group = "" }) end)
    assert.has_error(function() pods:ByNamespace(nil) end, "ByNamespace: namespace must be a string, got nil")
    assert.has_error(function() pods:Get(1) end, "Get: name must be a string, got number")
  end)
end)

describe("k8s.cache processor (" .. interp .. ")", function()
  local clock, idx, p, log, handler_errors

  local function now() return clock end

  before_each(function()
    clock = 1000
    log, handler_errors = {}, {}
    idx = new_indexer()
    p = cache.NewProcessor(idx, {
      now = now,
      OnHandlerError = function(err, reg, method, obj)
        handler_errors[#handler_errors + 1] = { err = err, reg = reg, method = method, obj = obj }
      end,
    })
  end)

  it("initial Replace: OnAdd(obj, true) in list order, then HasSynced and the RV", function()
    local reg = p:AddEventHandler(recorder(log, "h"))
    assert.is_false(p:HasSynced())
    assert.is_false(reg:HasSynced())
    assert.equal("", p:LastSyncResourceVersion())
    local seen_synced
    p:AddEventHandler({ OnAdd = function() seen_synced = reg:HasSynced() end })
    assert.is_true(p:Replace({ pod("ns", "c"), pod("ns", "a"), pod("ns", "b") }, "100"))
    assert.same({ "h:add:c:true", "h:add:a:true", "h:add:b:true" }, summary(log))
    assert.is_false(seen_synced)
    assert.is_true(p:HasSynced())
    assert.is_true(reg:HasSynced())
    assert.equal("100", p:LastSyncResourceVersion())
    assert.same({ "ns/c", "ns/a", "ns/b" }, idx:ListKeys())
  end)

  it("an empty initial list syncs too", function()
    local reg = p:AddEventHandler(recorder(log, "h"))
    assert.is_true(p:Replace({}, "7"))
    assert.is_true(p:HasSynced()); assert.is_true(reg:HasSynced())
    assert.same({}, log)
  end)

  it("watch events reach the handlers in order, then in registration order", function()
    p:AddEventHandler(recorder(log, "h1"))
    p:AddEventHandler(recorder(log, "h2"))
    assert(p:Replace({}, "1"))
    local a1, a2 = pod("ns", "a", "2"), pod("ns", "a", "3")
    assert.is_true(p:OnWatchEvent("ADDED", a1))
    p:SetResourceVersion("2")
    assert.is_true(p:OnWatchEvent("MODIFIED", a2))
    assert.is_true(p:OnWatchEvent("ADDED", pod("ns", "b", "4")))
    local del = pod("ns", "a", "5")
    assert.is_true(p:OnWatchEvent("DELETED", del))
    p:SetResourceVersion("6")
    assert.same({
      "h1:add:a:false", "h2:add:a:false",
      "h1:update:a", "h2:update:a",
      "h1:add:b:false", "h2:add:b:false",
      "h1:delete:a", "h2:delete:a",
    }, summary(log))
    assert.equal(a1, log[3].old); assert.equal(a2, log[3].new)
    assert.equal(del, log[7].obj) -- the object of the DELETED event
    assert.same({ "ns/b" }, idx:ListKeys())
    assert.equal("6", p:LastSyncResourceVersion())
  end)

  it("ADDED of a cached key is an update; DELETED of an unknown key is still delivered", function()
    p:AddEventHandler(recorder(log, "h"))
    local a1 = pod("ns", "a", "1")
    assert(p:Replace({ a1 }, "1"))
    p:AddEventHandler(recorder(log, "f")) -- replays a; dropped below
    for i = #log, 1, -1 do log[i] = nil end
    local a2 = pod("ns", "a", "2")
    assert(p:OnWatchEvent("ADDED", a2))
    local ghost = pod("ns", "ghost", "3")
    assert(p:OnWatchEvent("DELETED", ghost))
    assert.same({ "h:update:a", "f:update:a", "h:delete:ghost", "f:delete:ghost" }, summary(log))
    assert.equal(a1, log[1].old); assert.equal(a2, log[1].new)
    assert.equal(ghost, log[3].obj)
    assert.same({ "ns/a" }, idx:ListKeys())
  end)

  it("ignores BOOKMARK and raises on other unknown event types", function()
    p:AddEventHandler(recorder(log, "h"))
    assert.is_true(p:OnWatchEvent("BOOKMARK", { metadata = { resourceVersion = "9" } }))
    assert.same({}, log)
    assert.has_error(function() p:OnWatchEvent("ERROR", {}) end,
      "OnWatchEvent: type must be ADDED, MODIFIED or DELETED, got ERROR")
    assert.has_error(function() p:OnWatchEvent("ADDED", nil) end, "OnWatchEvent: obj must be a table, got nil")
  end)

  it("a watch event whose object has no key changes nothing", function()
    p:AddEventHandler(recorder(log, "h"))
    assert(p:Replace({}, "1"))
    local ok, err = p:OnWatchEvent("ADDED", { kind = "Pod" })
    assert.is_nil(ok)
    assert.matches("couldn't create key", err.message)
    assert.same({}, log)
    assert.equal(0, idx:Len())
  end)

  it("relist: OnUpdate(changed), OnAdd(new, false), OnDelete(DFSU{Key, Obj}) and nothing for unchanged", function()
    local changed0, unchanged0, missing0 = pod("ns", "changed", "10"), pod("ns", "same", "11"), pod("ns", "gone", "12")
    local reg = p:AddEventHandler(recorder(log, "h"))
    assert(p:Replace({ changed0, unchanged0, missing0 }, "12"))
    for i = #log, 1, -1 do log[i] = nil end
    local changed1, unchanged1, new1 = pod("ns", "changed", "20"), pod("ns", "same", "11"), pod("ns", "new", "21")
    assert.is_true(p:Replace({ changed1, unchanged1, new1 }, "21"))
    assert.same({ "h:delete:dfsu:ns/gone", "h:update:changed", "h:add:new:false" }, summary(log))
    local d = log[1].obj
    assert.is_true(cache.IsDeletedFinalStateUnknown(d))
    assert.equal("ns/gone", d.Key)
    assert.equal(missing0, d.Obj)
    assert.equal(changed0, log[2].old); assert.equal(changed1, log[2].new)
    assert.same({ "ns/changed", "ns/same", "ns/new" }, idx:ListKeys())
    assert.equal(unchanged1, (idx:GetByKey("ns/same"))) -- the indexer holds the new object
    assert.equal("21", p:LastSyncResourceVersion())
    assert.is_true(reg:HasSynced())
  end)

  it("relist deletes tombstones even when the indexer's key function is MetaNamespaceKeyFunc", function()
    local midx = cache.NewIndexer(cache.MetaNamespaceKeyFunc, { [cache.NamespaceIndex] = cache.MetaNamespaceIndexFunc })
    local q = cache.NewProcessor(midx, { now = now })
    q:AddEventHandler(recorder(log, "h"))
    local gone = pod("ns", "gone")
    assert(q:Replace({ pod("ns", "kept"), gone }, "1"))
    assert(q:Replace({ pod("ns", "kept") }, "2"))
    assert.same("h:delete:dfsu:ns/gone", summary(log)[3])
    assert.equal(gone, log[3].obj.Obj)
    assert.same({ "ns/kept" }, midx:ListKeys())
    assert.same({ "kept" }, names(midx:ByIndex("namespace", "ns")))
  end)

  it("relist delivers same-RV updates only to handlers chosen by the last resync", function()
    local fast, slow = {}, {}
    p:AddEventHandler(recorder(fast, "fast"), 10)
    p:AddEventHandler(recorder(slow, "slow"), 0)
    assert(p:Replace({ pod("ns", "a", "1"), pod("ns", "b", "1") }, "1"))
    clock = clock + 10
    assert.is_true(p:Resync())
    assert.equal(4, #fast) -- 2 initial adds + 2 resync updates
    assert.equal(2, #slow)
    for _, l in ipairs({ fast, slow }) do for i = #l, 1, -1 do l[i] = nil end end
    assert(p:Replace({ pod("ns", "a", "1"), pod("ns", "b", "2") }, "2"))
    assert.same({ "fast:update:a", "fast:update:b" }, summary(fast))
    assert.same({ "slow:update:b" }, summary(slow))
  end)

  it("Resync replays OnUpdate(o, o) only to handlers whose period elapsed", function()
    local h1, h5, h0, hsmall = {}, {}, {}, {}
    p:AddEventHandler(recorder(h1, "p1"), 1)
    p:AddEventHandler(recorder(h5, "p5"), 5)
    p:AddEventHandler(recorder(h0, "p0"), 0)
    p:AddEventHandler(recorder(hsmall, "small"), 0.01) -- raised to 1 s
    assert(p:Replace({ pod("ns", "a", "1"), pod("ns", "b", "1") }, "1"))
    for _, l in ipairs({ h1, h5, h0, hsmall }) do for i = #l, 1, -1 do l[i] = nil end end
    assert.equal(1001, p:NextResyncAt())
    clock = 1000.5
    assert.is_false(p:Resync())
    assert.same({}, h1); assert.same({}, hsmall)
    clock = 1001
    assert.is_true(p:Resync())
    assert.same({ "p1:update:a", "p1:update:b" }, summary(h1))
    assert.same({ "small:update:a", "small:update:b" }, summary(hsmall))
    assert.same({}, h5); assert.same({}, h0)
    assert.equal(h1[1].old, h1[1].new) -- OnUpdate(o, o) with the cached object
    assert.equal(idx:GetByKey("ns/a"), h1[1].new)
    clock = 1005
    assert.is_true(p:Resync())
    assert.equal(4, #h1)
    assert.same({ "p5:update:a", "p5:update:b" }, summary(h5))
    assert.same({}, h0)
    clock = 1005.5
    assert.is_false(p:Resync())
    assert.equal(1006, p:NextResyncAt())
  end)

  it("a late handler gets OnAdd(item, true) for each cached item and its registration syncs", function()
    p:AddEventHandler(recorder(log, "early"))
    assert(p:Replace({ pod("ns", "a"), pod("ns", "b") }, "1"))
    assert(p:OnWatchEvent("ADDED", pod("ns", "c", "2")))
    local late = {}
    local reg = p:AddEventHandler(recorder(late, "late"))
    assert.same({ "late:add:a:true", "late:add:b:true", "late:add:c:true" }, summary(late))
    assert.is_true(reg:HasSynced())
    -- later events reach it as usual
    assert(p:OnWatchEvent("ADDED", pod("ns", "d", "3")))
    assert.same("late:add:d:false", summary(late)[4])
    -- a handler added before the first list has not synced before it
    local p2 = cache.NewProcessor(new_indexer(), { now = now })
    local r2 = p2:AddEventHandler({})
    assert.is_false(r2:HasSynced())
    assert(p2:Replace({ pod("ns", "x") }, "1"))
    assert.is_true(r2:HasSynced())
  end)

  it("a registration is not synced while its initial OnAdds run", function()
    local r3
    local states = {}
    r3 = p:AddEventHandler({ OnAdd = function() states[#states + 1] = r3:HasSynced() end })
    assert(p:Replace({ pod("ns", "a"), pod("ns", "b") }, "1"))
    assert.same({ false, false }, states)
    assert.is_true(r3:HasSynced())
  end)

  it("RemoveEventHandler stops delivery", function()
    local reg = p:AddEventHandler(recorder(log, "h"))
    assert(p:Replace({ pod("ns", "a") }, "1"))
    assert.is_true(p:RemoveEventHandler(reg))
    assert.is_true(p:RemoveEventHandler(reg))
    assert(p:OnWatchEvent("ADDED", pod("ns", "b", "2")))
    assert.same({ "h:add:a:true" }, summary(log))
    assert.has_error(function() p:RemoveEventHandler({}) end)
  end)

  it("a raising handler does not stop delivery; the error reaches OnHandlerError", function()
    local h = recorder(log, "after")
    local reg_bad = p:AddEventHandler({
      Name = "bad",
      OnAdd = function(obj) if obj.metadata.name == "a" then error("boom on a") end end,
      OnUpdate = function() error({ code = 1 }) end,
    })
    p:AddEventHandler(h)
    assert(p:Replace({ pod("ns", "a"), pod("ns", "b") }, "1"))
    assert.same({ "after:add:a:true", "after:add:b:true" }, summary(log))
    assert.equal(1, #handler_errors)
    local e = handler_errors[1]
    assert.matches("boom on a", e.err)
    assert.matches("stack traceback", e.err)
    assert.equal(reg_bad, e.reg)
    assert.equal("bad", e.reg:Name())
    assert.equal("OnAdd", e.method)
    assert.equal("a", e.obj.metadata.name)
    assert.is_true(reg_bad:HasSynced()) -- a failing initial OnAdd still counts as returned
    assert(p:OnWatchEvent("MODIFIED", pod("ns", "b", "2")))
    assert.equal(2, #handler_errors)
    assert.same({ code = 1 }, handler_errors[2].err) -- a non-string error is passed as is
    assert.equal("OnUpdate", handler_errors[2].method)
    assert.equal("2", handler_errors[2].obj.metadata.resourceVersion)
    assert.same("after:update:b", summary(log)[3])
  end)

  it("without OnHandlerError a handler error is written to stderr", function()
    local q = cache.NewProcessor(new_indexer(), { now = now, Name = "pods" })
    q:AddEventHandler({ Name = "noisy", OnAdd = function() error("loud") end })
    local delivered = {}
    q:AddEventHandler(recorder(delivered, "ok"))
    local real = io.stderr
    local written = {}
    io.stderr = { write = function(_, ...) for _, s in ipairs({ ... }) do written[#written + 1] = s end end }
    local ok, err = pcall(q.Replace, q, { pod("ns", "a") }, "1")
    io.stderr = real
    assert.is_true(ok, err)
    local text = table.concat(written)
    assert.matches('k8s.cache: pods: handler noisy failed in OnAdd for "ns/a": ', text)
    assert.matches("loud", text)
    assert.same({ "ok:add:a:true" }, summary(delivered))
  end)

  it("an object that fails an index function is skipped during Replace and reported", function()
    local reported = {}
    local bidx = new_indexer({ byNode = function(o) return { o.spec.nodeName } end })
    local q = cache.NewProcessor(bidx, { now = now, OnError = function(err) reported[#reported + 1] = err end })
    q:AddEventHandler(recorder(log, "h"))
    assert.is_true(q:Replace({ pod("ns", "a", "1", nil, { spec = { nodeName = "n" } }), pod("ns", "bad"),
      pod("ns", "c", "1", nil, { spec = { nodeName = "n" } }) }, "1"))
    assert.same({ "h:add:a:true", "h:add:c:true" }, summary(log))
    assert.equal(1, #reported)
    assert.matches('index function "byNode" raised', reported[1].message)
    assert.matches('"ns/bad"', reported[1].message)
    assert.is_true(q:HasSynced())
    -- a key error makes the whole Replace fail with nothing changed
    local ok, err = q:Replace({ pod("ns", "a", "1", nil, { spec = { nodeName = "n" } }), { nokey = true } }, "2")
    assert.is_nil(ok); assert.matches("couldn't create key", err.message)
    assert.equal("1", q:LastSyncResourceVersion())
    assert.same({ "ns/a", "ns/c" }, bidx:ListKeys())
  end)

  it("Transform is applied before objects are stored", function()
    local q = cache.NewProcessor(idx, { now = now, Transform = function(o)
      o.metadata.managedFields = nil
      o.transformed = true
      return o
    end })
    q:AddEventHandler(recorder(log, "h"))
    local o = pod("ns", "a"); o.metadata.managedFields = { {} }
    assert(q:Replace({ o }, "1"))
    assert.is_true(idx:GetByKey("ns/a").transformed)
    assert.is_nil(idx:GetByKey("ns/a").metadata.managedFields)
    assert(q:OnWatchEvent("MODIFIED", pod("ns", "a", "2")))
    assert.is_true(log[2].new.transformed)
  end)

  it("a watch event before any Replace marks the processor synced (RealFIFO's populated)", function()
    p:AddEventHandler(recorder(log, "h"))
    assert(p:OnWatchEvent("ADDED", pod("ns", "a")))
    assert.is_true(p:HasSynced())
    assert.same({ "h:add:a:false" }, summary(log))
  end)

  it("raises on invalid arguments, naming them", function()
    assert.has_error(function() cache.NewProcessor(nil) end, "NewProcessor: indexer must be an indexer, got nil")
    assert.has_error(function() cache.NewProcessor(idx, { now = 5 }) end, "NewProcessor: opts.now must be a function, got number")
    assert.has_error(function() p:AddEventHandler(nil) end)
    assert.has_error(function() p:AddEventHandler({ OnAdd = 1 }) end, "AddEventHandler: handler.OnAdd must be a function, got number")
    assert.has_error(function() p:AddEventHandler({}, -1) end)
    assert.has_error(function() p:Replace(nil) end)
    assert.has_error(function() p:Replace({}, 5) end)
    assert.has_error(function() p:SetResourceVersion(nil) end, "SetResourceVersion: rv must be a string, got nil")
    assert.equal(idx, p:GetIndexer())
  end)
end)

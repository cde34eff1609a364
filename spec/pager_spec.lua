-- k8s.pager (client-go's tools/pager): Pages, Items and List return every
-- object exactly once across pages of the real control plane; later pages
-- drop resourceVersion; an expired continue token makes List fall back to
-- one full list; errors come back as nil, err (List), false, err (Pages) or
-- raise (Items).
local H = require "spec.helper"
local k8s = require "k8s"

local namespace = H.namespace
local pager = k8s.pager
local errors = k8s.errors

-- A fake resource client: pages of `per` items from `all`, recording the
-- options of each List call; `fail(call, opts)` may return an error instead.
local function fake(all, per, fail)
  local c = { calls = {} }
  function c:List(opts)
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    self.calls[#self.calls + 1] = o
    if fail then
      local err = fail(#self.calls, o)
      if err then return nil, setmetatable(err, require("k8s.core").error_mt) end
    end
    local start = tonumber(o["continue"] or "0")
    local limit = o.limit or #all
    local items = setmetatable({}, k8s.array_mt)
    for i = start + 1, math.min(start + limit, #all) do items[#items + 1] = all[i] end
    local md = { resourceVersion = "100" }
    if start + limit < #all then md["continue"] = tostring(start + limit) end
    return { kind = "List", metadata = md, items = items }
  end
  return c
end

local function items(n)
  local out = {}
  for i = 1, n do out[i] = { metadata = { name = "item-" .. i } } end
  return out
end

describe("pager (" .. H.interpreter .. ")", function()
  local cs, ns, cms, want, label

  setup(function()
    local cfg = H.config("admin-token")
    cfg.QPS, cfg.Burst = 200, 400
    cs = assert(k8s.NewForConfig(cfg))
    ns = namespace(cs)
    cms = cs:CoreV1():ConfigMaps(ns)
    label = H.name("pager")
    want = {}
    for _ = 1, 12 do
      local n = H.name("pg")
      want[#want + 1] = n
      assert(cms:Create({ metadata = { name = n, labels = { suite = label } } }))
    end
    table.sort(want)
  end)

  teardown(function()
    H.cleanup_namespaces()
  end)

  local function sorted(t)
    table.sort(t)
    return t
  end

  it("Pages follows continue tokens: pages of limit, each object once", function()
    local seen, sizes = {}, {}
    for page, err in pager.Pages(cms, { labelSelector = "suite=" .. label, limit = 5 }) do
      assert(page, tostring(err))
      assert.equal("ConfigMapList", page.kind)
      sizes[#sizes + 1] = #page.items
      for _, it in ipairs(page.items) do seen[#seen + 1] = it.metadata.name end
    end
    assert.same({ 5, 5, 2 }, sizes)
    assert.same(want, sorted(seen))
  end)

  it("Items iterates every object exactly once", function()
    local seen, count = {}, 0
    for it in pager.Items(cms, { labelSelector = "suite=" .. label, limit = 4 }) do
      assert.is_nil(seen[it.metadata.name])
      seen[it.metadata.name] = true
      count = count + 1
    end
    assert.equal(12, count)
    for _, n in ipairs(want) do assert.is_true(seen[n]) end
  end)

  it("List gathers all pages into one list", function()
    local opts = { labelSelector = "suite=" .. label, limit = 5 }
    local list = assert(pager.List(cms, opts))
    assert.equal("ConfigMapList", list.kind)
    assert.is_nil(list.metadata["continue"])
    assert.is_string(list.metadata.resourceVersion)
    local seen = {}
    for _, it in ipairs(list.items) do seen[#seen + 1] = it.metadata.name end
    assert.same(want, sorted(seen))
    -- the caller's options are left alone
    assert.same({ labelSelector = "suite=" .. label, limit = 5 }, opts)
    -- with the default page size: one page
    local pages = 0
    for page in pager.Pages(cms, { labelSelector = "suite=" .. label }) do
      pages = pages + 1
      assert.equal(12, #page.items)
    end
    assert.equal(1, pages)
    -- an empty result is an empty list
    local empty = assert(pager.List(cms, { labelSelector = "suite=none-" .. label }))
    assert.equal(0, #empty.items)
    assert.equal(k8s.array_mt, getmetatable(empty.items))
  end)

  it("works on cluster-scoped and dynamic clients", function()
    local nsl = assert(pager.List(cs:CoreV1():Namespaces(), { limit = 1 }))
    local names = {}
    for _, n in ipairs(nsl.items) do names[n.metadata.name] = (names[n.metadata.name] or 0) + 1 end
    assert.equal(1, names["default"])
    assert.equal(1, names["kube-system"])
    assert.equal(1, names[ns])
    local dc = assert(k8s.dynamic.NewForConfig(H.config("admin-token")))
    local dl = assert(pager.List(dc:Resource({ Version = "v1", Resource = "configmaps" }):Namespace(ns),
      { labelSelector = "suite=" .. label, limit = 7 }))
    assert.equal(12, #dl.items)
  end)

  it("later pages drop resourceVersion and resourceVersionMatch", function()
    local c = fake(items(5), 2)
    local list = assert(pager.List(c, { resourceVersion = "0", resourceVersionMatch = "NotOlderThan", limit = 2 }))
    assert.equal(5, #list.items)
    assert.equal(3, #c.calls)
    assert.equal("0", c.calls[1].resourceVersion)
    assert.equal("NotOlderThan", c.calls[1].resourceVersionMatch)
    assert.is_nil(c.calls[1]["continue"])
    for i = 2, 3 do
      assert.is_nil(c.calls[i].resourceVersion)
      assert.is_nil(c.calls[i].resourceVersionMatch)
      assert.equal(2, c.calls[i].limit)
      assert.equal(tostring((i - 1) * 2), c.calls[i]["continue"])
    end
    -- the default page size is client-go's 500
    local d = fake(items(3))
    assert(pager.List(d))
    assert.equal(500, d.calls[1].limit)
  end)

  it("List falls back to one full list when a continue token expired", function()
    local expired = function(n)
      if n == 2 then
        return { code = 410, reason = "Expired", message = "The provided continue parameter is too old" }
      end
    end
    local c = fake(items(5), 2, expired)
    local list = assert(pager.List(c, { resourceVersion = "42", limit = 2, labelSelector = "a=b" }))
    -- exactly once each: the first page is dropped for the full list
    assert.equal(5, #list.items)
    for i = 1, 5 do assert.equal("item-" .. i, list.items[i].metadata.name) end
    assert.equal(3, #c.calls)
    assert.is_nil(c.calls[3].limit)
    assert.is_nil(c.calls[3]["continue"])
    assert.equal("42", c.calls[3].resourceVersion)
    assert.equal("a=b", c.calls[3].labelSelector)

    -- Pages and Items report the expiry instead (client-go's EachListItem)
    c = fake(items(5), 2, expired)
    local it = pager.Pages(c, { limit = 2 })
    assert.equal(2, #it().items)
    local page, err = it()
    assert.is_false(page)
    assert.is_true(errors.IsResourceExpired(err))
    assert.is_nil(it())
    c = fake(items(5), 2, expired)
    local ok, e = pcall(function() for _ in pager.Items(c, { limit = 2 }) do end end)
    assert.is_false(ok)
    assert.is_true(errors.IsResourceExpired(e))
  end)

  it("errors: List returns nil, err; Pages gives false, err; Items raises", function()
    local rcs = assert(k8s.NewForConfig(H.config("restricted")))
    local client = rcs:CoreV1():ConfigMaps(ns)
    local list, err = pager.List(client, { limit = 2 })
    assert.is_nil(list)
    assert.is_true(errors.IsForbidden(err))

    local n = 0
    for page, e in pager.Pages(client) do
      n = n + 1
      assert.is_false(page)
      assert.is_true(errors.IsForbidden(e))
    end
    assert.equal(1, n)

    local ok, e = pcall(function() for _ in pager.Items(client) do end end)
    assert.is_false(ok)
    assert.is_true(errors.IsForbidden(e))

    -- an error on a later page is not swallowed either
    local c = fake(items(5), 2, function(call)
      if call == 3 then return { code = 500, reason = "InternalError", message = "boom" } end
    end)
    list, err = pager.List(c, { limit = 2 })
    assert.is_nil(list)
    assert.is_true(errors.IsInternalError(err))
  end)

  it("invalid arguments raise", function()
    assert.has_error(function() pager.List("x") end,
      "pager.List: client must be a resource client (with a List method), got string")
    assert.has_error(function() pager.Pages(cs) end,
      "pager.Pages: client must be a resource client (with a List method), got userdata")
    assert.has_error(function() pager.Items(cms, "limit") end, "pager.Items: opts must be a table, got string")
  end)
end)

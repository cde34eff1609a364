-- Network faults between the client and the real API server, made by
-- Toxiproxy (spec/toxiproxy.lua; tools/toxiproxy.sh starts it, or
-- TOXIPROXY_URL names one to reuse). TLS stays end to end: the client talks
-- to https://127.0.0.1:<proxy port> with the control plane's CA. Each row of
-- the fault matrix (reliability.md section 7) asserts what the client must
-- do, on the blocking libcurl driver and, where it applies, on the plain-Lua
-- loop (k8s.Run, the cosocket-style driver). Objects are checked through a
-- direct, unproxied client. Nothing waits for a fixed time: every wait is a
-- bounded wait for a condition.
local H = require "spec.helper"
local k8s = require "k8s"
local T = require "spec.toxiproxy"

local errors = k8s.errors

-- the blocking default and the plain-Lua loop (spec/helper.lua)
local DRIVERS = H.DRIVERS
local function driver(name)
  for _, d in ipairs(DRIVERS) do if d.name == name then return d end end
end

-- A hex string of n random bytes (incompressible enough that gzip keeps a
-- LIST large).
local function noise(n)
  local t = {}
  for i = 1, n do t[i] = string.format("%02x", math.random(0, 255)) end
  return table.concat(t)
end

describe("network faults through Toxiproxy (" .. H.interpreter .. ")", function()
  local tp, direct, ns, p, cfg
  local BULK = 120                -- ConfigMaps for the LIST rows
  local bulk_label, bulk = nil, {} -- name -> data.v

  setup(function()
    tp = T.start()
    cfg = H.config("admin-token")
    cfg.QPS, cfg.Burst = -1, 0
    direct = assert(k8s.NewForConfig(cfg))
    ns = H.namespace(direct)
    bulk_label = H.name("bulk")
    local cms = direct:CoreV1():ConfigMaps(ns)
    for i = 1, BULK do
      local name = string.format("%s-%03d", bulk_label, i)
      bulk[name] = noise(512)
      assert(cms:Create({ metadata = { name = name, labels = { set = bulk_label } }, data = { v = bulk[name] } }))
    end
  end)

  teardown(function()
    if tp then tp:stop() end
    H.cleanup_namespaces()
  end)

  before_each(function() p = tp:proxy() end)
  after_each(function() p:delete() end)

  -- A clientset that goes through the proxy (a new one per test: its own connections).
  local function proxied()
    return assert(k8s.NewForConfig(p:config(cfg)))
  end

  -- Every bulk ConfigMap, with its data, is in list.
  local function assert_bulk(list)
    local want, got = {}, {}
    for name in pairs(bulk) do want[#want + 1] = name end
    table.sort(want)
    assert.are.same(want, H.names_of(list))
    for _, it in ipairs(list.items) do got[it.metadata.name] = it.data.v end
    assert.are.same(bulk, got)
  end

  for _, d in ipairs(DRIVERS) do
    it("latency (200 ms downstream, " .. d.name .. "): requests succeed with the right results", function()
      local cms = proxied():CoreV1():ConfigMaps(ns)
      p:add("latency", { latency = 200, jitter = 0 }, "downstream")
      local name, label = H.name("lat"), H.name("lat")
      d.run(function()
        local o = assert(cms:Create({ metadata = { name = name, labels = { set = label } }, data = { v = "1" } }))
        assert.are.equal(name, o.metadata.name)
        assert.are.equal("1", assert(cms:Get(name)).data.v)
        o = assert(cms:Patch(name, k8s.types.MergePatchType, { data = { v = "2" } }))
        assert.are.equal("2", o.data.v)
        local list = assert(cms:List({ labelSelector = "set=" .. label }))
        assert.are.same({ name }, H.names_of(list))
        assert.are.equal("2", list.items[1].data.v)
        assert(cms:Delete(name))
        local gone, err = cms:Get(name)
        assert.is_nil(gone)
        assert.is_true(errors.IsNotFound(err))
      end)
      -- the server saw exactly that
      local _, err = direct:CoreV1():ConfigMaps(ns):Get(name)
      assert.is_true(errors.IsNotFound(err))
    end)

    it("bandwidth cap (64 KB/s downstream, " .. d.name .. "): a LIST of " .. BULK .. " ConfigMaps has every item", function()
      local cms = proxied():CoreV1():ConfigMaps(ns)
      p:add("bandwidth", { rate = 64 }, "downstream")
      d.run(function()
        assert_bulk(assert(cms:List({ labelSelector = "set=" .. bulk_label })))
      end)
    end)

    it("RST mid-watch (" .. d.name .. "): Next returns an error, not an end; a new watch resumes from the last resourceVersion", function()
      local cms = proxied():CoreV1():ConfigMaps(ns)
      local dcms = direct:CoreV1():ConfigMaps(ns)
      local label = H.name("rst")
      local sel = "set=" .. label
      local rv = assert(dcms:List({ labelSelector = sel })).metadata.resourceVersion
      d.run(function()
        local w = assert(cms:Watch({ resourceVersion = rv, labelSelector = sel }))
        assert(dcms:Create({ metadata = { name = label .. "-a", labels = { set = label } } }))
        local ev = assert(w:Next(60))
        assert.are.equal("ADDED", ev.type)
        assert.are.equal(label .. "-a", ev.object.metadata.name)
        local last_rv = ev.object.metadata.resourceVersion
        -- the next bytes the server sends on the open connection meet an RST
        local toxic = p:add("reset_peer", { timeout = 0 }, "downstream")
        assert(dcms:Create({ metadata = { name = label .. "-b", labels = { set = label } } }))
        local err
        ev, err = w:Next(60)
        assert.is_nil(ev)
        assert.is_table(err, "the watch ended as if the server had closed it")
        assert.is_true(errors.IsTransportError(err), tostring(err))
        assert.are_not.equal("Timeout", err.reason, tostring(err))
        -- and it stays ended, without blocking
        assert.is_nil((w:Next(5)))
        w:Stop()
        p:remove(toxic)
        -- a new watch from the last resourceVersion seen gets the event the reset lost
        w = assert(cms:Watch({ resourceVersion = last_rv, labelSelector = sel }))
        ev = assert(w:Next(60))
        assert.are.equal("ADDED", ev.type)
        assert.are.equal(label .. "-b", ev.object.metadata.name)
        w:Stop()
      end)
    end)

    -- A watch whose connection goes silent: TCP stays up (the proxy still
    -- acknowledges), nothing arrives, not even the end the server sends at
    -- timeoutSeconds. The core presumes the connection dead once
    -- timeoutSeconds plus a grace (here 5 s) have passed, and ends the watch
    -- with a WatchStalled transport error; ResultChan's loop ends. The
    -- toxic must be in place before the server ends the watch: when the
    -- server was quicker (a clean end), the attempt is made again with a
    -- longer timeoutSeconds (Next tells the two apart; ResultChan, as
    -- client-go's channel, does not, and is checked to end at all).
    it("blackhole mid-watch (timeout toxic 0 downstream, " .. d.name .. "): Next and ResultChan end with WatchStalled instead of waiting forever", function()
      local cms = proxied():CoreV1():ConfigMaps(ns)
      local dcms = direct:CoreV1():ConfigMaps(ns)
      local label = H.name("hole")
      local sel = "set=" .. label
      local n = 0
      -- a watch that has had one event, then a blackhole; nil when the server
      -- ended the watch before the toxic was there
      local function silenced(ts)
        local rv = assert(dcms:List({ labelSelector = sel })).metadata.resourceVersion
        local w = assert(cms:Watch({ resourceVersion = rv, labelSelector = sel, timeoutSeconds = ts }))
        n = n + 1
        assert(dcms:Create({ metadata = { name = label .. "-" .. n, labels = { set = label } } }))
        local ev = assert(w:Next(60))
        assert.are.equal(label .. "-" .. n, ev.object.metadata.name)
        local toxic = p:add("timeout", { timeout = 0 }, "downstream")
        return w, toxic
      end
      d.run(function()
        local ts, w, toxic, ev, err = 2, nil, nil, nil, nil
        repeat
          w, toxic = silenced(ts)
          ev, err = w:Next() -- no timeout of its own
          p:remove(toxic)
          w:Stop()
          if err == nil then
            assert.is_nil(ev, "the server's end (it came before the toxic)")
            ts = ts * 2
            assert.is_true(ts <= 64, "the toxic was never in place before the server's end")
          end
        until err
        assert.is_nil(ev)
        assert.are.equal("WatchStalled", err.reason, tostring(err))
        assert.is_true(errors.IsTransportError(err), tostring(err))
        assert.matches("presumed dead", err.message)
        assert.is_nil((w:Next(5)), "it stays ended")
        -- ResultChan's loop ends too (silently, as client-go's channel closes)
        w, toxic = silenced(ts)
        for e in w:ResultChan() do ev = e end
        p:remove(toxic)
        w:Stop()
        assert.is_nil(ev, "no event after the blackhole")
      end)
    end)

    it("truncated LIST (limit_data 16 KB downstream, " .. d.name .. "): an error, never fewer items", function()
      local cms = proxied():CoreV1():ConfigMaps(ns)
      local toxic = p:add("limit_data", { bytes = 16384 }, "downstream")
      d.run(function()
        local list, err = cms:List({ labelSelector = "set=" .. bulk_label })
        assert.is_nil(list, list and ("a truncated LIST succeeded with " .. #list.items .. " items"))
        assert.is_table(err)
        assert.is_true(errors.IsTransportError(err), tostring(err))
        p:remove(toxic)
        -- the same clientset lists everything once the stream is whole again
        assert_bulk(assert(cms:List({ labelSelector = "set=" .. bulk_label })))
      end)
    end)

    it("apiserver unreachable (proxy disabled, " .. d.name .. "): connection errors while down, the same clientset works after", function()
      local cs = proxied()
      local cms = cs:CoreV1():ConfigMaps(ns)
      local name = H.name("down")
      d.run(function()
        assert(cms:List({ labelSelector = "set=" .. bulk_label, limit = 1 })) -- a pooled connection
        p:disable()
        local list, err = cms:List({ labelSelector = "set=" .. bulk_label })
        assert.is_nil(list)
        assert.are.equal("ConnectionRefused", err.reason, tostring(err))
        assert.is_true(errors.IsTransportError(err))
        local o
        o, err = cms:Create({ metadata = { name = name } })
        assert.is_nil(o)
        assert.are.equal("ConnectionRefused", err.reason, tostring(err))
        p:enable()
        assert_bulk(assert(cms:List({ labelSelector = "set=" .. bulk_label })))
        assert.are.equal(name, assert(cms:Create({ metadata = { name = name } })).metadata.name)
      end)
      assert(direct:CoreV1():ConfigMaps(ns):Get(name))
    end)
  end

  -- Row 5: the request reaches the server, the answer is cut by an RST. A
  -- POST is not idempotent: the client must not send it again. The toxic
  -- only cuts answers (downstream): a resent POST would reach the server
  -- and make a second object, and would need a new connection.
  for _, d in ipairs(DRIVERS) do
  it("RST after a POST was sent (" .. d.name .. "): not retried, exactly one object, a transport error", function()
    local cms = proxied():CoreV1():ConfigMaps(ns)
    local label = H.name("post")
    d.run(function()
      assert(cms:List({ labelSelector = "set=" .. label })) -- a warm, pooled connection
      local before = tp:accepted(p)
      -- the first bytes back (the answer) are held 3 s, then the connection is reset
      local toxic = p:add("reset_peer", { timeout = 3000 }, "downstream")
      local o, err = cms:Create({ metadata = { generateName = "post-", labels = { set = label } } })
      assert.is_nil(o)
      assert.is_table(err)
      assert.is_true(errors.IsTransportError(err), tostring(err))
      assert.are.equal("ConnectionReset", err.reason, tostring(err))
      p:remove(toxic)
      local list = assert(direct:CoreV1():ConfigMaps(ns):List({ labelSelector = "set=" .. label }))
      assert.are.equal(1, #list.items)
      if before then assert.are.equal(before, tp:accepted(p), "the client opened a new connection") end
    end)
  end)
  end
end)

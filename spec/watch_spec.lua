-- Watch through the typed clients against the real control plane: events
-- from a resourceVersion in order, selectors, all namespaces and
-- cluster-scoped resources, initial events with their closing BOOKMARK,
-- Next(timeout), Stop, the ResultChan loop, the end of a watch the server
-- closes, garbage collection and `<close>` on Lua 5.4.
local H = require "spec.helper"
local k8s = require "k8s"

local namespace = H.namespace
local errors = k8s.errors

-- the next event for one of `names` (other objects of the namespace are skipped)
local function next_for(w, names, timeout)
  while true do
    local ev, err = w:Next(timeout or 15)
    assert(ev, "watch: " .. tostring(err or "ended"))
    if ev.type == "ERROR" then error("watch ERROR event: " .. tostring(ev.object.message)) end
    if names[ev.object.metadata.name] then return ev end
  end
end

describe("watch (" .. H.interpreter .. ")", function()
  local cs, ns, cms

  setup(function()
    local cfg = H.config("admin-token")
    cfg.QPS, cfg.Burst = 200, 400
    cs = assert(k8s.NewForConfig(cfg))
    ns = namespace(cs)
    cms = cs:CoreV1():ConfigMaps(ns)
  end)

  teardown(function()
    H.cleanup_namespaces()
  end)

  it("delivers create, modify and delete in order from a resourceVersion", function()
    local start = assert(cms:List()).metadata.resourceVersion
    local name = H.name("w")
    -- the changes happen before the watch starts: it replays them from start
    assert(cms:Create({ metadata = { name = name }, data = { v = "1" } }))
    assert(cms:Patch(name, k8s.types.MergePatchType, { data = { v = "2" } }))
    assert(cms:Patch(name, k8s.types.MergePatchType, { data = { v = "3" } }))
    assert(cms:Delete(name))
    local w = assert(cms:Watch({ resourceVersion = start }))
    local want = { { "ADDED", "1" }, { "MODIFIED", "2" }, { "MODIFIED", "3" }, { "DELETED", "3" } }
    local last_rv = tonumber(start)
    for _, wt in ipairs(want) do
      local ev = next_for(w, { [name] = true })
      assert.equal(wt[1], ev.type)
      assert.equal("ConfigMap", ev.object.kind)
      assert.equal(ns, ev.object.metadata.namespace)
      assert.equal(wt[2], ev.object.data.v)
      local rv = tonumber(ev.object.metadata.resourceVersion)
      assert.is_true(rv > last_rv, "resourceVersions increase")
      last_rv = rv
    end
    -- and live changes after the watch started
    local live = H.name("live")
    assert(cms:Create({ metadata = { name = live } }))
    assert.equal("ADDED", next_for(w, { [live] = true }).type)
    assert(cms:Delete(live))
    assert.equal("DELETED", next_for(w, { [live] = true }).type)
    w:Stop()
  end)

  it("Next(timeout) returns nil and a Timeout error, and the watch stays usable", function()
    local rv = assert(cms:List()).metadata.resourceVersion
    local w = assert(cms:Watch({ resourceVersion = rv, labelSelector = "quiet=" .. H.name("q") }))
    local now = require("k8s.loop").now -- monotonic
    local t0 = now()
    local ev, err = w:Next(0.5)
    local waited = now() - t0
    assert.is_nil(ev)
    assert.equal("Timeout", err.reason)
    assert.is_true(waited >= 0.5, "Next waits its whole timeout (" .. waited .. "s)")
    assert.equal(0, err.code)
    assert.is_true(errors.IsTimeout(err))
    assert.is_true(errors.IsTransportError(err))
    assert.matches("Timeout", tostring(err), 1, true)
    ev, err = w:Next(0.2)
    assert.is_nil(ev)
    assert.is_true(errors.IsTimeout(err))
    w:Stop()

    -- after a timeout the same watch still delivers
    -- (a label: the controller-manager may add kube-root-ca.crt to the namespace at any time)
    local name = H.name("late")
    w = assert(cms:Watch({ resourceVersion = rv, labelSelector = "late=" .. name }))
    ev, err = w:Next(0.3)
    assert.is_nil(ev)
    assert.is_true(errors.IsTimeout(err))
    assert(cms:Create({ metadata = { name = name, labels = { late = name } } }))
    ev = next_for(w, { [name] = true }, 10)
    assert.equal("ADDED", ev.type)
    w:Stop()
  end)

  it("sendInitialEvents ends the initial list with an initial-events-end BOOKMARK", function()
    local label = H.name("ie")
    local names = {}
    for _ = 1, 3 do
      local n = H.name("init")
      names[n] = true
      assert(cms:Create({ metadata = { name = n, labels = { suite = label } } }))
    end
    local w = assert(cms:Watch({
      labelSelector = "suite=" .. label,
      allowWatchBookmarks = true,
      sendInitialEvents = true,
      resourceVersionMatch = "NotOlderThan",
    }))
    local added, bookmark = {}, nil
    while not bookmark do
      local ev, err = w:Next(15)
      assert(ev, tostring(err))
      if ev.type == "BOOKMARK" then
        bookmark = ev
      else
        assert.equal("ADDED", ev.type)
        added[ev.object.metadata.name] = true
      end
    end
    assert.same(names, added)
    assert.equal("true", bookmark.object.metadata.annotations["k8s.io/initial-events-end"])
    assert.is_string(bookmark.object.metadata.resourceVersion)
    assert.equal("ConfigMap", bookmark.object.kind)
    -- the watch goes on with live events
    local n = H.name("after")
    assert(cms:Create({ metadata = { name = n, labels = { suite = label } } }))
    local ev = assert(w:Next(10))
    assert.equal("ADDED", ev.type)
    assert.equal(n, ev.object.metadata.name)
    w:Stop()
  end)

  it("selectors, all namespaces and cluster-scoped resources", function()
    local rv = assert(cms:List()).metadata.resourceVersion
    local label = H.name("sel")
    local w = assert(cms:Watch({ resourceVersion = rv, labelSelector = "suite=" .. label }))
    local wall = assert(cs:CoreV1():ConfigMaps(""):Watch({ resourceVersion = rv, labelSelector = "suite=" .. label }))
    local wfield = assert(cms:Watch({ resourceVersion = rv, fieldSelector = "metadata.name=" .. label }))
    assert(cms:Create({ metadata = { name = H.name("other") } }))
    assert(cms:Create({ metadata = { name = label, labels = { suite = label } } }))
    for _, x in ipairs({ w, wall, wfield }) do
      local ev = assert(x:Next(10))
      assert.equal("ADDED", ev.type)
      assert.equal(label, ev.object.metadata.name)
      assert.equal(ns, ev.object.metadata.namespace)
      x:Stop()
    end

    -- a cluster-scoped resource
    local nsname = H.name("wns")
    local nsw = assert(cs:CoreV1():Namespaces():Watch({ fieldSelector = "metadata.name=" .. nsname,
      resourceVersion = rv }))
    assert(cs:CoreV1():Namespaces():Create({ metadata = { name = nsname } }))
    H.namespaces[#H.namespaces + 1] = { cs = cs, name = nsname }
    local ev = assert(nsw:Next(10))
    assert.equal("ADDED", ev.type)
    assert.equal("Namespace", ev.object.kind)
    assert.equal(nsname, ev.object.metadata.name)
    nsw:Stop()
  end)

  it("the ResultChan loop ends after Stop", function()
    local rv = assert(cms:List()).metadata.resourceVersion
    local label = H.name("rc")
    for _ = 1, 4 do
      assert(cms:Create({ metadata = { name = H.name("rc"), labels = { suite = label } } }))
    end
    local w = assert(cms:Watch({ resourceVersion = rv, labelSelector = "suite=" .. label }))
    local n = 0
    for ev in w:ResultChan() do
      assert.equal("ADDED", ev.type)
      n = n + 1
      if n == 2 then w:Stop() end
    end
    assert.equal(2, n)
    -- stopped: Next returns nil without an error, and Stop may be repeated
    local ev, err = w:Next(1)
    assert.is_nil(ev)
    assert.is_nil(err)
    w:Stop()
    assert.is_nil((w:Next()))
  end)

  it("the ResultChan loop ends when the server closes the watch (timeoutSeconds)", function()
    local rv = assert(cms:List()).metadata.resourceVersion
    local label = H.name("to")
    assert(cms:Create({ metadata = { name = H.name("to"), labels = { suite = label } } }))
    local w = assert(cms:Watch({ resourceVersion = rv, labelSelector = "suite=" .. label, timeoutSeconds = 1 }))
    local n = 0
    for ev in w:ResultChan() do
      assert.equal("ADDED", ev.type)
      n = n + 1
    end
    assert.equal(1, n)
    -- ended by the server: Next says so (nil, nil) rather than timing out
    local ev, err = w:Next(1)
    assert.is_nil(ev)
    assert.is_nil(err)
  end)

  it("a watch dropped without Stop is closed by the garbage collector", function()
    local rv = assert(cms:List()).metadata.resourceVersion
    for _ = 1, 20 do
      local w = assert(cms:Watch({ resourceVersion = rv }))
      w = nil -- luacheck: ignore
    end
    collectgarbage()
    collectgarbage()
    -- the client still works
    local w = assert(cms:Watch({ resourceVersion = rv }))
    local name = H.name("gc")
    assert(cms:Create({ metadata = { name = name } }))
    assert.equal("ADDED", next_for(w, { [name] = true }).type)
    w:Stop()
  end)

  if _VERSION == "Lua 5.4" and not jit then
    it("<close> stops the watch at the end of the scope (Lua 5.4)", function()
      local chunk = assert(load([[
        local cms, rv = ...
        local kept
        do
          local w <close> = assert(cms:Watch({ resourceVersion = rv }))
          kept = w
          local ev, err = w:Next(0.2)
          assert(ev or err.reason == "Timeout")
        end
        return kept
      ]]))
      local rv = assert(cms:List()).metadata.resourceVersion
      local w = chunk(cms, rv)
      local ev, err = w:Next(1)
      assert.is_nil(ev)
      assert.is_nil(err)
      w:Stop()
    end)
  end

  it("a watch the identity may not make gives IsForbidden", function()
    local rcs = assert(k8s.NewForConfig(H.config("restricted")))
    local w, err = rcs:CoreV1():ConfigMaps(ns):Watch()
    assert.is_nil(w)
    assert.equal(403, err.code)
    assert.is_true(errors.IsForbidden(err))
    assert.matches('cannot watch resource "configmaps"', err.message, 1, true)
  end)
end)

-- Faults the real API server does not produce on demand, from a fake server
-- (build/tests/fakewatch): what client-go's StreamWatcher does with them.
describe("watch stream faults (" .. H.interpreter .. ")", function()
  local function fake(mode)
    local p = assert(io.popen("build/tests/fakewatch " .. mode))
    local url = p:read("*l")
    assert(url and url:match("^http://127%.0%.0%.1:%d+$"), "fakewatch did not start")
    local cs = assert(k8s.NewForConfig({ Host = url }))
    return cs:CoreV1():ConfigMaps("faults"), p
  end
  local function drain(w)
    local evs = {}
    for ev in w:ResultChan() do evs[#evs + 1] = ev end
    return evs
  end

  it("an event that is not JSON ends the ResultChan loop with client-go's ClientWatchDecoding ERROR event", function()
    local cms, p = fake("malformed")
    local evs = drain(assert(cms:Watch()))
    p:close()
    assert.equal(2, #evs)
    assert.equal("ADDED", evs[1].type)
    assert.equal("first", evs[1].object.metadata.name)
    local st = evs[2].object
    assert.equal("ERROR", evs[2].type)
    assert.equal("Status", st.kind)
    assert.equal("Failure", st.status)
    assert.equal(500, st.code)
    assert.equal("InternalError", st.reason)
    assert.matches('an error on the server ("unable to decode an event from the watch stream: ', st.message, 1, true)
    assert.equal("ClientWatchDecoding", st.details.causes[2].reason)
    assert.matches("^unable to decode an event from the watch stream: ", st.details.causes[2].message)
    -- the Status is a JSON value like any object
    assert.matches('"code":500', k8s.json.encode(st), 1, true)
  end)

  it("an event of an unknown type: the same ERROR event naming the type", function()
    local cms, p = fake("badtype")
    local evs = drain(assert(cms:Watch()))
    p:close()
    assert.equal(2, #evs)
    assert.equal("ERROR", evs[2].type)
    assert.matches('BOGUS', evs[2].object.details.causes[2].message, 1, true)
  end)

  it("a stream cut inside an event ends the loop without an event; Next reports UnexpectedEOF", function()
    local cms, p = fake("truncated")
    local evs = drain(assert(cms:Watch()))
    p:close()
    assert.equal(1, #evs)
    assert.equal("ADDED", evs[1].type)
    cms, p = fake("truncated")
    local w = assert(cms:Watch())
    assert.equal("ADDED", assert(w:Next(10)).type)
    local ev, err = w:Next(10)
    p:close()
    assert.is_nil(ev)
    assert.equal("UnexpectedEOF", err.reason)
    assert.matches("ended inside an event", err.message, 1, true)
  end)

  it("Next returns a malformed event as nil and a DecodeError, again on the next call; a loop then gets the ERROR event", function()
    local cms, p = fake("malformed")
    local w = assert(cms:Watch())
    assert.equal("ADDED", assert(w:Next(10)).type)
    local ev, err = w:Next(10)
    assert.is_nil(ev)
    assert.equal("DecodeError", err.reason)
    ev, err = w:Next(10) -- the stream cannot resynchronize: the error stays
    assert.is_nil(ev)
    assert.equal("DecodeError", err.reason)
    local evs = drain(w)
    p:close()
    assert.equal(1, #evs)
    assert.equal("ERROR", evs[1].type)
    assert.equal(500, evs[1].object.code)
    assert.is_nil(w:Next(1)) -- ended
  end)
end)

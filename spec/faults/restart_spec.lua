-- Fault matrix rows 7 and 8 (reliability.md 3.1) on the faults control
-- plane: kube-apiserver is stopped with SIGTERM and started again with the
-- same flags on the same port (tools/control-plane.sh restart-apiserver).
-- One restart serves every check; what each client saw is recorded during
-- it and asserted per driver (the blocking libcurl driver, the k8s.loop
-- driver) afterwards. What the client must do, as client-go:
--  * row 7: a request while nothing listens fails at once with a clear
--    connection error (client-go retries a GET only on a connection reset
--    or EOF, not on a refused connection); after the restart the same
--    clientset works at its first request, a POST too, although its pooled
--    connection died with the old server;
--  * row 8: a watch open across the restart ends and stays ended (REST
--    never resumes a watch); re-watching from its last resourceVersion gets
--    410 Expired, because etcd's revision moved on while the server was
--    down (a key outside /registry is written then) and the new watch cache
--    starts after it; a relist and a watch from the list's resourceVersion
--    see everything. An informer (its reflector runs on k8s.loop) relists
--    after that 410 and delivers every object created before the restart,
--    while the server was down (the writer retries until it is up) and
--    after it exactly once: no loss, no duplicate.
-- No wait is for a fixed time: every wait is for a condition.
local H = require "spec.helper"
local F = require "spec.faults.helper"
local k8s = require "k8s"
local loop = require "k8s.loop"

local errors = k8s.errors

-- The end of a watch as recorded: "clean end" or the error's reason.
local function end_kind(err)
  if err == nil then return "clean end" end
  return tostring(err.reason) .. " (" .. tostring(err.message) .. ")"
end

describe("kube-apiserver restarted (fault matrix rows 7 and 8, " .. H.interpreter .. ")", function()
  local admin, ns, label, sel, tmp
  local cs = {}        -- driver name -> the clientset used before, during and after the restart
  local I, W           -- the informer and the writer (tasks of k8s.loop)
  local obs = { down = {}, up = {}, post = {}, raw = {}, rewatch = {}, relist = {} }
  local names = {}     -- every labelled ConfigMap created: what the informer must deliver
  local old_pid, new_pid

  setup(function()
    tmp = F.tmpdir()
    admin = assert(k8s.NewForConfig(H.config("admin-token")))
    ns = H.namespace(admin)
    label = H.name("rst")
    sel = "k8s-lua-fault=" .. label
    for _, d in ipairs(H.DRIVERS) do
      cs[d.name] = assert(k8s.NewForConfig(H.config("admin-token")))
      -- a pooled connection to the server that will be stopped
      d.run(function() assert(cs[d.name]:CoreV1():ConfigMaps(ns):List({ limit = 1 })) end)
    end
    I = F.informer(assert(k8s.NewForConfig(H.config("admin-token"))), ns, label)
    W = F.writer(cs.loop:CoreV1():ConfigMaps(ns), label, 0.2)
    for i = 1, 3 do W:add("before-" .. i) end
    F.drive_until(function() return I.inf:HasSynced() and #W.created == 3 and I:has_all(W.created) end, 60,
      "the informer to sync and deliver the first objects")

    -- a watch per driver from here on (timeoutSeconds: the faults server
    -- would end a watch without it after 7-14 s)
    local rv0 = assert(admin:CoreV1():ConfigMaps(ns):List({ labelSelector = sel })).metadata.resourceVersion
    local craw = { events = {}, last_rv = rv0 }
    obs.raw.libcurl = craw
    craw.w = assert(cs.libcurl:CoreV1():ConfigMaps(ns):Watch({ resourceVersion = rv0, labelSelector = sel, timeoutSeconds = 300 }))
    local lraw = { events = {}, last_rv = rv0 }
    obs.raw.loop = lraw
    loop.spawn(function()
      local w = assert(cs.loop:CoreV1():ConfigMaps(ns):Watch({ resourceVersion = rv0, labelSelector = sel, timeoutSeconds = 300 }))
      lraw.opened = true
      while true do
        local ev, err = w:Next()
        if not ev then lraw.ended, lraw.err = true, err; break end
        lraw.events[#lraw.events + 1] = ev.type .. " " .. tostring(ev.object.metadata.name)
        lraw.last_rv = ev.object.metadata.resourceVersion or lraw.last_rv
      end
      lraw.again = { w:Next(1) }
      w:Stop()
    end)
    F.drive_until(function() return lraw.opened end, 30, "the loop driver's watch to open")

    -- SIGTERM; the writer goes on creating during-N, retrying each until it exists
    old_pid = F.pid("apiserver")
    W.prefix = "during-"
    F.kill("TERM", old_pid)
    F.drive_until(function() return not F.alive(old_pid) end, 60, "kube-apiserver to exit after SIGTERM")
    -- etcd's revision moves past everything the clients have seen
    F.etcd_bump()

    -- row 7: nothing listens now
    for _, d in ipairs(H.DRIVERS) do
      d.run(function()
        local l, err = cs[d.name]:CoreV1():ConfigMaps(ns):List({ labelSelector = sel })
        obs.down[d.name] = { list = l, err = err }
      end)
    end

    -- the same flags, the same port
    F.restart_apiserver_bg(tmp)
    F.drive_until(function() return H.exists(tmp .. "/restart.rc") end, 120, "restart-apiserver")
    assert(H.read(tmp .. "/restart.rc"):match("^0"), "restart-apiserver failed: " .. H.read(tmp .. "/restart.log"))
    new_pid = F.pid("apiserver")
    -- the writer got through once the server was back; then three more
    F.drive_until(function() return (W.recovered or 0) > 0 end, 60, "the writer to create an object after the restart")
    W.prefix = nil
    for i = 1, 3 do W:add("after-" .. i) end
    F.drive_until(function() return #W.queue == 0 and W:has("after-3") end, 60, "the writer's last objects")
    W:stop()

    -- row 7: the clientsets that had a pooled connection to the old server
    for _, d in ipairs(H.DRIVERS) do
      d.run(function()
        local cms = cs[d.name]:CoreV1():ConfigMaps(ns)
        local l, err = cms:List({ labelSelector = sel })
        obs.up[d.name] = { list = l, err = err }
        local o, perr = cms:Create({ metadata = { name = "up-" .. d.name } })
        obs.post[d.name] = { obj = o, err = perr }
      end)
    end

    -- row 8: the watches open across the restart
    while true do
      local ev, err = craw.w:Next(60)
      if not ev then craw.ended, craw.err = true, err; break end
      craw.events[#craw.events + 1] = ev.type .. " " .. tostring(ev.object.metadata.name)
      craw.last_rv = ev.object.metadata.resourceVersion or craw.last_rv
    end
    craw.again = { craw.w:Next(1) }
    craw.w:Stop()
    F.drive_until(function() return lraw.again ~= nil end, 60, "the loop driver's watch to end")

    -- row 8: a watch from each one's last resourceVersion, then a relist
    -- and a watch from the list's resourceVersion
    for _, d in ipairs(H.DRIVERS) do
      d.run(function()
        local cms = cs[d.name]:CoreV1():ConfigMaps(ns)
        local res = {}
        obs.rewatch[d.name] = res
        local w, err = cms:Watch({ resourceVersion = obs.raw[d.name].last_rv, labelSelector = sel, timeoutSeconds = 60 })
        if not w then
          res.err = err
        else
          res.ev, res.err = w:Next(60)
          res.after = { w:Next(5) }
          w:Stop()
        end
        local list = assert(cms:List({ labelSelector = sel }))
        local rel = { names = H.names_of(list) }
        obs.relist[d.name] = rel
        local w2 = assert(cms:Watch({ resourceVersion = list.metadata.resourceVersion, labelSelector = sel, timeoutSeconds = 60 }))
        rel.created = "relisted-" .. d.name
        assert(cms:Create({ metadata = { name = rel.created, labels = { ["k8s-lua-fault"] = label } } }))
        rel.ev, rel.err = w2:Next(60)
        w2:Stop()
      end)
    end

    for _, n in ipairs(W.created) do names[#names + 1] = n end
    names[#names + 1] = "relisted-libcurl"
    names[#names + 1] = "relisted-loop"
    -- the informer: everything, then a last object (events come in order)
    F.drive_until(function() return I:has_all(names) end, 120, "the informer to deliver every object")
    assert(admin:CoreV1():ConfigMaps(ns):Create({ metadata = { name = "sentinel", labels = { ["k8s-lua-fault"] = label } } }))
    names[#names + 1] = "sentinel"
    F.drive_until(function() return I.adds.sentinel ~= nil end, 60, "the informer to deliver the sentinel")

    local st = I:stats()
    F.diag("row 8 (%s): libcurl watch across SIGTERM: %s after %d events; loop driver watch: %s after %d events",
      H.interpreter, end_kind(craw.err), #craw.events, end_kind(lraw.err), #lraw.events)
    F.diag("row 8 (%s): writer errors while down: %s", H.interpreter, table.concat(W.errors, ","))
    F.diag("row 8 (%s): informer reflector: lists %d, watches %d, watchlists %d, expired %d; %s", H.interpreter,
      st.lists, st.watches, st.watchlists, st.expired, table.concat(st.outcomes, " | "))
    for _, d in ipairs(H.DRIVERS) do
      local r = obs.rewatch[d.name]
      F.diag("row 8 (%s): %s re-watch from its last RV: %s", H.interpreter, d.name,
        r.ev and (r.ev.type .. " " .. tostring(r.ev.object.code) .. " " .. tostring(r.ev.object.reason) .. ": "
          .. tostring(r.ev.object.message)) or ("error " .. end_kind(r.err)))
    end
  end)

  teardown(function()
    if W then W:stop() end
    if I then I.factory:Shutdown() end
    -- the control plane must be up for what runs next
    if not F.alive(F.pid("apiserver")) then
      F.restart_apiserver()
    end
    pcall(F.drive_until, function() return loop.tasks_count() == 0 end, 15)
    H.cleanup_namespaces()
    F.rmdir(tmp)
  end)

  for _, d in ipairs(H.DRIVERS) do
    it("row 7 (" .. d.name .. "): a LIST while nothing listens fails at once with ConnectionRefused, a transport error", function()
      local o = obs.down[d.name]
      assert.is_nil(o.list)
      assert.is_table(o.err)
      assert.are.equal("ConnectionRefused", o.err.reason, tostring(o.err))
      assert.is_true(errors.IsTransportError(o.err))
    end)

    it("row 7 (" .. d.name .. "): after the restart the same clientset's first LIST and first POST succeed", function()
      assert(new_pid ~= old_pid)
      assert.is_table(obs.up[d.name].list, tostring(obs.up[d.name].err))
      assert.is_nil(obs.up[d.name].err)
      assert.is_table(obs.post[d.name].obj, tostring(obs.post[d.name].err))
      assert.are.equal("up-" .. d.name, obs.post[d.name].obj.metadata.name)
    end)

    it("row 8 (" .. d.name .. "): a watch open across the restart ends and stays ended", function()
      local r = obs.raw[d.name]
      assert.is_true(r.ended)
      -- a clean end or a connection error, never a Next timeout
      if r.err then
        assert.is_true(errors.IsTransportError(r.err), tostring(r.err))
        assert.are_not.equal("Timeout", r.err.reason, tostring(r.err))
      end
      for _, e in ipairs(r.events) do assert.matches("^ADDED during%-", e) end
      assert.is_nil(r.again[1])
      assert.is_nil(r.again[2])
    end)

    it("row 8 (" .. d.name .. "): re-watching from its last resourceVersion gets 410 Expired; a relist and a watch from the list's resourceVersion see everything", function()
      local r = obs.rewatch[d.name]
      local st = r.ev and r.ev.object or r.err
      if r.ev then
        assert.are.equal("ERROR", r.ev.type)
        -- the ERROR event ends the watch
        assert.is_nil(r.after[1])
      end
      assert.is_table(st, "neither an ERROR event nor an error: " .. tostring(r.err))
      assert.are.equal(410, st.code)
      assert.is_true(errors.IsResourceExpired(st) or errors.IsGone(st), tostring(st.reason))
      local rel = obs.relist[d.name]
      -- every labelled object created up to then (the other driver's relisted- one may be there too)
      local want = {}
      for _, n in ipairs(W.created) do want[#want + 1] = n end
      if d.name == "loop" then want[#want + 1] = "relisted-libcurl" end
      table.sort(want)
      assert.are.same(want, rel.names)
      assert.is_table(rel.ev, tostring(rel.err))
      assert.are.equal("ADDED", rel.ev.type)
      assert.are.equal(rel.created, rel.ev.object.metadata.name)
    end)
  end

  it("row 8: the writer's creates failed while the server was down and went through once it was up", function()
    assert.is_true(H.contains(W.errors, "ConnectionRefused"), table.concat(W.errors, ","))
    assert.is_true((W.recovered or 0) > 0)
    assert.is_true(H.contains(W.created, "during-0001"))
    assert.is_true(H.contains(W.created, "after-3"))
  end)

  it("row 8: the informer relisted after the 410 and delivered every object exactly once", function()
    F.assert_exactly_once(I, names)
    local st = I:stats()
    -- the reflector met the 410 (a watch from its last RV) and listed again
    assert.is_true(st.expired >= 1, "expired " .. st.expired)
    assert.is_true(st.lists + st.watchlists >= 2)
  end)
end)

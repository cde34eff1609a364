-- Fault matrix rows 13, 15 and 17 on the faults control plane
-- (tools/run-fault-specs.sh), each on the blocking libcurl driver and the
-- k8s.loop driver; what the client must do, as client-go:
--  * row 13 (reliability.md 3.5): etcd stopped (SIGSTOP), a POST with
--    ?timeout=2s: the server's 504 comes back as a Timeout error (code,
--    reason, IsTimeout) and, having no Retry-After, is not sent again: the
--    server's audit log shows exactly one request. (The server may abort
--    the stream instead, see the test; a transport error then, and no
--    resend either.) etcd gets SIGCONT in any case;
--  * row 15 (3.6): --min-request-timeout=7 ends a watch without
--    timeoutSeconds after 7-14 s: Next returns nil and no error; watching
--    again from the last resourceVersion, over several such ends, gives
--    exactly the sequence a writer created at a steady pace, on both
--    drivers and through an informer (Kubernetes' own
--    TestWatchRestartsIfTimeoutNotReached shape);
--  * row 17 (3.7): --goaway-chance=0.02: sequential GETs on one clientset
--    see no error. The filter acts on HTTP/2 only (goaway.go: r.Proto ==
--    "HTTP/2.0"): libcurl speaks HTTP/2 and must reconnect after each
--    GOAWAY (the test goes on until it has seen one); the loop driver
--    speaks HTTP/1.1, which the server never closes here.
-- No wait is for a fixed time: every wait is for a condition.
local H = require "spec.helper"
local F = require "spec.faults.helper"
local k8s = require "k8s"
local loop = require "k8s.loop"

local errors = k8s.errors

local function driver(name)
  for _, d in ipairs(H.DRIVERS) do if d.name == name then return d end end
end

describe("etcd stopped: 504 request timeout (fault matrix row 13, " .. H.interpreter .. ")", function()
  local cs, ns, etcd

  setup(function()
    cs = assert(k8s.NewForConfig(H.config("admin-token")))
    ns = H.namespace(cs)
    etcd = F.pid("etcd")
  end)

  teardown(function()
    if etcd then F.kill("CONT", etcd) end
    H.cleanup_namespaces()
  end)

  -- One POST with etcd stopped: what came back, and how many requests the
  -- server received (its audit log).
  local function post_with_etcd_stopped(d, uri)
    local before = F.audit_count(uri)
    local res = {}
    local ok, e = pcall(F.stop, etcd)
    if ok then
      ok, e = pcall(d.run, function()
        local r = cs:CoreV1():RESTClient():Post():Namespace(ns):Resource("podtemplates"):Param("timeout", "2s")
          :Body({ metadata = { generateName = "t504-" },
            template = { spec = { containers = { { name = "c", image = "k8s-lua.invalid/none" } } } } }):Do()
        res.status = r:StatusCode()
        res.obj, res.err = r:Get()
      end)
    end
    F.kill("CONT", etcd)
    assert(ok, e)
    res.sent = F.audit_count(uri) - before
    return res
  end

  for _, d in ipairs(H.DRIVERS) do
    it("row 13 (" .. d.name .. "): a POST with ?timeout=2s: 504 Timeout decoded, sent once (no Retry-After: no retry)", function()
      local uri = "/api/v1/namespaces/" .. ns .. "/podtemplates?timeout=2s"
      -- The request's deadline ends both the handler (its etcd call) and
      -- the server's timeout filter at the same moment. When the handler has
      -- begun its own answer as the filter fires, the filter aborts the
      -- stream (http.ErrAbortHandler: an HTTP/2 RST_STREAM, an HTTP/1.1
      -- close) instead of answering 504: the client then gets a transport
      -- error, and must not send the POST again either. Such attempts are
      -- checked too, and the POST is made again (up to 3 times) until the
      -- server's 504 comes.
      local res
      for attempt = 1, 3 do
        res = post_with_etcd_stopped(d, uri)
        assert.are.equal(1, res.sent, "requests the server received for one POST")
        assert.is_nil(res.obj)
        assert.is_table(res.err)
        if res.status ~= 0 then break end
        assert.is_true(errors.IsTransportError(res.err), tostring(res.err))
        F.diag("row 13 (%s, %s): attempt %d: the server aborted the stream: %s", H.interpreter, d.name, attempt, tostring(res.err))
      end
      assert.are.equal(504, res.status, tostring(res.err))
      assert.are.equal(504, res.err.code)
      assert.are.equal("Timeout", res.err.reason)
      assert.is_true(errors.IsTimeout(res.err))
      assert.is_false(errors.IsTransportError(res.err))
      assert.are.equal(0, res.err.retryAfterSeconds)
      F.diag("row 13 (%s, %s): %d %s: %s", H.interpreter, d.name, res.err.code, res.err.reason, res.err.message)
      -- etcd answers again
      H.eventually(function() return cs:CoreV1():PodTemplates(ns):List() end, 30, "a LIST after SIGCONT")
    end)
  end
end)

describe("server-ended watches, --min-request-timeout=7 (fault matrix row 15, " .. H.interpreter .. ")", function()
  local ENDS = 3 -- server ends the loop driver's watch must go through
  local admin, ns, label, sel, I, W
  local craw = { names = {}, ends = 0 } -- libcurl: first watch, then re-watches
  local lraw = { names = {}, ends = 0, errs = {}, durations = {} }

  setup(function()
    admin = assert(k8s.NewForConfig(H.config("admin-token")))
    ns = H.namespace(admin)
    label = H.name("end")
    sel = "k8s-lua-fault=" .. label
    -- an informer whose watches carry no timeoutSeconds (the reflector's
    -- 300-600 s would keep the server's limit away)
    I = F.informer(assert(k8s.NewForConfig(H.config("admin-token"))), ns, label, function(o) o.timeoutSeconds = nil end)
    F.drive_until(function() return I.inf:HasSynced() end, 60, "the informer to sync")
    local rv0 = assert(admin:CoreV1():ConfigMaps(ns):List({ labelSelector = sel })).metadata.resourceVersion
    local ccs = assert(k8s.NewForConfig(H.config("admin-token")))
    craw.w = assert(ccs:CoreV1():ConfigMaps(ns):Watch({ resourceVersion = rv0, labelSelector = sel }))
    local lcs = assert(k8s.NewForConfig(H.config("admin-token")))
    lraw.task = loop.spawn(function()
      local rv = rv0
      while not lraw.stop do
        local t0 = loop.now()
        local w, err = lcs:CoreV1():ConfigMaps(ns):Watch({ resourceVersion = rv, labelSelector = sel })
        if not w then
          lraw.errs[#lraw.errs + 1] = "open: " .. tostring(err)
        else
          while true do
            local ev, e = w:Next(60)
            if ev then
              lraw.names[#lraw.names + 1] = ev.type .. " " .. tostring(ev.object.metadata.name)
              rv = ev.object.metadata.resourceVersion or rv
            else
              if e then lraw.errs[#lraw.errs + 1] = tostring(e) else lraw.ends = lraw.ends + 1 end
              lraw.durations[#lraw.durations + 1] = string.format("%.1f", loop.now() - t0)
              w:Stop()
              break
            end
            if lraw.stop then w:Stop(); break end
          end
        end
      end
    end)
    W = F.writer(admin:CoreV1():ConfigMaps(ns), label, 0.25)
    W.prefix = "seq-"
    F.drive_until(function()
      local st = I:stats()
      return lraw.ends >= ENDS and st.watches + st.watchlists > ENDS
    end, 120, ENDS .. " server-ended watches")
    W.prefix = nil
    W:stop()
    F.drive_until(function() return W.task:finished() end, 30, "the writer to stop")
    local want = {}
    for _, n in ipairs(W.created) do want[#want + 1] = "ADDED " .. n end
    F.drive_until(function() return #lraw.names >= #want and I:has_all(W.created) end, 60,
      "the loop driver's watches and the informer to see every object")
    lraw.stop = true

    -- libcurl: the first watch (ended by the server long ago), then watches
    -- from the last resourceVersion until every object is there
    local rv = rv0
    while true do
      local ev, err = craw.w:Next(60)
      if not ev then craw.first_err = err; break end
      craw.names[#craw.names + 1] = ev.type .. " " .. tostring(ev.object.metadata.name)
      rv = ev.object.metadata.resourceVersion or rv
    end
    craw.first_count = #craw.names
    craw.w:Stop()
    while #craw.names < #want and not craw.err do
      local w, err = ccs:CoreV1():ConfigMaps(ns):Watch({ resourceVersion = rv, labelSelector = sel })
      if not w then craw.err = err; break end
      while #craw.names < #want do
        local ev, e = w:Next(60)
        if not ev then
          if e then craw.err = e else craw.ends = craw.ends + 1 end
          break
        end
        craw.names[#craw.names + 1] = ev.type .. " " .. tostring(ev.object.metadata.name)
        rv = ev.object.metadata.resourceVersion or rv
      end
      w:Stop()
    end
    craw.want, lraw.want = want, want
    local st = I:stats()
    F.diag("row 15 (%s): %d objects; loop driver watch lifetimes (s): %s; libcurl: first watch %d events then %s",
      H.interpreter, #want, table.concat(lraw.durations, " "), craw.first_count,
      craw.first_err and tostring(craw.first_err) or "a clean end")
    F.diag("row 15 (%s): informer reflector: watches %d, watchlists %d, lists %d; %s", H.interpreter,
      st.watches, st.watchlists, st.lists, table.concat(st.outcomes, " | "))
  end)

  teardown(function()
    lraw.stop = true
    if W then W:stop() end
    if I then I.factory:Shutdown() end
    pcall(F.drive_until, function() return loop.tasks_count() == 0 end, 15)
    H.cleanup_namespaces()
  end)

  it("row 15 (libcurl): the server ends a watch without timeoutSeconds cleanly; watching again from the last resourceVersion loses and repeats nothing", function()
    assert.is_nil(craw.first_err, tostring(craw.first_err))
    assert.is_nil(craw.err, tostring(craw.err))
    assert.is_true(craw.first_count < #craw.want, "the first watch was not ended before the writer stopped")
    assert.are.same(craw.want, craw.names)
  end)

  it("row 15 (loop): " .. ENDS .. " server ends, each clean; watching again from the last resourceVersion loses and repeats nothing", function()
    assert.are.same({}, lraw.errs)
    assert.is_true(lraw.ends >= ENDS)
    assert.are.same(lraw.want, lraw.names)
  end)

  it("row 15 (informer, loop): across the server's ends every object is delivered exactly once", function()
    F.assert_exactly_once(I, W.created)
    local st = I:stats()
    assert.is_true(st.watches + st.watchlists > ENDS)
    assert.are.equal(0, st.expired)
  end)
end)

describe("GOAWAY, --goaway-chance=0.02 (fault matrix row 17, " .. H.interpreter .. ")", function()
  local N = 500
  local ns, mypid

  -- local ports of this process's established connections to the API server
  local function my_conns()
    local out = F.sh("ss -Htnp state established '( dport = :" .. F.PORT .. " )'")
    local ports = {}
    for line in out:gmatch("[^\n]+") do
      if line:find("pid=" .. mypid .. ",", 1, true) then
        local lp = line:match("127%.0%.0%.1:(%d+)%s+127%.0%.0%.1:" .. F.PORT)
        if lp then ports[lp] = true end
      end
    end
    return ports
  end

  setup(function()
    local admin = assert(k8s.NewForConfig(H.config("admin-token")))
    ns = H.namespace(admin)
    assert(admin:CoreV1():ConfigMaps(ns):Create({ metadata = { name = "target" }, data = { v = "1" } }))
    mypid = assert(H.read("/proc/self/stat"):match("^(%d+)"))
  end)

  teardown(function() H.cleanup_namespaces() end)

  it("row 17 (libcurl, HTTP/2): " .. N .. " sequential GETs and more until a GOAWAY was seen: no error, new connections", function()
    local cfg = H.config("admin-token")
    cfg.QPS, cfg.Burst = -1, 0
    local cms = assert(k8s.NewForConfig(cfg)):CoreV1():ConfigMaps(ns)
    local baseline = my_conns()
    local seen, nseen, errs, n = {}, 0, {}, 0
    -- until N requests and at least two connections of this clientset (the
    -- first, and one after a GOAWAY); 0.98^2000: a bound never reached
    while n < N or (nseen < 2 and n < 2000) do
      n = n + 1
      local o, err = cms:Get("target")
      if not o then errs[#errs + 1] = tostring(err) end
      for p in pairs(my_conns()) do
        if not baseline[p] and not seen[p] then seen[p], nseen = true, nseen + 1 end
      end
    end
    F.diag("row 17 (%s, libcurl): %d GETs over %d connections", H.interpreter, n, nseen)
    assert.are.same({}, errs)
    assert.is_true(nseen >= 2, "connections used: " .. nseen)
  end)

  it("row 17 (loop, HTTP/1.1): " .. N .. " sequential GETs: no error", function()
    local cfg = H.config("admin-token")
    cfg.QPS, cfg.Burst = -1, 0
    local cms = assert(k8s.NewForConfig(cfg)):CoreV1():ConfigMaps(ns)
    local errs = {}
    local before = loop.driver.stats()
    driver("loop").run(function()
      for _ = 1, N do
        local o, err = cms:Get("target")
        if not o then errs[#errs + 1] = tostring(err) end
      end
    end)
    local after = loop.driver.stats()
    F.diag("row 17 (%s, loop): %d GETs, %d TLS handshakes", H.interpreter, N, after.handshakes - before.handshakes)
    assert.are.same({}, errs)
  end)
end)

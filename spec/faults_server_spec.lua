-- Faults the real control plane produces on demand (reliability.md 3.2,
-- 3.4, 3.5, 3.6, 3.8; fault matrix rows 9, 10, 11, 12, 16, 19, 21), and what
-- the client must do, as client-go v0.35 does:
--  * row 9: a watch from a resourceVersion etcd has compacted away. The
--    apiserver runs with --watch-cache-sizes=podtemplates#0, so PodTemplates
--    are served by etcd, and a compaction through etcd's HTTP gateway makes
--    the old RV a real 410: an ERROR event (a Status, reason Expired) in a
--    200 watch that then ends; a relist and a watch from its RV work;
--  * row 10: an expired continue token (limit=1, a write, a compaction): the
--    raw List gets 410 Expired (with the server's "inconsistent" continue
--    token), and k8s.pager's List falls back to one full list;
--  * row 11: a real 429 from API Priority and Fairness (a priority level with
--    no seats that rejects, reliability.md 3.4): a "hog" request of the
--    throttled ServiceAccount holds the one request the level lets run (a
--    LIST with a future resourceVersion, which the watch cache holds 3 s and
--    answers 504); the client's request meanwhile gets APF's 429, whose body
--    is text/plain, with Retry-After. Retries off: IsTooManyRequests with
--    Retry-After, client-go's message, the body in the Result (no decode
--    error); retries on: the call succeeds after the hog, and the server's
--    rejected-requests counter proves it saw the 429;
--  * row 12: the watch cache's 504 "Too large resource version" with
--    Retry-After: 1: one request with retries off; with a Timeout of 8 s the
--    504 is retried once and the deadline ends the call (not 10 retries).
--    Requests are counted by the server, with the dispatched-requests
--    counter of a FlowSchema only this test's ServiceAccount matches;
--  * row 16: a BOOKMARK before the server's clean end of a watch with
--    allowWatchBookmarks and timeoutSeconds (sent at the deadline - 2 s), its
--    resourceVersion past the watch's start and past a write the watch did
--    not match, usable as the resume point;
--  * row 19: a revoked service-account token in a BearerTokenFile: the 401
--    is returned, the file is re-read at once (not after its 50 s period),
--    the next request succeeds with the rotated token;
--  * row 21: an exec credential whose expirationTimestamp has passed: the
--    plugin runs again before every request (the server accepts the token,
--    so no 401 could have caused the re-run); an unexpired one is cached.
-- Waits are for conditions (H.eventually), never for durations. Each
-- behaviour runs on every driver of H.DRIVERS. Subprocess tools (curl) run
-- without the ASan preload (tools/check-memory.sh).
local H = require "spec.helper"
local k8s = require "k8s"

local errors = k8s.errors

local function config(token, extra)
  local c = { Host = H.env.K8S_LUA_SERVER, TLSClientConfig = { CAFile = H.env.K8S_LUA_CA },
              BearerToken = token, QPS = -1 }
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

-- etcd's gRPC gateway (K8S_LUA_ETCD_ENDPOINT, as spec/informer_spec.lua)
local function etcd(path, body)
  return H.sh("env -u LD_PRELOAD -u ASAN_OPTIONS curl -s -m 10 -X POST "
    .. H.shq(H.env.K8S_LUA_ETCD_ENDPOINT .. path) .. " -d " .. H.shq(body))
end

--- Compact etcd at its current revision (physical): every older revision is
-- gone. Returns that revision. (etcd answers "required revision has been
-- compacted" when nothing was written since an earlier compaction at it.)
local function compact()
  local rev = assert(etcd("/v3/kv/range", '{"key":"AA=="}'):match('"revision":"(%d+)"'), "etcd revision")
  local out = etcd("/v3/kv/compaction", '{"revision":"' .. rev .. '","physical":true}')
  assert(out:match('"header"') or out:match("required revision has been compacted"), "etcd compaction: " .. out)
  return tonumber(rev)
end

local function names(list)
  return H.names_of(list)
end

local function podtemplate(name, set)
  return { metadata = { name = name, labels = { set = set } },
           template = { spec = { containers = { { name = "c", image = "example/none" } } } } }
end

-- the resourceVersion of an object or list, as a number (RVs are etcd revisions)
local function rvnum(rv)
  local n = tonumber(rv)
  assert(n, "not a numeric resourceVersion: " .. tostring(rv))
  return n
end

describe("etcd compaction: 410 on a watch and on a continue token (" .. H.interpreter .. ")", function()
  local cs, pts

  setup(function()
    cs = assert(k8s.NewForConfig(H.config("admin-token")))
    pts = cs:CoreV1():PodTemplates(H.namespace(cs))
  end)

  teardown(function()
    H.cleanup_namespaces()
  end)

  for _, driver in ipairs(H.DRIVERS) do
    it("a watch from a compacted resourceVersion: an ERROR event, 410 Expired, the end; a relist and a watch from its RV work (" .. driver.name .. ")", function()
      driver.run(function()
        local set = H.name("w")
        local sel = "set=" .. set
        for _, n in ipairs { "a", "b" } do assert(pts:Create(podtemplate(set .. "-" .. n, set))) end
        local old = assert(pts:List({ labelSelector = sel })).metadata.resourceVersion
        -- two writes after it: the compaction revision is past old + 1, the
        -- first revision a watch from old would need
        for _, n in ipairs { "c", "d" } do assert(pts:Create(podtemplate(set .. "-" .. n, set))) end
        assert.is_true(compact() > rvnum(old) + 1)

        local w = assert(pts:Watch({ resourceVersion = old, labelSelector = sel }))
        local ev, err = w:Next(30)
        assert(ev, tostring(err))
        assert.equal("ERROR", ev.type)
        local st = ev.object
        assert.equal("Status", st.kind)
        assert.equal("Failure", st.status)
        assert.equal(410, st.code)
        assert.equal("Expired", st.reason)
        assert.equal("The resourceVersion for the provided watch is too old.", st.message)
        assert.is_true(errors.IsResourceExpired(st))
        assert.is_false(errors.IsGone(st)) -- apimachinery: IsGone is reason Gone only
        -- the server ends the watch after the error: a clean end
        ev, err = w:Next(30)
        assert.is_nil(ev)
        assert.is_nil(err)
        w:Stop()

        -- relist, then watch from the list's resourceVersion
        local l = assert(pts:List({ labelSelector = sel }))
        assert.same({ set .. "-a", set .. "-b", set .. "-c", set .. "-d" }, names(l))
        w = assert(pts:Watch({ resourceVersion = l.metadata.resourceVersion, labelSelector = sel }))
        local e = assert(pts:Create(podtemplate(set .. "-e", set)))
        ev, err = w:Next(30)
        assert(ev, tostring(err))
        assert.equal("ADDED", ev.type)
        assert.equal(set .. "-e", ev.object.metadata.name)
        assert.equal(e.metadata.resourceVersion, ev.object.metadata.resourceVersion)
        w:Stop()
      end)
    end)

    it("a List with a continue token from before a compaction: 410 Expired with the server's inconsistent continue token (" .. driver.name .. ")", function()
      driver.run(function()
        local set = H.name("c")
        local sel = "set=" .. set
        for _, n in ipairs { "a", "b", "c" } do assert(pts:Create(podtemplate(set .. "-" .. n, set))) end
        local p1 = assert(pts:List({ labelSelector = sel, limit = 1 }))
        assert.same({ set .. "-a" }, names(p1))
        local token = p1.metadata["continue"]
        assert.is_string(token)
        assert.is_true(#token > 0)
        assert(pts:Create(podtemplate(set .. "-d", set))) -- the write
        compact()

        local l, err = pts:List({ labelSelector = sel, limit = 1, ["continue"] = token })
        assert.is_nil(l)
        assert.equal(410, err.code)
        assert.equal("Expired", err.reason)
        assert.is_true(errors.IsResourceExpired(err))
        assert.is_false(errors.IsTransportError(err))
        assert.matches("The provided continue parameter is too old to display a consistent list result.",
          err.message, 1, true)
        -- etcd3's handleCompactedErrorForPaging: the Status carries a token
        -- that continues at the latest revision (an inconsistent list)
        assert.is_table(err.status)
        local fresh = err.status.metadata and err.status.metadata["continue"]
        assert.is_string(fresh)
        assert.is_true(#fresh > 0)
        local rest = assert(pts:List({ labelSelector = sel, limit = 10, ["continue"] = fresh }))
        assert.same({ set .. "-b", set .. "-c", set .. "-d" }, names(rest))
      end)
    end)

    it("pager.List: the continue token expires between pages; it falls back to one full list with every item (" .. driver.name .. ")", function()
      driver.run(function()
        local set = H.name("p")
        local sel = "set=" .. set
        for _, n in ipairs { "a", "b", "c" } do assert(pts:Create(podtemplate(set .. "-" .. n, set))) end
        -- the real client; after the first page one write and a compaction
        local calls = {}
        local client = {
          List = function(_, o)
            local seen = {}
            for k, v in pairs(o) do seen[k] = v end
            local page, err = pts:List(o)
            calls[#calls + 1] = { opts = seen, err = err, n = page and #page.items }
            if #calls == 1 then
              assert(pts:Create(podtemplate(set .. "-d", set)))
              compact()
            end
            return page, err
          end,
        }
        local list, err = k8s.pager.List(client, { labelSelector = sel, limit = 1 })
        assert(list, tostring(err))
        assert.same({ set .. "-a", set .. "-b", set .. "-c", set .. "-d" }, names(list))
        assert.is_nil(list.metadata["continue"])
        assert.equal(3, #calls)
        -- 1: the first page
        assert.equal(1, calls[1].opts.limit)
        assert.is_nil(calls[1].opts["continue"])
        assert.equal(1, calls[1].n)
        -- 2: the next page with the token: 410 Expired
        assert.is_string(calls[2].opts["continue"])
        assert.is_true(errors.IsResourceExpired(calls[2].err))
        assert.equal(410, calls[2].err.code)
        -- 3: the full list: no limit, no continue, the caller's selector
        assert.is_nil(calls[3].opts.limit)
        assert.is_nil(calls[3].opts["continue"])
        assert.equal(sel, calls[3].opts.labelSelector)
        assert.is_nil(calls[3].err)
        assert.equal(4, calls[3].n)
      end)
    end)
  end
end)

describe("bookmarks before the server's end of a watch (" .. H.interpreter .. ")", function()
  local cs, cms

  setup(function()
    cs = assert(k8s.NewForConfig(H.config("admin-token")))
    cms = cs:CoreV1():ConfigMaps(H.namespace(cs))
  end)

  teardown(function()
    H.cleanup_namespaces()
  end)

  for _, driver in ipairs(H.DRIVERS) do
    it("allowWatchBookmarks, timeoutSeconds=5: a BOOKMARK past a write the watch does not match, then the clean end; its RV resumes (" .. driver.name .. ")", function()
      driver.run(function()
        local set = H.name("bm")
        local sel = "set=" .. set
        -- The label selector matches nothing the test or the controller-
        -- manager (kube-root-ca.crt) writes during the watch: every event is
        -- a BOOKMARK. The cacher sends it from its 1 s timer once the
        -- deadline - 2 s has come; a watch whose bookmark did not go past
        -- the write (a scheduling delay of the server's) is made again, at
        -- most 3 times, and each one's bookmarks are checked.
        local attempts, found, start, written, bookmarks = 0, nil, nil, nil, nil
        while not found and attempts < 3 do
          attempts = attempts + 1
          start = assert(cms:List({ labelSelector = sel })).metadata.resourceVersion
          local w = assert(cms:Watch({ resourceVersion = start, labelSelector = sel,
                                       allowWatchBookmarks = true, timeoutSeconds = 5 }))
          -- a write the watch does not match advances the resourceVersion
          written = assert(cms:Create({ metadata = { name = H.name("unmatched") } })).metadata.resourceVersion
          assert.is_true(rvnum(written) > rvnum(start))
          bookmarks = {}
          local last = rvnum(start)
          while true do
            local ev, err = w:Next(30)
            if not ev then
              assert.is_nil(err) -- the server's clean end, not a timeout or transport error
              break
            end
            assert.equal("BOOKMARK", ev.type)
            assert.equal("ConfigMap", ev.object.kind)
            assert.is_nil(ev.object.metadata.name)
            local rv = ev.object.metadata.resourceVersion
            assert.is_string(rv)
            assert.is_true(rvnum(rv) >= last, "bookmark RVs go forward: " .. rv .. " after " .. last)
            last = rvnum(rv)
            bookmarks[#bookmarks + 1] = rv
          end
          w:Stop()
          if #bookmarks > 0 and rvnum(bookmarks[#bookmarks]) >= rvnum(written) then found = bookmarks[#bookmarks] end
        end
        assert(found, ("no bookmark at or past the write (RV %s) in %d watches; the last one's bookmarks: %s")
          :format(written, attempts, table.concat(bookmarks, ",")))
        assert.is_true(rvnum(found) >= rvnum(start))

        -- the bookmark's RV is a resume point: the next matching change comes first
        local y = assert(cms:Create({ metadata = { name = set .. "-y", labels = { set = set } } }))
        local w = assert(cms:Watch({ resourceVersion = found, labelSelector = sel, timeoutSeconds = 30 }))
        local ev, err = w:Next(30)
        assert(ev, tostring(err))
        assert.equal("ADDED", ev.type)
        assert.equal(set .. "-y", ev.object.metadata.name)
        assert.equal(y.metadata.resourceVersion, ev.object.metadata.resourceVersion)
        w:Stop()
      end)
    end)
  end
end)

-- API Priority and Fairness metrics of the admin's /metrics
local function metrics(admin)
  return assert(admin:CoreV1():RESTClient():Get():AbsPath("/metrics"):DoRaw())
end

-- the sum of the series of metric `name` labelled flow_schema="fs"
local function metric(body, name, fs)
  local total, label = 0, 'flow_schema="' .. fs .. '"'
  for labels, v in body:gmatch("\n" .. name .. "{([^}]*)} (%S+)") do
    if labels:find(label, 1, true) then total = total + tonumber(v) end
  end
  return total
end

describe("API Priority and Fairness 429 and the watch cache's 504 (" .. H.interpreter .. ")", function()
  local admin, ns, dir, fs_throttle, pl_throttle, fs_slow, tokens

  local function sa_token(name)
    assert(admin:CoreV1():ServiceAccounts(ns):Create({ metadata = { name = name } }))
    assert(admin:RbacV1():RoleBindings(ns):Create({
      metadata = { name = name .. "-view" },
      roleRef = { apiGroup = "rbac.authorization.k8s.io", kind = "ClusterRole", name = "view" },
      subjects = { { kind = "ServiceAccount", name = name, namespace = ns } },
    }))
    local tr = assert(admin:CoreV1():ServiceAccounts(ns):CreateToken(name, { spec = { expirationSeconds = 600 } }))
    return tr.status.token
  end

  local function flowschema(name, pl, sa)
    return {
      metadata = { name = name },
      spec = {
        priorityLevelConfiguration = { name = pl },
        matchingPrecedence = 500, -- before the suggested "service-accounts" (9000)
        distinguisherMethod = { type = "ByUser" },
        rules = { {
          subjects = { { kind = "ServiceAccount", serviceAccount = { name = sa, namespace = ns } } },
          resourceRules = { { verbs = { "*" }, apiGroups = { "*" }, resources = { "*" }, clusterScope = true,
                              namespaces = { "*" } } },
          nonResourceRules = { { verbs = { "*" }, nonResourceURLs = { "*" } } },
        } },
      },
    }
  end

  -- a List of configmaps with a resourceVersion far in the future: the
  -- watch cache waits 3 s for it, then answers 504 with Retry-After: 1
  local function future_rv()
    local rv = assert(admin:CoreV1():ConfigMaps(ns):List({ limit = 1 })).metadata.resourceVersion
    return string.format("%d", rvnum(rv) + 1000000)
  end

  setup(function()
    admin = assert(k8s.NewForConfig(H.config("admin-token")))
    ns = H.namespace(admin)
    dir = H.sh("mktemp -d"):gsub("%s+$", "")
    tokens = { throttled = sa_token("throttled"), slow = sa_token("slow") }
    -- one request at a time for "throttled" (nominalConcurrencyShares 0:
    -- a limit of 0 seats, and queueset lets one request run when nothing
    -- does), every other one rejected at once
    pl_throttle, fs_throttle = "k8s-lua-throttle-" .. ns, "k8s-lua-throttle-" .. ns
    fs_slow = "k8s-lua-slow-" .. ns
    local fc = admin:FlowcontrolV1()
    assert(fc:PriorityLevelConfigurations():Create({
      metadata = { name = pl_throttle },
      spec = { type = "Limited", limited = { nominalConcurrencyShares = 0, lendablePercent = 0,
                                             borrowingLimitPercent = 0, limitResponse = { type = "Reject" } } },
    }))
    assert(fc:FlowSchemas():Create(flowschema(fs_throttle, pl_throttle, "throttled")))
    -- "slow" has its own FlowSchema only to count its requests
    assert(fc:FlowSchemas():Create(flowschema(fs_slow, "global-default", "slow")))
    -- both are in force (and the RoleBindings too) once a request of each
    -- ServiceAccount is dispatched under its FlowSchema
    for sa, fs in pairs { throttled = fs_throttle, slow = fs_slow } do
      local c = assert(k8s.NewForConfig(config(tokens[sa])))
      H.eventually(function()
        return c:CoreV1():ConfigMaps(ns):List({ limit = 1 })
          and metric(metrics(admin), "apiserver_flowcontrol_dispatched_requests_total", fs) >= 1
      end, 60, "the FlowSchema " .. fs .. " to be in force")
    end
  end)

  teardown(function()
    -- cluster-scoped: deleted whatever happened above
    local fc = admin and admin:FlowcontrolV1()
    if fc then
      for _, n in ipairs { fs_throttle, fs_slow } do pcall(function() fc:FlowSchemas():Delete(n) end) end
      if pl_throttle then pcall(function() fc:PriorityLevelConfigurations():Delete(pl_throttle) end) end
    end
    if dir then os.execute("rm -rf " .. H.shq(dir)) end
    H.cleanup_namespaces()
  end)

  local hogs = 0
  -- Start the hog: a background curl of "throttled" holding the level's one
  -- seat for 3 s. Returns the file its HTTP status is written to at its end.
  local function start_hog()
    hogs = hogs + 1
    local hdr, out = dir .. "/hog.hdr", dir .. "/hog-" .. hogs
    H.write(hdr, "Authorization: Bearer " .. tokens.throttled .. "\n")
    local url = ("%s/api/v1/namespaces/%s/configmaps?limit=1&resourceVersion=%s&resourceVersionMatch=NotOlderThan")
      :format(H.env.K8S_LUA_SERVER, ns, future_rv())
    os.execute(("(env -u LD_PRELOAD -u ASAN_OPTIONS curl -s -m 60 --cacert %s -H @%s -o /dev/null -w '%%{http_code}' %s > %s.tmp 2>&1; mv %s.tmp %s) >/dev/null 2>&1 &")
      :format(H.shq(H.env.K8S_LUA_CA), H.shq(hdr), H.shq(url), H.shq(out), H.shq(out), H.shq(out)))
    return out
  end

  local function hog_status(out)
    return H.eventually(function() return H.exists(out) and H.read(out) end, 60, "the hog to end")
  end

  for _, driver in ipairs(H.DRIVERS) do
    it("APF 429 with Retry-After while a hog holds the seat: retries off, IsTooManyRequests with the text/plain body; retries on, success after the hog (" .. driver.name .. ")", function()
      local tcs = assert(k8s.NewForConfig(config(tokens.throttled)))
      local proven, misses = false, {}
      -- one attempt: the hog, seen executing; the client's requests. A hog
      -- that ended before a request arrived gives no 429: the attempt is
      -- made again (at most 5 times); what the client does with a 429 is
      -- asserted whenever it gets one.
      for attempt = 1, 5 do
        local out = start_hog()
        local seen = H.eventually(function()
          if metric(metrics(admin), "apiserver_flowcontrol_current_executing_requests", fs_throttle) >= 1 then
            return "executing"
          end
          return H.exists(out) and "ended"
        end, 60, "the hog to be executing")
        local stage = "the hog ended before it was seen executing"
        if seen == "executing" then
          driver.run(function()
            local r0 = metric(metrics(admin), "apiserver_flowcontrol_rejected_requests_total", fs_throttle)
            -- retries off
            local res = tcs:CoreV1():RESTClient():Get():Namespace(ns):Resource("configmaps"):MaxRetries(0):Do()
            if res:StatusCode() ~= 429 then
              assert.equal(200, res:StatusCode()) -- the hog had ended: the request ran
              stage = "the request without retries ran after the hog"
              return
            end
            assert.matches("^text/plain", res:ContentType())
            assert.equal("Too many requests, please try again later.", (res:Raw():gsub("%s+$", "")))
            local err = res:Error()
            assert.equal(429, err.code)
            assert.equal("TooManyRequests", err.reason)
            assert.is_true(errors.IsTooManyRequests(err))
            assert.is_false(errors.IsTransportError(err))
            assert.is_true(err.retryAfterSeconds >= 1) -- APF's dropped-requests tracker: 1, doubled under load
            -- client-go's message for a body that is not a Status (no decode
            -- error). (client-go also keeps the body in the error, as the
            -- details.causes UnexpectedServerResponse; here it is the Result's.)
            assert.equal("the server has received too many requests and has asked us to try again later (get configmaps)",
              err.message)
            local r1 = metric(metrics(admin), "apiserver_flowcontrol_rejected_requests_total", fs_throttle)
            assert.equal(r0 + 1, r1) -- exactly one request: not retried

            -- default retries (10): honours Retry-After and succeeds once the
            -- hog is done (10 immediate retries would all have been rejected)
            local l, lerr = tcs:CoreV1():ConfigMaps(ns):List()
            assert(l, tostring(lerr))
            assert.is_table(l.items)
            local r2 = metric(metrics(admin), "apiserver_flowcontrol_rejected_requests_total", fs_throttle)
            if r2 == r1 then
              stage = "the retrying request ran after the hog"
              return
            end
            assert.is_true(r2 > r1)
            proven = true
          end)
        end
        -- the hog was the request that held the seat: it ran, and got the 504
        assert.equal("504", hog_status(out))
        if proven then break end
        misses[#misses + 1] = ("attempt %d: %s"):format(attempt, stage)
      end
      assert(proven, "the client never met the hog: " .. table.concat(misses, "; "))
    end)

    it("504 Too large resource version with Retry-After: 1, retries off: one request, IsTimeout, the Status decoded (" .. driver.name .. ")", function()
      local scs = assert(k8s.NewForConfig(config(tokens.slow)))
      driver.run(function()
        local d0 = metric(metrics(admin), "apiserver_flowcontrol_dispatched_requests_total", fs_slow)
        local res = scs:CoreV1():RESTClient():Get():Namespace(ns):Resource("configmaps")
          :Param("limit", "1"):Param("resourceVersion", future_rv()):Param("resourceVersionMatch", "NotOlderThan")
          :MaxRetries(0):Do()
        assert.equal(504, res:StatusCode())
        local err = res:Error()
        assert.equal(504, err.code)
        assert.equal("Timeout", err.reason)
        assert.is_true(errors.IsTimeout(err))
        assert.is_false(errors.IsServerTimeout(err))
        assert.equal(1, err.retryAfterSeconds)
        assert.matches("^Timeout: Too large resource version: %d+, current: %d+$", err.message)
        assert.equal("Status", err.status.kind)
        assert.equal(1, err.status.details.retryAfterSeconds)
        assert.equal("ResourceVersionTooLarge", err.status.details.causes[1].reason)
        local d1 = metric(metrics(admin), "apiserver_flowcontrol_dispatched_requests_total", fs_slow)
        assert.equal(d0 + 1, d1)
      end)
    end)

    it("504 with Retry-After: 1 and a Timeout of 8 s: retried once, then the deadline ends the call with IsTimeout (" .. driver.name .. ")", function()
      -- Each attempt takes at least the cache's 3 s, and a retry is made
      -- only if its 1 s wait fits in the time left: the second attempt
      -- starts after 4 s, and no third one fits in 8 s (10 would be client-
      -- go's limit without a deadline)
      local scs = assert(k8s.NewForConfig(config(tokens.slow, { Timeout = 8 })))
      driver.run(function()
        local rv = future_rv()
        local d0 = metric(metrics(admin), "apiserver_flowcontrol_dispatched_requests_total", fs_slow)
        local l, err = scs:CoreV1():ConfigMaps(ns):List({ limit = 1, resourceVersion = rv,
                                                          resourceVersionMatch = "NotOlderThan" })
        assert.is_nil(l)
        assert.is_true(errors.IsTimeout(err), tostring(err))
        if err.code == 504 then
          -- the second 504: its Retry-After would outlast the deadline
          assert.equal(1, err.retryAfterSeconds)
          assert.equal("ResourceVersionTooLarge", err.status.details.causes[1].reason)
        else
          -- the deadline passed during the second attempt
          assert.equal(0, err.code)
          assert.equal("Timeout", err.reason)
        end
        local d1 = metric(metrics(admin), "apiserver_flowcontrol_dispatched_requests_total", fs_slow)
        assert.equal(d0 + 2, d1)
      end)
    end)
  end
end)

describe("credentials that stop working (" .. H.interpreter .. ")", function()
  local admin, ns, dir, revoked

  setup(function()
    admin = assert(k8s.NewForConfig(H.config("admin-token")))
    ns = H.namespace(admin)
    dir = H.sh("mktemp -d"):gsub("%s+$", "")
    -- a real token, revoked: its ServiceAccount deleted. The API server
    -- caches a successful authentication for 10 s, so the token is only
    -- used once it is refused.
    assert(admin:CoreV1():ServiceAccounts(ns):Create({ metadata = { name = "doomed" } }))
    revoked = assert(admin:CoreV1():ServiceAccounts(ns):CreateToken("doomed", { spec = { expirationSeconds = 600 } }))
      .status.token
    assert(admin:CoreV1():ServiceAccounts(ns):Delete("doomed"))
    local probe = assert(k8s.NewForConfig(config(revoked)))
    H.eventually(function()
      local _, err = probe:CoreV1():Namespaces():Get(ns)
      return err and errors.IsUnauthorized(err)
    end, 30, "the deleted ServiceAccount's token to be refused")
  end)

  teardown(function()
    if dir then os.execute("rm -rf " .. H.shq(dir)) end
    H.cleanup_namespaces()
  end)

  for _, driver in ipairs(H.DRIVERS) do
    it("BearerTokenFile with a revoked token: the 401, then the rotated file is read at once and the next request succeeds (" .. driver.name .. ")", function()
      local file = dir .. "/token-" .. driver.name
      H.write(file, revoked .. "\n")
      local c = config(nil, { BearerTokenFile = file })
      local cs = assert(k8s.NewForConfig(c))
      driver.run(function()
        local got, err = cs:CoreV1():Namespaces():Get(ns)
        assert.is_nil(got)
        assert.equal(401, err.code)
        assert.is_true(errors.IsUnauthorized(err))
        -- rotated; the file's re-read period (50 s) has not passed
        H.write(file, H.env.K8S_LUA_ADMIN_TOKEN .. "\n")
        got, err = cs:CoreV1():Namespaces():Get(ns)
        assert(got, tostring(err))
        assert.equal(ns, got.metadata.name)
        assert(cs:CoreV1():ConfigMaps(ns):List())
      end)
    end)

    -- spec/plugins/exec_plugin.lua "expiring": the admin token with an
    -- expirationTimestamp PLUGIN_TTL seconds from now
    local function exec_client(countfile, ttl)
      return assert(k8s.NewForConfig({
        Host = H.env.K8S_LUA_SERVER, TLSClientConfig = { CAFile = H.env.K8S_LUA_CA }, QPS = -1,
        ExecProvider = {
          Command = H.INTERP, Args = { "spec/plugins/exec_plugin.lua", "expiring", countfile },
          Env = { { Name = "PLUGIN_TOKEN", Value = H.env.K8S_LUA_ADMIN_TOKEN }, { Name = "PLUGIN_TTL", Value = ttl } },
          APIVersion = "client.authentication.k8s.io/v1", InteractiveMode = "Never",
        },
      }))
    end

    local function runs(countfile)
      return H.exists(countfile) and select(2, H.read(countfile):gsub("run\n", "")) or 0
    end

    it("an exec credential past its expirationTimestamp: the plugin runs again before each request; an unexpired one is reused (" .. driver.name .. ")", function()
      local expired, valid = dir .. "/expired-" .. driver.name, dir .. "/valid-" .. driver.name
      local ecs, vcs = exec_client(expired, "-3600"), exec_client(valid, "3600")
      driver.run(function()
        for i = 1, 3 do
          assert(ecs:CoreV1():Namespaces():Get(ns))
          -- the server accepts the token (it has no expiry of its own): the
          -- new run came before the request, not after a 401
          assert.equal(i, runs(expired))
          assert(vcs:CoreV1():Namespaces():Get(ns))
          assert.equal(1, runs(valid))
        end
      end)
    end)
  end
end)

-- Fault matrix row 14 (reliability.md 3.4, "Other real 429s"): a graceful
-- shutdown of kube-apiserver with --shutdown-send-retry-after=true. After
-- SIGTERM and --shutdown-delay-duration (2 s), while a request is still in
-- flight, every new request gets 429 with Retry-After: 5 and Connection:
-- close (with_retry_after.go), until the in-flight requests drain.
--
-- Made deterministic: the request in flight is a create held by a
-- validating webhook this spec runs (spec/faults/webhook.py answers it only
-- when told to); while it is held the old server answers 429 to anything
-- new, whatever the timing. A second kube-apiserver is started on the same
-- port (--permit-port-sharing, SO_REUSEPORT), as a second replica behind a
-- load balancer would be, only after each client's first attempt got its
-- 429 (the client's own debug log says so); it is held (SIGSTOP) from the
-- moment it listens until the old one, its held create released, has
-- drained and closed its listener: there is never a moment when nothing
-- listens, so every retry meets either the old server's 429 or the new
-- server (its accept queue while it is held).
--
-- What the client must do (client-go): honour the Retry-After (the
-- client's debug log: "Got a Retry-After 5s response") and send again on a
-- new connection (the old one was closed), until it succeeds; with retries off, return the 429 with
-- retryAfterSeconds 5. Each on the blocking libcurl driver and the k8s.loop
-- driver; the retrying calls run in child processes (spec/faults/
-- retry_child.lua) so that this spec can start the new server meanwhile.
local H = require "spec.helper"
local F = require "spec.faults.helper"
local k8s = require "k8s"

local errors = k8s.errors

local VWC = { Group = "admissionregistration.k8s.io", Version = "v1", Resource = "validatingwebhookconfigurations" }

describe("kube-apiserver graceful shutdown with Retry-After (fault matrix row 14, " .. H.interpreter .. ")", function()
  local admin, dc, ns, tmp, vwc, wh_pid
  local old_pid, new_pid
  local obs = { nr = {}, child = {}, out = {} }

  local function curl(args)
    return F.sh("curl -s --max-time 10 --cacert " .. H.shq(H.env.K8S_LUA_CA) .. " -H "
      .. H.shq("Authorization: Bearer " .. H.env.K8S_LUA_ADMIN_TOKEN) .. " " .. args)
  end

  local function webhook_log()
    return H.exists(tmp .. "/webhook.log") and H.read(tmp .. "/webhook.log") or ""
  end

  setup(function()
    tmp = F.tmpdir()
    admin = assert(k8s.NewForConfig(H.config("admin-token")))
    dc = assert(k8s.dynamic.NewForConfig(H.config("admin-token")))
    ns = H.namespace(admin)
    assert(admin:CoreV1():ConfigMaps(ns):Create({ metadata = { name = "target" }, data = { v = "1" } }))

    -- the webhook, with a certificate of its own
    F.sh("cd " .. tmp .. " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
      .. " -keyout wh.key -out wh.crt -days 1 -subj /CN=k8s-lua-faults-webhook -addext subjectAltName=IP:127.0.0.1")
    assert(H.exists(tmp .. "/wh.crt"), "openssl failed")
    os.execute("(cd " .. tmp .. "; " .. F.DETACH .. " python3 " .. H.shq(H.ROOT .. "/spec/faults/webhook.py")
      .. " wh.crt wh.key webhook.log release </dev/null >port 2>webhook.err & echo $! >wh.pid; echo $! >>"
      .. H.shq(F.EXTRA_PIDS) .. ")")
    local port = H.eventually(function()
      return H.exists(tmp .. "/port") and H.read(tmp .. "/port"):match("port (%d+)")
    end, 30, "the webhook to listen")
    wh_pid = tonumber(H.read(tmp .. "/wh.pid"):match("%d+"))
    vwc = H.name("hog")
    assert(dc:Resource(VWC):Create({
      apiVersion = "admissionregistration.k8s.io/v1", kind = "ValidatingWebhookConfiguration",
      metadata = { name = vwc },
      webhooks = { {
        name = "hold.k8s-lua-faults.test", admissionReviewVersions = { "v1" }, sideEffects = "None",
        failurePolicy = "Ignore", timeoutSeconds = 30,
        clientConfig = { url = "https://127.0.0.1:" .. port .. "/validate",
          caBundle = (F.sh("base64 -w0 " .. tmp .. "/wh.crt"):gsub("%s", "")) },
        namespaceSelector = { matchLabels = { ["kubernetes.io/metadata.name"] = ns } },
        objectSelector = { matchExpressions = { { key = "k8s-lua-webhook", operator = "Exists" } } },
        rules = { { operations = { "CREATE" }, apiGroups = { "" }, apiVersions = { "v1" }, resources = { "configmaps" } } },
      } },
    }))
    -- the server calls it (probe objects are let through at once)
    local n = 0
    H.eventually(function()
      n = n + 1
      assert(admin:CoreV1():ConfigMaps(ns):Create({ metadata = { name = "probe-" .. n, labels = { ["k8s-lua-webhook"] = "probe" } } }))
      return webhook_log():find("probe " .. ns .. "/probe-", 1, true)
    end, 60, "the webhook configuration to take effect")

    -- a create held by the webhook: a request in flight
    local cms_url = F.SERVER .. "/api/v1/namespaces/" .. ns .. "/configmaps"
    os.execute("(" .. F.DETACH .. " curl -s --max-time 60 --cacert " .. H.shq(H.env.K8S_LUA_CA) .. " -H "
      .. H.shq("Authorization: Bearer " .. H.env.K8S_LUA_ADMIN_TOKEN) .. " -H 'Content-Type: application/json'"
      .. " -o /dev/null -w '%{http_code}' -X POST " .. H.shq(cms_url) .. " -d "
      .. H.shq('{"metadata":{"name":"held","labels":{"k8s-lua-webhook":"hold"}}}') .. " </dev/null >" .. tmp .. "/held.code 2>/dev/null) &")
    H.eventually(function() return webhook_log():find("hold " .. ns .. "/held", 1, true) end, 30,
      "the held create to reach the webhook")

    -- SIGTERM; 2 s later new requests get 429 while the held one is in flight
    old_pid = F.pid("apiserver")
    F.add_extra_pid(old_pid)
    F.kill("TERM", old_pid)
    local probe_url = H.shq(cms_url .. "/target")
    H.eventually(function() return curl("-o /dev/null -w '%{http_code}' " .. probe_url) == "429" end, 30,
      "kube-apiserver to answer 429 after SIGTERM")
    obs.probe = curl("--http1.1 -i " .. probe_url)
    obs.readyz_old = F.readyz()

    -- retries on: one child per driver; each one's first attempt meets the old server
    for _, d in ipairs(H.DRIVERS) do
      obs.out[d.name] = tmp .. "/child-" .. d.name .. ".out"
      F.spawn_lua("spec/faults/retry_child.lua", { d.name, ns, "target" }, { K8S_LUA_V = "6" }, obs.out[d.name])
    end
    -- retries off: the 429 itself, on each driver
    for _, d in ipairs(H.DRIVERS) do
      d.run(function()
        local cs = assert(k8s.NewForConfig(H.config("admin-token")))
        local res = cs:CoreV1():RESTClient():Get():Namespace(ns):Resource("configmaps"):Name("target"):MaxRetries(0):Do()
        obs.nr[d.name] = { status = res:StatusCode(), err = res:Error() }
      end)
    end

    for _, d in ipairs(H.DRIVERS) do
      H.eventually(function()
        local out = H.exists(obs.out[d.name]) and H.read(obs.out[d.name]) or ""
        return out:find("/configmaps/target %d+ in ") or out:find("RESULT ", 1, true)
      end, 60, "the " .. d.name .. " child's first attempt to be answered")
    end

    -- A new kube-apiserver on the same port. Its own loopback requests go
    -- to 127.0.0.1:<port> too and must not land on the old server (another
    -- loopback certificate: its post-start hooks would fail), so it is
    -- stopped (SIGSTOP) as soon as it listens, before it serves: the
    -- connections it gets meanwhile wait in its accept queue. Then the held
    -- create is released, the old server drains and closes its listener,
    -- and the new one goes on (SIGCONT). The port never lacks a listener.
    obs.handover = F.sh(table.concat({
      "S=" .. H.shq(F.STATE) .. "; P=" .. F.PORT,
      F.DETACH .. ' setsid bash -c "exec $(cat $S/apiserver.cmd)" </dev/null >>$S/apiserver.log 2>&1 &',
      "NEW=$!; echo $NEW >" .. tmp .. "/new.pid; echo $NEW >$S/apiserver.pid",
      "i=0",
      'until ss -Hltnp "sport = :$P" | grep -q "pid=$NEW,"; do',
      "  kill -0 $NEW 2>/dev/null || { echo exited; exit 1; }",
      "  i=$((i+1)); [ $i -gt 12000 ] && { echo timeout; exit 1; }",
      "  sleep 0.005",
      "done",
      "kill -STOP $NEW",
      'if grep -q "$NEW secure_serving.go:[0-9]*\\] Serving securely" $S/apiserver.log; then echo serving; else echo bound; fi',
    }, "\n")):gsub("%s+$", "")
    new_pid = tonumber(H.read(tmp .. "/new.pid"):match("%d+"))
    assert(obs.handover == "bound" or obs.handover == "serving", "the new kube-apiserver did not listen: " .. obs.handover
      .. "\n" .. F.sh("tail -n 30 " .. H.shq(F.STATE .. "/apiserver.log")))
    H.write(tmp .. "/release", "")
    H.eventually(function() return not F.alive(old_pid) end, 60, "the old kube-apiserver to exit")
    F.kill("CONT", new_pid)
    local ready, why = pcall(H.eventually, function() return F.readyz() == "ok" end, 120, "the new kube-apiserver to be ready")
    if not ready then
      F.diag("row 14: new kube-apiserver (pid %s, alive %s) not ready; /readyz?verbose: %s\n%s", tostring(new_pid),
        tostring(F.alive(new_pid)), F.sh("curl -s --max-time 5 -k " .. H.shq(F.SERVER .. "/readyz?verbose")),
        F.sh("tail -n 40 " .. H.shq(F.STATE .. "/apiserver.log")))
      error(why, 0)
    end
    obs.held = H.eventually(function()
      return H.exists(tmp .. "/held.code") and H.read(tmp .. "/held.code"):match("%d%d%d")
    end, 30, "the held create to be answered")

    for _, d in ipairs(H.DRIVERS) do
      local out = H.eventually(function()
        local s = H.exists(obs.out[d.name]) and H.read(obs.out[d.name])
        return s and s:find("RESULT ", 1, true) and s
      end, 120, "the " .. d.name .. " child to finish")
      obs.child[d.name] = { out = out, result = k8s.json.decode(out:match("RESULT ([^\n]*)")) }
      local statuses = {}
      for st in out:gmatch("/configmaps/target (%d+) in ") do statuses[#statuses + 1] = st end
      obs.child[d.name].statuses = statuses
      F.diag("row 14 (%s): %s GET with retries: statuses %s", H.interpreter, d.name, table.concat(statuses, ","))
    end
    F.diag("row 14 (%s): the new kube-apiserver was held %s", H.interpreter,
      obs.handover == "bound" and "before it served" or "after it had begun to serve")
    F.diag("row 14 (%s): old server during the drain: %s", H.interpreter,
      (obs.probe:match("^[^\r\n]*") or "") .. "; " .. table.concat({ obs.probe:match("\n(Retry%-After:[^\r\n]*)") or "",
        obs.probe:match("\n(Connection:[^\r\n]*)") or "" }, "; "))
  end)

  teardown(function()
    if new_pid then F.kill("CONT", new_pid) end
    if tmp then H.write(tmp .. "/release", "") end
    if vwc then pcall(function() dc:Resource(VWC):Delete(vwc) end) end
    if wh_pid then F.kill("TERM", wh_pid) end
    -- one kube-apiserver, the one in apiserver.pid, must be up for what runs next
    if old_pid then
      pcall(H.eventually, function() return not F.alive(old_pid) end, 40)
      if F.alive(old_pid) then F.kill("KILL", old_pid) end
    end
    if not F.alive(F.pid("apiserver")) then
      F.restart_apiserver()
    end
    H.cleanup_namespaces()
    F.rmdir(tmp)
  end)

  it("the server: after SIGTERM, with a request in flight, 429 + Retry-After: 5 + Connection: close; the held request completes, the old server exits", function()
    assert.matches("^HTTP/1.1 429", obs.probe)
    assert.matches("\nRetry%-After: 5\r?\n", obs.probe)
    assert.matches("\nConnection: close\r?\n", obs.probe)
    assert.matches("The apiserver is shutting down, please try again later.", obs.probe, 1, true)
    assert.are_not.equal("ok", obs.readyz_old)
    assert.are.equal("201", obs.held)
    assert.is_false(F.alive(old_pid))
    assert.is_true(F.alive(new_pid))
  end)

  for _, d in ipairs(H.DRIVERS) do
    it("retries off (" .. d.name .. "): the 429 comes back with retryAfterSeconds 5, IsTooManyRequests", function()
      local r = obs.nr[d.name]
      assert.are.equal(429, r.status)
      assert.is_table(r.err)
      assert.are.equal(429, r.err.code)
      assert.are.equal("TooManyRequests", r.err.reason)
      assert.is_true(errors.IsTooManyRequests(r.err))
      assert.are.equal(5, r.err.retryAfterSeconds)
    end)

    it("retries on (" .. d.name .. "): 429 from the old server, Retry-After honoured, sent again on a new connection, 200 from the new server", function()
      local c = obs.child[d.name]
      assert.is_nil(c.result.crash)
      assert.is_nil(c.result.err, c.result.err and c.result.err.message)
      assert.are.equal("target", c.result.name)
      assert.are.equal("429", c.statuses[1], c.out)
      assert.are.equal("200", c.statuses[#c.statuses], c.out)
      assert.matches("Got a Retry-After 5s response for attempt 1 to ", c.out, 1, true)
      for i = 2, #c.statuses - 1 do assert.are.equal("429", c.statuses[i], c.out) end
    end)
  end
end)

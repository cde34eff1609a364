-- The OpenResty driver (lua/k8s/ngx.lua) inside Debian's real nginx, against
-- the real control plane (tools/run-tests.sh exports its env). Every call
-- below yields on cosockets; TLS and HTTP/1.1 run in the C engine.
local N = require "spec.ngx.helper"
local json = require "k8s".json

local E = os.getenv

local function J(code, body)
  assert.are.equal(200, code, body)
  return json.decode(body)
end

local function write(path, text, mode)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  if mode then N.sh("chmod " .. mode .. " " .. N.shq(path)) end
end

local function uniq(p)
  return p .. "-" .. tostring(os.time()) .. "-" .. tostring(math.random(100000, 999999))
end

-- exec plugins as shell scripts (python3 builds the JSON)
local function plugins(dir, token)
  local cred = [[{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}]]
  write(dir .. "/exec.sh", "#!/bin/sh\necho '" .. cred:format(token) .. "'\n", "755")
  write(dir .. "/execfail.sh", "#!/bin/sh\necho 'boom' >&2\nexit 3\n", "755")
  write(dir .. "/exectimeout.sh", "#!/bin/sh\nexec sleep 30\n", "755")
  write(dir .. "/execcert.sh", [[#!/bin/sh
exec python3 -c 'import json,sys
c=open(sys.argv[1]).read(); k=open(sys.argv[2]).read()
print(json.dumps({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":c,"clientKeyData":k}}))' ]]
    .. N.shq(E("K8S_LUA_ADMIN_CERT")) .. " " .. N.shq(E("K8S_LUA_ADMIN_KEY")) .. "\n", "755")
end

describe("k8s in nginx (cosocket driver)", function()
  local srv, dir
  math.randomseed(os.time())

  lazy_setup(function()
    assert(E("KUBECONFIG") and E("K8S_LUA_SERVER"), "needs the control plane's env (tools/run-tests.sh)")
    N.ensure_build()
    dir = N.sh("mktemp -d /tmp/k8s-ngx-spec.XXXXXX"):match("^%s*(.-)%s*$")
    plugins(dir, E("K8S_LUA_ADMIN_TOKEN"))
    write(dir .. "/tokenfile", "not-a-valid-token\n")
    write(dir .. "/broken.yaml", "apiVersion: v1\nclusters: [ {{{\n")
    N.sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout " .. dir .. "/other.key -out " .. dir
      .. "/other.crt -subj /CN=other-ca -days 1 2>/dev/null")
    srv = N.start {
      workers = 2,
      env = {
        K8S_LUA_SERVER = E("K8S_LUA_SERVER"), K8S_LUA_CA = E("K8S_LUA_CA"),
        K8S_LUA_ADMIN_TOKEN = E("K8S_LUA_ADMIN_TOKEN"), K8S_LUA_RESTRICTED_TOKEN = E("K8S_LUA_RESTRICTED_TOKEN"),
        K8S_LUA_ADMIN_CERT = E("K8S_LUA_ADMIN_CERT"), K8S_LUA_ADMIN_KEY = E("K8S_LUA_ADMIN_KEY"),
        K8S_NGX_WRONG_CA = dir .. "/other.crt", K8S_NGX_TOKEN_FILE = dir .. "/tokenfile",
        K8S_NGX_PLUGIN_DIR = dir, K8S_LUA_EXEC_TIMEOUT = "2", K8S_LUA_TOKEN_FILE_PERIOD = "0.5",
      },
      http = [[
        lua_shared_dict k8st 1m;
        lua_socket_log_errors off;
        init_by_lua_block {
          local k8s = require "k8s"
          local cs = assert(k8s.NewForConfig(assert(k8s.clientcmd.BuildConfigFromFlags("", ""))))
          local ns, err = cs:CoreV1():Namespaces():Get("default")
          ngx.shared.k8st:set("init", ns and ns.metadata.name or tostring(err))
        }
        init_worker_by_lua_block {
          local t = require "k8st"
          local _, err = t.cs("token"):CoreV1():Namespaces():Get("default")
          ngx.shared.k8st:set("init_worker", err and err.reason or "no error")
        }
      ]],
      server = [[
        location = /token-source { content_by_lua_block { ngx.print(os.getenv("K8S_LUA_ADMIN_TOKEN")) } }
        location = /get { content_by_lua_block { require("k8st").get() } }
        location = /slow { content_by_lua_block { require("k8st").slow() } }
        location = /slow-go { content_by_lua_block { require("k8st").slow_go() } }
        location = /crud { content_by_lua_block { require("k8st").crud() } }
        location = /misc { content_by_lua_block { require("k8st").misc() } }
        location = /automation { content_by_lua_block { require("k8st").automation() } }
        location = /create { content_by_lua_block { require("k8st").create() } }
        location = /watch-start { content_by_lua_block { require("k8st").watch_start() } }
        location = /watch-next { content_by_lua_block { require("k8st").watch_next() } }
        location = /events { content_by_lua_block { require("k8st").events() } }
        location = /kubeconfig { content_by_lua_block { require("k8st").kubeconfig() } }
        location /fake/ { content_by_lua_block { require("k8st").fake() } }
        location = /fakeget { content_by_lua_block { require("k8st").fakeget() } }
        location = /pool { content_by_lua_block { require("k8st").pool() } }
        location = /resume { content_by_lua_block { require("k8st").resume() } }
        location = /logphase {
          content_by_lua_block { ngx.say("logged") }
          log_by_lua_block { require("k8st").log_phase() }
        }
      ]],
    }
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
    if dir then N.sh("rm -rf " .. N.shq(dir)) end
  end)

  local function get(path, timeout)
    return J(srv:get(path, { timeout = timeout or 20 }))
  end

  it("blocks in init_by_lua (allowed there) and refuses init_worker_by_lua with NotYieldable", function()
    local ev = get("/events")
    assert.are.equal("default", ev.init)
    assert.are.equal("NotYieldable", ev.init_worker)
  end)

  it("gets an object with a token and CA data, server addressed by IP (IP SAN verified)", function()
    local r = get("/get?cfg=token")
    assert.is_nil(r.error)
    assert.are.equal("default", r.name)
  end)

  for _, kind in ipairs { "kubeconfig", "cert", "certdata", "localhost", "servername", "insecure" } do
    it("connects with the " .. kind .. " config", function()
      local r = get("/get?cfg=" .. kind)
      assert.is_nil(r.error)
      assert.are.equal("default", r.name)
    end)
  end

  it("pools keep-alive connections per cluster + TLS identity, and resumes TLS sessions", function()
    local r = get("/pool")
    assert.are.equal(5, r.connects)
    assert.is_true(r.reused >= 4, "reused " .. r.reused .. " of 5")
    assert.is_true(r.idle >= 1)
    local s = get("/resume")
    assert.is_true(s.ok)
    assert.is_true(s.handshakes >= 1)
    assert.is_true(s.resumed >= 1, json.encode(s))
  end)

  it("rejects a server certificate from another CA (TLSVerifyFailed)", function()
    local r = get("/get?cfg=wrongca")
    assert.is_nil(r.name)
    assert.are.equal("TLSVerifyFailed", r.error.reason)
  end)

  it("rejects a tls-server-name the certificate does not carry", function()
    local r = get("/get?cfg=badservername")
    assert.are.equal("TLSVerifyFailed", r.error.reason)
  end)

  it("maps a 403 to a Status error (restricted token)", function()
    local r = get("/get?cfg=restricted")
    assert.are.equal("Forbidden", r.error.reason)
    assert.are.equal(403, r.error.code)
  end)

  it("runs every verb of a resource client", function()
    local name = uniq("ngx-crud")
    local r = get("/crud?name=" .. name)
    for _, s in ipairs(r.steps) do assert.is_true(s.ok, s.step .. ": " .. json.encode(s.error or {})) end
    assert.are.equal(name, r.created)
    assert.are.equal("2", r.updated)
    assert.are.equal("3", r.patched)
    assert.are.equal("4", r.applied)
  end)

  it("applies YAML, diffs, retries on a real conflict, waits and deletes (k8s.apply, retry, wait)", function()
    local name = uniq("ngx-auto")
    local r = get("/automation?name=" .. name)
    assert.are.equal("created", r.applied, json.encode(r))
    assert.are.equal("unchanged", r.reapplied)
    assert.truthy(r.diff:find('\n-  k: "on"\n+  k: "off"\n', 1, true) or r.diff:find("\n-  k: 'on'\n+  k: 'off'\n", 1, true), r.diff)
    assert.are.equal(2, r.attempts, json.encode(r))
    assert.are.equal("x", r.waited, json.encode(r))
    assert.are.equal("deleted", r.deleted, json.encode(r))
    assert.is_true(r.gone)
    local want = {}
    for i = 1, 6 do want[i] = name .. "-" .. i .. "=created" end
    assert.are.same(want, r.concurrent, json.encode(r))
  end)

  it("serves the RESTClient, the dynamic client, discovery and the pager", function()
    local r = get("/misc")
    assert.are.equal(E("K8S_LUA_K8S_VERSION"), r.version)
    assert.are.equal(E("K8S_LUA_K8S_VERSION"), r.streamed)
    assert.are.equal(200, r.do_status)
    assert.is_true(r.dyn_items >= 4)
    assert.are.equal(E("K8S_LUA_K8S_VERSION"), r.disc_version)
    assert.is_true(r.groups > 5)
    assert.is_true(r.paged >= 4)
  end)

  it("runs exec credential plugins: success, a failing exit code, a timeout, a client certificate", function()
    assert.are.equal("default", get("/get?cfg=exec").name)
    local f = get("/get?cfg=execfail")
    assert.are.equal("ExecPluginError", f.error.reason)
    assert.matches("exit status 3", f.error.message, 1, true)
    local t = get("/get?cfg=exectimeout")
    assert.are.equal("ExecPluginError", t.error.reason)
    assert.matches("timed out", t.error.message, 1, true)
    assert.are.equal("default", get("/get?cfg=execcert").name)
  end)

  it("honours Retry-After on a 429 (plain HTTP, a fault location of this nginx)", function()
    local r = get("/fakeget?name=retry")
    assert.is_nil(r.error)
    assert.are.equal("retry", r.name)
    assert.are.equal(2, r.hits)
    assert.are.equal("Bearer fake-token", r.auth)
    assert.is_true(r.seconds >= 0.9, "waited " .. r.seconds .. " s")
  end)

  it("never takes a body cut short for a success", function()
    local r = get("/fakeget?name=cut")
    assert.is_nil(r.name)
    assert.are.equal("UnexpectedEOF", r.error.reason)
  end)

  it("runs an auth provider whose Token() itself uses a cosocket", function()
    local r = get("/get?cfg=provider")
    assert.is_nil(r.error)
    assert.are.equal("default", r.name)
  end)

  it("re-reads a rotated token file after a 401", function()
    local r = get("/get?cfg=tokenfile")
    assert.are.equal("Unauthorized", r.error.reason)
    write(dir .. "/tokenfile", E("K8S_LUA_ADMIN_TOKEN") .. "\n")
    assert.truthy(N.wait_until(function() return get("/get?cfg=tokenfile").name == "default" end, 20))
  end)

  it("answers 200 concurrent requests, each a Get, in 2 workers", function()
    local res = srv:get_many("/get?cfg=token", 200, 50, { timeout = 60 })
    local ok = 0
    for _, r in ipairs(res) do
      if r.status == 200 and json.decode(r.body).name == "default" then ok = ok + 1 end
    end
    assert.are.equal(200, ok)
  end)

  it("delivers watch events to a handler in a timer, and Next(timeout) in a request", function()
    get("/watch-start?slice=1")
    assert.truthy(N.wait_until(function() return get("/events").watching end, 20))
    local name = uniq("ngx-watch")
    assert.are.equal(name, get("/create?name=" .. name).name)
    assert.truthy(N.wait_until(function()
      for _, e in ipairs(get("/events").events) do if e == "ADDED " .. name then return true end end
    end, 20))
    local n2 = uniq("ngx-next")
    local r = get("/watch-next?name=" .. n2)
    assert.are.equal("Timeout", r.timeout_reason)
    assert.are.equal("ADDED", r.type)
    assert.are.equal(n2, r.name)
  end)

  it("does not block the worker: a static answer while a watch is open and a throttled Get waits", function()
    assert.is_true(get("/events").watching)
    -- /slow waits (ngx.sleep) until /slow-go, then makes 4 Gets at 1 QPS
    -- (3 s of ngx.sleep); run it in the background
    local f = os.tmpname()
    N.sh("(curl -s -m 90 " .. N.shq(srv:url("/slow")) .. " > " .. N.shq(f) .. ") >/dev/null 2>&1 &")
    assert.truthy(N.wait_until(function() return get("/events").slow_started end, 20))
    -- answered while /slow is still waiting (it cannot end before /slow-go)
    local code, body = srv:get("/static")
    local during = get("/events")
    assert.are.equal(200, code)
    assert.are.equal("static\n", body)
    assert.is_true(during.watching)
    assert.is_false(during.slow_done, "/slow ended before it was let go")
    get("/slow-go")
    assert.truthy(N.wait_until(function() return get("/events").slow_done end, 30))
    assert.truthy(N.wait_until(function()
      local fh = io.open(f); local s = fh and fh:read("*a"); if fh then fh:close() end
      return s and s:find('"names"', 1, true)
    end, 10))
    local fh = io.open(f); local out = json.decode(fh:read("*a")); fh:close(); os.remove(f)
    assert.are.same({ "default", "default", "default", "default" }, out.names)
  end)

  it("gives clear errors for bad input and keeps the worker alive", function()
    local pids = srv:worker_pids()
    local b = get("/kubeconfig?path=" .. dir .. "/broken.yaml")
    assert.is_false(b.ok)
    assert.matches("broken.yaml", b.error.message, 1, true)
    local m = get("/kubeconfig?path=" .. dir .. "/missing.yaml")
    assert.is_false(m.ok)
    assert.matches("missing.yaml", m.error.message, 1, true)
    local u = get("/get?cfg=unreachable")
    assert.are.equal("ConnectionRefused", u.error.reason)
    assert.are.equal(200, (srv:get("/logphase")))
    assert.truthy(N.wait_until(function() return get("/events").log_phase ~= nil end, 10))
    assert.are.equal("NotYieldable", get("/events").log_phase)
    assert.are.same(pids, srv:worker_pids())
    assert.are.equal(200, (srv:get("/static")))
  end)

  it("reloads with a watch open and leaves no worker shutting down", function()
    assert.is_true(get("/events").watching)
    assert(srv:reload(20))
    assert.truthy(N.wait_until(function() return srv:shutting_down_count() == 0 end, 20))
  end)

  it("logged no alert, crit or unexpected error", function()
    srv:assert_log_clean({ "harness%-allowed" })
  end)
end)

-- Handlers the nginx specs (spec/ngx/driver_spec.lua) run inside nginx.
-- Each answers with one JSON document built by k8s.json.encode.
local k8s = require "k8s"

local T = {}
local E = os.getenv

local function readf(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function say(t)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(k8s.json.encode(t))
end

local function errt(e)
  if e == nil then return nil end
  return { reason = e.reason, message = e.message, code = e.code }
end

-- rest.Config variants, by name
function T.config(kind)
  local host, ca = E("K8S_LUA_SERVER"), E("K8S_LUA_CA")
  local port = host:match(":(%d+)$")
  if kind == "kubeconfig" then return assert(k8s.clientcmd.BuildConfigFromFlags("", "")) end
  if kind == "token" then
    return { Host = host, BearerToken = E("K8S_LUA_ADMIN_TOKEN"), TLSClientConfig = { CAData = readf(ca) } }
  elseif kind == "restricted" then
    return { Host = host, BearerToken = E("K8S_LUA_RESTRICTED_TOKEN"), TLSClientConfig = { CAFile = ca } }
  elseif kind == "cert" then
    return { Host = host, TLSClientConfig = { CAFile = ca, CertFile = E("K8S_LUA_ADMIN_CERT"), KeyFile = E("K8S_LUA_ADMIN_KEY") } }
  elseif kind == "certdata" then
    return { Host = host, TLSClientConfig = { CAData = readf(ca), CertData = readf(E("K8S_LUA_ADMIN_CERT")),
      KeyData = readf(E("K8S_LUA_ADMIN_KEY")) } }
  elseif kind == "localhost" then
    return { Host = "https://localhost:" .. port, BearerToken = E("K8S_LUA_ADMIN_TOKEN"), TLSClientConfig = { CAFile = ca } }
  elseif kind == "servername" then
    return { Host = host, BearerToken = E("K8S_LUA_ADMIN_TOKEN"),
      TLSClientConfig = { CAFile = ca, ServerName = "kubernetes.default.svc" } }
  elseif kind == "badservername" then
    return { Host = host, BearerToken = E("K8S_LUA_ADMIN_TOKEN"), TLSClientConfig = { CAFile = ca, ServerName = "not-in-the-cert" } }
  elseif kind == "wrongca" then
    return { Host = host, BearerToken = E("K8S_LUA_ADMIN_TOKEN"), TLSClientConfig = { CAFile = E("K8S_NGX_WRONG_CA") } }
  elseif kind == "insecure" then
    return { Host = host, BearerToken = E("K8S_LUA_ADMIN_TOKEN"), TLSClientConfig = { Insecure = true } }
  elseif kind == "tokenfile" then
    return { Host = host, BearerTokenFile = E("K8S_NGX_TOKEN_FILE"), TLSClientConfig = { CAFile = ca } }
  elseif kind == "exec" or kind == "execfail" or kind == "exectimeout" or kind == "execcert" then
    return { Host = host, TLSClientConfig = { CAFile = ca },
      ExecProvider = { Command = E("K8S_NGX_PLUGIN_DIR") .. "/" .. kind .. ".sh",
        APIVersion = "client.authentication.k8s.io/v1", InteractiveMode = "Never" } }
  elseif kind == "provider" then
    return { Host = host, TLSClientConfig = { CAFile = ca }, AuthProvider = { Name = "cosock", Config = {} } }
  elseif kind == "slow" then
    return { Host = host, BearerToken = E("K8S_LUA_ADMIN_TOKEN"), TLSClientConfig = { CAFile = ca }, QPS = 1, Burst = 1 }
  elseif kind == "fake" then -- this nginx's /fake locations, plain HTTP
    return { Host = "http://127.0.0.1:" .. ngx.var.server_port .. "/fake", BearerToken = "fake-token" }
  elseif kind == "unreachable" then
    return { Host = "https://127.0.0.1:1", BearerToken = "x", TLSClientConfig = { CAFile = ca } }
  end
  error("unknown config " .. tostring(kind))
end

-- An auth provider whose Token() itself uses a cosocket (it asks this nginx).
k8s.rest.RegisterAuthProviderPlugin("cosock", function()
  return {
    Token = function()
      local sock = ngx.socket.tcp()
      assert(sock:connect("127.0.0.1", tonumber(ngx.var.server_port)))
      assert(sock:send("GET /token-source HTTP/1.0\r\nHost: x\r\n\r\n"))
      local all = assert(sock:receive("*a"))
      sock:close()
      local tok = all:match("\r\n\r\n(.-)%s*$")
      return tok, ngx.now() + 3600
    end,
  }
end)

local clients = {}
function T.cs(kind)
  local cs = clients[kind]
  if not cs then
    local err
    cs, err = k8s.NewForConfig(T.config(kind))
    if not cs then return nil, err end
    clients[kind] = cs
  end
  return cs
end

-- GET /get?cfg=KIND : the "default" namespace through that config
function T.get()
  local kind = ngx.var.arg_cfg or "token"
  local cs, e = T.cs(kind)
  if not cs then return say { error = errt(e) } end
  local ns, err = cs:CoreV1():Namespaces():Get(ngx.var.arg_name or "default")
  say { name = ns and ns.metadata.name, error = errt(err) }
end

-- GET /slow : waits (ngx.sleep) until GET /slow-go, then 4 Gets through a
-- config limited to 1 QPS (waits with ngx.sleep)
function T.slow()
  local dict = ngx.shared.k8st
  dict:set("slow_started", true)
  local deadline = ngx.now() + 60
  while not dict:get("slow_go") and ngx.now() < deadline do
    ngx.sleep(0.01)
    ngx.update_time()
  end
  local cs = assert(T.cs("slow"))
  local names = {}
  for i = 1, 4 do
    local ns, err = cs:CoreV1():Namespaces():Get("default")
    names[i] = ns and ns.metadata.name or tostring(err)
  end
  dict:set("slow_done", true)
  say { names = names }
end

-- GET /slow-go : lets /slow go on
function T.slow_go()
  ngx.shared.k8st:set("slow_go", true)
  say { ok = true }
end

-- GET /crud?name=N : every verb on a ConfigMap, as a list of step outcomes
function T.crud()
  local cs = assert(T.cs("kubeconfig"))
  local cms = cs:CoreV1():ConfigMaps("default")
  local name = ngx.var.arg_name
  local out = {}
  local function step(label, v, err) out[#out + 1] = { step = label, ok = v ~= nil, error = errt(err) } return v end
  local cm = step("create", cms:Create({ metadata = { name = name, labels = { t = "ngx" } }, data = { a = "1" } }))
  local got = step("get", cms:Get(name))
  step("list", cms:List({ labelSelector = "t=ngx" }))
  if got then got.data.b = "2" end
  local up = step("update", got and cms:Update(got))
  local pa = step("patch", cms:Patch(name, k8s.types.MergePatchType, { data = { c = "3" } }))
  local ap = step("apply", cms:Apply({ apiVersion = "v1", kind = "ConfigMap", metadata = { name = name },
    data = { d = "4" } }, { fieldManager = "ngx-spec", force = true }))
  local del = step("delete", cms:Delete(name))
  local _, gone = cms:Get(name)
  out[#out + 1] = { step = "gone", ok = k8s.errors.IsNotFound(gone) }
  say { steps = out, created = cm and cm.metadata.name, updated = up and up.data.b, patched = pa and pa.data.c,
    applied = ap and ap.data.d, deleted = del }
end

-- GET /automation?name=N : k8s.apply Apply/Diff/Delete of YAML, k8s.retry
-- and k8s.wait on a ConfigMap, all on cosockets
function T.automation()
  local cs = assert(T.cs("kubeconfig"))
  local name = ngx.var.arg_name
  local out = {}
  local doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " .. name .. "\n  namespace: default\ndata:\n  k: \"on\"\n"
  local res, err = k8s.apply.Apply(cs, doc, { FieldManager = "ngx-automation" })
  out.applied = res and res[1].Action
  out.e1 = errt(err)
  res = k8s.apply.Apply(cs, doc, { FieldManager = "ngx-automation" })
  out.reapplied = res and res[1].Action
  out.diff = k8s.apply.Diff(cs, doc:gsub('"on"', '"off"'), { FieldManager = "ngx-automation" })
  local cms = cs:CoreV1():ConfigMaps("default")
  local attempts = 0
  err = k8s.retry.RetryOnConflict(k8s.retry.DefaultRetry, function()
    attempts = attempts + 1
    local cm, gerr = cms:Get(name)
    if not cm then return gerr end
    if attempts == 1 then -- another writer gets in between: a real 409 follows
      local other = assert(cms:Get(name))
      other.data.other = "x"
      assert(cms:Update(other))
    end
    cm.data.k = "changed"
    local _, uerr = cms:Update(cm)
    return uerr
  end)
  out.attempts, out.e2 = attempts, errt(err)
  local objs, werr = k8s.wait.For(cs, "configmaps", "default", name, { For = "jsonpath={.data.k}=changed", Timeout = 30 })
  out.waited = objs and objs[1].data.other
  out.e3 = errt(werr)
  res, err = k8s.apply.Delete(cs, doc, {})
  out.deleted = res and res[1].Action
  out.e4 = errt(err)
  local _, gone = cms:Get(name)
  out.gone = k8s.errors.IsNotFound(gone)
  -- 6 objects, 3 at a time on light threads
  local many = {}
  for i = 1, 6 do
    many[i] = { apiVersion = "v1", kind = "ConfigMap", metadata = { name = name .. "-" .. i, namespace = "default" },
      data = { i = tostring(i) } }
  end
  res, err = k8s.apply.Apply(cs, many, { Concurrency = 3 })
  out.concurrent = {}
  for i, r in ipairs(res or {}) do out.concurrent[i] = r.Name .. "=" .. r.Action end
  out.e5 = errt(err)
  k8s.apply.Delete(cs, many, { Wait = false })
  say(out)
end

-- GET /misc : RESTClient, dynamic, discovery, pager
function T.misc()
  local config = T.config("token")
  local out = {}
  local rc = assert(k8s.rest.RESTClientFor((function() local c = k8s.rest.CopyConfig(config)
    c.APIPath = "/api"; c.ContentConfig = { GroupVersion = "v1" }; return c end)()))
  local raw, e1 = rc:Get():AbsPath("/version"):DoRaw()
  out.version = raw and k8s.json.decode(raw).gitVersion
  out.e1 = errt(e1)
  local st, e4 = rc:Get():AbsPath("/version"):Stream()
  if st then
    local parts = {}
    for chunk in function() return st:read(10) end do parts[#parts + 1] = chunk end
    out.streamed = k8s.json.decode(table.concat(parts)).gitVersion
  end
  out.e4 = errt(e4)
  local res = rc:Get():Resource("namespaces"):Name("default"):Do()
  out.do_status = res and res:StatusCode()
  local dc = assert(k8s.dynamic.NewForConfig(config))
  local list, e2 = dc:Resource({ Group = "", Version = "v1", Resource = "namespaces" }):List()
  out.dyn_items = list and #list.items
  out.e2 = errt(e2)
  local cs = assert(T.cs("token"))
  local v = cs:Discovery():ServerVersion()
  out.disc_version = v and v.gitVersion
  local groups = cs:Discovery():ServerGroups()
  out.groups = groups and #groups.groups
  local all, perr = k8s.pager.List(cs:CoreV1():Namespaces(), { limit = 1 })
  out.paged = all and #all.items
  out.e3 = errt(perr)
  say(out)
end

-- GET /create?name=N&ns=NS : a ConfigMap labelled w=1
function T.create()
  local cs = assert(T.cs("token"))
  local cm, err = cs:CoreV1():ConfigMaps(ngx.var.arg_ns or "default"):Create({
    metadata = { name = ngx.var.arg_name, labels = { w = "1" } }, data = { x = "y" } })
  say { name = cm and cm.metadata.name, error = errt(err) }
end

-- GET /watch-start : a watch in a timer; events go to the shared dict
function T.watch_start()
  local dict = ngx.shared.k8st
  if ngx.var.arg_slice then k8s.ngx.configure { WatchReadSlice = tonumber(ngx.var.arg_slice) } end
  local ok, err = ngx.timer.at(0, function(premature)
    if premature then return end
    local cs = assert(T.cs("token"))
    local w, werr = cs:CoreV1():ConfigMaps("default"):Watch({ labelSelector = "w=1" })
    if not w then dict:set("watch_error", tostring(werr)) return end
    dict:set("watching", true)
    for ev in w:ResultChan() do
      local n = dict:incr("events", 1, 0)
      dict:set("event:" .. n, ev.type .. " " .. ev.object.metadata.name)
    end
    dict:set("watch_ended", true)
  end)
  say { ok = ok, error = err }
end

function T.events()
  local dict = ngx.shared.k8st
  local n = dict:get("events") or 0
  local list = {}
  for i = 1, n do list[i] = dict:get("event:" .. i) end
  say { watching = dict:get("watching") or false, events = list, watch_error = dict:get("watch_error"),
    slow_started = dict:get("slow_started") or false, slow_done = dict:get("slow_done") or false,
    log_phase = dict:get("log_phase"), init_worker = dict:get("init_worker"), init = dict:get("init") }
end

-- GET /watch-next : Watch with Next(timeout) in the request itself
function T.watch_next()
  local cs = assert(T.cs("token"))
  local list = assert(cs:CoreV1():ConfigMaps("default"):List({ labelSelector = "w=1" }))
  local w = assert(cs:CoreV1():ConfigMaps("default"):Watch({ labelSelector = "w=1",
    resourceVersion = list.metadata.resourceVersion }))
  local _, err = w:Next(0.2)
  local timeout_reason = err and err.reason
  local c = T.cs("token"):CoreV1():ConfigMaps("default")
  assert(c:Create({ metadata = { name = ngx.var.arg_name, labels = { w = "1" } } }))
  local ev, e2 = w:Next(10)
  w:Stop()
  say { timeout_reason = timeout_reason, type = ev and ev.type, name = ev and ev.object.metadata.name, error = errt(e2) }
end

-- GET /kubeconfig?path=P : loading a (broken or missing) kubeconfig
function T.kubeconfig()
  local c, err = k8s.clientcmd.BuildConfigFromFlags("", ngx.var.arg_path)
  say { ok = c ~= nil, error = errt(err) }
end

-- /fake/api/v1/namespaces/NAME : faults the real server will not produce on
-- demand. "retry": 429 + Retry-After: 1 on the first hit, then 200.
-- "cut": a body shorter than its Content-Length.
function T.fake()
  local name = ngx.var.uri:match("/namespaces/([^/]+)$")
  local dict = ngx.shared.k8st
  local hits = dict:incr("fake:" .. name, 1, 0)
  if name == "retry" and hits == 1 then
    ngx.status = 429
    ngx.header["Retry-After"] = "1"
    ngx.header["Content-Type"] = "application/json"
    ngx.say('{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"TooManyRequests","code":429}')
    return
  end
  if name == "cut" then
    ngx.header["Content-Length"] = 200
    ngx.header["Content-Type"] = "application/json"
    ngx.print('{"kind":"Namespace","metadata":{"name":"cut"')
    ngx.flush(true)
    return ngx.exit(444)
  end
  ngx.header["Content-Type"] = "application/json"
  ngx.say('{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"' .. name .. '"},"auth":"'
    .. (ngx.var.http_authorization or "") .. '"}')
end

-- GET /fakeget?name=N : a Get against /fake, with its duration and hits
function T.fakeget()
  local cs = assert(T.cs("fake"))
  local t0 = ngx.now()
  local ns, err = cs:CoreV1():Namespaces():Get(ngx.var.arg_name)
  ngx.update_time()
  say { name = ns and ns.metadata.name, auth = ns and ns.auth, error = errt(err), seconds = ngx.now() - t0,
    hits = ngx.shared.k8st:get("fake:" .. ngx.var.arg_name) }
end

-- GET /pool : 5 Gets with a fresh clientset, then this worker's counters
function T.pool()
  local cs = assert(k8s.NewForConfig(T.config("token")))
  local before = k8s.ngx.stats()
  for _ = 1, 5 do assert(cs:CoreV1():Namespaces():Get("default")) end
  local after = k8s.ngx.stats()
  local idle = 0
  for _, n in pairs(k8s.ngx.idle_connections()) do idle = idle + n end
  say { connects = after.connects - before.connects, reused = after.reused - before.reused,
    handshakes = after.handshakes - before.handshakes, idle = idle }
end

-- GET /resume : one Get (a full handshake; the session is cached), then two
-- at once: one takes the pooled connection, the other connects and resumes
function T.resume()
  local a = assert(k8s.NewForConfig(T.config("cert")))
  assert(a:CoreV1():Namespaces():Get("default"))
  local before = k8s.ngx.stats()
  local t1 = ngx.thread.spawn(function() return a:CoreV1():Namespaces():Get("default") end)
  local t2 = ngx.thread.spawn(function() return a:CoreV1():Namespaces():Get("default") end)
  local ok1, r1 = ngx.thread.wait(t1)
  local ok2, r2 = ngx.thread.wait(t2)
  local after = k8s.ngx.stats()
  say { ok = ok1 and ok2 and r1 ~= nil and r2 ~= nil, handshakes = after.handshakes - before.handshakes,
    resumed = after.resumed - before.resumed }
end

-- log_by_lua: a call in a phase without cosockets
function T.log_phase()
  local cs = T.cs("token")
  local _, err = cs:CoreV1():Namespaces():Get("default")
  ngx.shared.k8st:set("log_phase", err and err.reason or "no error")
end

return T

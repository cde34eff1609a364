-- rest.InClusterConfig and the in-cluster fallbacks of clientcmd, with real
-- service-account tokens minted through the TokenRequest API and a fake
-- service-account directory (token, ca.crt, namespace) pointed to by
-- K8S_LUA_SERVICEACCOUNT_DIR, the API server given by
-- KUBERNETES_SERVICE_HOST/PORT. Token rotation: the token file is re-read
-- periodically (K8S_LUA_TOKEN_FILE_PERIOD shortens the 50 s period for the
-- test) and after a 401 (here: the service account of the old token deleted).
--
-- Lua cannot set environment variables, so everything in-cluster runs in a
-- child interpreter (the same one as the spec) started from "/" with a
-- controlled environment; the child prints its results as one JSON line.
local H = require "spec.helper"
local k8s = require "k8s"
local json = k8s.json

local INTERP, ROOT = H.INTERP, H.ROOT
local shq, sh, write = H.shq, H.sh, H.write

local contains = H.contains

local CHILD_PRELUDE = [[
local function read(path)
  local f = assert(io.open(path, "rb")); local s = f:read("*a"); f:close(); return s
end
-- kubelet-style atomic replacement of the token file
local function rotate(dir, token)
  local f = assert(io.open(dir .. "/.token.new", "wb")); f:write(token); f:close()
  assert(os.rename(dir .. "/.token.new", dir .. "/token"))
end
local function whoami(cs)
  local r, err = cs:AuthenticationV1():SelfSubjectReviews():Create({})
  if not r then return { err = E(err) } end
  return r.status.userInfo
end
local function pods(cs, ns)
  local l, err = cs:CoreV1():Pods(ns):List()
  if not l then return { err = E(err) } end
  return { ok = true, n = #l.items }
end
local function summary(config)
  if not config then return nil end
  return { Host = config.Host, Namespace = config.Namespace, BearerTokenFile = config.BearerTokenFile,
           CAFile = config.TLSClientConfig and config.TLSClientConfig.CAFile,
           hasBearerToken = config.BearerToken ~= nil }
end
local SA = os.getenv("K8S_LUA_SERVICEACCOUNT_DIR")
]]

describe("in-cluster config (" .. H.interpreter .. ")", function()
  local E = H.env
  local admin, ns, dir, host, port
  local sa = {}     -- name -> { token = ..., user = "system:serviceaccount:ns:name" }
  local children = 0

  -- Run body in a child (H.child) with env (name -> value; false unsets);
  -- no service-account token may appear in what it prints.
  local function child(env, body)
    local R, out = H.child(dir, env, body, CHILD_PRELUDE)
    for _, t in pairs(sa) do assert.not_matches(t.token, out, 1, true) end
    return R
  end

  -- A fake service-account directory holding `token`.
  local function sadir(name, token, opts)
    opts = opts or {}
    local d = dir .. "/" .. name
    os.execute("mkdir -p " .. shq(d))
    write(d .. "/token", token)
    if opts.ca ~= false then write(d .. "/ca.crt", H.read(E.K8S_LUA_CA)) end
    if opts.namespace ~= false then write(d .. "/namespace", (opts.namespace or ns) .. "\n") end
    return d
  end

  local function env_for(d, extra)
    local env = { K8S_LUA_SERVICEACCOUNT_DIR = d, KUBERNETES_SERVICE_HOST = host, KUBERNETES_SERVICE_PORT = port }
    for k, v in pairs(extra or {}) do env[k] = v end
    return env
  end

  setup(function()
    local cfg = H.config("admin-cert")
    cfg.QPS, cfg.Burst = 100, 200
    admin = assert(k8s.NewForConfig(cfg))
    -- H.namespace's names restart per spec file (busted insulates files):
    -- a prefix of this file's own keeps them apart from other files' ones
    ns = H.name("incluster")
    assert(admin:CoreV1():Namespaces():Create({ metadata = { name = ns } }))
    H.namespaces[#H.namespaces + 1] = { cs = admin, name = ns }
    dir = sh("mktemp -d /tmp/k8s-lua-incluster.XXXXXX"):match("[^\n]+")
    assert(dir and dir:match("^/tmp/k8s%-lua%-incluster%."))
    host, port = E.K8S_LUA_SERVER:match("^https://([^:/]+):(%d+)")
    assert(host and port, "cannot parse " .. E.K8S_LUA_SERVER)
    -- reader and doomed may view the namespace; other may do nothing
    for _, name in ipairs({ "reader", "other", "doomed" }) do
      assert(admin:CoreV1():ServiceAccounts(ns):Create({ metadata = { name = name } }))
      if name ~= "other" then
        assert(admin:RbacV1():RoleBindings(ns):Create({
          metadata = { name = name .. "-view" },
          roleRef = { apiGroup = "rbac.authorization.k8s.io", kind = "ClusterRole", name = "view" },
          subjects = { { kind = "ServiceAccount", name = name, namespace = ns } },
        }))
      end
      local tr = assert(admin:CoreV1():ServiceAccounts(ns):CreateToken(name, { spec = { expirationSeconds = 3600 } }))
      assert.is_string(tr.status.token)
      sa[name] = { token = tr.status.token, user = "system:serviceaccount:" .. ns .. ":" .. name }
    end
    write(dir .. "/token-reader", sa.reader.token)
    write(dir .. "/token-other", sa.other.token)
    -- RBAC is live once the reader can list pods (the authorizer's cache)
    local rcfg = { Host = E.K8S_LUA_SERVER, TLSClientConfig = { CAFile = E.K8S_LUA_CA }, BearerToken = sa.reader.token }
    local rcs = assert(k8s.NewForConfig(rcfg))
    H.eventually(function() return rcs:CoreV1():Pods(ns):List() end, 30, "the reader's RoleBinding")
  end)

  teardown(function()
    H.cleanup_namespaces()
    if dir then os.execute("rm -rf " .. shq(dir)) end
  end)

  it("InClusterConfig reads the service-account directory and the service env", function()
    local d = sadir("sa-reader", sa.reader.token .. "\n")
    local R = child(env_for(d), [[
      local config, err = k8s.rest.InClusterConfig()
      R.config, R.err = summary(config), E(err)
      R.tokenMatches = config.BearerToken == read(SA .. "/token"):gsub("%s+$", "")
      local cs = assert(k8s.NewForConfig(config))
      R.who = whoami(cs)
      R.own = pods(cs, config.Namespace)
      R.default = pods(cs, "default")
      R.nodes = (function() local l, e = cs:CoreV1():Nodes():List(); return { ok = l ~= nil, err = E(e) } end)()
    ]])
    assert.is_nil(R.err)
    assert.equal("https://" .. host .. ":" .. port, R.config.Host)
    assert.equal(ns, R.config.Namespace)
    assert.equal(d .. "/token", R.config.BearerTokenFile)
    assert.equal(d .. "/ca.crt", R.config.CAFile)
    assert.is_true(R.tokenMatches) -- read once, trimmed
    assert.equal(sa.reader.user, R.who.username)
    assert.is_true(contains(R.who.groups, "system:serviceaccounts:" .. ns))
    assert.is_true(R.own.ok)
    assert.is_true(R.default.err.forbidden)
    assert.is_true(R.nodes.err.forbidden)
  end)

  it("BuildConfigFromFlags and LoadConfig fall back to it, with the namespace rules", function()
    local d = sadir("sa-fallback", sa.reader.token)
    local body = [[
      local c1 = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))
      R.bcff = summary(c1)
      R.bcffWho = whoami(assert(k8s.NewForConfig(c1)))
      local c2, info = assert(k8s.clientcmd.LoadConfig())
      R.load, R.info = summary(c2), info
      R.loadWho = whoami(assert(k8s.NewForConfig(c2)))
      local c3, i3 = assert(k8s.clientcmd.LoadConfig({ Namespace = "kube-public" }))
      R.override, R.i3 = summary(c3), i3
    ]]
    local R = child(env_for(d), body)
    assert.equal(ns, R.bcff.Namespace)
    assert.equal(sa.reader.user, R.bcffWho.username)
    assert.is_true(R.info.InCluster)
    assert.equal(ns, R.info.Namespace)
    assert.equal(ns, R.load.Namespace)
    assert.equal(d .. "/token", R.load.BearerTokenFile)
    assert.equal(sa.reader.user, R.loadWho.username)
    assert.equal("kube-public", R.override.Namespace)
    assert.equal("kube-public", R.i3.Namespace)

    -- POD_NAMESPACE wins over the namespace file; no file means "default"
    R = child(env_for(d, { POD_NAMESPACE = "from-env" }), body)
    assert.equal("from-env", R.bcff.Namespace)
    assert.equal("from-env", R.load.Namespace)
    local d2 = sadir("sa-no-namespace", sa.reader.token, { namespace = false })
    R = child(env_for(d2), body)
    assert.equal("default", R.bcff.Namespace)
    assert.equal(sa.reader.user, R.loadWho.username)
  end)

  it("BuildConfigFromFlags prefers in-cluster to KUBECONFIG, LoadConfig the opposite", function()
    local d = sadir("sa-both", sa.reader.token)
    local R = child(env_for(d, { KUBECONFIG = E.KUBECONFIG or (E.K8S_LUA_STATE .. "/kubeconfig") }), [[
      local c1 = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))
      R.bcffWho = whoami(assert(k8s.NewForConfig(c1)))
      local c2, info = assert(k8s.clientcmd.LoadConfig())
      R.info, R.loadWho = info, whoami(assert(k8s.NewForConfig(c2)))
    ]])
    assert.equal(sa.reader.user, R.bcffWho.username)
    assert.is_false(R.info.InCluster)
    assert.equal("admin-cert", R.info.Context)
    assert.equal("admin", R.loadWho.username)
  end)

  it("reports what is missing", function()
    local d = sadir("sa-missing", sa.reader.token)
    local R = child({ K8S_LUA_SERVICEACCOUNT_DIR = d, KUBERNETES_SERVICE_PORT = port }, [[
      local c, err = k8s.rest.InClusterConfig()
      R.c, R.err = c, E(err)
    ]])
    assert.is_nil(R.c)
    assert.equal("NotInCluster", R.err.reason)
    assert.matches("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined",
      R.err.message, 1, true)

    local empty = dir .. "/sa-empty"
    os.execute("mkdir -p " .. shq(empty))
    R = child(env_for(empty), [[
      local c, err = k8s.rest.InClusterConfig()
      R.c, R.err = c, E(err)
      local c2, e2 = k8s.clientcmd.LoadConfig()
      R.c2, R.e2 = c2, E(e2)
    ]])
    assert.is_nil(R.c)
    assert.equal("NotFound", R.err.reason)
    assert.matches("service account token " .. empty .. "/token", R.err.message, 1, true)
    -- without a token file in-cluster is not possible: nothing to load
    assert.is_nil(R.c2)
    assert.matches("no configuration has been provided", R.e2.message, 1, true)

    -- no ca.crt: no CAFile, and the server's certificate cannot be verified
    local noca = sadir("sa-noca", sa.reader.token, { ca = false })
    R = child(env_for(noca), [[
      local c = assert(k8s.rest.InClusterConfig())
      R.c = summary(c)
      local cs = assert(k8s.NewForConfig(c))
      R.pods = pods(cs, c.Namespace)
    ]])
    assert.is_nil(R.c.CAFile)
    assert.equal("TLSVerifyFailed", R.pods.err.reason)

    -- an IPv6 service host is bracketed
    R = child(env_for(d, { KUBERNETES_SERVICE_HOST = "::1" }), [[
      R.c = summary(assert(k8s.rest.InClusterConfig()))
    ]])
    assert.equal("https://[::1]:" .. port, R.c.Host)
  end)

  it("picks up a rotated token file after the re-read period", function()
    -- the default period (50 s, longer than any run of this child): a
    -- client keeps the token it read; a client made now reads the file now
    local d = sadir("sa-rotate", sa.reader.token)
    local R = child(env_for(d, { NEXT = dir .. "/token-other" }), [[
      local config = assert(k8s.rest.InClusterConfig())
      local cs = assert(k8s.NewForConfig(config))
      R.before = whoami(cs)
      R.podsBefore = pods(cs, config.Namespace)
      rotate(SA, read(os.getenv("NEXT")) .. "\n")
      R.cached = whoami(cs)
      R.podsCached = pods(cs, config.Namespace)
      R.fresh = whoami(assert(k8s.NewForConfig(config)))
    ]])
    assert.equal(sa.reader.user, R.before.username)
    assert.is_true(R.podsBefore.ok)
    assert.equal(sa.reader.user, R.cached.username)
    assert.is_true(R.podsCached.ok)
    assert.equal(sa.other.user, R.fresh.username)

    -- period 1 s: each group-version client re-reads the file once the
    -- period since its read has passed, not before. Poll until the identity
    -- changes: that took at least the period from before the first read.
    d = sadir("sa-rotate-1s", sa.reader.token)
    R = child(env_for(d, { K8S_LUA_TOKEN_FILE_PERIOD = "1", NEXT = dir .. "/token-other" }), [[
      local now = require("k8s.runtime").now
      local config = assert(k8s.rest.InClusterConfig())
      local cs = assert(k8s.NewForConfig(config))
      local t0 = now()                    -- before either client reads the file
      R.before = whoami(cs)
      R.podsBefore = pods(cs, config.Namespace)
      rotate(SA, read(os.getenv("NEXT")) .. "\n")
      local function poll(fn, changed)
        local v
        for _ = 1, 300 do
          v = fn()
          if changed(v) then return v, now() - t0 end
          os.execute("sleep 0.1")
        end
        return v, nil
      end
      R.after, R.whoTook = poll(function() return whoami(cs) end,
        function(v) return v.username ~= R.before.username end)
      R.podsAfter, R.podsTook = poll(function() return pods(cs, config.Namespace) end,
        function(v) return not v.ok end)
    ]])
    assert.equal(sa.reader.user, R.before.username)
    assert.is_true(R.podsBefore.ok)
    assert.equal(sa.other.user, R.after.username)
    assert.is_true(R.podsAfter.err.forbidden) -- other has no RoleBinding
    assert(R.whoTook and R.podsTook, "the clients picked the new token up")
    assert.is_true(R.whoTook >= 1, "not re-read within the period (" .. R.whoTook .. "s)")
    assert.is_true(R.podsTook >= 1, "not re-read within the period (" .. R.podsTook .. "s)")
  end)

  it("re-reads the token file after a 401, without waiting for the period", function()
    local d = sadir("sa-revoked", sa.doomed.token)
    local R = child(env_for(d, { NEXT = dir .. "/token-reader", ADMIN_KUBECONFIG = E.KUBECONFIG
                                  or (E.K8S_LUA_STATE .. "/kubeconfig"), NS = ns }), [[
      local ns = os.getenv("NS")
      local config = assert(k8s.rest.InClusterConfig())
      local core = assert(k8s.NewForConfig(config)):CoreV1()
      -- All requests are GETs of one group-version client (each RESTClient
      -- keeps its own token), and the identity shows in the message of a
      -- 403 on nodes. (Not a POST: libcurl 7.88 can report a POST answered
      -- by 401 over HTTP/2 as a partial transfer.)
      local function nodes()
        local l, err = core:Nodes():List()
        return l and "allowed" or (err.message:match('User "([^"]+)"') or err.message)
      end
      local function pods()
        local l, err = core:Pods(ns):List()
        return l and "ok" or (k8s.errors.IsUnauthorized(err) and "401" or tostring(err))
      end
      R.podsBefore, R.before = pods(), nodes()
      rotate(SA, read(os.getenv("NEXT")))
      R.cached = nodes()                   -- default period (50 s): still the old token
      -- revoke the old token: delete its service account
      local admin = assert(k8s.NewForConfig(assert(k8s.clientcmd.LoadConfig({ ExplicitPath = os.getenv("ADMIN_KUBECONFIG") }))))
      assert(admin:CoreV1():ServiceAccounts(ns):Delete("doomed"))
      R.seq = {}
      local deadline = os.time() + 40      -- the API server caches authentications for 10 s
      while os.time() < deadline do
        R.seq[#R.seq + 1] = pods()
        if R.seq[#R.seq] ~= "ok" then break end
        os.execute("sleep 0.5")
      end
      R.afterRetry, R.after = pods(), nodes()
    ]])
    assert.equal("ok", R.podsBefore)
    assert.equal(sa.doomed.user, R.before)
    assert.equal(sa.doomed.user, R.cached)
    assert.equal("401", R.seq[#R.seq], "never saw a 401: " .. table.concat(R.seq, ","))
    for i = 1, #R.seq - 1 do assert.equal("ok", R.seq[i]) end
    assert.equal("ok", R.afterRetry)       -- the file was re-read right after the 401
    assert.equal(sa.reader.user, R.after)
  end)
end)

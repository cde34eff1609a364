-- clientcmd against the real control plane: its own kubeconfig (admin-cert,
-- admin-token and restricted contexts) as YAML and as JSON, KUBECONFIG
-- precedence lists merged from files in different directories (first file
-- wins each whole entry and current-context, relative paths resolve against
-- the defining file's directory, overrides), every kubeconfig validation
-- error with the file, entry and field it names, and the validation of
-- rest.Config tables by k8s.NewForConfig. Every load ends in a request whose
-- outcome shows which entry won. Secrets never appear in a message.
--
-- Lua cannot set environment variables, so loads that depend on KUBECONFIG
-- run in a child interpreter (the same one as the spec) with a controlled
-- environment, started from "/" so that a relative path resolved against the
-- working directory would fail; the child prints its results as one JSON line.
local H = require "spec.helper"
local k8s = require "k8s"
local errors = k8s.errors
local json = k8s.json

local INTERP, ROOT = H.INTERP, H.ROOT
local shq, sh, write, exists = H.shq, H.sh, H.write, H.exists

local function copy(src, dst)
  write(dst, H.read(src))
end

local contains = H.contains

local tmpdirs = {}
local function tmpdir()
  local d = sh("mktemp -d /tmp/k8s-lua-clientcmd.XXXXXX"):match("[^\n]+")
  assert(d and d:match("^/tmp/k8s%-lua%-clientcmd%."), "mktemp failed")
  tmpdirs[#tmpdirs + 1] = d
  return d
end

local CHILD_PRELUDE = [[
-- the identity a config yields (SelfSubjectReview), or { err = ... }
local function whoami(config)
  local cs = assert(k8s.NewForConfig(config))
  local r, err = cs:AuthenticationV1():SelfSubjectReviews():Create({})
  if not r then return { err = E(err) } end
  return r.status.userInfo
end
local function list_namespaces(config)
  local cs = assert(k8s.NewForConfig(config))
  local l, err = cs:CoreV1():Namespaces():List()
  if not l then return { err = E(err) } end
  local names = {}
  for _, n in ipairs(l.items) do names[#names + 1] = n.metadata.name end
  return { names = names }
end
]]

--- Run `body` in a child interpreter (H.child) with `env` added to a clean
-- environment. Returns the table R the body filled in.
local function child(env, body, dir)
  return H.child(dir or tmpdir(), env, body, CHILD_PRELUDE)
end

local function b64file(path)
  return (sh("base64 -w0 " .. shq(path)):gsub("%s", ""))
end

-- Load with overrides, expecting success.
local function load(ov)
  local config, info = k8s.clientcmd.LoadConfig(ov)
  assert(config, tostring(info))
  return config, info
end

-- Load an explicit file, expecting a failure; returns the error.
local function load_fails(path, ov)
  ov = ov or {}
  ov.ExplicitPath = path
  local config, err = k8s.clientcmd.LoadConfig(ov)
  assert.is_nil(config, "expected " .. path .. " to fail")
  assert.is_table(err)
  assert.equal(0, err.code)
  assert.is_string(err.message)
  return err
end

local function whoami(config)
  local cs = assert(k8s.NewForConfig(config))
  local r, err = cs:AuthenticationV1():SelfSubjectReviews():Create({})
  assert(r, tostring(err))
  return r.status.userInfo
end

local function assert_admin_list(config)
  local cs = assert(k8s.NewForConfig(config))
  local list = assert(cs:CoreV1():Namespaces():List())
  local names = {}
  for _, ns in ipairs(list.items) do names[ns.metadata.name] = true end
  assert.is_true(names["kube-system"])
end

local function assert_forbidden_list(config)
  local cs = assert(k8s.NewForConfig(config))
  local list, err = cs:CoreV1():Namespaces():List()
  assert.is_nil(list)
  assert.is_true(errors.IsForbidden(err), tostring(err))
  assert.equal(403, err.code)
end

describe("clientcmd (" .. H.interpreter .. ")", function()
  local E = H.env
  local KC = E.KUBECONFIG or (E.K8S_LUA_STATE .. "/kubeconfig")
  local SECRETS = { E.K8S_LUA_ADMIN_TOKEN, E.K8S_LUA_RESTRICTED_TOKEN }

  local function no_secret(s, extra)
    for _, sec in ipairs(SECRETS) do assert.not_matches(sec, s, 1, true) end
    for _, sec in ipairs(extra or {}) do assert.not_matches(sec, s, 1, true) end
  end

  teardown(function()
    for _, d in ipairs(tmpdirs) do os.execute("rm -rf " .. shq(d)) end
  end)

  describe("the control plane's kubeconfig", function()
    local jsonpath

    setup(function()
      -- The same kubeconfig as JSON, written from the known env values, with
      -- the CA and the admin certificate inline (base64 *-data fields).
      local d = tmpdir()
      jsonpath = d .. "/kubeconfig.json"
      write(jsonpath, json.encode({
        apiVersion = "v1", kind = "Config", ["current-context"] = "admin-cert",
        clusters = { { name = "local", cluster = {
          server = E.K8S_LUA_SERVER, ["certificate-authority-data"] = b64file(E.K8S_LUA_CA) } } },
        users = {
          { name = "admin-cert", user = {
            ["client-certificate-data"] = b64file(E.K8S_LUA_ADMIN_CERT),
            ["client-key-data"] = b64file(E.K8S_LUA_ADMIN_KEY) } },
          { name = "admin-token", user = { token = E.K8S_LUA_ADMIN_TOKEN } },
          { name = "restricted", user = { token = E.K8S_LUA_RESTRICTED_TOKEN } },
        },
        contexts = {
          { name = "admin-cert", context = { cluster = "local", user = "admin-cert", namespace = "default" } },
          { name = "admin-token", context = { cluster = "local", user = "admin-token" } },
          { name = "restricted", context = { cluster = "local", user = "restricted", namespace = "kube-public" } },
        },
      }))
    end)

    it("uses current-context (admin-cert) by default, with the files' paths", function()
      local config, info = load({ ExplicitPath = KC })
      assert.equal("admin-cert", info.Context)
      assert.equal("admin-cert", info.User)
      assert.equal("local", info.Cluster)
      assert.equal(KC, info.UserFile)
      assert.same({ KC }, info.Files)
      assert.is_false(info.InCluster)
      assert.equal(E.K8S_LUA_SERVER, config.Host)
      assert.equal("default", config.Namespace)
      assert.equal(E.K8S_LUA_CA, config.TLSClientConfig.CAFile)
      assert.equal(E.K8S_LUA_ADMIN_CERT, config.TLSClientConfig.CertFile)
      assert.equal(E.K8S_LUA_ADMIN_KEY, config.TLSClientConfig.KeyFile)
      assert.is_nil(config.BearerToken)
      assert_admin_list(config)
    end)

    for _, form in ipairs({ "YAML", "JSON" }) do
      local function path() return form == "YAML" and KC or jsonpath end

      it("admin-cert from the " .. form .. " form lists namespaces", function()
        local config, info = load({ ExplicitPath = path(), CurrentContext = "admin-cert" })
        assert.equal("admin-cert", info.Context)
        if form == "JSON" then
          assert.equal(H.read(E.K8S_LUA_CA), config.TLSClientConfig.CAData)
          assert.equal(H.read(E.K8S_LUA_ADMIN_CERT), config.TLSClientConfig.CertData)
          assert.equal(H.read(E.K8S_LUA_ADMIN_KEY), config.TLSClientConfig.KeyData)
        end
        assert_admin_list(config)
        local u = whoami(config)
        assert.equal("admin", u.username)
        assert.is_nil(u.uid) -- a client certificate carries no uid
        assert.is_true(contains(u.groups, "system:masters"))
      end)

      it("admin-token from the " .. form .. " form lists namespaces", function()
        local config, info = load({ ExplicitPath = path(), CurrentContext = "admin-token" })
        assert.equal("admin-token", info.User)
        assert.equal("default", config.Namespace)
        assert.equal(E.K8S_LUA_ADMIN_TOKEN, config.BearerToken)
        assert.is_nil(config.TLSClientConfig.CertFile)
        assert.is_nil(config.TLSClientConfig.CertData)
        assert_admin_list(config)
        assert.equal("uid-admin", whoami(config).uid)
      end)

      it("restricted from the " .. form .. " form is forbidden to list namespaces", function()
        local config, info = load({ ExplicitPath = path(), CurrentContext = "restricted" })
        assert.equal("restricted", info.User)
        assert.equal(form == "JSON" and "kube-public" or "default", config.Namespace)
        assert_forbidden_list(config)
        assert.equal("restricted", whoami(config).username)
      end)
    end

    it("ConfigForContext and BuildConfigFromFlags load the same file", function()
      local config = assert(k8s.clientcmd.ConfigForContext("restricted", KC))
      assert.equal(E.K8S_LUA_RESTRICTED_TOKEN, config.BearerToken)
      assert_forbidden_list(config)
      config = assert(k8s.clientcmd.BuildConfigFromFlags("", KC))
      assert.equal(E.K8S_LUA_ADMIN_CERT, config.TLSClientConfig.CertFile)
      assert_admin_list(config)
      -- masterUrl overrides the server: nothing listens on port 1
      config = assert(k8s.clientcmd.BuildConfigFromFlags("https://127.0.0.1:1", KC))
      assert.equal("https://127.0.0.1:1", config.Host)
      local cs = assert(k8s.NewForConfig(config))
      local list, err = cs:CoreV1():Namespaces():List()
      assert.is_nil(list)
      assert.equal(0, err.code)
      assert.equal("ConnectionRefused", err.reason)
    end)

    it("applies Namespace, AuthInfoName and ClusterName overrides", function()
      local config, info = load({ ExplicitPath = KC, CurrentContext = "restricted",
                                  AuthInfoName = "admin-token", Namespace = "kube-system" })
      assert.equal("restricted", info.Context)
      assert.equal("admin-token", info.User)
      assert.equal("kube-system", info.Namespace)
      assert.equal("kube-system", config.Namespace)
      assert_admin_list(config)
      local _, err = k8s.clientcmd.LoadConfig({ ExplicitPath = KC, ClusterName = "elsewhere" })
      assert.equal("NotFound", err.reason)
      assert.matches('cluster "elsewhere" not found', err.message, 1, true)
      local _, err2 = k8s.clientcmd.LoadConfig({ ExplicitPath = KC, CurrentContext = "nope" })
      assert.matches('context "nope" not found in kubeconfig ' .. KC, err2.message, 1, true)
      assert.has_error(function() k8s.clientcmd.LoadConfig({ ExplicitPath = KC, Contxt = "x" }) end)
      assert.has_error(function() k8s.clientcmd.LoadConfig({ ExplicitPath = 1 }) end)
      assert.has_error(function() k8s.clientcmd.LoadConfig("x") end)
    end)

    it("sends no credentials and no CA to an http:// server override", function()
      local config = load({ ExplicitPath = KC, CurrentContext = "admin-token", Server = "http://127.0.0.1:1" })
      assert.equal("http://127.0.0.1:1", config.Host)
      assert.is_nil(config.BearerToken)
      assert.is_nil(config.TLSClientConfig)
      local cs = assert(k8s.NewForConfig(config))
      local _, err = cs:CoreV1():Namespaces():List()
      assert.equal("ConnectionRefused", err.reason)
    end)
  end)

  describe("cluster settings", function()
    local d
    setup(function() d = tmpdir() end)

    -- a kubeconfig for the admin token with these cluster lines
    local function kc(name, cluster_lines)
      local path = d .. "/" .. name
      write(path, ([[
clusters:
- name: c
  cluster:
%s
users: [{name: u, user: {token: "%s"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
]]):format(cluster_lines, E.K8S_LUA_ADMIN_TOKEN))
      return load({ ExplicitPath = path })
    end

    it("insecure-skip-tls-verify connects without a CA", function()
      local config = kc("insecure", "    server: " .. E.K8S_LUA_SERVER .. "\n    insecure-skip-tls-verify: true")
      assert.is_true(config.TLSClientConfig.Insecure)
      assert_admin_list(config)
      -- and without it, there is nothing to verify the server with
      config = kc("no-ca", "    server: " .. E.K8S_LUA_SERVER)
      local _, err = k8s.NewForConfig(config):CoreV1():Namespaces():List()
      assert.equal("TLSVerifyFailed", err.reason)
    end)

    it("tls-server-name is the name the certificate is checked against", function()
      local ca = "\n    certificate-authority: " .. E.K8S_LUA_CA
      local config = kc("sni-ok", "    server: " .. E.K8S_LUA_SERVER .. ca .. "\n    tls-server-name: kubernetes.default.svc")
      assert.equal("kubernetes.default.svc", config.TLSClientConfig.ServerName)
      assert_admin_list(config)
      config = kc("sni-bad", "    server: " .. E.K8S_LUA_SERVER .. ca .. "\n    tls-server-name: wrong.example.com")
      local _, err = k8s.NewForConfig(config):CoreV1():Namespaces():List()
      assert.equal("TLSVerifyFailed", err.reason)
      -- a Server override clears tls-server-name, as clientcmd does
      local c2 = load({ ExplicitPath = d .. "/sni-bad", Server = E.K8S_LUA_SERVER:gsub("127%.0%.0%.1", "localhost") })
      assert.is_nil(c2.TLSClientConfig.ServerName)
      assert_admin_list(c2)
    end)

    it("proxy-url sends the requests through the proxy", function()
      local path = d .. "/proxy"
      write(path, ([[
clusters: [{name: c, cluster: {server: "%s", certificate-authority: "%s", proxy-url: "http://127.0.0.1:1"}}]
users: [{name: u, user: {token: "%s"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
]]):format(E.K8S_LUA_SERVER, E.K8S_LUA_CA, E.K8S_LUA_ADMIN_TOKEN))
      local R = child({}, ([[
        local config = assert(k8s.clientcmd.LoadConfig({ ExplicitPath = %q }))
        R.proxy = config.Proxy
        R.list = list_namespaces(config)
        config.Proxy = nil
        R.direct = list_namespaces(config)
      ]]):format(path))
      assert.equal("http://127.0.0.1:1", R.proxy)
      assert.is_table(R.list.err) -- nothing listens on the proxy's port
      assert.equal(0, R.list.err.code)
      assert.is_nil(R.direct.err)
    end)
  end)

  describe("merging a KUBECONFIG precedence list", function()
    local root, A, B, C

    setup(function()
      -- Three files in three directories, with overlapping names:
      --   A: current-context ctx-a; cluster shared (CA ./ca.crt); user winner (admin token)
      --   B: current-context ctx-b; cluster shared (CA pki/ca.crt); cluster cert-cluster;
      --      user winner (a bogus token); user cert-user (cert pki/admin.crt, key ../keys-b/admin.key);
      --      contexts ctx-b, ctx-a (loses to A's), ctx-cert
      --   C: current-context ctx-c; cluster shared with a wrong tls-server-name; user winner
      --      impersonating jane with a bogus token (field merging would show)
      root = tmpdir()
      local dA, dB, dC = root .. "/a", root .. "/b", root .. "/c"
      os.execute("mkdir -p " .. shq(dA) .. " " .. shq(dB .. "/pki") .. " " .. shq(root .. "/keys-b") .. " " .. shq(dC))
      copy(E.K8S_LUA_CA, dA .. "/ca.crt")
      copy(E.K8S_LUA_CA, dB .. "/pki/ca.crt")
      copy(E.K8S_LUA_ADMIN_CERT, dB .. "/pki/admin.crt")
      copy(E.K8S_LUA_ADMIN_KEY, root .. "/keys-b/admin.key")
      A, B, C = dA .. "/config", dB .. "/kubeconfig.yaml", dC .. "/kc"
      write(A, ([[
apiVersion: v1
kind: Config
current-context: ctx-a
clusters:
- name: shared
  cluster:
    server: %s
    certificate-authority: ca.crt
users:
- name: winner
  user:
    token: %s
contexts:
- name: ctx-a
  context: {cluster: shared, user: winner, namespace: ns-from-a}
]]):format(E.K8S_LUA_SERVER, E.K8S_LUA_ADMIN_TOKEN))
      write(B, ([[
apiVersion: v1
kind: Config
current-context: ctx-b
clusters:
- name: shared
  cluster:
    server: %s
    certificate-authority: pki/ca.crt
- name: cert-cluster
  cluster:
    server: %s
    certificate-authority: ./pki/../pki/ca.crt
users:
- name: winner
  user:
    token: bogus-token-from-b
- name: cert-user
  user:
    client-certificate: pki/admin.crt
    client-key: ../keys-b/admin.key
contexts:
- name: ctx-b
  context: {cluster: shared, user: winner, namespace: ns-from-b}
- name: ctx-a
  context: {cluster: cert-cluster, user: cert-user, namespace: loses}
- name: ctx-cert
  context: {cluster: cert-cluster, user: cert-user}
]]):format(E.K8S_LUA_SERVER, E.K8S_LUA_SERVER))
      write(C, ([[
{"apiVersion": "v1", "kind": "Config", "current-context": "ctx-c",
 "clusters": [{"name": "shared", "cluster": {"server": "%s", "certificate-authority": "ca.crt",
                                             "tls-server-name": "wrong.example.com"}}],
 "users": [{"name": "winner", "user": {"token": "bogus-token-from-c", "as": "jane"}}],
 "contexts": [{"name": "ctx-c", "context": {"cluster": "shared", "user": "winner", "namespace": "ns-from-c"}}]}
]]):format(E.K8S_LUA_SERVER))
      copy(E.K8S_LUA_CA, dC .. "/ca.crt")
    end)

    it("takes current-context, each whole entry and relative paths from the first file", function()
      local list = table.concat({ A, root .. "/missing/config", B, C, A }, ":")
      local R = child({ KUBECONFIG = list }, [[
        local config, info = assert(k8s.clientcmd.LoadConfig())
        R.info, R.host, R.ns = info, config.Host, config.Namespace
        R.tls = config.TLSClientConfig
        R.has_token = config.BearerToken ~= nil
        R.impersonate = config.Impersonate
        R.who = whoami(config)
        R.list = list_namespaces(config)
        -- BuildConfigFromFlags("", "") follows the same default loading rules
        local c2 = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))
        R.bcff_ns = c2.Namespace
        R.bcff_who = whoami(c2)
      ]])
      assert.equal("ctx-a", R.info.Context)
      assert.equal("shared", R.info.Cluster)
      assert.equal("winner", R.info.User)
      assert.equal(A, R.info.UserFile)
      assert.same({ A, B, C }, R.info.Files) -- missing skipped, duplicate dropped
      assert.equal("ns-from-a", R.ns)
      assert.equal(root .. "/a/ca.crt", R.tls.CAFile)
      assert.is_nil(R.tls.ServerName) -- C's tls-server-name was not merged in
      assert.is_nil(R.impersonate)    -- nor C's `as`
      assert.is_true(R.has_token)
      assert.is_nil(R.who.err)
      assert.equal("admin", R.who.username)
      assert.equal("uid-admin", R.who.uid) -- the admin token, not a bogus one
      assert.is_nil(R.list.err)
      assert.is_true(contains(R.list.names, "kube-system"))
      assert.equal("ns-from-a", R.bcff_ns)
      assert.equal("uid-admin", R.bcff_who.uid)
    end)

    it("resolves a later file's relative cert, key and CA against its own directory", function()
      local R = child({ KUBECONFIG = A .. ":" .. B .. ":" .. C }, [[
        local config, info = assert(k8s.clientcmd.LoadConfig({ CurrentContext = "ctx-cert" }))
        R.info, R.tls, R.ns = info, config.TLSClientConfig, config.Namespace
        R.who = whoami(config)
        R.list = list_namespaces(config)
      ]])
      assert.equal("ctx-cert", R.info.Context)
      assert.equal(B, R.info.UserFile)
      assert.equal("default", R.ns)
      assert.equal(root .. "/b/pki/ca.crt", R.tls.CAFile)
      assert.equal(root .. "/b/pki/admin.crt", R.tls.CertFile)
      assert.equal(root .. "/keys-b/admin.key", R.tls.KeyFile)
      assert.equal("admin", R.who.username)
      assert.is_nil(R.who.uid) -- the client certificate
      assert.is_true(contains(R.who.groups, "system:masters"))
      assert.is_nil(R.list.err)
    end)

    it("combines a later file's context with the first file's cluster and user", function()
      local R = child({ KUBECONFIG = A .. ":" .. B .. ":" .. C }, [[
        local config, info = assert(k8s.clientcmd.LoadConfig({ CurrentContext = "ctx-b" }))
        R.info, R.tls, R.ns = info, config.TLSClientConfig, config.Namespace
        R.who = whoami(config)
        -- overriding the user with one defined only in B
        local c2, i2 = assert(k8s.clientcmd.LoadConfig({ AuthInfoName = "cert-user" }))
        R.info2, R.who2 = i2, whoami(c2)
        -- ctx-c exists only in C, whose cluster shared and user winner lose to A's
        local c3, i3 = assert(k8s.clientcmd.LoadConfig({ CurrentContext = "ctx-c" }))
        R.ns3, R.tls3, R.who3 = c3.Namespace, c3.TLSClientConfig, whoami(c3)
      ]])
      assert.equal("ctx-b", R.info.Context)
      assert.equal("ns-from-b", R.ns)
      assert.equal(A, R.info.UserFile)
      assert.equal(root .. "/a/ca.crt", R.tls.CAFile)
      assert.equal("uid-admin", R.who.uid)
      assert.equal("ctx-a", R.info2.Context)
      assert.equal("cert-user", R.info2.User)
      assert.equal(B, R.info2.UserFile)
      assert.equal("admin", R.who2.username)
      assert.is_nil(R.who2.uid)
      assert.equal("ns-from-c", R.ns3)
      assert.is_nil(R.tls3.ServerName)
      assert.equal("uid-admin", R.who3.uid)
    end)

    it("lets the first file win in the other order too (B first: its bogus user is used)", function()
      local R = child({ KUBECONFIG = B .. ":" .. A }, [[
        local config, info = assert(k8s.clientcmd.LoadConfig())
        R.info, R.tls, R.ns = info, config.TLSClientConfig, config.Namespace
        -- (a GET: libcurl 7.88 can report a POST answered by 401 over HTTP/2 as a partial transfer)
        R.list = list_namespaces(config)
        local c2, i2 = assert(k8s.clientcmd.LoadConfig({ CurrentContext = "ctx-a" }))
        R.info2, R.who2 = i2, whoami(c2)
      ]])
      assert.equal("ctx-b", R.info.Context)
      assert.equal("ns-from-b", R.ns)
      assert.equal(B, R.info.UserFile)
      assert.equal(root .. "/b/pki/ca.crt", R.tls.CAFile)
      assert.is_table(R.list.err)
      assert.is_true(R.list.err.unauthorized, R.list.err.str)
      assert.equal(401, R.list.err.code)
      assert.not_matches("bogus-token-from-b", R.list.err.str, 1, true)
      -- ctx-a now comes from B: the client certificate
      assert.equal("cert-user", R.info2.User)
      assert.equal("admin", R.who2.username)
      assert.is_nil(R.who2.uid)
    end)

    it("reports an empty configuration when no file of the list exists", function()
      local R = child({ KUBECONFIG = root .. "/none:" .. root .. "/nothing" }, [[
        local config, err = k8s.clientcmd.LoadConfig()
        R.config, R.err = config, E(err)
        local c2, e2 = k8s.clientcmd.BuildConfigFromFlags("", "")
        R.config2, R.err2 = c2, E(e2)
      ]])
      assert.is_nil(R.config)
      assert.matches("no configuration has been provided", R.err.message, 1, true)
      assert.is_nil(R.config2)
      assert.matches("no configuration has been provided", R.err2.message, 1, true)
    end)
  end)

  describe("kubeconfig validation errors", function()
    local d, CA_B64
    local TOKEN = "s3cr3t-t0ken-must-not-leak"
    local PASSWORD = "hunter2-must-not-leak"

    -- A kubeconfig with one cluster c1, one user u1 and a context ctx using
    -- them (current), with the given extra lines in the cluster and user bodies.
    local function kubeconfig(cluster_lines, user_lines, context_lines)
      return ([[
apiVersion: v1
kind: Config
current-context: ctx
clusters:
- name: c1
  cluster:
%s
users:
- name: u1
  user:
%s
contexts:
- name: ctx
  context:
%s
]]):format(cluster_lines or ("    server: %s\n    certificate-authority: %s"):format(E.K8S_LUA_SERVER, E.K8S_LUA_CA),
           user_lines or ("    token: " .. TOKEN),
           context_lines or "    cluster: c1\n    user: u1")
    end

    local n = 0
    local function bad(content, ov)
      n = n + 1
      local path = d .. "/bad-" .. n .. ".yaml"
      write(path, content)
      local err = load_fails(path, ov)
      assert.matches("kubeconfig " .. path, err.message, 1, true) -- names the file
      no_secret(tostring(err), { TOKEN, PASSWORD, CA_B64:sub(1, 40) })
      return err
    end

    setup(function()
      d = tmpdir()
      CA_B64 = b64file(E.K8S_LUA_CA)
      -- the good baseline loads and works
      write(d .. "/good.yaml", kubeconfig(nil, "    token: " .. E.K8S_LUA_ADMIN_TOKEN))
      assert_admin_list(load({ ExplicitPath = d .. "/good.yaml" }))
    end)

    it("rejects a CA file and CA data together", function()
      local err = bad(kubeconfig(("    server: %s\n    certificate-authority: %s\n    certificate-authority-data: %s")
        :format(E.K8S_LUA_SERVER, E.K8S_LUA_CA, CA_B64)))
      assert.equal("Invalid", err.reason)
      assert.matches('cluster "c1": certificate-authority and certificate-authority-data are both set',
        err.message, 1, true)
    end)

    it("rejects a client certificate without a key, and a key without a certificate", function()
      local err = bad(kubeconfig(nil, "    client-certificate: " .. E.K8S_LUA_ADMIN_CERT))
      assert.matches('user "u1": client-certificate is set but client-key is not', err.message, 1, true)
      err = bad(kubeconfig(nil, "    client-key-data: " .. b64file(E.K8S_LUA_ADMIN_KEY)))
      assert.matches('user "u1": client-key-data is set but client-certificate is not', err.message, 1, true)
      err = bad(kubeconfig(nil, ("    client-certificate: %s\n    client-certificate-data: %s\n    client-key: %s")
        :format(E.K8S_LUA_ADMIN_CERT, b64file(E.K8S_LUA_ADMIN_CERT), E.K8S_LUA_ADMIN_KEY)))
      assert.matches('user "u1": client-certificate and client-certificate-data are both set', err.message, 1, true)
      err = bad(kubeconfig(nil, ("    client-certificate: %s/no-such.crt\n    client-key: %s")
        :format(d, E.K8S_LUA_ADMIN_KEY)))
      assert.matches('user "u1": client-certificate file ' .. d .. "/no-such.crt cannot be read", err.message, 1, true)
    end)

    it("rejects a token together with basic auth, without showing either", function()
      local err = bad(kubeconfig(nil, ("    token: %s\n    username: admin\n    password: %s"):format(TOKEN, PASSWORD)))
      assert.equal("Invalid", err.reason)
      assert.matches('user "u1": token and username/password are both set', err.message, 1, true)
      err = bad(kubeconfig(nil, ("    tokenFile: /dev/null\n    password: %s"):format(PASSWORD)))
      assert.matches('user "u1": tokenFile and username/password are both set', err.message, 1, true)
    end)

    it("rejects exec together with auth-provider", function()
      local err = bad(kubeconfig(nil, [[
    exec:
      command: /bin/true
      apiVersion: client.authentication.k8s.io/v1
      interactiveMode: Never
    auth-provider:
      name: oidc
      config: {id-token: x}]]))
      assert.matches('user "u1": exec and auth-provider are both set', err.message, 1, true)
    end)

    it("rejects incomplete exec plugins", function()
      local err = bad(kubeconfig(nil, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      interactiveMode: Never"))
      assert.matches('user "u1": exec.command is not set', err.message, 1, true)
      err = bad(kubeconfig(nil, "    exec:\n      command: x"))
      assert.matches('user "u1": exec.apiVersion is not set', err.message, 1, true)
      err = bad(kubeconfig(nil, "    exec:\n      command: x\n      apiVersion: client.authentication.k8s.io/v1"))
      assert.matches('user "u1": exec.interactiveMode is not set', err.message, 1, true)
      err = bad(kubeconfig(nil, "    exec:\n      command: x\n      apiVersion: client.authentication.k8s.io/v1alpha1"))
      assert.matches('exec.apiVersion "client.authentication.k8s.io/v1alpha1" is not supported', err.message, 1, true)
    end)

    it("rejects impersonation details without `as`", function()
      local err = bad(kubeconfig(nil, "    token: " .. TOKEN .. "\n    as-groups: [dev]"))
      assert.matches('user "u1": as-groups is set but as is not', err.message, 1, true)
      err = bad(kubeconfig(nil, "    as-user-extra: {scopes: [a]}"))
      assert.matches('user "u1": as-user-extra is set but as is not', err.message, 1, true)
    end)

    it("rejects a missing cluster or user", function()
      local err = bad(kubeconfig(nil, nil, "    cluster: nope\n    user: u1"))
      assert.equal("NotFound", err.reason)
      assert.matches('cluster "nope" referenced by context "ctx" not found', err.message, 1, true)
      err = bad(kubeconfig(nil, nil, "    cluster: c1\n    user: nobody"))
      assert.equal("NotFound", err.reason)
      assert.matches('user "nobody" referenced by context "ctx" not found', err.message, 1, true)
      err = bad((kubeconfig(nil, nil, nil):gsub("current%-context: ctx", "current-context: gone")))
      assert.matches('current-context: context "gone" not found', err.message, 1, true)
      err = bad(kubeconfig("    certificate-authority: " .. E.K8S_LUA_CA))
      assert.matches('cluster "c1": server is not set', err.message, 1, true)
    end)

    it("rejects malformed server URLs, naming the cluster and the field", function()
      for _, case in ipairs({
        { "htps://127.0.0.1:6443", "the scheme must be http or https" },
        { "https://127.0.0.1:64x3", "the port is not a number" },
        { "https://[::1:6443", "missing its closing ']'" },
        { "'https://exa mple.com'", "whitespace" },
        { "127.0.0.1:6443/path", "without a scheme cannot carry a path" },
      }) do
        local err = bad(kubeconfig("    server: " .. case[1]))
        assert.equal("Invalid", err.reason)
        assert.matches('cluster "c1": server ', err.message, 1, true)
        assert.matches("is not a valid URL: ", err.message, 1, true)
        assert.matches(case[2], err.message, 1, true)
      end
      -- a server with credentials in it is not echoed
      local err = bad(kubeconfig("    server: https://admin:" .. PASSWORD .. "@127.0.0.1:x"))
      assert.matches('cluster "c1": server is not a valid URL', err.message, 1, true)
      err = bad(kubeconfig(("    server: %s\n    proxy-url: ftp://proxy:3128"):format(E.K8S_LUA_SERVER)))
      assert.matches('cluster "c1": proxy-url is invalid: unsupported scheme', err.message, 1, true)
    end)

    it("rejects bad base64, naming the field but not the data", function()
      local err = bad(kubeconfig(("    server: %s\n    certificate-authority-data: not*base64!"):format(E.K8S_LUA_SERVER)))
      assert.equal("Invalid", err.reason)
      assert.matches('cluster "c1": certificate-authority-data is not valid base64', err.message, 1, true)
      assert.not_matches("not*base64", err.message, 1, true)
      local key = b64file(E.K8S_LUA_ADMIN_KEY)
      err = bad(kubeconfig(nil, ("    client-certificate-data: %s\n    client-key-data: %s%%%%"):format(CA_B64, key)))
      assert.matches('user "u1": client-key-data is not valid base64', err.message, 1, true)
      assert.not_matches(key:sub(1, 40), err.message, 1, true)
      assert.matches("%(line %d+%)$", err.message) -- where in the file
    end)

    it("rejects a file that is not YAML, or not a kubeconfig", function()
      local err = bad("clusters: [ {name: c1\n  users: ]]]\n" .. TOKEN)
      assert.equal("Invalid", err.reason)
      assert.matches("not valid YAML or JSON: line", err.message, 1, true)
      err = bad('{"clusters": [1, 2}')
      assert.matches("not valid YAML or JSON", err.message, 1, true)
      err = bad("a: b\1c\n")
      assert.matches("not valid YAML or JSON", err.message, 1, true)
      err = bad("- just\n- a list\n")
      assert.matches("not a kubeconfig: the top level must be a mapping", err.message, 1, true)
      err = bad("clusters: {c1: {server: x}}\n")
      assert.matches("clusters must be a list", err.message, 1, true)
    end)

    it("rejects an invalid namespace and insecure-skip-tls-verify with a CA", function()
      local err = bad(kubeconfig(nil, nil, "    cluster: c1\n    user: u1\n    namespace: Not_A_Label"))
      assert.matches('context "ctx": namespace "Not_A_Label" does not conform', err.message, 1, true)
      err = bad(kubeconfig(("    server: %s\n    certificate-authority: %s\n    insecure-skip-tls-verify: true")
        :format(E.K8S_LUA_SERVER, E.K8S_LUA_CA)))
      assert.matches('cluster "c1": insecure-skip-tls-verify cannot be combined with certificate-authority',
        err.message, 1, true)
    end)

    it("reports a missing explicit file as NotFound", function()
      local err = load_fails(d .. "/does-not-exist")
      assert.equal("NotFound", err.reason)
      assert.matches("kubeconfig " .. d .. "/does-not-exist: the kubeconfig file does not exist", err.message, 1, true)
    end)
  end)

  describe("examples/kubeconfig_context.lua", function()
    it("runs as written, listing the pods of the context's namespace", function()
      local admin = assert(k8s.NewForConfig(H.config("admin-cert")))
      local ns = H.name("clientcmd")
      assert(admin:CoreV1():Namespaces():Create({ metadata = { name = ns } }))
      finally(function() admin:CoreV1():Namespaces():Delete(ns) end)
      local pod = H.name("pod")
      H.eventually(function() -- the namespace's default service account comes first
        return admin:CoreV1():Pods(ns):Create({ metadata = { name = pod },
          spec = { containers = { { name = "c", image = "registry.k8s.io/pause:3.10" } } } })
      end, 30, "creating a pod")
      local function run(args)
        return sh("cd " .. shq(ROOT) .. " && env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 KUBECONFIG="
          .. shq(KC) .. " " .. INTERP .. " examples/kubeconfig_context.lua " .. args)
      end
      local out = run("admin-token " .. ns)
      assert.matches("context:   admin-token\n", out, 1, true)
      assert.matches("user:      admin-token\n", out, 1, true)
      assert.matches("namespace: " .. ns .. "\n", out, 1, true)
      assert.matches(pod:gsub("%-", "%%-") .. " +Pending", out)
      out = run("")
      assert.matches("context:   admin-cert (current-context)", out, 1, true)
      assert.matches("no pods in namespace default", out, 1, true)
      out = run("restricted")
      assert.matches('restricted may not list pods in default: pods is forbidden: User "restricted"', out, 1, true)
    end)
  end)

  describe("rest.Config table validation by NewForConfig", function()
    local function raises(config, pattern)
      local ok, msg = pcall(k8s.NewForConfig, config)
      assert.is_false(ok, "expected NewForConfig to raise " .. pattern)
      assert.is_string(msg)
      assert.matches(pattern, msg, 1, true)
      no_secret(msg)
      return msg
    end

    it("raises for a CA file with Insecure, naming both fields", function()
      local c = H.config("admin-token")
      c.TLSClientConfig.Insecure = true
      raises(c, "TLSClientConfig.Insecure cannot be combined with a CA (TLSClientConfig.CAFile)")
      c = H.config("restricted")
      c.TLSClientConfig = { Insecure = true, CAData = H.read(E.K8S_LUA_CA) }
      raises(c, "TLSClientConfig.CAData")
    end)

    it("raises for unknown fields, at the top and nested", function()
      local c = H.config("admin-token")
      c.Hots = c.Host
      raises(c, "config: unknown field Hots")
      c = H.config("admin-token")
      c.TLSClientConfig.CaFile = c.TLSClientConfig.CAFile
      raises(c, "config: unknown field TLSClientConfig.CaFile")
      c = H.config("admin-token")
      c.Impersonate = { User = "jane" }
      raises(c, "config: unknown field Impersonate.User")
    end)

    it("raises for fields of the wrong type", function()
      local function with(field, value, pattern)
        local c = H.config("admin-token")
        local t, key = c, field
        local dot = field:find(".", 1, true)
        if dot then
          key = field:sub(dot + 1)
          t = c[field:sub(1, dot - 1)] or {}
          c[field:sub(1, dot - 1)] = t
        end
        t[key] = value
        raises(c, pattern)
      end
      with("QPS", "fast", "config.QPS must be a number, got string")
      with("Host", 6443, "config.Host must be a string, got number")
      with("BearerToken", true, "config.BearerToken must be a string, got boolean")
      with("TLSClientConfig.Insecure", "yes", "config.TLSClientConfig.Insecure must be a boolean, got string")
      with("Impersonate.Groups", "dev", "config.Impersonate.Groups must be a table, got string")
      with("TLSClientConfig", "ca.crt", "config.TLSClientConfig must be a table, got string")
      raises({ Host = E.K8S_LUA_SERVER, BearerToken = E.K8S_LUA_ADMIN_TOKEN, Impersonate = { Groups = { "dev" } } },
        "Impersonate.Groups and Impersonate.Extra require Impersonate.UserName")
      assert.has_error(function() k8s.NewForConfig("https://127.0.0.1") end)
    end)

    it("accepts a loaded config table as is", function()
      local config = load({ ExplicitPath = KC, CurrentContext = "admin-token" })
      assert_admin_list(config)
    end)
  end)
end)

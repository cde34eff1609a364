-- Who the server thinks we are: a SelfSubjectReview
-- (authentication.k8s.io/v1) for every credential the library can send —
-- client certificate, static tokens, a service-account token minted through
-- the TokenRequest API, a BearerTokenFile, basic-auth-free kubeconfig users —
-- and for every form of impersonation (rest.Config.Impersonate and the
-- kubeconfig's as / as-uid / as-groups / as-user-extra), including the
-- refusal to impersonate without the right to.
local H = require "spec.helper"
local k8s = require "k8s"
local errors = k8s.errors

local function contains(list, v)
  for _, x in ipairs(list or {}) do if x == v then return true end end
  return false
end

local function review(config)
  local cs = assert(k8s.NewForConfig(config))
  local r, err = cs:AuthenticationV1():SelfSubjectReviews():Create({})
  if not r then return nil, err end
  assert.equal("SelfSubjectReview", r.kind)
  return r.status.userInfo
end

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

describe("identity (" .. H.interpreter .. ")", function()
  local E = H.env
  local admin, ns, dir

  setup(function()
    admin = assert(k8s.NewForConfig(H.config("admin-cert")))
    -- H.namespace's names restart per spec file (busted insulates files):
    -- a prefix of this file's own keeps them apart from other files' ones
    ns = H.name("identity")
    assert(admin:CoreV1():Namespaces():Create({ metadata = { name = ns } }))
    H.namespaces[#H.namespaces + 1] = { cs = admin, name = ns }
    local p = assert(io.popen("mktemp -d /tmp/k8s-lua-identity.XXXXXX"))
    dir = p:read("*l")
    p:close()
  end)

  teardown(function()
    H.cleanup_namespaces()
    if dir and dir:match("^/tmp/k8s%-lua%-identity%.") then os.execute("rm -rf '" .. dir .. "'") end
  end)

  it("admin-cert is admin in system:masters, with no uid", function()
    local u = assert(review(H.config("admin-cert")))
    assert.equal("admin", u.username)
    assert.is_nil(u.uid)
    assert.is_true(contains(u.groups, "system:masters"))
    assert.is_true(contains(u.groups, "system:authenticated"))
  end)

  it("admin-token is admin, with the token file's uid", function()
    local u = assert(review(H.config("admin-token")))
    assert.equal("admin", u.username)
    assert.equal("uid-admin", u.uid)
    assert.is_true(contains(u.groups, "system:masters"))
  end)

  it("restricted is restricted, only system:authenticated", function()
    local u = assert(review(H.config("restricted")))
    assert.equal("restricted", u.username)
    assert.equal("uid-restricted", u.uid)
    assert.same({ "system:authenticated" }, u.groups)
  end)

  it("a minted service-account token is system:serviceaccount:<ns>:<name>", function()
    local sa = H.name("sa")
    assert(admin:CoreV1():ServiceAccounts(ns):Create({ metadata = { name = sa } }))
    local tr = assert(admin:CoreV1():ServiceAccounts(ns):CreateToken(sa, { spec = { expirationSeconds = 3600 } }))
    assert.equal("TokenRequest", tr.kind)
    local token = tr.status.token
    assert.is_string(token)
    local config = { Host = E.K8S_LUA_SERVER, TLSClientConfig = { CAFile = E.K8S_LUA_CA }, BearerToken = token }
    local u = assert(review(config))
    assert.equal("system:serviceaccount:" .. ns .. ":" .. sa, u.username)
    assert.is_true(contains(u.groups, "system:serviceaccounts"))
    assert.is_true(contains(u.groups, "system:serviceaccounts:" .. ns))
    assert.is_true(contains(u.groups, "system:authenticated"))
    local sao = assert(admin:CoreV1():ServiceAccounts(ns):Get(sa))
    assert.equal(sao.metadata.uid, u.uid)

    -- the same token through BearerTokenFile (and a kubeconfig tokenFile)
    write(dir .. "/sa-token", token .. "\n")
    u = assert(review({ Host = E.K8S_LUA_SERVER, TLSClientConfig = { CAFile = E.K8S_LUA_CA },
                        BearerTokenFile = dir .. "/sa-token" }))
    assert.equal("system:serviceaccount:" .. ns .. ":" .. sa, u.username)
    write(dir .. "/sa.kubeconfig", ([[
clusters: [{name: c, cluster: {server: "%s", certificate-authority: "%s"}}]
users: [{name: u, user: {tokenFile: sa-token}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: %s}}]
current-context: x
]]):format(E.K8S_LUA_SERVER, E.K8S_LUA_CA, ns))
    local kc = assert(k8s.clientcmd.LoadConfig({ ExplicitPath = dir .. "/sa.kubeconfig" }))
    assert.equal(dir .. "/sa-token", kc.BearerTokenFile)
    assert.equal(ns, kc.Namespace)
    u = assert(review(kc))
    assert.equal("system:serviceaccount:" .. ns .. ":" .. sa, u.username)

    -- the service account has no RBAC: it is forbidden to list pods
    local cs = assert(k8s.NewForConfig(config))
    local pods, err = cs:CoreV1():Pods(ns):List()
    assert.is_nil(pods)
    assert.is_true(errors.IsForbidden(err))
    assert.matches("system:serviceaccount:" .. ns .. ":" .. sa, err.message, 1, true)
    assert.not_matches(token, tostring(err), 1, true)
  end)

  describe("impersonation", function()
    it("as admin yields the impersonated user, groups and extra", function()
      for _, who in ipairs({ "admin-cert", "admin-token" }) do
        local config = H.config(who)
        config.Impersonate = { UserName = "jane", Groups = { "dev", "ops" },
                               Extra = { scopes = { "a", "b" }, ["example.com/team"] = { "x y" } } }
        local u = assert(review(config))
        assert.equal("jane", u.username)
        assert.is_true(contains(u.groups, "dev"))
        assert.is_true(contains(u.groups, "ops"))
        assert.is_true(contains(u.groups, "system:authenticated"))
        assert.is_false(contains(u.groups, "system:masters"))
        assert.same({ "a", "b" }, u.extra.scopes)
        assert.same({ "x y" }, u.extra["example.com/team"]) -- the key escaped in the header name
        assert.is_nil(u.uid)
      end
    end)

    it("impersonates a uid, and a user alone", function()
      local config = H.config("admin-token")
      config.Impersonate = { UserName = "jane", UID = "uid-jane-1" }
      local u = assert(review(config))
      assert.equal("jane", u.username)
      assert.equal("uid-jane-1", u.uid)
      config.Impersonate = { UserName = "bob" }
      u = assert(review(config))
      assert.equal("bob", u.username)
      assert.same({ "system:authenticated" }, u.groups)
    end)

    it("impersonates a service account, gaining its groups", function()
      local config = H.config("admin-cert")
      config.Impersonate = { UserName = "system:serviceaccount:" .. ns .. ":ghost" }
      local u = assert(review(config))
      assert.equal("system:serviceaccount:" .. ns .. ":ghost", u.username)
      assert.is_true(contains(u.groups, "system:serviceaccounts:" .. ns))
    end)

    it("impersonated users get their own permissions", function()
      local config = H.config("admin-cert")
      config.Impersonate = { UserName = "jane", Groups = { "dev" } }
      local cs = assert(k8s.NewForConfig(config))
      local list, err = cs:CoreV1():Namespaces():List()
      assert.is_nil(list)
      assert.is_true(errors.IsForbidden(err))
      assert.matches('User "jane" cannot list resource "namespaces"', err.message, 1, true)
      -- impersonating system:masters gives it back
      config.Impersonate = { UserName = "jane", Groups = { "system:masters" } }
      cs = assert(k8s.NewForConfig(config))
      assert(cs:CoreV1():Namespaces():List())
    end)

    it("is forbidden as restricted", function()
      local config = H.config("restricted")
      config.Impersonate = { UserName = "jane", Groups = { "dev" }, Extra = { scopes = { "a" } } }
      local u, err = review(config)
      assert.is_nil(u)
      assert.equal(403, err.code)
      assert.is_true(errors.IsForbidden(err))
      assert.matches("cannot impersonate", err.message, 1, true)
      assert.not_matches(E.K8S_LUA_RESTRICTED_TOKEN, tostring(err), 1, true)
    end)

    it("comes from a kubeconfig's as, as-uid, as-groups and as-user-extra", function()
      local path = dir .. "/impersonate.kubeconfig"
      write(path, ([[
apiVersion: v1
kind: Config
current-context: jane
clusters:
- name: local
  cluster: {server: "%s", certificate-authority: "%s"}
users:
- name: jane-via-admin
  user:
    token: "%s"
    as: jane
    as-uid: uid-jane-2
    as-groups: [dev, qa]
    as-user-extra:
      scopes: [a, b]
      reason: [testing]
- name: jane-via-restricted
  user: {token: "%s", as: jane}
contexts:
- name: jane
  context: {cluster: local, user: jane-via-admin}
- name: refused
  context: {cluster: local, user: jane-via-restricted}
]]):format(E.K8S_LUA_SERVER, E.K8S_LUA_CA, E.K8S_LUA_ADMIN_TOKEN, E.K8S_LUA_RESTRICTED_TOKEN))
      local config = assert(k8s.clientcmd.LoadConfig({ ExplicitPath = path }))
      assert.equal("jane", config.Impersonate.UserName)
      assert.equal("uid-jane-2", config.Impersonate.UID)
      assert.same({ "dev", "qa" }, config.Impersonate.Groups)
      assert.same({ "a", "b" }, config.Impersonate.Extra.scopes)
      local u = assert(review(config))
      assert.equal("jane", u.username)
      assert.equal("uid-jane-2", u.uid)
      assert.is_true(contains(u.groups, "dev"))
      assert.is_true(contains(u.groups, "qa"))
      assert.same({ "a", "b" }, u.extra.scopes)
      assert.same({ "testing" }, u.extra.reason)

      local refused = assert(k8s.clientcmd.LoadConfig({ ExplicitPath = path, CurrentContext = "refused" }))
      local none, err = review(refused)
      assert.is_nil(none)
      assert.is_true(errors.IsForbidden(err))
      assert.matches("cannot impersonate", err.message, 1, true)
    end)

    it("rejects groups, uid or extra without a user name when the config is built", function()
      for _, imp in ipairs({ { Groups = { "dev" } }, { UID = "x" }, { Extra = { scopes = { "a" } } } }) do
        local config = H.config("admin-token")
        config.Impersonate = imp
        local ok, msg = pcall(k8s.NewForConfig, config)
        assert.is_false(ok)
        assert.matches("require Impersonate.UserName", msg, 1, true)
      end
    end)
  end)
end)

-- Lua auth provider plugins (k8s.rest.RegisterAuthProviderPlugin) against
-- the real control plane: the factory's arguments, token caching until the
-- returned expiry, the single retry after a 401 with invalidate = true,
-- Login, callbacks that fail or raise (the request fails with an error
-- naming the provider, the process goes on, nothing leaks), and persisting
-- the plugin's config back into the kubeconfig file that defined the user
-- (atomically, keeping the rest of the file), also through a KUBECONFIG list.
local H = require "spec.helper"
local k8s = require "k8s"
local errors = k8s.errors
local json = k8s.json

local INTERP, ROOT = H.INTERP, H.ROOT
local shq, sh, write, exists = H.shq, H.sh, H.write, H.exists

local function sleep(s)
  os.execute("sleep " .. s)
end

local registered = 0
-- Register a plugin under a fresh name; returns the name.
local function register(factory, name)
  registered = registered + 1
  name = name or ("spec-provider-" .. registered)
  k8s.rest.RegisterAuthProviderPlugin(name, factory)
  return name
end

-- A config for the control plane that authenticates through plugin `name`.
local function plugin_config(name, cfg)
  return {
    Host = H.env.K8S_LUA_SERVER,
    TLSClientConfig = { CAFile = H.env.K8S_LUA_CA },
    AuthProvider = { Name = name, Config = cfg or {} },
    -- client-go's 5 QPS would throttle the loops below: the rate limiter
    -- runs before the credentials are fetched, as in client-go
    QPS = 5000, Burst = 5000,
  }
end

local function list_namespaces(config_or_cs)
  local cs = config_or_cs
  if getmetatable(cs) == nil then cs = assert(k8s.NewForConfig(config_or_cs)) end
  return cs:CoreV1():Namespaces():List()
end

describe("auth provider plugins (" .. H.interpreter .. ")", function()
  local E = H.env
  local ADMIN, RESTRICTED = E.K8S_LUA_ADMIN_TOKEN, E.K8S_LUA_RESTRICTED_TOKEN
  local dir

  setup(function()
    dir = sh("mktemp -d /tmp/k8s-lua-authprov.XXXXXX"):match("[^\n]+")
    assert(dir and dir:match("^/tmp/k8s%-lua%-authprov%."))
  end)

  teardown(function()
    if dir then os.execute("rm -rf " .. shq(dir)) end
  end)

  describe("registration", function()
    it("rejects bad arguments and a second registration of a name", function()
      assert.has_error(function() k8s.rest.RegisterAuthProviderPlugin("", function() end) end)
      assert.has_error(function() k8s.rest.RegisterAuthProviderPlugin(nil, function() end) end)
      assert.has_error(function() k8s.rest.RegisterAuthProviderPlugin("x-not-a-function", {}) end)
      local name = register(function() return { Token = function() return ADMIN end } end)
      local ok, msg = pcall(k8s.rest.RegisterAuthProviderPlugin, name, function() end)
      assert.is_false(ok)
      assert.matches('"' .. name .. '" was registered twice', msg, 1, true)
    end)

    it("raises when a config names an unknown provider or the factory fails", function()
      local ok, msg = pcall(k8s.NewForConfig, plugin_config("no-such-provider"))
      assert.is_false(ok)
      assert.matches('no Auth Provider found for name "no-such-provider"', msg, 1, true)
      local name = register(function() error("factory exploded") end)
      ok, msg = pcall(k8s.NewForConfig, plugin_config(name))
      assert.is_false(ok)
      assert.matches('plugin "' .. name .. '" failed', msg, 1, true)
      assert.matches("factory exploded", msg, 1, true)
      name = register(function() return { Login = function() end } end)
      ok, msg = pcall(k8s.NewForConfig, plugin_config(name))
      assert.is_false(ok)
      assert.matches("must return a table with a Token method", msg, 1, true)
      local c = plugin_config(name)
      c.AuthProvider.Config = "k=v"
      ok, msg = pcall(k8s.NewForConfig, c)
      assert.is_false(ok)
      assert.matches("config.AuthProvider.Config must be a table, got string", msg, 1, true)
    end)
  end)

  describe("tokens", function()
    it("uses the plugin's token, cached, with the factory given the cluster and a config copy", function()
      local got = {}
      local calls = 0
      local cfg = { k = "v", ["client-id"] = "abc" }
      k8s.rest.RegisterAuthProviderPlugin("test-provider", function(clusterAddress, config, persister)
        got.address, got.config, got.persister = clusterAddress, config, persister
        config.k = "changed by the plugin" -- must not leak into the caller's table
        return { Token = function() calls = calls + 1; return ADMIN end }
      end)
      local config = plugin_config("test-provider", cfg)
      local cs = assert(k8s.NewForConfig(config))
      assert.equal(E.K8S_LUA_SERVER, got.address)
      assert.equal("abc", got.config["client-id"])
      assert.equal("v", cfg.k)
      assert.is_nil(config.TokenSource) -- the caller's table is left alone
      assert.is_function(got.persister.Persist)
      assert.equal(0, calls) -- lazily, on the first request
      for _ = 1, 3 do
        local list = assert(list_namespaces(cs))
        assert.is_true(#list.items > 0)
      end
      assert.equal(1, calls) -- no expiry: cached until a 401
      local r = assert(cs:AuthenticationV1():SelfSubjectReviews():Create({}))
      assert.equal("admin", r.status.userInfo.username)
      assert(cs:AppsV1():Deployments("default"):List())
      assert.equal(1, calls) -- one token cache for all group-version clients of a clientset
      assert.equal("uid-admin", r.status.userInfo.uid)
      -- the same plugin with the restricted token: its identity, its permissions
      local name = register(function() return { Token = function() return RESTRICTED end } end)
      local _, err = list_namespaces(plugin_config(name))
      assert.is_true(errors.IsForbidden(err))
      assert.matches('User "restricted"', err.message, 1, true)
    end)

    it("works for the dynamic client and a RESTClient too", function()
      local calls = 0
      local name = register(function() return { Token = function() calls = calls + 1; return ADMIN end } end)
      local dc = assert(k8s.dynamic.NewForConfig(plugin_config(name)))
      local list = assert(dc:Resource({ Group = "", Version = "v1", Resource = "namespaces" }):List())
      assert.is_true(#list.items > 0)
      local config = plugin_config(name)
      config.APIPath, config.ContentConfig = "/api", { GroupVersion = "v1" }
      local rc = assert(k8s.rest.RESTClientFor(config))
      local res = rc:Get():Resource("namespaces"):Name("kube-system"):Do()
      assert.equal(200, res:StatusCode())
      assert.equal("kube-system", assert(res:Get()).metadata.name)
      assert.equal(2, calls) -- one per client
    end)

    it("after a 401 calls Token again with invalidate and retries once", function()
      local calls, flags = 0, {}
      local name = register(function()
        return { Token = function(_, invalidate)
          calls = calls + 1
          flags[calls] = invalidate
          if calls == 1 then return "invalid-token-one" end
          return ADMIN
        end }
      end)
      local cs = assert(k8s.NewForConfig(plugin_config(name)))
      local list = assert(list_namespaces(cs))
      assert.is_true(#list.items > 0)
      assert.equal(2, calls)
      assert.is_false(flags[1])
      assert.is_true(flags[2])
      assert(list_namespaces(cs))
      assert.equal(2, calls) -- the fresh token is cached
    end)

    it("gives up with 401 Unauthorized when the fresh token is bad too", function()
      local calls = 0
      local name = register(function()
        return { Token = function() calls = calls + 1; return "invalid-token-" .. calls end }
      end)
      local cs = assert(k8s.NewForConfig(plugin_config(name)))
      local list, err = list_namespaces(cs)
      assert.is_nil(list)
      assert.equal(401, err.code)
      assert.is_true(errors.IsUnauthorized(err))
      assert.equal(2, calls) -- one retry, not a loop
      assert.not_matches("invalid-token-", tostring(err), 1, true)
      -- the next request sends the last (bad) cached token, gets a 401 and
      -- asks once more
      list, err = list_namespaces(cs)
      assert.is_true(errors.IsUnauthorized(err))
      assert.equal(3, calls)
    end)

    it("calls Token again once the returned expiry has passed, and not before", function()
      local calls, ttl, expiries = 0, nil, {}
      local name = register(function()
        return { Token = function()
          calls = calls + 1
          local exp = os.time() + ttl
          expiries[calls] = exp
          return ADMIN, exp
        end }
      end)
      -- not before: a token valid for an hour serves every request
      ttl = 3600
      local cs = assert(k8s.NewForConfig(plugin_config(name)))
      assert(list_namespaces(cs))
      assert.equal(1, calls)
      assert(list_namespaces(cs))
      assert(list_namespaces(cs))
      assert.equal(1, calls) -- still valid
      -- after: a token that expires in a second; once the clock is past
      -- that expiry the next request fetches again
      calls, ttl = 0, 1
      cs = assert(k8s.NewForConfig(plugin_config(name)))
      assert(list_namespaces(cs))
      assert.equal(1, calls)
      while os.time() <= expiries[1] do sleep(0.1) end
      assert(list_namespaces(cs))
      assert.equal(2, calls) -- expired: fetched again
      -- an expiry already past: asked every time
      local n = 0
      name = register(function() return { Token = function() n = n + 1; return ADMIN, os.time() - 60 end } end)
      cs = assert(k8s.NewForConfig(plugin_config(name)))
      for _ = 1, 3 do assert(list_namespaces(cs)) end
      assert.equal(3, n)
    end)

    it("calls Login when Token has no token, then Token again", function()
      local log = {}
      local logged_in = false
      local name = register(function()
        return {
          Token = function() log[#log + 1] = "Token"; if logged_in then return ADMIN end return nil end,
          Login = function() log[#log + 1] = "Login"; logged_in = true end,
        }
      end)
      assert(list_namespaces(plugin_config(name)))
      assert.same({ "Token", "Login", "Token" }, log)
    end)
  end)

  describe("failing callbacks", function()
    it("turns nil, message and a missing token into a request error naming the provider", function()
      local name = register(function() return { Token = function() return nil, "the IdP is down" end } end)
      local list, err = list_namespaces(plugin_config(name))
      assert.is_nil(list)
      assert.equal(0, err.code)
      assert.equal("AuthProviderError", err.reason)
      assert.matches(name .. ": the IdP is down", err.message, 1, true)
      name = register(function() return { Token = function() end } end)
      list, err = list_namespaces(plugin_config(name))
      assert.is_nil(list)
      assert.matches(name .. ": the token source returned no token", err.message, 1, true)
      name = register(function() return { Token = function() return 42 end } end)
      list, err = list_namespaces(plugin_config(name))
      assert.is_nil(list)
      assert.equal("AuthProviderError", err.reason)
    end)

    it("turns a raise into the request's error, and the process goes on", function()
      local name = register(function()
        return { Token = function() error("refresh token expired") end }
      end)
      local cs = assert(k8s.NewForConfig(plugin_config(name)))
      local list, err = list_namespaces(cs)
      assert.is_nil(list)
      assert.equal(0, err.code)
      assert.equal("AuthProviderError", err.reason)
      assert.matches(name, tostring(err), 1, true)
      assert.matches("refresh token expired", err.message, 1, true)
      -- error objects that are not strings
      name = register(function()
        return { Token = function() error(setmetatable({}, { __tostring = function() return "custom error object" end })) end }
      end)
      list, err = list_namespaces(plugin_config(name))
      assert.is_nil(list)
      assert.matches(name .. ": custom error object", err.message, 1, true)
      name = register(function() return { Token = function() error({ message = "a table with a message" }) end } end)
      list, err = list_namespaces(plugin_config(name))
      assert.is_nil(list)
      assert.matches(name .. ": a table with a message", err.message, 1, true)
      name = register(function() return { Token = function() error() end } end)
      list, err = list_namespaces(plugin_config(name))
      assert.is_nil(list)
      assert.matches(name .. ": ", err.message, 1, true)
      -- and an unrelated client still works
      assert(list_namespaces(H.config("admin-token")))
    end)

    it("refuses a Token that re-enters itself through a request", function()
      local inner, cs
      local name = register(function()
        return { Token = function()
          local _, err = cs:CoreV1():Namespaces():List() -- needs this very token
          inner = err
          return ADMIN
        end }
      end)
      cs = assert(k8s.NewForConfig(plugin_config(name)))
      local list = assert(list_namespaces(cs))
      assert.is_true(#list.items > 0)
      assert.equal("AuthProviderError", inner.reason)
      assert.matches(name .. ": Token was called again while it was running", inner.message, 1, true)
      assert(list_namespaces(cs))
    end)

    it("leaks neither Lua stack nor memory over 1000 failing requests and 200 configs", function()
      local name = register(function()
        return { Token = function(_, invalidate) error("boom " .. tostring(invalidate) .. string.rep("x", 100)) end }
      end)
      local cs = assert(k8s.NewForConfig(plugin_config(name)))
      local function round(n)
        for _ = 1, n do
          local list, err = list_namespaces(cs)
          assert(list == nil and err.reason == "AuthProviderError")
        end
      end
      round(100) -- warm up
      collectgarbage("collect"); collectgarbage("collect")
      local before = collectgarbage("count")
      round(1000)
      collectgarbage("collect"); collectgarbage("collect")
      local after = collectgarbage("count")
      assert.is_true(after - before < 100, ("grew by %.1f KiB"):format(after - before))
      -- configs (each with its own callback thread) are released too
      for _ = 1, 200 do
        local c = assert(k8s.NewForConfig(plugin_config(name)))
        assert.is_nil((list_namespaces(c)))
      end
      collectgarbage("collect"); collectgarbage("collect")
      local after2 = collectgarbage("count")
      assert.is_true(after2 - before < 300, ("grew by %.1f KiB"):format(after2 - before))
      assert(list_namespaces(H.config("admin-cert")))
    end)
  end)

  describe("persisting", function()
    local path, name, persisted
    local OTHER_USERS_AND_CLUSTERS

    setup(function()
      path = dir .. "/kubeconfig"
      -- the plugin refreshes its token and persists the new config
      name = "test-provider-persist"
      k8s.rest.RegisterAuthProviderPlugin(name, function(_, config, persister)
        return { Token = function()
          local ok, err = persister:Persist({ refreshed = "yes", ["id-token"] = ADMIN, seen = config.k or "",
                                              expiry = 1700000000 })
          persisted = { ok = ok, err = err }
          return ADMIN
        end }
      end)
    end)

    local KC = [[
# a comment (libyaml re-emits the file: comments are not kept)
apiVersion: v1
kind: Config
preferences: {}
current-context: plugin
clusters:
- name: local
  cluster:
    server: %s
    certificate-authority: %s
- name: other
  cluster:
    server: https://other.example.com:6443
    insecure-skip-tls-verify: true
users:
- name: restricted
  user:
    token: %s
- name: plugin-user
  user:
    auth-provider:
      name: %s
      config:
        k: v
        idp-issuer-url: https://issuer.example.com
- name: untouched-plugin-user
  user:
    auth-provider: {name: %s, config: {k: stays}}
contexts:
- name: plugin
  context: {cluster: local, user: plugin-user, namespace: kube-system}
- name: restricted
  context: {cluster: local, user: restricted}
- name: other
  context: {cluster: other, user: untouched-plugin-user}
]]

    local function snapshot(p)
      local out = {}
      for _, ctx in ipairs({ "restricted", "other" }) do
        local c, info = assert(k8s.clientcmd.LoadConfig({ ExplicitPath = p, CurrentContext = ctx }))
        c.AuthConfigPersister = nil
        out[ctx] = { config = c, info = info }
      end
      return out
    end

    it("hands the plugin a persister that rewrites the user's auth-provider config", function()
      write(path, KC:format(E.K8S_LUA_SERVER, E.K8S_LUA_CA, RESTRICTED, name, name))
      os.execute("chmod 640 " .. shq(path))
      local before = snapshot(path)
      local config, info = assert(k8s.clientcmd.LoadConfig({ ExplicitPath = path }))
      assert.equal("plugin-user", info.User)
      assert.equal(name, config.AuthProvider.Name)
      assert.same({ k = "v", ["idp-issuer-url"] = "https://issuer.example.com" }, config.AuthProvider.Config)
      assert.same({ File = path, User = "plugin-user" }, config.AuthConfigPersister)

      persisted = nil
      local list = assert(list_namespaces(config))
      assert.is_true(#list.items > 0)
      assert.is_table(persisted)
      assert.is_true(persisted.ok, tostring(persisted.err))

      -- read the file back: the user's config replaced, everything else kept
      local again = assert(k8s.clientcmd.LoadConfig({ ExplicitPath = path }))
      assert.same({ refreshed = "yes", ["id-token"] = ADMIN, seen = "v", expiry = "1700000000" },
        again.AuthProvider.Config)
      assert.equal(name, again.AuthProvider.Name)
      assert.equal("kube-system", again.Namespace)
      assert.same(before, snapshot(path))
      local text = H.read(path)
      assert.matches("refreshed", text, 1, true)
      assert.not_matches("idp-issuer-url", text, 1, true)
      assert.matches("k: stays", text, 1, true)
      assert.matches("preferences", text, 1, true)
      assert.equal("640", sh("stat -c %a " .. shq(path)):match("%d+"))
      assert.is_false(exists(path .. ".lock"))
      assert.equal("", sh("ls -A " .. shq(dir) .. " | grep -v '^kubeconfig$' | grep tmp || true"))
      -- and the plugin keeps working from the rewritten file
      assert(list_namespaces(again))
    end)

    it("keeps a JSON kubeconfig loadable after persisting", function()
      local jpath = dir .. "/kubeconfig.json"
      write(jpath, json.encode({
        apiVersion = "v1", kind = "Config", ["current-context"] = "p",
        clusters = { { name = "local", cluster = { server = E.K8S_LUA_SERVER, ["certificate-authority"] = E.K8S_LUA_CA } } },
        users = { { name = "pu", user = { ["auth-provider"] = { name = name, config = { k = "json" } } } },
                  { name = "r", user = { token = RESTRICTED } } },
        contexts = { { name = "p", context = { cluster = "local", user = "pu" } },
                     { name = "r", context = { cluster = "local", user = "r" } } },
      }))
      local config = assert(k8s.clientcmd.LoadConfig({ ExplicitPath = jpath }))
      assert(list_namespaces(config))
      assert.is_true(persisted.ok, tostring(persisted.err))
      local again = assert(k8s.clientcmd.LoadConfig({ ExplicitPath = jpath }))
      assert.same({ refreshed = "yes", ["id-token"] = ADMIN, seen = "json", expiry = "1700000000" },
        again.AuthProvider.Config)
      local r = assert(k8s.clientcmd.LoadConfig({ ExplicitPath = jpath, CurrentContext = "r" }))
      assert.equal(RESTRICTED, r.BearerToken)
    end)

    it("writes to the file of a KUBECONFIG list that defined the user", function()
      local d1, d2 = dir .. "/first", dir .. "/second"
      os.execute("mkdir -p " .. shq(d1) .. " " .. shq(d2))
      local f1, f2 = d1 .. "/config", d2 .. "/config"
      write(f1, ([[
current-context: plugin
clusters: [{name: local, cluster: {server: "%s", certificate-authority: "%s"}}]
contexts: [{name: plugin, context: {cluster: local, user: plugin-user}}]
users: [{name: someone, user: {token: "%s"}}]
]]):format(E.K8S_LUA_SERVER, E.K8S_LUA_CA, RESTRICTED))
      write(f2, ([[
users:
- name: plugin-user
  user: {auth-provider: {name: %s, config: {k: from-second}}}
]]):format(name))
      local before1 = H.read(f1)
      local script = dir .. "/child.lua"
      write(script, ([[
local k8s = require "k8s"
k8s.rest.RegisterAuthProviderPlugin(%q, function(_, config, persister)
  return { Token = function()
    assert(persister:Persist({ refreshed = "child", seen = config.k }))
    return %q
  end }
end)
local config, info = assert(k8s.clientcmd.LoadConfig())
local cs = assert(k8s.NewForConfig(config))
local list, err = cs:CoreV1():Namespaces():List()
print("RESULT " .. k8s.json.encode({ userFile = info.UserFile, persister = config.AuthConfigPersister,
                                     ok = list ~= nil, err = err and tostring(err) }))
]]):format(name, ADMIN))
      local out = sh(table.concat({
        "cd / && env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT",
        "KUBECONFIG=" .. shq(f1 .. ":" .. f2),
        H.lua_env(),
        INTERP, shq(script) }, " "))
      local line = out:match("RESULT ([^\n]*)")
      assert(line, out)
      local R = json.decode(line)
      assert.equal(f2, R.userFile)
      assert.same({ File = f2, User = "plugin-user" }, R.persister)
      assert.is_true(R.ok, R.err)
      assert.equal(before1, H.read(f1)) -- the first file is untouched
      local again = assert(k8s.clientcmd.LoadConfig({ ExplicitPath = f2, AuthInfoName = "plugin-user",
                                                      Server = E.K8S_LUA_SERVER }))
      assert.same({ refreshed = "child", seen = "from-second" }, again.AuthProvider.Config)
    end)

    it("without a kubeconfig, Persist fails; a persister object of one's own is used as is", function()
      local result
      local n1 = register(function(_, _, persister)
        return { Token = function()
          result = { persister:Persist({ a = "b" }) }
          return ADMIN
        end }
      end)
      assert(list_namespaces(plugin_config(n1)))
      assert.is_nil(result[1])
      assert.equal("NoPersister", result[2].reason)
      local saved
      local own = { Persist = function(_, tbl) saved = tbl; return true end }
      local config = plugin_config(n1)
      config.AuthConfigPersister = own
      assert(list_namespaces(config))
      assert.is_true(result[1])
      assert.same({ a = "b" }, saved)
      -- Persist checks its argument
      local n2 = register(function(_, _, persister)
        return { Token = function() persister:Persist("not a table"); return ADMIN end }
      end)
      local _, err = list_namespaces(plugin_config(n2))
      assert.matches("Persist: config must be a table", err.message, 1, true)
    end)
  end)
end)

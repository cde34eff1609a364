-- Exec credential plugins against the real control plane: a small Lua
-- plugin (spec/plugins/exec_plugin.lua) prints ExecCredentials with real
-- tokens or the admin client certificate; run counts prove the caching.
local H = require "spec.helper"
local k8s = require "k8s"

local plugin = "spec/plugins/exec_plugin.lua"
local interp = jit and "luajit" or "lua5.4"

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p
end

local function runs(countfile)
  local f = io.open(countfile, "r")
  if not f then return 0 end
  local n = 0
  for _ in f:lines() do n = n + 1 end
  f:close()
  return n
end

local function exec_config(mode, countfile, extra_env, version)
  local env = { { Name = "PLUGIN_TOKEN", Value = H.env.K8S_LUA_ADMIN_TOKEN } }
  for _, e in ipairs(extra_env or {}) do env[#env + 1] = e end
  return {
    Host = H.env.K8S_LUA_SERVER,
    TLSClientConfig = { CAFile = H.env.K8S_LUA_CA },
    ExecProvider = {
      Command = interp,
      Args = { plugin, mode, countfile },
      Env = env,
      APIVersion = version or "client.authentication.k8s.io/v1",
      InteractiveMode = "Never",
      InstallHint = "install it from the test suite",
    },
  }
end

local function whoami(cs)
  local r, err = cs:AuthenticationV1():SelfSubjectReviews():Create({})
  if not r then return nil, err end
  return r.status.userInfo
end

describe("exec credential plugins (" .. H.interpreter .. ")", function()
  it("uses a token printed by the plugin (v1), running it once for many requests", function()
    local cf = tmpname()
    local cs = assert(k8s.NewForConfig(exec_config("token", cf)))
    local u = assert(whoami(cs))
    assert.equal("admin", u.username)
    assert(cs:CoreV1():Namespaces():List())
    assert(cs:AppsV1():Deployments("default"):List())
    assert.equal(1, runs(cf))
    os.remove(cf)
  end)

  it("speaks client.authentication.k8s.io/v1beta1 too", function()
    local cf = tmpname()
    local c = exec_config("token", cf, nil, "client.authentication.k8s.io/v1beta1")
    c.ExecProvider.InteractiveMode = nil -- optional for v1beta1
    local cs = assert(k8s.NewForConfig(c))
    assert.equal("admin", assert(whoami(cs)).username)
    os.remove(cf)
  end)

  it("caches until expirationTimestamp: runs again after expiry and not before", function()
    -- not before: a credential valid for an hour serves every request
    local cf = tmpname()
    local cs = assert(k8s.NewForConfig(exec_config("expiring", cf, { { Name = "PLUGIN_TTL", Value = "3600" } })))
    assert(cs:CoreV1():Namespaces():List())
    assert(cs:CoreV1():Namespaces():List())
    assert(cs:CoreV1():Namespaces():List())
    assert.equal(1, runs(cf))
    os.remove(cf); os.remove(cf .. ".exp")

    -- after: a credential that expires in a second; once the clock is past
    -- the expiry the plugin wrote, the next request runs it again
    cf = tmpname()
    cs = assert(k8s.NewForConfig(exec_config("expiring", cf, { { Name = "PLUGIN_TTL", Value = "1" } })))
    assert(cs:CoreV1():Namespaces():List())
    assert.equal(1, runs(cf))
    local exp = assert(tonumber(H.read(cf .. ".exp")), "the plugin wrote its expiry")
    while os.time() <= exp do os.execute("sleep 0.2") end
    assert(cs:CoreV1():Namespaces():List())
    assert.equal(2, runs(cf))
    os.remove(cf); os.remove(cf .. ".exp")
  end)

  it("runs again once after a 401 and retries the request with the new credential", function()
    -- the first run's token is wrong; the plugin reads the token from a file we then fix
    local cf, tokfile = tmpname(), tmpname()
    local f = assert(io.open(tokfile, "w")); f:write("not-a-valid-token"); f:close()
    local c = exec_config("token", cf)
    -- a wrapper plugin: token from a file
    c.ExecProvider.Command = "sh"
    c.ExecProvider.Args = { "-c", 'PLUGIN_TOKEN=$(cat "$0") exec "$1" "$2" token "$3"', tokfile, interp, plugin, cf }
    local cs = assert(k8s.NewForConfig(c))
    local _, err = cs:CoreV1():Namespaces():List()
    assert.is_true(k8s.errors.IsUnauthorized(err)) -- first run + re-run both gave the bad token
    assert.equal(2, runs(cf))
    f = assert(io.open(tokfile, "w")); f:write(H.env.K8S_LUA_ADMIN_TOKEN); f:close()
    -- cached bad token -> 401 -> plugin runs again -> good token -> retried request succeeds
    assert(cs:CoreV1():Namespaces():List())
    assert.equal(3, runs(cf))
    os.remove(cf); os.remove(tokfile)
  end)

  it("authenticates with a client certificate printed by the plugin", function()
    local cf = tmpname()
    local cs = assert(k8s.NewForConfig(exec_config("cert", cf, {
      { Name = "PLUGIN_CERT", Value = H.env.K8S_LUA_ADMIN_CERT },
      { Name = "PLUGIN_KEY", Value = H.env.K8S_LUA_ADMIN_KEY },
    })))
    local u = assert(whoami(cs))
    assert.equal("admin", u.username)
    local groups = table.concat(u.groups, ",")
    assert.matches("system:masters", groups, 1, true)
    os.remove(cf)
  end)

  it("passes cluster info in KUBERNETES_EXEC_INFO when provideClusterInfo is set", function()
    local cf = tmpname()
    local c = exec_config("echoinfo", cf)
    c.ExecProvider.ProvideClusterInfo = true
    local cs = assert(k8s.NewForConfig(c))
    assert(cs:CoreV1():Namespaces():List())
    local info = k8s.json.decode(H.read(cf .. ".info"))
    assert.equal("ExecCredential", info.kind)
    assert.is_false(info.spec.interactive)
    assert.equal(H.env.K8S_LUA_SERVER, info.spec.cluster.server)
    assert.is_string(info.spec.cluster["certificate-authority-data"])
    os.remove(cf); os.remove(cf .. ".info")
  end)

  it("reports a failing plugin as the request's error", function()
    local cf = tmpname()
    local cs = assert(k8s.NewForConfig(exec_config("fail", cf)))
    local list, err = cs:CoreV1():Namespaces():List()
    assert.is_nil(list)
    assert.equal("ExecPluginError", err.reason)
    assert.matches("exit status 3", err.message, 1, true)
    assert.not_matches(H.env.K8S_LUA_ADMIN_TOKEN, tostring(err), 1, true)
    os.remove(cf)
  end)

  it("rejects output that is not JSON or has the wrong apiVersion", function()
    local cf = tmpname()
    local _, err = assert(k8s.NewForConfig(exec_config("badjson", cf))):CoreV1():Namespaces():List()
    assert.matches("not JSON", err.message, 1, true)
    _, err = assert(k8s.NewForConfig(exec_config("leakyjson", cf))):CoreV1():Namespaces():List()
    assert.matches("not JSON", err.message, 1, true)
    assert.not_matches(H.env.K8S_LUA_ADMIN_TOKEN, tostring(err), 1, true)
    _, err = assert(k8s.NewForConfig(exec_config("wrongversion", cf))):CoreV1():Namespaces():List()
    assert.matches("plugin returned version client.authentication.k8s.io/v1alpha1", err.message, 1, true)
    os.remove(cf)
  end)

  it("fails a plugin whose output exceeds 1 MiB, even valid JSON", function()
    local cf = tmpname()
    local list, err = assert(k8s.NewForConfig(exec_config("flood", cf))):CoreV1():Namespaces():List()
    assert.is_nil(list)
    assert.equal("ExecPluginError", err.reason)
    assert.matches("output exceeds 1048576 bytes", err.message, 1, true)
    assert.equal(1, runs(cf))
    os.remove(cf)
  end)

  it("reports a missing plugin with its installHint", function()
    local c = exec_config("token", tmpname())
    c.ExecProvider.Command = "k8s-lua-no-such-plugin"
    local cs = assert(k8s.NewForConfig(c))
    local _, err = cs:CoreV1():Namespaces():List()
    assert.equal("ExecPluginNotFound", err.reason)
    assert.matches("k8s-lua-no-such-plugin", err.message, 1, true)
    assert.matches("install it from the test suite", err.message, 1, true)
  end)

  it("works from a kubeconfig user with exec", function()
    local dir = tmpname()
    os.execute("mkdir -p " .. dir)
    local cf = dir .. "/count"
    local path = dir .. "/kubeconfig"
    local f = assert(io.open(path, "w"))
    f:write(string.format([[
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "%s", certificate-authority: "%s"}
users:
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: %s
      args: ["%s/%s", token, "%s"]
      env: [{name: PLUGIN_TOKEN, value: "%s"}]
      interactiveMode: Never
contexts:
- name: plugin
  context: {cluster: local, user: plugin, namespace: kube-system}
current-context: plugin
]], H.env.K8S_LUA_SERVER, H.env.K8S_LUA_CA, interp, os.getenv("PWD") or ".", plugin, cf,
      H.env.K8S_LUA_ADMIN_TOKEN))
    f:close()
    local config = assert(k8s.clientcmd.BuildConfigFromFlags("", path))
    assert.equal("kube-system", config.Namespace)
    local cs = assert(k8s.NewForConfig(config))
    assert.equal("admin", assert(whoami(cs)).username)
    assert.equal(1, runs(cf))
    os.execute("rm -rf " .. dir)
  end)
end)

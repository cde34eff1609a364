-- Every example runs as written (as the README shows), on this interpreter,
-- against the control plane's kubeconfig: exit status 0 and the output it
-- promises.
local H = require "spec.helper"

local interp = jit and "luajit" or "lua5.4"
local build = jit and "build/luajit" or "build/lua5.4"

local function run(example, args)
  local cmd = string.format(
    "cd %q && KUBECONFIG=%q LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./%s/?.so;;' %s examples/%s %s 2>&1",
    assert(io.popen("pwd")):read("*l"), H.env.KUBECONFIG or (H.env.K8S_LUA_STATE .. "/kubeconfig"),
    build, interp, example, args or "")
  local p = assert(io.popen(cmd .. "; echo EXIT:$?"))
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("EXIT:(%d+)%s*$"))
  return code, out
end

describe("examples (" .. H.interpreter .. ")", function()
  local expect = {
    ["quickstart.lua"] = { "server version: " .. H.env.K8S_LUA_K8S_VERSION, "kube%-system" },
    ["crud_configmap.lua"] = {},
    ["watch.lua"] = { "ADDED", "MODIFIED", "DELETED" },
    ["apply.lua"] = {},
    ["dynamic_crd.lua"] = {},
    ["raw_rest.lua"] = { H.env.K8S_LUA_K8S_VERSION },
  }
  for example, patterns in pairs(expect) do
    it("runs " .. example, function()
      local code, out = run(example)
      assert.equal(0, code, out)
      for _, pat in ipairs(patterns) do
        assert.matches(pat, out)
      end
    end)
  end

  it("runs controller.lua: an inventory ConfigMap of a namespace's pods, under leader election", function()
    local k8s = require "k8s"
    local cs = assert(k8s.NewForConfig(H.config("admin-token")))
    local ns = H.namespace(cs)
    -- the namespace's default ServiceAccount, made here rather than waited for
    -- from the controller-manager (pods need it)
    local _, serr = cs:CoreV1():ServiceAccounts(ns):Create({ metadata = { name = "default" } })
    assert(serr == nil or k8s.errors.IsAlreadyExists(serr), tostring(serr))
    for _, n in ipairs { "web-1", "web-2" } do
      assert(cs:CoreV1():Pods(ns):Create({ metadata = { name = n },
        spec = { containers = { { name = "c", image = "example/none" } } } }))
    end
    -- "once": it exits when the namespace is reconciled (60 s: only a failing run's bound)
    local code, out = run("controller.lua", "60 " .. ns .. " once")
    assert.equal(0, code, out)
    assert.matches("is leading", out)
    assert.matches("reconciled " .. ns:gsub("%-", "%%-") .. ": 2 pods", out)
    local cm = assert(cs:CoreV1():ConfigMaps(ns):Get("pod-inventory"))
    assert.equal("2", cm.data.count)
    assert.equal("web-1\nweb-2", cm.data.pods)
    H.cleanup_namespaces()
  end)

  it("runs kubeconfig_context.lua with a chosen context", function()
    local code, out = run("kubeconfig_context.lua", "admin-token")
    assert.equal(0, code, out)
    assert.matches("admin%-token", out)
  end)
end)

-- The foundation: the module loads on this interpreter, and HTTPS requests
-- through the C core reach the real control plane with CA verification and
-- each of its three identities.
local H = require "spec.helper"

describe("foundation (" .. H.interpreter .. ")", function()
  local k8s

  it("loads the module", function()
    k8s = require "k8s"
    assert.is_table(k8s)
    assert.is_string(k8s._VERSION)
    assert.is_function(k8s.NewForConfig)
    local core = require "k8s.core"
    assert.equal(core.null, k8s.null)
    local ok, cjson = pcall(require, "cjson")
    if ok then assert.equal(cjson.null, k8s.null) end
  end)

  for _, who in ipairs({ "admin-cert", "admin-token", "restricted" }) do
    it("GETs /version with " .. who .. " credentials and CA verification", function()
      local rc = assert(k8s.rest.UnversionedRESTClientFor(H.config(who)))
      local res = rc:Get():AbsPath("/version"):Do()
      assert.equal(200, res:StatusCode())
      local v = assert(res:Get())
      assert.equal(H.env.K8S_LUA_K8S_VERSION, v.gitVersion)
    end)
  end

  it("gets 403 Forbidden listing namespaces as the restricted user", function()
    local cs = assert(k8s.NewForConfig(H.config("restricted")))
    local list, err = cs:CoreV1():Namespaces():List()
    assert.is_nil(list)
    assert.equal(403, err.code)
    assert.equal("Forbidden", err.reason)
    assert.is_true(k8s.errors.IsForbidden(err))
    assert.is_table(err.status)
    assert.equal("Status", err.status.kind)
    assert.matches("namespaces", tostring(err))
    assert.not_matches(H.env.K8S_LUA_RESTRICTED_TOKEN, tostring(err), 1, true)
  end)

  it("lists namespaces as admin", function()
    local cs = assert(k8s.NewForConfig(H.config("admin-cert")))
    local list = assert(cs:CoreV1():Namespaces():List())
    local names = {}
    for _, ns in ipairs(list.items) do names[ns.metadata.name] = true end
    assert.is_true(names["kube-system"])
    assert.is_true(names["default"])
  end)

  it("fails TLS verification without the cluster CA", function()
    local rc = assert(k8s.rest.UnversionedRESTClientFor({ Host = H.env.K8S_LUA_SERVER }))
    local body, err = rc:Get():AbsPath("/version"):DoRaw()
    assert.is_nil(body)
    assert.equal(0, err.code)
    assert.equal("TLSVerifyFailed", err.reason)
  end)
end)

-- Leader election inside nginx: two nginx instances with 2 workers each, every
-- worker an elector of the same Lease: exactly one leader in all, the one the
-- Lease names; stopping its nginx hands the Lease to a worker of the other.
local N = require "spec.ngx.helper"
local k8s = require "k8s"
local json = k8s.json

local E = os.getenv

describe("leader election in nginx", function()
  local a, b, cs, ns

  local function start(instance)
    return N.start {
      workers = 2,
      env = { K8S_LUA_SERVER = E("K8S_LUA_SERVER"), K8S_LUA_CA = E("K8S_LUA_CA"),
        K8S_LUA_ADMIN_TOKEN = E("K8S_LUA_ADMIN_TOKEN"), K8S_NGX_NS = ns, K8S_NGX_INSTANCE = instance },
      http = [[
        lua_shared_dict le 1m;
        lua_socket_log_errors off;
        init_worker_by_lua_block { require("k8sle").start() }
      ]],
      server = [[ location = /who { content_by_lua_block { require("k8sle").who() } } ]],
    }
  end

  -- the leading workers of the running instances; each must answer (a
  -- failed /who is asked again, never counted as "no leader there")
  local function leaders()
    local all = {}
    for name, srv in pairs { a = a, b = b } do
      local code, body
      local ok = N.wait_until(function()
        code, body = srv:get("/who")
        return code == 200
      end, 20, 0.05)
      assert(ok, "instance " .. name .. " did not answer /who: " .. tostring(code) .. " " .. tostring(body))
      for _, id in ipairs(json.decode(body).leading) do all[#all + 1] = id end
    end
    return all
  end

  local function holder()
    local lease = cs:CoordinationV1():Leases(ns):Get("ngx-lock")
    return lease and lease.spec.holderIdentity
  end

  lazy_setup(function()
    N.ensure_build()
    cs = assert(k8s.NewForConfig({ Host = E("K8S_LUA_SERVER"), BearerToken = E("K8S_LUA_ADMIN_TOKEN"),
      TLSClientConfig = { CAFile = E("K8S_LUA_CA") } }))
    ns = "ngx-le-" .. os.time() % 100000 .. "-" .. math.random(1000, 9999)
    assert(cs:CoreV1():Namespaces():Create({ metadata = { name = ns } }))
    a = start("a")
    b = start("b")
  end)

  lazy_teardown(function()
    if a then a:stop() end
    if b then b:stop() end
    if cs and ns then cs:CoreV1():Namespaces():Delete(ns) end
  end)

  it("elects exactly one leader across both instances: the Lease's holder", function()
    assert.truthy(N.wait_until(function() local l = leaders(); return #l == 1 and l[1] == holder() end, 30))
    -- and it stays one while the leader renews
    for _ = 1, 5 do
      local l = leaders()
      assert.are.equal(1, #l)
      N.sh("sleep 0.3")
    end
  end)

  it("hands the Lease to the other instance when the leader's nginx stops", function()
    local first = leaders()[1]
    local leader_srv, other = a, b
    if first:sub(1, 1) == "b" then leader_srv, other = b, a end
    leader_srv:stop()
    if leader_srv == a then a = nil else b = nil end
    local seen
    local ok = N.wait_until(function()
      local l = leaders()
      seen = table.concat(l, ",") .. " holder=" .. tostring(holder())
      return #l == 1 and l[1] ~= first and l[1] == holder()
    end, 30)
    assert.truthy(ok, "leaders/holder: " .. tostring(seen) .. " (first " .. first .. ")")
    assert.are.equal(other == a and "a" or "b", leaders()[1]:sub(1, 1))
  end)
end)

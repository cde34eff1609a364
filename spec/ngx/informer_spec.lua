-- k8s.ngx.SharedInformer in Debian's nginx with 4 workers against the real
-- control plane: one worker runs the informer into a lua_shared_dict, every
-- worker answers from it (each publishes its view into a second dict, so
-- that one request sees them all); the running worker killed with SIGKILL is
-- replaced and the cache stays served.
local N = require "spec.ngx.helper"
local k8s = require "k8s"
local json = k8s.json

local E = os.getenv

describe("shared informer in nginx", function()
  local srv, cs, ns, eps

  local function cfg()
    return { Host = E("K8S_LUA_SERVER"), BearerToken = E("K8S_LUA_ADMIN_TOKEN"), TLSClientConfig = { CAFile = E("K8S_LUA_CA") } }
  end

  local function endpoints(name, ip)
    return { metadata = { name = name }, subsets = { { addresses = { { ip = ip } }, ports = { { port = 80 } } } } }
  end

  -- ask until every worker's published view (GET /views: each worker's
  -- timer writes what its cache shows) satisfies ok(r)
  local function all_workers(ok, timeout)
    local last
    local r = N.wait_until(function()
      local pids = srv:worker_pids()
      local code, body = srv:get("/views", { timeout = 5 })
      if code ~= 200 or #pids == 0 then return false end
      last = body
      local views = json.decode(body)
      for _, p in ipairs(pids) do
        local v = views[tostring(p)]
        if not (v and v.pid == p and ok(v)) then return false end
      end
      return true
    end, timeout or 20, 0.02)
    if not r then
      io.stderr:write("[ngx informer] workers ", table.concat(srv:worker_pids(), " "), "; last views: ",
        tostring(last), "\n")
      io.stderr:write(srv:log():sub(-1500), "\n")
    end
    return r
  end

  lazy_setup(function()
    N.ensure_build()
    cs = assert(k8s.NewForConfig(cfg()))
    ns = "ngx-inf-" .. os.time() % 100000 .. "-" .. math.random(1000, 9999)
    assert(cs:CoreV1():Namespaces():Create({ metadata = { name = ns } }))
    eps = cs:CoreV1():Endpoints(ns)
    -- a Service without a selector: its Endpoints are ours, not the controller-manager's
    assert(cs:CoreV1():Services(ns):Create({ metadata = { name = "web" }, spec = { ports = { { port = 80 } } } }))
    assert(eps:Create(endpoints("web", "10.1.0.1")))
    srv = N.start {
      workers = 4,
      env = {
        K8S_LUA_SERVER = E("K8S_LUA_SERVER"), K8S_LUA_CA = E("K8S_LUA_CA"), K8S_LUA_ADMIN_TOKEN = E("K8S_LUA_ADMIN_TOKEN"),
        K8S_NGX_NS = ns,
      },
      http = [[
        lua_shared_dict k8s 8m;
        lua_shared_dict views 1m;
        lua_socket_log_errors off;
        init_worker_by_lua_block { require("k8sinf").start() }
      ]],
      server = [[
        location = /ep { content_by_lua_block { require("k8sinf").ep() } }
        location = /views { content_by_lua_block { require("k8sinf").views() } }
      ]],
    }
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
    if cs and ns then cs:CoreV1():Namespaces():Delete(ns) end
  end)

  it("syncs once and serves the cache from every worker", function()
    assert.truthy(all_workers(function(r) return r.synced and r.ip == "10.1.0.1" end))
    local code, body = srv:get("/ep?name=nope")
    local r = json.decode(body)
    assert.are.equal(200, code)
    assert.is_true(r.notfound)
    assert.are.equal(1, r.count)
  end)

  it("shows a change made by another process in every worker", function()
    local ep = assert(eps:Get("web"))
    ep.subsets[1].addresses[1].ip = "10.1.0.2"
    local t0 = os.time()
    assert(eps:Update(ep))
    assert.truthy(all_workers(function(r) return r.ip == "10.1.0.2" end))
    io.stderr:write("[ngx informer] change visible in all 4 workers after ~", os.time() - t0, " s\n")
  end)

  it("replaces a leader killed with SIGKILL and keeps serving the cache", function()
    local _, body = srv:get("/ep?name=web")
    local leader = json.decode(body).leader
    assert.is_number(leader)
    N.sh("kill -KILL " .. leader)
    -- the cache is served meanwhile (from the dict) by the surviving workers
    local code2, body2 = srv:get("/ep?name=web")
    assert.are.equal(200, code2)
    assert.are.equal("10.1.0.2", json.decode(body2).ip)
    -- a new leader (the lease expires after its TTL) and a change made now is seen everywhere
    assert.truthy(N.wait_until(function()
      local c, b = srv:get("/ep?name=web")
      local r = c == 200 and json.decode(b)
      return r and r.leader ~= k8s.null and r.leader ~= leader
    end, 30, 0.1))
    local e3 = assert(eps:Get("web"))
    e3.subsets[1].addresses[1].ip = "10.1.0.3"
    assert(eps:Update(e3))
    assert.truthy(N.wait_until(function() return #srv:worker_pids() == 4 end, 10))
    assert.truthy(all_workers(function(r) return r.ip == "10.1.0.3" end, 30))
  end)

  it("logged no alert, crit or unexpected error (but the kill)", function()
    local msg = srv:check_log({})
    local bad = {}
    for line in (msg or ""):gmatch("[^\n]+") do
      if line:find("%[%a+%]") and not line:find("exited on signal 9", 1, true) and not line:find("^unexpected lines") then
        bad[#bad + 1] = line
      end
    end
    assert.are.same({}, bad)
  end)
end)

-- The nginx harness itself (spec/ngx/helper.lua), against Debian's real
-- nginx + lua module. Needs no Kubernetes control plane.
local N = require "spec.ngx.helper"

local function is_dir(path)
  local _, rc = N.sh("test -d " .. N.shq(path))
  return rc == 0
end

describe("ngx harness", function()
  it("finds nginx and the lua module (declared dependencies)", function()
    assert.is_true(N.available(), "missing " .. N.NGINX .. " or " .. N.LUA_MODULE
      .. ": run tools/deps.sh")
  end)

  it("reports an invalid configuration with nginx -t's message", function()
    local ok, err = pcall(N.start, {
      server = "location = /bad { no_such_directive on; }",
    })
    assert.is_false(ok)
    assert.matches("nginx -t failed", err, 1, true)
    assert.matches('unknown directive "no_such_directive"', err, 1, true)
  end)

  describe("a running server", function()
    local srv, mark, allowed
    local env_value = 'a b "c" \\d'

    lazy_setup(function()
      N.ensure_build() -- build/luajit/k8s/core.so
      srv = N.start {
        workers = 2,
        env = { K8S_LUA_NGX_HARNESS = env_value },
        http = "lua_shared_dict harness 1m;",
        server = [[
          location = /hello { content_by_lua_block { ngx.say("hello from worker ", ngx.worker.id()) } }
          location = /k8s {
            content_by_lua_block {
              local k8s = require "k8s"
              ngx.say(type(k8s.NewForConfig))
              ngx.say(package.searchpath("k8s.core", package.cpath))
            }
          }
          location = /boom { content_by_lua_block { error("harness-boom") } }
          location = /sleep0 { content_by_lua_block { ngx.sleep(0) ngx.say("slept") } }
          location = /echo {
            content_by_lua_block {
              ngx.req.read_body()
              ngx.say(ngx.req.get_method(), " ", ngx.var.http_x_harness, " ", ngx.req.get_body_data())
            }
          }
          location = /env {
            content_by_lua_block {
              ngx.say(os.getenv("K8S_LUA_NGX_HARNESS"))
              ngx.say(tostring(os.getenv("KUBECONFIG")))
            }
          }
          location = /sse {
            content_by_lua_block {
              ngx.header["Content-Type"] = "text/event-stream"
              for i = 1, 100 do
                ngx.print("data: ", i, "\n\n")
                if not ngx.flush(true) then return end
                ngx.sleep(0.1)
              end
            }
          }
        ]],
      }
    end)

    lazy_teardown(function()
      if srv then
        local pid = srv.pid
        assert.is_true(srv:stop())
        assert.is_false(N.alive(pid))
      end
    end)

    before_each(function()
      mark = srv:log_mark()
      allowed = nil
    end)

    after_each(function()
      assert.is_nil(srv:check_log(allowed, mark))
    end)

    it("serves the built-in /static location", function()
      local status, body, secs = srv:get("/static")
      assert.equals(200, status)
      assert.equals("static\n", body)
      assert.is_number(secs)
    end)

    it("answers from a content_by_lua_block", function()
      local status, body = srv:get("/hello")
      assert.equals(200, status)
      assert.matches("^hello from worker [01]\n$", body)
    end)

    it("loads require 'k8s' from build/luajit inside nginx", function()
      local status, body = srv:get("/k8s")
      assert.equals(200, status, body)
      assert.equals("function\n" .. N.ROOT .. "/build/luajit/k8s/core.so\n", body)
    end)

    it("sends a method, a body and headers", function()
      local status, body = srv:get("/echo", { method = "PUT", data = "x=1 'q'",
        headers = { ["X-Harness"] = "yes" } })
      assert.equals(200, status)
      assert.equals("PUT yes x=1 'q'\n", body)
    end)

    it("passes env to the workers, KUBECONFIG included when set", function()
      local status, body = srv:get("/env")
      assert.equals(200, status)
      assert.equals(env_value .. "\n" .. tostring(os.getenv("KUBECONFIG")) .. "\n", body)
    end)

    it("reports a handler error through check_log", function()
      local status = srv:get("/boom")
      assert.equals(500, status)
      local msg = srv:check_log(nil, mark)
      assert.is_string(msg)
      assert.matches("harness-boom", msg, 1, true)
      assert.matches("stack traceback", msg, 1, true) -- the whole entry
      assert.is_nil(srv:check_log({ "harness%-boom" }, mark))
      allowed = { "harness%-boom" }
    end)

    it("reports the ngx.sleep(0) warning through check_log", function()
      local status, body = srv:get("/sleep0")
      assert.equals(200, status)
      assert.equals("slept\n", body)
      local msg = srv:check_log(nil, mark)
      assert.is_string(msg)
      assert.matches("ngx.sleep(0) called without delayed events patch", msg, 1, true)
      mark = srv:log_mark() -- the warning is expected here
    end)

    it("answers 50 concurrent requests", function()
      local res = srv:get_many("/static", 50, 10)
      assert.equals(50, #res)
      for i, r in ipairs(res) do
        assert.equals(200, r.status, "request " .. i)
        assert.equals("static\n", r.body, "request " .. i)
        assert.equals(r.status, r[1])
      end
    end)

    it("reads a streaming response for a bounded time", function()
      local body, rc = srv:stream("/sse", 1)
      assert.equals(28, rc) -- curl: its time bound ran out, the stream was still open
      assert.matches("^data: 1\n\ndata: 2\n\n", body)
      assert.is_nil(body:find("data: 100\n", 1, true)) -- the whole stream takes 10 s
      -- the handler notices the closed connection and ends
      assert.truthy(srv:wait_until(function()
        return srv:get("/static") == 200
      end, 5))
    end)

    it("has its workers as children of the master", function()
      local pids = srv:worker_pids()
      assert.equals(2, #pids)
      assert.equals(0, srv:shutting_down_count())
    end)

    it("reloads without leaving a worker shutting down", function()
      local before = srv:worker_pids()
      assert(srv:reload())
      local after = srv:worker_pids()
      assert.equals(2, #after)
      for _, p in ipairs(after) do
        assert.is_false(p == before[1] or p == before[2], "worker " .. p .. " survived the reload")
      end
      assert(srv:wait_until(function() return srv:shutting_down_count() == 0 end, 10))
      local status, body = srv:get("/hello")
      assert.equals(200, status)
      assert.matches("^hello from worker", body)
    end)
  end)

  it("stops master and workers and removes the prefix", function()
    local srv = N.start { workers = 1 }
    local pid, workers, prefix = srv.pid, srv:worker_pids(), srv.prefix
    assert.equals(1, #workers)
    assert.is_true(N.alive(pid))
    assert.is_true(srv:stop())
    assert.is_false(N.alive(pid))
    assert.is_false(N.alive(workers[1]))
    assert.is_true(srv:stop()) -- idempotent
    if not os.getenv("K8S_LUA_KEEP_NGX") then assert.is_false(is_dir(prefix)) end
  end)

  it("stops nginx when the server object is dropped without stop()", function()
    local a = N.start { workers = 1 }
    local b = N.start { workers = 1 } -- b's nginx must not hold a's pipe open
    finally(function() b:stop() end)
    local pid = a.pid
    -- what collection or the end of busted does: the watchdog sees EOF
    a.watchdog:close()
    a.watchdog = nil
    assert.is_false(N.alive(pid))
    a:stop() -- removes the prefix
    local status, body = b:get("/static")
    assert.equals(200, status)
    assert.equals("static\n", body)
    assert.is_nil(b:check_log())
  end)
end)

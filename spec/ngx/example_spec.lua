-- examples/nginx runs as its README says: one command, then curl.
local N = require "spec.ngx.helper"
local json = require "k8s".json

describe("examples/nginx", function()
  local port, pidfile, log

  lazy_setup(function()
    N.ensure_build()
    port = N.free_port()
    pidfile = os.tmpname()
    log = os.tmpname()
    -- setsid: its own process group, so the spec can stop nginx and run.sh together
    N.sh("setsid bash -c 'echo $$ > " .. pidfile .. "; exec " .. N.ROOT .. "/examples/nginx/run.sh " .. port
      .. "' >" .. log .. " 2>&1 < /dev/null &")
    assert.is_true(N.wait_until(function()
      local out = N.sh("curl -s -o /dev/null -w '%{http_code}' -m 2 http://127.0.0.1:" .. port .. "/pods")
      return out:match("200") ~= nil
    end, 20), "the example did not start: " .. (io.open(log):read("*a")))
  end)

  lazy_teardown(function()
    local pid = (io.open(pidfile):read("*a") or ""):match("%d+")
    if pid then
      N.sh("kill -QUIT -" .. pid .. " 2>/dev/null")
      N.wait_until(function() return select(2, N.sh("kill -0 -" .. pid .. " 2>/dev/null")) ~= 0 end, 10)
      N.sh("kill -KILL -" .. pid .. " 2>/dev/null")
    end
    os.remove(pidfile)
    os.remove(log)
  end)

  it("answers /pods with the pods of a namespace as JSON", function()
    local out = N.sh("curl -s -m 10 'http://127.0.0.1:" .. port .. "/pods?namespace=kube-system'")
    local r = json.decode(out)
    assert.are.equal("kube-system", r.namespace)
    assert.is_string(r.resourceVersion)
    assert.is_table(r.pods)
  end)

  it("answers /endpoints from the shared informer cache", function()
    local k8s = require "k8s"
    local cs = assert(k8s.NewForConfig(assert(k8s.clientcmd.BuildConfigFromFlags("", ""))))
    local name = "example-ep-" .. os.time() % 100000 .. "-" .. math.random(1000, 9999)
    -- a Service without a selector: its Endpoints are written by us
    assert(cs:CoreV1():Services("default"):Create({ metadata = { name = name }, spec = { ports = { { port = 8080 } } } }))
    assert(cs:CoreV1():Endpoints("default"):Create({ metadata = { name = name },
      subsets = { { addresses = { { ip = "10.9.8.7" } }, ports = { { port = 8080 } } } } }))
    local url = "http://127.0.0.1:" .. port .. "/endpoints?namespace=default&service=" .. name
    local ok = N.wait_until(function() return N.sh("curl -s -m 5 '" .. url .. "'"):find("10.9.8.7:8080", 1, true) end, 20)
    cs:CoreV1():Services("default"):Delete(name)
    cs:CoreV1():Endpoints("default"):Delete(name)
    assert.truthy(ok)
    local out = N.sh("curl -s -m 5 'http://127.0.0.1:" .. port .. "/endpoints?namespace=default&service=nope'")
    assert.are.equal("NotFound", json.decode(out).error)
  end)

  it("streams a watch as server-sent events", function()
    local k8s = require "k8s"
    local cs = assert(k8s.NewForConfig(assert(k8s.clientcmd.BuildConfigFromFlags("", ""))))
    local name = "example-sse-" .. os.time() .. "-" .. math.random(1000, 9999)
    assert(cs:CoreV1():ConfigMaps("default"):Create({ metadata = { name = name } }))
    -- read the stream until the ConfigMap's event is in it (curl's -m bounds
    -- only a failing run), then stop curl
    local file = os.tmpname()
    N.sh("curl -s -N -m 30 'http://127.0.0.1:" .. port .. "/watch?namespace=default' >" .. file .. " 2>/dev/null & pid=$!; "
      .. "while kill -0 $pid 2>/dev/null && ! grep -qF '\"name\":\"" .. name .. "\"' " .. file .. "; do sleep 0.05; done; "
      .. "kill $pid 2>/dev/null; wait $pid")
    local out = N.read_file(file) or ""
    os.remove(file)
    cs:CoreV1():ConfigMaps("default"):Delete(name)
    assert.matches(": watching ConfigMaps in default", out, 1, true)
    assert.matches("event: ADDED\ndata: {", out, 1, true)
    assert.matches('"name":"' .. name .. '"', out, 1, true)
  end)
end)

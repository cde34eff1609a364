-- HTTPS through a real HTTP CONNECT proxy (Debian's tinyproxy): the
-- tunnel's "200 Connection established" is not the server's answer, so a
-- watch, a GET and their errors through the proxy are exactly what they are
-- without it. The proxy's log proves every request went through it.
local k8s = require "k8s"
local H = require "spec.helper"

local function free_port()
  local out = H.sh([[env -u LD_PRELOAD python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])']])
  return assert(tonumber(out:match("%d+")), "no free port: " .. out)
end

describe("a CONNECT proxy (" .. H.INTERP .. ")", function()
  local dir, port, pid, log, ns, direct, proxied

  setup(function()
    dir = H.sh("mktemp -d /tmp/k8s-lua-proxy.XXXXXX"):match("%S+")
    port = free_port()
    log = dir .. "/tinyproxy.log"
    H.write(dir .. "/tinyproxy.conf", table.concat({
      "Port " .. port, "Listen 127.0.0.1", "Timeout 600", "MaxClients 20", "LogLevel Connect",
      "Allow 127.0.0.1", "DisableViaHeader Yes", 'LogFile "' .. log .. '"', "" }, "\n"))
    -- -d: in the foreground, so that $! is its pid
    pid = H.sh("env -u LD_PRELOAD tinyproxy -d -c " .. H.shq(dir .. "/tinyproxy.conf") .. " >/dev/null 2>&1 & echo $!"):match("%d+")
    assert(pid, "tinyproxy did not start (make deps installs tinyproxy-bin)")
    H.eventually(function()
      return H.sh("env -u LD_PRELOAD python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", " .. port .. "), 1)' && echo up"):match("up")
    end, 20, "tinyproxy listening")
    direct = assert(k8s.NewForConfig(H.config()))
    local c = H.config()
    c.Proxy = "http://127.0.0.1:" .. port
    proxied = assert(k8s.NewForConfig(c))
    ns = H.namespace(direct)
  end)

  teardown(function()
    H.cleanup_namespaces()
    if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
    if dir then os.execute("rm -rf " .. H.shq(dir)) end
  end)

  local function connects()
    local n = 0
    for _ in H.read(log):gmatch("CONNECT") do n = n + 1 end
    return n
  end

  local function with_token(client_token)
    local c = H.config()
    c.BearerToken = client_token
    c.Proxy = "http://127.0.0.1:" .. port
    return assert(k8s.NewForConfig(c))
  end

  it("carries GET, LIST and a watch's events", function()
    local before = connects()
    local cms = proxied:CoreV1():ConfigMaps(ns)
    local l = assert(cms:List())
    local w = assert(cms:Watch({ resourceVersion = l.metadata.resourceVersion, labelSelector = "p=1" }))
    assert(direct:CoreV1():ConfigMaps(ns):Create({ metadata = { name = "c1", labels = { p = "1" } } }))
    local ev = assert(w:Next(30))
    assert.equal("ADDED", ev.type)
    assert.equal("c1", ev.object.metadata.name)
    w:Stop()
    assert.equal("c1", assert(cms:Get("c1")).metadata.name)
    assert.is_true(connects() > before, "the requests did not go through the proxy")
  end)

  it("reports a watch's 401 as Unauthorized, as without the proxy", function()
    local before = connects()
    local cw, cerr = with_token("not-a-token"):CoreV1():ConfigMaps(ns):Watch({})
    assert.is_nil(cw)
    assert.equal("Unauthorized", cerr.reason)
    assert.equal(401, cerr.code)
    assert.is_true(connects() > before)
  end)

  it("reports a watch's server error exactly as without the proxy", function()
    local _, want = direct:CoreV1():ConfigMaps(ns):Watch({ resourceVersion = "not-a-version" })
    assert.is_table(want)
    local w, err = proxied:CoreV1():ConfigMaps(ns):Watch({ resourceVersion = "not-a-version" })
    assert.is_nil(w)
    assert.equal(want.reason, err.reason)
    assert.equal(want.code, err.code)
    assert.equal(want.message, err.message)
  end)

  it("reports a GET's 404 and a stream's 404 as NotFound", function()
    local _, err = proxied:CoreV1():ConfigMaps(ns):Get("missing")
    assert.equal("NotFound", err.reason)
    assert.equal(404, err.code)
    local s, serr = proxied:CoreV1():Pods(ns):GetLogs("missing"):Stream()
    assert.is_nil(s)
    assert.equal("NotFound", serr.reason)
  end)
end)

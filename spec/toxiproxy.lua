-- Toxiproxy for the fault specs: a TCP proxy in front of the real API
-- server, driven through its HTTP API (curl). TLS stays end to end: the
-- client connects to https://127.0.0.1:PORT with the control plane's CA (the
-- serving certificate carries IP:127.0.0.1; ports are not part of the match).
--
--   local T = require "spec.toxiproxy"
--   local tp = T.start()          -- tools/toxiproxy.sh start (or TOXIPROXY_URL)
--   local p = tp:proxy()          -- in front of K8S_LUA_SERVER
--   local cfg = p:config(H.config("admin-token"))  -- the same identity, via the proxy
--   p:add("latency", { latency = 200 }, "downstream")
--   p:remove(name); p:disable(); p:enable(); p:reset()
--   tp:accepted(p)                -- connections the proxy accepted (from its log)
--   tp:stop()                     -- deletes its proxies; stops a server it started
local H = require "spec.helper"
local json = require("k8s").json

local T = {}

local Server = {}
Server.__index = Server
local Proxy = {}
Proxy.__index = Proxy

local shq = H.shq

-- One API call: method, path, JSON body (a table or nil) -> decoded answer
-- (or true for an empty one); raises on an HTTP error.
local function api(url, method, path, body)
  local cmd = "env -u LD_PRELOAD curl -sS --max-time 30 -X " .. method .. " -w '\\n%{http_code}'"
  if body ~= nil then
    cmd = cmd .. " -H 'Content-Type: application/json' --data-binary " .. shq(json.encode(body))
  end
  cmd = cmd .. " " .. shq(url .. path)
  local out = H.sh(cmd)
  local text, code = out:match("^(.-)\n?(%d%d%d)%s*$")
  code = tonumber(code)
  if not code or code < 200 or code >= 300 then
    error(("toxiproxy %s %s: %s"):format(method, path, out), 3)
  end
  if text == "" then return true end
  return json.decode(text)
end

local function read_env_file(path)
  local env = {}
  for line in io.lines(path) do
    local k, v = line:match("^([%w_]+)=(.*)$")
    if k then env[k] = v end
  end
  return env
end

--- start() -> server: the Toxiproxy at TOXIPROXY_URL when it is set (its log
-- from TOXIPROXY_LOG, if set), else a new one started with
-- tools/toxiproxy.sh into a temporary directory (stopped by :stop()).
function T.start()
  local self = setmetatable({ proxies = {} }, Server)
  local url = os.getenv("TOXIPROXY_URL")
  if url and url ~= "" then
    self.url, self.log = url, os.getenv("TOXIPROXY_LOG")
  else
    self.dir = H.sh("mktemp -d /tmp/k8s-lua-toxiproxy.XXXXXX"):match("^(%S+)")
    local out = H.sh("tools/toxiproxy.sh start " .. shq(self.dir))
    local envf = self.dir .. "/toxiproxy.env"
    assert(H.exists(envf), "tools/toxiproxy.sh start failed:\n" .. out)
    local env = read_env_file(envf)
    self.url, self.log = env.TOXIPROXY_URL, env.TOXIPROXY_LOG
  end
  assert(api(self.url, "GET", "/version"))
  return self
end

--- server:proxy([upstream]) -> a new proxy on 127.0.0.1 (a free port) in
-- front of upstream (default: the API server of K8S_LUA_SERVER).
function Server:proxy(upstream)
  upstream = upstream or assert(H.env.K8S_LUA_SERVER:match("^https?://([^/]+)"))
  local name = H.name("px")
  local r = api(self.url, "POST", "/proxies",
    { name = name, listen = "127.0.0.1:0", upstream = upstream, enabled = true })
  local p = setmetatable({ server = self, name = name, upstream = upstream, toxics = {} }, Proxy)
  p.listen = r.listen
  p.port = assert(tonumber(r.listen:match(":(%d+)$")), "no port in " .. tostring(r.listen))
  p.url = "https://127.0.0.1:" .. p.port
  self.proxies[name] = p
  return p
end

--- server:accepted(proxy) -> how many client connections the proxy has
-- accepted so far (nil when the server's log is not available).
function Server:accepted(p)
  if not self.log then return nil end
  local n = 0
  for line in io.lines(self.log) do
    if line:find('"message":"Accepted client"', 1, true) and line:find('"name":"' .. p.name .. '"', 1, true) then
      n = n + 1
    end
  end
  return n
end

--- server:stop(): delete the proxies made here; stop the server if started here.
function Server:stop()
  for _, p in pairs(self.proxies) do pcall(p.delete, p) end
  if self.dir then
    H.sh("tools/toxiproxy.sh stop " .. shq(self.dir))
    H.sh("rm -rf " .. shq(self.dir))
    self.dir = nil
  end
end

--- proxy:config(cfg) -> a copy of the rest.Config table cfg that goes through
-- the proxy (same CA, same credentials).
function Proxy:config(cfg)
  local c = {}
  for k, v in pairs(cfg) do c[k] = v end
  c.Host = self.url
  return c
end

local toxic_n = 0
--- proxy:add(type, attributes, stream ("downstream" | "upstream"), toxicity) -> toxic name.
-- Toxics apply to new connections and to those already open.
function Proxy:add(kind, attributes, stream, toxicity)
  toxic_n = toxic_n + 1
  local name = kind .. "_" .. toxic_n
  api(self.server.url, "POST", "/proxies/" .. self.name .. "/toxics", {
    name = name, type = kind, stream = stream or "downstream",
    toxicity = toxicity or 1.0, attributes = attributes or {},
  })
  self.toxics[name] = true
  return name
end

--- proxy:remove(toxic name)
function Proxy:remove(name)
  api(self.server.url, "DELETE", "/proxies/" .. self.name .. "/toxics/" .. name)
  self.toxics[name] = nil
end

--- proxy:list() -> the toxics on the proxy (as the API returns them).
function Proxy:list()
  return api(self.server.url, "GET", "/proxies/" .. self.name .. "/toxics")
end

--- proxy:disable(): the listener closes and open connections drop ("down").
function Proxy:disable()
  api(self.server.url, "POST", "/proxies/" .. self.name, { enabled = false })
end

--- proxy:enable(): listen again (on the same port).
function Proxy:enable()
  local r = api(self.server.url, "POST", "/proxies/" .. self.name, { enabled = true })
  assert(r.listen == self.listen, "the proxy came back on " .. tostring(r.listen) .. ", not " .. self.listen)
end

--- proxy:reset(): no toxics, enabled.
function Proxy:reset()
  for name in pairs(self.toxics) do self:remove(name) end
  self:enable()
end

--- proxy:delete()
function Proxy:delete()
  if self.server.proxies[self.name] then
    api(self.server.url, "DELETE", "/proxies/" .. self.name)
    self.server.proxies[self.name] = nil
  end
end

return T

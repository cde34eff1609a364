-- Shared helpers for the specs: the control plane started by
-- tools/run-tests.sh (its env file), configs for its identities, and
-- unique names. Specs need that control plane: without it they fail.
local H = {}

local function read_env()
  local state = os.getenv("K8S_LUA_STATE")
  assert(state and state ~= "", "K8S_LUA_STATE is not set: run the specs through `make test`")
  local env = {}
  for line in io.lines(state .. "/env") do
    local k, v = line:match("^([%w_]+)=(.*)$")
    if k then env[k] = v end
  end
  return env
end

H.env = read_env()
H.interpreter = (jit and "luajit") or _VERSION

--- rest.Config tables for the control plane's identities.
function H.config(who)
  local e = H.env
  local c = { Host = e.K8S_LUA_SERVER, TLSClientConfig = { CAFile = e.K8S_LUA_CA } }
  who = who or "admin-token"
  if who == "admin-cert" then
    c.TLSClientConfig.CertFile = e.K8S_LUA_ADMIN_CERT
    c.TLSClientConfig.KeyFile = e.K8S_LUA_ADMIN_KEY
  elseif who == "admin-token" then
    c.BearerToken = e.K8S_LUA_ADMIN_TOKEN
  elseif who == "restricted" then
    c.BearerToken = e.K8S_LUA_RESTRICTED_TOKEN
  else
    error("unknown identity " .. tostring(who))
  end
  return c
end

-- busted loads this helper afresh for every spec file, so the counter alone
-- is not unique: mix in a per-load random part.
local counter = 0
local addr = tonumber((tostring({}):match("0x(%x+)") or "0"):sub(-6), 16) or 0
math.randomseed(os.time() + math.floor(os.clock() * 1e6) + addr)
local salt = string.format("%04x", math.random(0, 0xffff))
--- A DNS-1123 name unique to this run, spec file and interpreter.
function H.name(prefix)
  counter = counter + 1
  local interp = jit and "jit" or "l54"
  return string.format("%s-%s-%d%s-%d", prefix or "t", interp, os.time() % 100000, salt, counter)
end

--- The interpreter running the specs, and the repository root.
H.INTERP = jit and "luajit" or "lua5.4"
H.ROOT = assert(io.popen("pwd")):read("*l")
-- the build the specs run on (tools/run-specs.sh's SPEC_BUILD), absolute
H.BUILD = (function(b)
  if b:sub(1, 1) ~= "/" then b = H.ROOT .. "/" .. b end
  return b .. "/" .. H.INTERP
end)(os.getenv("SPEC_BUILD") or "build")
--- lua_env() -> "LUA_PATH=... LUA_CPATH=...": a child interpreter's paths to
-- this checkout's modules and the build under test (for `env`).
function H.lua_env()
  return "LUA_PATH=" .. H.shq(H.ROOT .. "/lua/?.lua;" .. H.ROOT .. "/lua/?/init.lua;;") ..
    " LUA_CPATH=" .. H.shq(H.BUILD .. "/?.so;;")
end

--- Quote s for /bin/sh.
function H.shq(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Run a shell command; its stdout and stderr.
function H.sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  return out
end

--- Write a whole file.
function H.write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

--- Whether a file exists.
function H.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- Read a whole file.
function H.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

--- The drivers a Lua behaviour is tested on: { name =, run = function(fn, secs) }.
--- "libcurl" runs fn as it is (the blocking default); "loop" runs it as a task
--- of k8s.Run (the plain-Lua loop, the cosocket-style driver), for at most
--- secs (default 180) seconds. run raises what fn raised.
H.DRIVERS = {
  { name = "libcurl", run = function(fn) return fn() end },
  { name = "loop", run = function(fn, secs)
      local k8s, loop = require "k8s", require "k8s.loop"
      local done, ok, err
      local task = loop.spawn(function() ok, err = pcall(fn); done = true end)
      local deadline = loop.now() + (secs or 180)
      k8s.Run(function() return done or loop.now() > deadline end)
      if not done then task:cancel(); error(("the task did not finish within %d s"):format(secs or 180), 2) end
      if not ok then error(err, 0) end
    end },
}

--- Poll fn until it returns a truthy value or timeout seconds pass.
function H.eventually(fn, timeout, what)
  local deadline = os.time() + (timeout or 30)
  while os.time() <= deadline do
    local v = fn()
    if v then return v end
    os.execute("sleep 0.2")
  end
  error("timed out waiting for " .. (what or "condition"), 2)
end

--- A fresh namespace; returns its name. Deleted by H.cleanup_namespaces().
H.namespaces = {}
function H.namespace(cs)
  local name = H.name("ns")
  assert(cs:CoreV1():Namespaces():Create({ metadata = { name = name } }))
  H.namespaces[#H.namespaces + 1] = { cs = cs, name = name }
  return name
end

function H.cleanup_namespaces()
  for _, n in ipairs(H.namespaces) do
    n.cs:CoreV1():Namespaces():Delete(n.name)
  end
  H.namespaces = {}
end


--- Whether the array `list` holds `v`.
function H.contains(list, v)
  for _, x in ipairs(list or {}) do if x == v then return true end end
  return false
end

--- The sorted metadata.name of a List's items.
function H.names_of(list)
  local out = {}
  for _, it in ipairs(list.items) do out[#out + 1] = it.metadata.name end
  table.sort(out)
  return out
end

-- The child scripts of H.child: `k8s`, a result table R and E(err), an
-- error as plain fields; the prelude adds helpers, the body fills R.
local CHILD_HEAD = [[
local k8s = require "k8s"
local R = {}
local function E(err)
  if err == nil then return nil end
  if type(err) ~= "table" then return { str = tostring(err) } end
  return { code = err.code, reason = err.reason, message = err.message, str = tostring(err),
           unauthorized = k8s.errors.IsUnauthorized(err), forbidden = k8s.errors.IsForbidden(err) }
end
]]
local CHILD_TAIL = [[
end)
if not ok then R.crash = tostring(crash) end
io.write("RESULT ", k8s.json.encode(R), "\n")
]]
local child_n = 0

--- Run Lua code in a child interpreter (this one) started from "/" in a clean
-- environment: no KUBECONFIG, in-cluster, service-account or proxy
-- variables, an empty HOME, plus `env` (name -> value; false leaves it
-- unset). Lua cannot set environment variables, so this is how specs vary
-- them. `prelude` defines helpers; `body` fills the table R, which is
-- returned decoded, with the child's whole output.
function H.child(dir, env, body, prelude)
  child_n = child_n + 1
  local script = dir .. "/child-" .. child_n .. ".lua"
  H.write(script, CHILD_HEAD .. (prelude or "") .. "local ok, crash = pcall(function()\n" .. body .. CHILD_TAIL)
  local home = dir .. "/home-" .. child_n
  os.execute("mkdir -p " .. H.shq(home))
  local cmd = {
    "cd / && env -u KUBECONFIG -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT -u POD_NAMESPACE",
    "-u K8S_LUA_SERVICEACCOUNT_DIR -u K8S_LUA_TOKEN_FILE_PERIOD",
    "-u NO_PROXY -u no_proxy -u HTTPS_PROXY -u https_proxy -u ALL_PROXY -u all_proxy",
    "HOME=" .. H.shq(home),
    H.lua_env(),
  }
  for k, v in pairs(env or {}) do
    if v then cmd[#cmd + 1] = k .. "=" .. H.shq(v) end
  end
  cmd[#cmd + 1] = H.INTERP .. " " .. H.shq(script)
  local out = H.sh(table.concat(cmd, " "))
  local line = out:match("RESULT ([^\n]*)")
  assert(line, "the child printed no result:\n" .. out)
  local R = require("k8s").json.decode(line)
  assert(R.crash == nil, "the child failed: " .. tostring(R.crash) .. "\n" .. out)
  return R, out
end

return H

--- The locations of `make bench`'s OpenResty section (bench/ngx/openresty.lua),
-- run inside nginx's LuaJIT: ONE Get of the bench ConfigMap per request, through
-- a clientset made once per worker (token or client certificate + CA, QPS -1 as
-- every peer), with the cosocket driver (`get`) or the blocking libcurl driver
-- (`get_blocking`: k8s.ngx.configure{ Blocking = true }, which stalls the worker).
-- Environment (nginx `env` directives): BENCH_SERVER, BENCH_CA, BENCH_TOKEN or
-- BENCH_CERT/BENCH_KEY, BENCH_NS, BENCH_NAME, BENCH_NGX_POOL (k8s.ngx PoolSize).
local k8s = require "k8s"
local kngx = require "k8s.ngx"

local E = os.getenv
local function env(k) local v = E(k); if v == "" then return nil end; return v end

local pool = tonumber(env("BENCH_NGX_POOL") or "")
if pool then kngx.configure { PoolSize = pool } end

local M = {}
local NAME = env("BENCH_NAME")
local cms, blocking

local function client()
  if cms then return cms end
  local cs, err = k8s.NewForConfig {
    Host = env("BENCH_SERVER"), BearerToken = env("BENCH_TOKEN"), QPS = -1,
    TLSClientConfig = { CAFile = env("BENCH_CA"), CertFile = env("BENCH_CERT"), KeyFile = env("BENCH_KEY") },
  }
  if not cs then return nil, err end
  cms = cs:CoreV1():ConfigMaps(env("BENCH_NS"))
  return cms
end

local function get(block)
  if blocking ~= block then -- only one variant runs at a time; switch the driver when it changes
    kngx.configure { Blocking = block }
    blocking = block
  end
  local c, err = client()
  local cm
  if c then cm, err = c:Get(NAME) end
  if not cm or cm.metadata.name ~= NAME then
    local msg = err and (tostring(err.reason) .. ": " .. tostring(err.message)) or "wrong object"
    ngx.log(ngx.ERR, "bench get failed: ", msg)
    ngx.status = 500
    ngx.say(msg)
    return
  end
  ngx.say(cm.metadata.name)
end

function M.get() return get(false) end
function M.get_blocking() return get(true) end

return M

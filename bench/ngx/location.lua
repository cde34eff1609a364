--- The locations of `make bench`'s OpenResty section (bench/ngx/openresty.lua),
-- run inside nginx's LuaJIT: ONE Get of the bench ConfigMap per request, through
-- a clientset made once per worker (token or client certificate + CA, QPS -1 as
-- every peer), with the cosocket driver (`get`) or the blocking libcurl driver
-- (`get_blocking`: k8s.ngx.configure{ Blocking = true }, which stalls the worker);
-- `stats`: the cosocket driver's connection counters of every worker.
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

-- init_worker: every 0.1 s, this worker's cosocket connection counters
-- (k8s.ngx.stats(), when the driver has it) go to the shared dict k8s_bench.
function M.init_worker()
  if not kngx.stats then return end
  local dict, key = ngx.shared.k8s_bench, "stats:" .. ngx.worker.pid()
  ngx.timer.every(0.1, function(premature)
    if premature then return end
    local s = kngx.stats()
    dict:set(key, ("%d %d %d %d"):format(s.connects, s.reused, s.handshakes, s.resumed))
  end)
end

-- GET /k8s-stats: the counters of every worker, summed (JSON; {} without k8s.ngx.stats)
function M.stats()
  local dict, sum = ngx.shared.k8s_bench, nil
  for _, k in ipairs(dict:get_keys(0)) do
    local c, r, h, s = (dict:get(k) or ""):match("^(%d+) (%d+) (%d+) (%d+)$")
    if c then
      sum = sum or { connects = 0, reused = 0, handshakes = 0, resumed = 0 }
      sum.connects, sum.reused = sum.connects + c, sum.reused + r
      sum.handshakes, sum.resumed = sum.handshakes + h, sum.resumed + s
    end
  end
  ngx.header["Content-Type"] = "application/json"
  ngx.say(sum and k8s.json.encode(sum) or "{}")
end

return M

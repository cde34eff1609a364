--- `make bench`'s OpenResty section (driven by bench/run.lua, Lua 5.4): one
-- nginx (Debian's nginx + lua module, started by the nginx spec harness
-- spec/ngx/helper.lua in a temporary prefix) with three locations, loaded in
-- turn by wrk with the same workers, connections and duration:
--   /static        `return 200 "static\n"`: the ceiling of this nginx on this machine
--   /get           one ConfigMap Get per request, cosocket driver (bench/ngx/location.lua)
--   /get-blocking  the same Get with k8s.ngx.configure{ Blocking = true } (libcurl; stalls the worker)
-- For each: a warm-up run, then the timed run; requests/s and latency p50/p99
-- from wrk (bench/ngx/wrk.lua prints them as JSON), and the CPU of the nginx
-- worker processes (utime + stime of /proc/<pid>/stat) over the timed run,
-- divided by the requests wrk completed.
local k8s = require "k8s"
local N = require "spec.ngx.helper"

local O = {}

O.VARIANTS = {
  { id = "static", path = "/static", label = "nginx `return 200` (ceiling)" },
  { id = "cosocket", path = "/get", label = "k8s-lua in nginx (cosockets)" },
  { id = "blocking", path = "/get-blocking", label = "k8s-lua in nginx (blocking libcurl)" },
}

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function sh(cmd)
  local p = io.popen(cmd, "r")
  local out = p:read("a")
  local ok = p:close()
  return (out:gsub("%s+$", "")), ok
end
local function readfile(p) local f = io.open(p, "rb"); if not f then return nil end; local s = f:read("a"); f:close(); return s end

local CLK_TCK = tonumber((sh("getconf CLK_TCK"))) or 100

-- utime + stime (seconds) of a process, all its threads included
local function proc_cpu(pid)
  local s = readfile("/proc/" .. pid .. "/stat")
  if not s then return nil end
  local rest = s:match("^%d+ %b() (.*)$")
  if not rest then return nil end
  local f = {}
  for x in rest:gmatch("%S+") do f[#f + 1] = x end
  -- rest starts at field 3 (state): utime is field 14, stime field 15
  return (tonumber(f[12]) + tonumber(f[13])) / CLK_TCK
end

--- Start nginx. cfg: root, workers, connections, threads, duration, warmup (s),
--- wrk (path), pool (k8s.ngx PoolSize, default: connections), env
--- (BENCH_SERVER, BENCH_CA, BENCH_TOKEN | BENCH_CERT/BENCH_KEY, BENCH_NS, BENCH_NAME).
--- Returns a handle; raises on failure.
function O.start(cfg)
  local env = { BENCH_NGX_POOL = tostring(cfg.pool or cfg.connections) }
  for k, v in pairs(cfg.env) do if v and v ~= "" then env[k] = v end end
  local srv = N.start {
    workers = cfg.workers,
    worker_connections = math.max(1024, cfg.connections * 4),
    error_log_level = "warn",
    env = env,
    http = "  init_by_lua_block { package.path = \"" .. cfg.root .. "/?.lua;\" .. package.path }\n"
      .. "  init_worker_by_lua_block { require(\"bench.ngx.location\").init_worker() }\n"
      .. "  lua_shared_dict k8s_bench 1m;\n"
      .. "  keepalive_requests 100000000;\n  keepalive_timeout 600s;",
    server = [[
    location = /get { content_by_lua_block { require("bench.ngx.location").get() } }
    location = /get-blocking { content_by_lua_block { require("bench.ngx.location").get_blocking() } }
    location = /k8s-stats { content_by_lua_block { require("bench.ngx.location").stats() } }]],
  }
  -- every location answers before anything is timed
  for _, v in ipairs(O.VARIANTS) do
    local code, body = srv:get(v.path, { timeout = 30 })
    if code ~= 200 then
      local log = srv:log()
      srv:stop(2)
      error(("nginx %s answered %d: %s %s"):format(v.path, code, body, log:sub(-2000)), 0)
    end
  end
  return { srv = srv, cfg = cfg }
end

local function wrk(h, path, seconds)
  local c = h.cfg
  local cmd = ("%s -t%d -c%d -d%ds --timeout 10s -s %s %s 2>&1"):format(
    q(c.wrk), math.min(c.threads, c.connections), c.connections, seconds,
    q(c.root .. "/bench/ngx/wrk.lua"), q(h.srv:url(path)))
  local out, ok = sh(N.CLEAN_ENV .. cmd)
  local last
  for line in out:gmatch("[^\n]+") do last = line end
  local okd, t = pcall(k8s.json.decode, last or "")
  if not ok or not okd or type(t) ~= "table" or not t.requests then
    return nil, "wrk failed: " .. out:sub(-400)
  end
  return t
end

-- The cosocket driver's counters summed over the workers (published every 0.1 s), or nil.
local function conn_stats(srv)
  N.sleep(0.25)
  local code, body = srv:get("/k8s-stats", { timeout = 5 })
  if code ~= 200 then return nil end
  local ok, t = pcall(k8s.json.decode, body)
  if ok and type(t) == "table" and t.connects then return t end
end

--- One measurement of a variant: warm-up, then the timed run.
--- Returns a result table, or nil and a message.
function O.measure(h, v)
  local srv, c = h.srv, h.cfg
  local mark = srv:log_mark()
  if c.warmup > 0 then
    local w, e = wrk(h, v.path, c.warmup)
    if not w then return nil, "warm-up: " .. e end
  end
  local pids = srv:worker_pids()
  if #pids ~= c.workers then return nil, ("%d workers running, expected %d"):format(#pids, c.workers) end
  local st0 = conn_stats(srv)
  local cpu0 = {}
  for i, pid in ipairs(pids) do cpu0[i] = proc_cpu(pid) end
  local r, e = wrk(h, v.path, c.duration)
  if not r then return nil, e end
  local cpu1 = {}
  for i, pid in ipairs(pids) do cpu1[i] = proc_cpu(pid) end
  local st1 = conn_stats(srv)
  local res = { requests = r.requests, wall = r.duration_us / 1e6, p50_us = r.p50_us, p90_us = r.p90_us,
    p99_us = r.p99_us, max_us = r.max_us, mean_us = r.mean_us, bytes = r.bytes, cpu_by_worker = {} }
  res.cpu = 0
  for i, pid in ipairs(pids) do
    local c1 = cpu1[i]
    if not (c1 and cpu0[i]) then return nil, "nginx worker " .. pid .. " went away" end
    res.cpu_by_worker[i] = c1 - cpu0[i]
    res.cpu = res.cpu + (c1 - cpu0[i])
  end
  if st0 and st1 then -- TLS handshakes, and requests sent on reused connections, during the timed run
    res.conn = { connects = st1.connects - st0.connects, reused = st1.reused - st0.reused,
      handshakes = st1.handshakes - st0.handshakes, resumed = st1.resumed - st0.resumed }
  end
  local errs = r.err_connect + r.err_read + r.err_write + r.err_status + r.err_timeout
  if errs > 0 then
    return nil, ("wrk: %d errors (connect %d, read %d, write %d, non-2xx %d, timeout %d) %s"):format(errs,
      r.err_connect, r.err_read, r.err_write, r.err_status, r.err_timeout, srv:log(mark):sub(-600))
  end
  if r.requests < 1 or res.wall <= 0 then return nil, "no requests completed" end
  local bad = srv:check_log(nil, mark)
  if bad then return nil, bad:sub(1, 800) end
  return res
end

--- Derived figures of one measurement.
function O.figures(res)
  return {
    rps = res.requests / res.wall,
    p50_ms = res.p50_us / 1e3,
    p99_ms = res.p99_us / 1e3,
    cpu_us = res.cpu / res.requests * 1e6,
    cores = res.cpu / res.wall,
  }
end

O.METRICS = {
  { "rps", "requests/s" }, { "p50_ms", "p50 (ms)" }, { "p99_ms", "p99 (ms)" },
  { "cpu_us", "worker CPU/req (µs)" }, { "cores", "worker CPU (cores)" },
}

function O.stop(h)
  if h and h.srv then h.srv:stop(5); h.srv = nil end
end

return O

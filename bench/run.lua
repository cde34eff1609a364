--- The benchmark driver (Lua 5.4 with this library), started by tools/bench.sh.
-- Prepares the data, runs every workload for every peer in interleaved rounds
-- (round 1: GET A, GET B, ..., LIST A, LIST B, ...; round 2: the same ...),
-- and writes the markdown tables and results.json.
--
--   lua5.4 bench/run.lua [--tiny] [--rounds N] [--objects N] [--gets N]
--                        [--kubectl-gets N] [--page N] [--watch-modified N]
--                        [--informer-objects N] [--informer-updates N] [--informer-watchlist 0|1]
--                        [--ngx-duration S] [--ngx-warmup S] [--ngx-connections N]
--                        [--ngx-workers N] [--ngx-threads N] [--apply-objects N]
--                        [--peers a,b,...] [--workloads a,b,...] [--out DIR]
--
-- tools/bench.sh provides the environment: BENCH_SERVER, BENCH_CA,
-- BENCH_TOKEN (or BENCH_CERT/BENCH_KEY), BENCH_KUBECONFIG, BENCH_NS,
-- BENCH_WORK (scratch dir), and the peer paths printed by bench/setup.sh.
-- The last stderr line is "bench: N passed, N failed" (one count per peer x
-- workload that ran and gave sane numbers in every round).
-- A full run of some workloads only (--workloads, default --out) keeps the
-- other workloads' figures of the previous bench/results.json (full mode) and
-- says so: RESULTS.md always shows every section.
local k8s = require "k8s"
local u = require "benchutil"

local ROOT = os.getenv("BENCH_ROOT") or "."
package.path = ROOT .. "/?.lua;" .. package.path -- bench.ngx.openresty, spec.ngx.helper (the nginx harness)
local OR = require "bench.ngx.openresty"
local WORK = assert(os.getenv("BENCH_WORK"), "BENCH_WORK is not set (run tools/bench.sh)")

local function env(k, d) local v = os.getenv(k); if v == nil or v == "" then return d end; return v end
local function log(fmt, ...) io.stderr:write("bench: ", string.format(fmt, ...), "\n"); io.stderr:flush() end
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function sh(cmd) -- run, return stdout (trimmed) and success
  local p = io.popen(cmd, "r")
  local out = p:read("a")
  local ok = p:close()
  return (out:gsub("%s+$", "")), ok
end
local function readfile(p) local f = io.open(p, "rb"); if not f then return nil end; local s = f:read("a"); f:close(); return s end
local function writefile(p, s) local f = assert(io.open(p, "wb")); f:write(s); f:close() end
local function split(s) local t = {}; for x in s:gmatch("[^,%s]+") do t[#t + 1] = x end; return t end
local function set(list) local t = {}; for _, x in ipairs(list) do t[x] = true end; return t end

-- ------------------------------------------------------------- options ----
local opt = {
  tiny = false, rounds = 5, objects = 5000, gets = 1000, kubectl_gets = 200, page = 500,
  watch_modified = 200, out = ROOT .. "/bench", peers = nil, workloads = nil,
  -- the informer section: its own namespace of ConfigMaps, then updates by a writer process
  informer_objects = 10000, informer_updates = 1000, informer_watchlist = true,
  -- the OpenResty section (bench/ngx/openresty.lua): wrk against nginx, per variant and round
  ngx_duration = 10, ngx_warmup = 3, ngx_connections = 32, ngx_workers = 2, ngx_threads = 2,
  -- the apply section: a folder of this many manifests, applied into a fresh namespace per run
  apply_objects = 200,
}
do
  local i = 1
  while i <= #arg do
    local a = arg[i]
    local function val() i = i + 1; return (assert(arg[i], a .. " needs a value")) end
    if a == "--tiny" then
      opt.tiny = true
    elseif a == "--rounds" then opt.rounds = tonumber(val())
    elseif a == "--objects" then opt.objects = tonumber(val())
    elseif a == "--gets" then opt.gets = tonumber(val())
    elseif a == "--kubectl-gets" then opt.kubectl_gets = tonumber(val())
    elseif a == "--page" then opt.page = tonumber(val())
    elseif a == "--watch-modified" then opt.watch_modified = tonumber(val())
    elseif a == "--informer-objects" then opt.informer_objects = math.floor(tonumber(val()))
    elseif a == "--informer-updates" then opt.informer_updates = math.floor(tonumber(val()))
    elseif a == "--informer-watchlist" then opt.informer_watchlist = val() ~= "0"
    elseif a == "--ngx-duration" then opt.ngx_duration = math.floor(tonumber(val()))
    elseif a == "--ngx-warmup" then opt.ngx_warmup = math.floor(tonumber(val()))
    elseif a == "--ngx-connections" then opt.ngx_connections = math.floor(tonumber(val()))
    elseif a == "--ngx-workers" then opt.ngx_workers = math.floor(tonumber(val()))
    elseif a == "--ngx-threads" then opt.ngx_threads = math.floor(tonumber(val()))
    elseif a == "--apply-objects" then opt.apply_objects = math.floor(tonumber(val()))
    elseif a == "--peers" then opt.peers = set(split(val()))
    elseif a == "--workloads" then opt.workloads = set(split(val()))
    elseif a == "--out" then opt.out = val()
    else error("unknown option " .. a) end
    i = i + 1
  end
  if opt.tiny then -- a few objects, one round, every peer: keeps the harness from rotting
    opt.rounds, opt.objects, opt.gets, opt.kubectl_gets, opt.page, opt.watch_modified = 1, 24, 20, 3, 10, 5
    opt.ngx_duration, opt.ngx_warmup = 1, 1 -- wrk counts whole seconds
    opt.informer_objects, opt.informer_updates = 200, 50
    opt.apply_objects = 10
    if opt.out == ROOT .. "/bench" then opt.out = ROOT .. "/build/bench/tiny" end
  end
end
os.execute("mkdir -p " .. q(opt.out))

local NS = assert(os.getenv("BENCH_NS"), "BENCH_NS is not set")
local NS_INF = NS .. "-inf" -- the informer section's namespace (tools/bench.sh deletes it too)
local GET_NAME = "bench-00000"
local SERVER = assert(os.getenv("BENCH_SERVER"))

-- --------------------------------------------------------------- peers ----
local LUA_PATH = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"
local JSON_CT, PB_CT = "application/json", "application/vnd.kubernetes.protobuf"
local function lua_env(flavor, content_type)
  return { LUA_PATH = LUA_PATH, LUA_CPATH = ROOT .. "/build/" .. flavor .. "/?.so;" .. ROOT .. "/build/bench/" .. flavor .. "/?.so;;",
    BENCH_CONTENT_TYPE = content_type }
end
local PEERS = {
  -- JSON set explicitly (the typed clientset asks for protobuf by default, the -pb rows)
  { id = "lua54", label = "k8s-lua, Lua 5.4 (JSON)", cmd = "lua5.4 " .. q(ROOT .. "/bench/peers/k8slua.lua"), env = lua_env("lua5.4", JSON_CT), lib = true, bound = "curl54", informer = true },
  { id = "luajit", label = "k8s-lua, LuaJIT (JSON)", cmd = "luajit " .. q(ROOT .. "/bench/peers/k8slua.lua"), env = lua_env("luajit", JSON_CT), lib = true, bound = "curljit", informer = true },
  { id = "lua54-pb", label = "k8s-lua, Lua 5.4 (protobuf, its default)", cmd = "lua5.4 " .. q(ROOT .. "/bench/peers/k8slua.lua"), env = lua_env("lua5.4", PB_CT), bound = "curl54" },
  { id = "luajit-pb", label = "k8s-lua, LuaJIT (protobuf, its default)", cmd = "luajit " .. q(ROOT .. "/bench/peers/k8slua.lua"), env = lua_env("luajit", PB_CT), bound = "curljit" },
  -- the apply section only: k8s.apply.Apply with Concurrency = 8
  { id = "lua54-c8", label = "k8s-lua, Lua 5.4, Concurrency = 8", cmd = "lua5.4 " .. q(ROOT .. "/bench/peers/k8slua.lua"),
    env = (function() local e = lua_env("lua5.4"); e.BENCH_APPLY_CONCURRENCY = "8"; return e end)(), apply_only = true },
  { id = "luajit-c8", label = "k8s-lua, LuaJIT, Concurrency = 8", cmd = "luajit " .. q(ROOT .. "/bench/peers/k8slua.lua"),
    env = (function() local e = lua_env("luajit"); e.BENCH_APPLY_CONCURRENCY = "8"; return e end)(), apply_only = true },
  { id = "clientgo", label = "client-go (JSON)", cmd = q(env("BENCH_CLIENTGO", "clientgo")), env = {}, informer = true },
  { id = "clientgo-pb", label = "client-go (protobuf, its default)", cmd = q(env("BENCH_CLIENTGO", "clientgo")), env = { BENCH_PROTOBUF = "1" }, informer = true },
  { id = "python", label = "Python `kubernetes`", cmd = q(env("BENCH_PYTHON", "python3")) .. " " .. q(ROOT .. "/bench/peers/python_peer.py"), env = {} },
  { id = "kubectl", label = "kubectl, process per call", cmd = "/usr/bin/python3 " .. q(ROOT .. "/bench/peers/kubectl_peer.py"), env = {} },
  { id = "curl54", label = "libcurl + lua-cjson, Lua 5.4 (bound)", cmd = q(env("BENCH_CURLPEER_LUA54", "curlpeer-lua5.4")), env = {} },
  { id = "curljit", label = "libcurl + lua-cjson, LuaJIT (bound)", cmd = q(env("BENCH_CURLPEER_LUAJIT", "curlpeer-luajit")), env = {} },
}
local PEER = {}
for _, p in ipairs(PEERS) do PEER[p.id] = p end

-- Workloads. `target` = "api" (the control plane) or "canned" (nginx serving captured bytes).
local WORKLOADS = {
  { id = "get", verb = "get", target = "api", title = ("1. GET one ConfigMap, %d sequential requests"):format(opt.gets) },
  { id = "list", verb = "list", target = "api", title = ("2. LIST %d ConfigMaps (~1 KiB each), one request"):format(opt.objects) },
  { id = "pager", verb = "pager", target = "api", title = ("3. The same %d objects through the pager, pages of %d"):format(opt.objects, opt.page) },
  { id = "watch", verb = "watch", target = "api", title = ("4. WATCH: %d ADDED + %d MODIFIED events"):format(opt.objects, opt.watch_modified) },
  { id = "get-canned", verb = "get", target = "canned", title = ("5a. GET served as canned bytes by nginx, %d requests"):format(opt.gets) },
  { id = "list-canned", verb = "list", target = "canned", title = ("5b. LIST of %d served as canned bytes by nginx"):format(opt.objects) },
  -- not a peer workload: three variants of one nginx (bench/ngx/openresty.lua), loaded by wrk
  { id = "openresty", verb = "ngx", target = "nginx", title = ("6. OpenResty: one GET per request inside nginx (%d workers, %d connections, %d s per variant)")
    :format(opt.ngx_workers, opt.ngx_connections, opt.ngx_duration) },
  -- the peers with `informer = true` only (this library, client-go); data in NS_INF
  { id = "informer", verb = "informer", target = "api", title = ("7. Informers: a shared informer over %d ConfigMaps (~1 KiB each), then %d updates")
    :format(opt.informer_objects, opt.informer_updates) },
  -- this library (k8s.apply.Apply) and kubectl only; a fresh namespace per run
  { id = "apply", verb = "apply", target = "api", title = ("8. Apply a folder of %d manifests (ConfigMaps, Deployments, Services): k8s.apply.Apply vs kubectl apply --server-side -f")
    :format(opt.apply_objects) },
}
-- the peers of the apply section
local APPLY_PEERS = { lua54 = true, luajit = true, ["lua54-c8"] = true, ["luajit-c8"] = true, kubectl = true }

-- A full run's results.json as it was before this run (nil when absent or not a full run).
local function read_full_doc(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a"); f:close()
  local ok, d = pcall(k8s.json.decode, s)
  if not ok or type(d) ~= "table" or d.mode ~= "full" or type(d.summary) ~= "table" then return nil end
  return d
end

-- The plain-Lua GET of the last full run (bench/results.json as it was before this run): the
-- reference of the OpenResty section when this run has no GET workload.
local PREV_GET = (function()
  local d = read_full_doc(ROOT .. "/bench/results.json")
  if not d or type(d.summary.get) ~= "table" then return nil end
  local function m(id) local x = d.summary.get[id]; return x and x.cpu_us and x.cpu_us.median end
  return { luajit = m("luajit"), lua54 = m("lua54"), generated_unix = d.generated_unix }
end)()

-- A full run of some workloads only keeps the other workloads of the previous full run in
-- the same output directory (their runs and figures as they were, marked as carried over).
local MERGE_DOC = not opt.tiny and opt.workloads and read_full_doc(opt.out .. "/results.json") or nil

-- ------------------------------------------------------------ the data ----
local kcfg = { Host = SERVER, BearerToken = env("BENCH_TOKEN"), QPS = -1,
  TLSClientConfig = { CAFile = env("BENCH_CA"), CertFile = env("BENCH_CERT"), KeyFile = env("BENCH_KEY") } }
local cs = assert(k8s.NewForConfig(kcfg))

local CANNED_URL -- set once nginx runs
local NGINX      -- its io.popen handle

local function base_env(target)
  local e = {
    BENCH_NS = NS, BENCH_NAME = GET_NAME, BENCH_N = tostring(opt.gets), BENCH_KUBECTL_N = tostring(opt.kubectl_gets),
    BENCH_PAGE = tostring(opt.page), BENCH_WARMUP = opt.tiny and "3" or "20",
    BENCH_KUBECTL = env("BENCH_KUBECTL", "kubectl"),
    BENCH_KUBECTL_CACHE = WORK .. "/kubectl-cache",
  }
  if target == "canned" then
    e.BENCH_SERVER, e.BENCH_CA, e.BENCH_TOKEN = CANNED_URL, WORK .. "/nginx/cert.pem", "canned"
    e.BENCH_KUBECONFIG = WORK .. "/canned.kubeconfig"
  else
    e.BENCH_SERVER, e.BENCH_CA, e.BENCH_TOKEN = SERVER, env("BENCH_CA"), env("BENCH_TOKEN")
    e.BENCH_CERT, e.BENCH_KEY = env("BENCH_CERT"), env("BENCH_KEY")
    e.BENCH_KUBECONFIG = env("BENCH_KUBECONFIG")
  end
  return e
end

local function envprefix(...)
  local parts, seen = {}, {}
  for _, t in ipairs { ... } do
    for k, v in pairs(t) do seen[k] = v end
  end
  for k, v in pairs(seen) do parts[#parts + 1] = k .. "=" .. q(v) end
  table.sort(parts)
  return "env " .. table.concat(parts, " ")
end

local lua54 = "lua5.4 " .. q(ROOT .. "/bench/peers/k8slua.lua")
local lua54env = lua_env("lua5.4")
-- The helper Lua processes (seed, writer) talk HTTP/1.1: the library's HTTP/2
-- path occasionally stalls a write for 1 s (see bench/README.md).
lua54env.DISABLE_HTTP2 = "1"

-- A namespace of `count` ConfigMaps bench-00000.. (~1 KiB each, made by 4 seeding
-- processes), the first `stamped` of them stamped once by the watch writer, so that
-- every round (and every peer) reads objects of the same size. Returns the
-- ConfigMaps in the namespace (kube-root-ca.crt included) and its client.
local function seed_namespace(ns, count, stamped)
  local nsc = cs:CoreV1():Namespaces()
  local _, err = nsc:Create { metadata = { name = ns, labels = { ["app"] = "k8s-lua-bench" } } }
  if err and not k8s.errors.IsAlreadyExists(err) then error("create namespace " .. ns .. ": " .. tostring(err)) end
  local cms = cs:CoreV1():ConfigMaps(ns)
  -- the namespace also holds kube-root-ca.crt (made by the controller manager): wait for it
  for _ = 1, 100 do
    if cms:Get("kube-root-ca.crt") then break end
    u.sleep(0.1)
  end
  local nsenv = { BENCH_NS = ns }
  local have = assert(cms:List { labelSelector = "app=k8s-lua-bench" })
  if #have.items < count then
    local t0 = u.now()
    local workers = math.min(4, count)
    local per = math.ceil(count / workers)
    local ps = {}
    for w = 0, workers - 1 do
      local from, to = w * per, math.min(count, (w + 1) * per) - 1
      if from <= to then
        ps[#ps + 1] = io.popen(envprefix(lua54env, base_env("api"), nsenv) .. " " .. lua54 .. " seed " .. from .. " " .. to, "r")
      end
    end
    for _, p in ipairs(ps) do
      local out = p:read("a")
      if not p:close() then error("seeding failed: " .. out) end
    end
    log("created %d ConfigMaps in %s in %.1fs", count, ns, u.now() - t0)
  end
  have = nil
  local ready = WORK .. "/ready"
  u.touch(ready)
  local _, ok = sh(envprefix(lua54env, base_env("api"), nsenv, { BENCH_READY_FILE = ready, BENCH_WATCH_MODIFIED = tostring(stamped),
    BENCH_OBJECTS = tostring(count), BENCH_WRITE_GAP = "0" }) .. " " .. lua54 .. " write")
  if not ok then error("stamping the objects failed") end
  local all = assert(cms:List())
  return #all.items, cms
end

local function prepare()
  local total = seed_namespace(NS, opt.objects, opt.watch_modified)
  local one = assert(cs:CoreV1():RESTClient():Get():Namespace(NS):Resource("configmaps"):Name(GET_NAME):DoRaw())
  return total, #one
end

-- ------------------------------------------------------- canned server ----
local function canned_setup()
  local dir = WORK .. "/nginx"
  local www = dir .. "/www"
  local base = www .. "/api/v1/namespaces/" .. NS .. "/configmaps"
  os.execute("mkdir -p " .. q(base) .. " " .. q(dir .. "/tmp") .. " " .. q(www .. "/apis"))
  local auth = env("BENCH_TOKEN") and ("-H " .. q("Authorization: Bearer " .. env("BENCH_TOKEN")))
    or ("--cert " .. q(env("BENCH_CERT")) .. " --key " .. q(env("BENCH_KEY")))
  -- -A: the API server pretty-prints JSON for user agents that start with "curl"
  local curl = "curl -sSf -A k8s-lua-bench --cacert " .. q(env("BENCH_CA")) .. " " .. auth .. " "
  local JSON, PB = JSON_CT, PB_CT
  local DISC = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
  local function capture(path, accept, file)
    local _, ok = sh(curl .. "-H " .. q("Accept: " .. accept) .. " -o " .. q(file) .. " " .. q(SERVER .. path))
    if not ok then error("capturing " .. path .. " failed") end
  end
  capture("/api/v1/namespaces/" .. NS .. "/configmaps/" .. GET_NAME, JSON, base .. "/" .. GET_NAME .. ".json")
  capture("/api/v1/namespaces/" .. NS .. "/configmaps/" .. GET_NAME, PB, base .. "/" .. GET_NAME .. ".pb")
  capture("/api/v1/namespaces/" .. NS .. "/configmaps", JSON, base .. ".json")
  capture("/api/v1/namespaces/" .. NS .. "/configmaps", PB, base .. ".pb")
  -- the peers warm their connection with ?limit=1: serve that small list for any limit
  capture("/api/v1/namespaces/" .. NS .. "/configmaps?limit=1", JSON, base .. ".limit.json")
  capture("/api/v1/namespaces/" .. NS .. "/configmaps?limit=1", PB, base .. ".limit.pb")
  -- kubectl needs discovery once (then it uses its disk cache): the aggregated documents
  capture("/api", DISC, www .. "/api.disc")
  capture("/apis", DISC, www .. "/apis.disc")
  -- the API server gzips responses over 128 KiB (level 1) for clients that accept it: so does nginx
  os.execute("gzip -1 -k -f " .. q(base .. ".json") .. " " .. q(base .. ".pb"))
  sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1"
    .. " -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:TRUE"
    .. " -keyout " .. q(dir .. "/key.pem") .. " -out " .. q(dir .. "/cert.pem") .. " 2>/dev/null")
  local port = tonumber((sh("/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'")))
  writefile(dir .. "/nginx.conf", ([[
@USER@worker_processes 1;
daemon off;
pid @DIR@/nginx.pid;
error_log @DIR@/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path @DIR@/tmp/body;
  proxy_temp_path @DIR@/tmp/proxy;
  fastcgi_temp_path @DIR@/tmp/fastcgi;
  uwsgi_temp_path @DIR@/tmp/uwsgi;
  scgi_temp_path @DIR@/tmp/scgi;
  types { application/json json; application/vnd.kubernetes.protobuf pb; }
  default_type application/json;
  keepalive_requests 10000000;
  keepalive_timeout 600s;
  map $http_accept $ext { ~protobuf .pb; default .json; }
  map $arg_limit $lim { "" ""; default .limit; }
  server {
    listen 127.0.0.1:@PORT@ ssl http2;
    ssl_certificate @DIR@/cert.pem;
    ssl_certificate_key @DIR@/key.pem;
    root @DIR@/www;
    gzip_static on;
    location = /api { default_type "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"; try_files /api.disc =404; }
    location = /apis { default_type "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"; try_files /apis.disc =404; }
    location / { try_files $uri$lim$ext =404; }
  }
}
]]):gsub("@DIR@", dir):gsub("@PORT@", tostring(port))
    -- as root, nginx would run its worker as www-data, which cannot read our 0700 scratch dir
    :gsub("@USER@", sh("id -u") == "0" and "user root;\n" or ""))
  -- in the foreground as our child (daemon off), so that it is reaped when it stops
  NGINX = io.popen("exec nginx -q -c " .. q(dir .. "/nginx.conf") .. " -p " .. q(dir) .. " 2>&1", "r")
  local url = "https://127.0.0.1:" .. port
  writefile(WORK .. "/canned.kubeconfig", ([[
apiVersion: v1
kind: Config
clusters: [{name: canned, cluster: {server: "%s", certificate-authority: "%s"}}]
users: [{name: canned, user: {token: canned}}]
contexts: [{name: canned, context: {cluster: canned, user: canned, namespace: "%s"}}]
current-context: canned
]]):format(url, dir .. "/cert.pem", NS))
  -- wait until it answers
  local up
  for _ = 1, 50 do
    _, up = sh("curl -sf -o /dev/null --cacert " .. q(dir .. "/cert.pem") .. " " .. q(url .. "/api/v1/namespaces/" .. NS .. "/configmaps/" .. GET_NAME))
    if up then break end
    u.sleep(0.1)
  end
  if not up then error("nginx did not start: " .. (readfile(dir .. "/error.log") or "")) end
  local sizes = {
    get_json = #readfile(base .. "/" .. GET_NAME .. ".json"), get_pb = #readfile(base .. "/" .. GET_NAME .. ".pb"),
    list_json = #readfile(base .. ".json"), list_json_gz = #readfile(base .. ".json.gz"),
    list_pb = #readfile(base .. ".pb"), list_pb_gz = #readfile(base .. ".pb.gz"),
  }
  return url, sizes
end

local function canned_stop()
  if not NGINX then return end
  local pid = readfile(WORK .. "/nginx/nginx.pid")
  if pid and pid:match("^%d+") then os.execute("kill " .. pid:match("^%d+") .. " 2>/dev/null") end
  NGINX:close() -- waits for it
  NGINX = nil
end

-- ------------------------------------------------------------ one run ----
local function decode_last_line(out)
  local last
  for line in out:gmatch("[^\n]+") do last = line end
  if not last then return nil, "no output" end
  local ok, t = pcall(k8s.json.decode, last)
  if not ok or type(t) ~= "table" then return nil, "bad output: " .. last:sub(1, 200) end
  return t
end

-- The apply section's folder: apply_objects files, one manifest each, in
-- turn a ConfigMap (~1 KiB), a Deployment (1 replica) and a headless Service
-- (no cluster IP to allocate), without namespace. Written once; every run
-- applies it into a fresh namespace.
local APPLY_DIR = WORK .. "/apply-manifests"
local function write_apply_dir(n)
  os.execute("mkdir -p " .. q(APPLY_DIR))
  local line = string.rep("x", 60)
  for i = 0, n - 1 do
    local name, doc = ("app-%04d"):format(i)
    if i % 3 == 0 then
      local data = {}
      for k = 1, 8 do data[#data + 1] = ("  key%d: %s-%d-%d"):format(k, line, i, k) end
      doc = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  labels: {app: %s, bench: k8s-lua}\ndata:\n%s\n")
        :format(name, name, table.concat(data, "\n"))
    elseif i % 3 == 1 then
      doc = ([[
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  labels: {app: %s, bench: k8s-lua}
spec:
  replicas: 1
  selector:
    matchLabels: {app: %s}
  template:
    metadata:
      labels: {app: %s}
    spec:
      containers:
        - name: main
          image: registry.k8s.io/pause:3.10
          ports: [{containerPort: 8080, name: http}]
          resources:
            requests: {cpu: 10m, memory: 16Mi}
]]):format(name, name, name, name)
    else
      doc = ([[
apiVersion: v1
kind: Service
metadata:
  name: %s
  labels: {app: %s, bench: k8s-lua}
spec:
  clusterIP: None
  selector: {app: %s}
  ports: [{name: http, port: 80, targetPort: 8080}]
]]):format(name, name, name)
    end
    writefile(("%s/%s.yaml"):format(APPLY_DIR, name), doc)
  end
end

-- a fresh namespace for one apply run, and its deletion (waited for, so that
-- the garbage collection of one run does not load the next)
local apply_runs = 0
local function apply_namespace()
  apply_runs = apply_runs + 1
  local ns = ("%s-ap%d"):format(NS, apply_runs)
  local _, err = cs:CoreV1():Namespaces():Create { metadata = { name = ns, labels = { app = "k8s-lua-bench" } } }
  if err then return nil, "create namespace " .. ns .. ": " .. tostring(err) end
  return ns
end
local function apply_namespace_delete(ns)
  cs:CoreV1():Namespaces():Delete(ns)
  local _, err = k8s.wait.For(cs, "namespaces", nil, ns, { For = "delete", Timeout = 300 })
  if err then log("namespace %s not deleted: %s", ns, tostring(err)) end
end

local RUN_TIMEOUT = opt.tiny and 90 or 900
local errlog = WORK .. "/peers.log"

local function peer_cmd(p, wl, extra)
  return envprefix(p.env, base_env(wl.target), extra or {}) .. " timeout " .. RUN_TIMEOUT .. " " .. p.cmd .. " " .. wl.verb
    .. " 2>>" .. q(errlog)
end

local function run_one(p, wl, expect)
  local res, err
  if wl.verb == "apply" then
    local ns, nerr = apply_namespace()
    if not ns then return nil, nerr end
    local out = sh(peer_cmd(p, wl, { BENCH_NS = ns, BENCH_APPLY_DIR = APPLY_DIR, BENCH_APPLY_N = tostring(opt.apply_objects) }))
    apply_namespace_delete(ns)
    res, err = decode_last_line(out)
  elseif wl.verb ~= "watch" and wl.verb ~= "informer" then
    local out = sh(peer_cmd(p, wl))
    res, err = decode_last_line(out)
  else
    -- the watcher (or informer) and the writer process, which starts once the
    -- watcher has touched the ready file (all ADDED seen; the informer synced)
    local ready = WORK .. "/ready"
    os.remove(ready)
    local extra
    if wl.verb == "watch" then
      extra = {
        BENCH_WATCH_ADDED = tostring(expect.total), BENCH_WATCH_MODIFIED = tostring(opt.watch_modified),
        BENCH_READY_FILE = ready, BENCH_OBJECTS = tostring(opt.objects), BENCH_READY_TIMEOUT = tostring(RUN_TIMEOUT),
      }
    else
      extra = {
        BENCH_NS = NS_INF, BENCH_INF_UPDATES = tostring(opt.informer_updates), BENCH_WATCH_MODIFIED = tostring(opt.informer_updates),
        BENCH_READY_FILE = ready, BENCH_OBJECTS = tostring(opt.informer_objects), BENCH_READY_TIMEOUT = tostring(RUN_TIMEOUT - 10),
        BENCH_INF_WATCHLIST = opt.informer_watchlist and "1" or "0",
        KUBE_FEATURE_WatchListClient = opt.informer_watchlist and "true" or "false", -- client-go's feature gate
      }
    end
    local watcher = io.popen(peer_cmd(p, wl, extra), "r")
    local writer = io.popen(envprefix(lua54env, base_env("api"), extra) .. " " .. lua54 .. " write 2>>" .. q(errlog), "r")
    local out = watcher:read("a"); watcher:close()
    u.touch(ready) -- a watcher that failed early must not leave the writer waiting
    local wout = writer:read("a"); writer:close()
    res, err = decode_last_line(out)
    local wres = decode_last_line(wout)
    if res and not (wres and wres.ok) then res, err = nil, "the writer failed" end
  end
  if not res then return nil, err end
  if not res.ok then return nil, res.error or "peer failed" end
  -- sanity
  local function num(x) return type(x) == "number" and x == x and x >= 0 and x < 1e12 end
  if not (num(res.wall) and res.wall > 0 and num(res.user) and num(res.sys)) then return nil, "bad timing figures" end
  if wl.verb == "get" and res.n ~= (p.id == "kubectl" and opt.kubectl_gets or opt.gets) then return nil, "wrong request count" end
  if wl.verb == "apply" and res.n ~= opt.apply_objects then
    return nil, ("applied %s of %d objects"):format(tostring(res.n), opt.apply_objects)
  end
  if (wl.verb == "list" or wl.verb == "pager") and res.items ~= expect.total then
    return nil, ("got %s items, expected %d"):format(tostring(res.items), expect.total)
  end
  if wl.verb == "watch" then
    if not (res.events and res.events >= expect.total + opt.watch_modified) then return nil, "too few events" end
    if type(res.delays) ~= "table" or #res.delays ~= opt.watch_modified then return nil, "missing delays" end
    for _, d in ipairs(res.delays) do if not (num(d) and d < 60) then return nil, "bad delay " .. tostring(d) end end
  end
  if wl.verb == "informer" then
    if res.items ~= expect.inf_total then return nil, ("%s objects in the cache, expected %d"):format(tostring(res.items), expect.inf_total) end
    if res.adds ~= res.items then return nil, ("%s OnAdd calls for %d objects"):format(tostring(res.adds), res.items) end
    if not (num(res.sync_wall) and res.sync_wall > 0 and num(res.sync_user) and num(res.sync_sys)) then return nil, "bad sync figures" end
    if not (num(res.heap_kb) and res.heap_kb > 0 and num(res.maxrss_kb) and num(res.rss0_kb)) then return nil, "bad memory figures" end
    if res.events ~= opt.informer_updates then return nil, ("%s updates, expected %d"):format(tostring(res.events), opt.informer_updates) end
    if type(res.delays) ~= "table" or #res.delays ~= opt.informer_updates then return nil, "missing delays" end
    for _, d in ipairs(res.delays) do if not (num(d) and d < 60) then return nil, "bad delay " .. tostring(d) end end
  end
  return res
end

-- figures derived from one run: name -> value
local function pct(t, p)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  if #s == 0 then return nil end
  return s[math.max(1, math.ceil(#s * p))]
end
local function figures(wl, res)
  local f = {}
  local cpu = res.user + res.sys
  if wl.verb == "get" then
    f.wall_ms = res.wall / res.n * 1e3
    f.cpu_us = cpu / res.n * 1e6
  elseif wl.verb == "list" or wl.verb == "pager" then
    f.wall_ms = res.wall * 1e3
    f.cpu_ms = cpu * 1e3
    if res.maxrss_kb then f.rss_mib = res.maxrss_kb / 1024 end
    if res.rss0_kb and res.maxrss_kb then f.rss_delta_mib = (res.maxrss_kb - res.rss0_kb) / 1024 end
  elseif wl.verb == "watch" then
    f.cpu_us_event = cpu / res.events * 1e6
    f.delay_p50_ms = pct(res.delays, 0.5) * 1e3
    f.delay_p99_ms = pct(res.delays, 0.99) * 1e3
    if res.added_wall then f.added_ms = res.added_wall * 1e3 end
  elseif wl.verb == "apply" then
    f.wall_ms = res.wall * 1e3
    f.cpu_ms = cpu * 1e3
    f.per_object_ms = res.wall / res.n * 1e3
    if res.maxrss_kb then f.rss_mib = res.maxrss_kb / 1024 end
  elseif wl.verb == "informer" then
    f.sync_ms = res.sync_wall * 1e3
    f.sync_cpu_ms = (res.sync_user + res.sync_sys) * 1e3
    f.rss_mib = res.maxrss_kb / 1024
    f.rss_delta_mib = (res.maxrss_kb - res.rss0_kb) / 1024
    f.heap_mib = res.heap_kb / 1024
    f.cpu_us_event = cpu / res.events * 1e6
    f.delay_p50_ms = pct(res.delays, 0.5) * 1e3
    f.delay_p99_ms = pct(res.delays, 0.99) * 1e3
  end
  return f
end

local METRICS = {
  get = { { "cpu_us", "CPU/req (µs)" }, { "wall_ms", "wall/req (ms)" } },
  list = { { "wall_ms", "time to objects (ms)" }, { "cpu_ms", "CPU (ms)" }, { "rss_mib", "peak RSS (MiB)" }, { "rss_delta_mib", "RSS growth (MiB)" } },
  pager = { { "wall_ms", "time to objects (ms)" }, { "cpu_ms", "CPU (ms)" }, { "rss_mib", "peak RSS (MiB)" }, { "rss_delta_mib", "RSS growth (MiB)" } },
  watch = { { "cpu_us_event", "CPU/event (µs)" }, { "delay_p50_ms", "delay p50 (ms)" }, { "delay_p99_ms", "delay p99 (ms)" }, { "added_ms", "all ADDED (ms)" } },
  -- two tables (informer_section): the sync, then the updates
  informer = { { "sync_ms", "Start → HasSynced (ms)", "sync" }, { "sync_cpu_ms", "CPU (ms)", "sync" }, { "rss_mib", "peak RSS (MiB)", "sync" },
    { "rss_delta_mib", "RSS growth (MiB)", "sync" }, { "heap_mib", "heap after sync (MiB)", "sync" },
    { "cpu_us_event", "CPU/update (µs)", "update" }, { "delay_p50_ms", "delay p50 (ms)", "update" }, { "delay_p99_ms", "delay p99 (ms)", "update" } },
  ngx = OR.METRICS,
  apply = { { "wall_ms", "wall (ms)" }, { "per_object_ms", "wall per object (ms)" }, { "cpu_ms", "CPU (ms)" }, { "rss_mib", "peak RSS (MiB)" } },
}

-- ---------------------------------------------------------------- main ----
local function machine_info(canned_sizes, total, get_bytes)
  local function first(cmd) local s = sh(cmd .. " 2>&1"); return (s:match("[^\n]*")) end
  local ver = cs:Discovery():ServerVersion()
  return {
    cpu = first("sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1"),
    cores = tonumber(first("nproc")),
    memory = first("sed -n 's/^MemTotal:[[:space:]]*//p' /proc/meminfo"),
    kernel = first("uname -sr"),
    os = first(". /etc/os-release && echo \"$PRETTY_NAME\""),
    loadavg_start = first("cut -d' ' -f1-3 /proc/loadavg"),
    versions = {
      kubernetes = ver and ver.gitVersion or env("K8S_LUA_K8S_VERSION"),
      ["client-go"] = env("BENCH_CLIENTGO_VERSION"),
      k8s_lua = k8s._VERSION,
      lua = (first("lua5.4 -v"):match("^(Lua %S+)")),
      luajit = (first("luajit -v"):match("^(LuaJIT %S+)")),
      go = first("go version"),
      python = first(q(env("BENCH_PYTHON", "python3")) .. " --version"),
      python_kubernetes = first(q(env("BENCH_PYTHON", "python3")) .. " -c 'import kubernetes; print(kubernetes.__version__)'"),
      kubectl = first(q(env("BENCH_KUBECTL", "kubectl")) .. " version --client -o yaml | sed -n 's/.*gitVersion: //p'"),
      libcurl = first("curl --version"),
      lua_cjson = first("dpkg-query -W -f='${Version}' lua-cjson"),
      nginx = first("nginx -v"),
      nginx_lua = first("dpkg-query -W -f='${Version}' libnginx-mod-http-lua"),
      wrk = first(q(env("BENCH_WRK", "wrk")) .. " -v"):match("^(wrk %S+)"),
    },
    data = { namespace_objects = total, get_object_bytes = get_bytes, canned = canned_sizes },
  }
end

local t_start = u.now()
log("preparing %d ConfigMaps in namespace %s", opt.objects, NS)
local total, get_bytes = prepare()
log("namespace holds %d ConfigMaps; the GET object is %d bytes", total, get_bytes)

local selected_wl = {}
for _, wl in ipairs(WORKLOADS) do
  if not opt.workloads or opt.workloads[wl.id] then selected_wl[#selected_wl + 1] = wl end
end
local selected_peers = {}
for _, p in ipairs(PEERS) do
  if not opt.peers or opt.peers[p.id] then selected_peers[#selected_peers + 1] = p end
end

for _, wl in ipairs(selected_wl) do
  if wl.verb == "apply" then
    write_apply_dir(opt.apply_objects)
    log("wrote %d manifests to %s (the apply section)", opt.apply_objects, APPLY_DIR)
  end
end

local inf_total -- ConfigMaps in NS_INF, when the informer section runs
for _, wl in ipairs(selected_wl) do
  if wl.verb == "informer" and not inf_total then
    log("preparing %d ConfigMaps in namespace %s (informers)", opt.informer_objects, NS_INF)
    inf_total = seed_namespace(NS_INF, opt.informer_objects, opt.informer_updates)
    log("namespace %s holds %d ConfigMaps", NS_INF, inf_total)
  end
end

local canned_url, canned_sizes
for _, wl in ipairs(selected_wl) do
  if wl.target == "canned" and not canned_url then
    local ok, a, b = pcall(canned_setup)
    if not ok then log("canned server: %s", tostring(a)); canned_url = false
    else canned_url, canned_sizes = a, b; log("nginx serves the captured bytes at %s", canned_url) end
  end
end
CANNED_URL = canned_url or nil

local ngx_bench -- false when it could not start
for _, wl in ipairs(selected_wl) do
  if wl.verb == "ngx" then
    wl.members = OR.VARIANTS
  elseif wl.verb == "informer" then
    wl.members = {}
    for _, p in ipairs(selected_peers) do if p.informer then wl.members[#wl.members + 1] = p end end
  elseif wl.verb == "apply" then
    wl.members = {}
    for _, p in ipairs(selected_peers) do if APPLY_PEERS[p.id] then wl.members[#wl.members + 1] = p end end
  else
    wl.members = {}
    for _, p in ipairs(selected_peers) do if not p.apply_only then wl.members[#wl.members + 1] = p end end
  end
  if wl.verb == "ngx" and ngx_bench == nil then
    local ngx_env = { BENCH_SERVER = SERVER, BENCH_CA = env("BENCH_CA"), BENCH_TOKEN = env("BENCH_TOKEN"),
      BENCH_CERT = env("BENCH_CERT"), BENCH_KEY = env("BENCH_KEY"), BENCH_NS = NS, BENCH_NAME = GET_NAME }
    local ok, h = pcall(OR.start, { root = ROOT, workers = opt.ngx_workers, connections = opt.ngx_connections,
      threads = opt.ngx_threads, duration = opt.ngx_duration, warmup = opt.ngx_warmup, wrk = env("BENCH_WRK", "wrk"),
      env = ngx_env })
    if ok then ngx_bench = h; log("nginx (%d workers) for the OpenResty section at %s", opt.ngx_workers, h.srv:url("/"))
    else ngx_bench = false; log("OpenResty section: nginx failed: %s", tostring(h)) end
  end
end

local info = machine_info(canned_sizes, total, get_bytes)
local results = {} -- results[wl][peer] = { runs = {...}, errors = {...} }
for _, wl in ipairs(selected_wl) do
  results[wl.id] = {}
  for _, p in ipairs(wl.members) do results[wl.id][p.id] = { runs = {}, errors = {} } end
end

for r = 1, opt.rounds do
  log("round %d/%d", r, opt.rounds)
  for _, wl in ipairs(selected_wl) do
    for _, p in ipairs(wl.members) do
      local slot = results[wl.id][p.id]
      if wl.target == "canned" and not canned_url then
        slot.errors[#slot.errors + 1] = "no canned server"
      elseif wl.verb == "ngx" then
        local t0 = u.now()
        local res, err
        if ngx_bench then res, err = OR.measure(ngx_bench, p) else err = "nginx did not start" end
        if res then
          res.round = r
          res.figures = OR.figures(res)
          slot.runs[#slot.runs + 1] = res
          log("  %-12s %-12s %.1fs: %.0f req/s, p99 %.1f ms, %.0f µs CPU/req%s", wl.id, p.id, u.now() - t0,
            res.figures.rps, res.figures.p99_ms, res.figures.cpu_us,
            res.conn and p.id == "cosocket" and (", %d TLS handshakes"):format(res.conn.handshakes) or "")
        else
          slot.errors[#slot.errors + 1] = ("round %d: %s"):format(r, err)
          log("  %-12s %-12s FAILED: %s", wl.id, p.id, err)
        end
      else
        local t0 = u.now()
        local res, err = run_one(p, wl, { total = total, inf_total = inf_total })
        if res then
          res.round = r
          res.figures = figures(wl, res)
          slot.runs[#slot.runs + 1] = res
          if wl.verb == "informer" then
            log("  %-12s %-12s %.1fs: synced in %.0f ms (%s), heap %.1f MiB, %.1f µs CPU/update", wl.id, p.id, u.now() - t0,
              res.figures.sync_ms, tostring(res.mode), res.figures.heap_mib, res.figures.cpu_us_event)
          else
            log("  %-12s %-12s %.1fs", wl.id, p.id, u.now() - t0)
          end
        else
          slot.errors[#slot.errors + 1] = ("round %d: %s"):format(r, err)
          log("  %-12s %-12s FAILED: %s", wl.id, p.id, err)
        end
      end
    end
  end
end
canned_stop()
if ngx_bench then OR.stop(ngx_bench) end
info.loadavg_end = sh("cut -d' ' -f1-3 /proc/loadavg")
info.duration_s = u.now() - t_start

-- every workload to report: those of this run and, for a partial full run, the others of the
-- previous full run (carried over), in the order of WORKLOADS
local all_wl = {}
do
  local prev = {}
  if MERGE_DOC and type(MERGE_DOC.workloads) == "table" and type(MERGE_DOC.runs) == "table" then
    for _, w in ipairs(MERGE_DOC.workloads) do
      if type(w) == "table" and w.id and type(MERGE_DOC.runs[w.id]) == "table" then prev[w.id] = w end
    end
  end
  for _, def in ipairs(WORKLOADS) do
    if results[def.id] then
      for _, wl in ipairs(selected_wl) do if wl.id == def.id then all_wl[#all_wl + 1] = wl end end
    elseif prev[def.id] then
      local w, old = prev[def.id], MERGE_DOC.runs[def.id]
      local wl = { id = def.id, verb = def.verb, target = def.target, title = w.title or def.title, members = {},
        carried = { generated_unix = w.generated_unix or MERGE_DOC.generated_unix,
          rounds = w.rounds or (MERGE_DOC.options and MERGE_DOC.options.rounds) } }
      results[def.id] = {}
      for _, m in ipairs(def.verb == "ngx" and OR.VARIANTS or PEERS) do
        local slot = old[m.id]
        if type(slot) == "table" and type(slot.runs) == "table" then
          if (def.verb ~= "informer" or m.informer) and (def.verb ~= "apply" or APPLY_PEERS[m.id]) then
            wl.members[#wl.members + 1] = m
            results[def.id][m.id] = { runs = slot.runs, errors = type(slot.errors) == "table" and slot.errors or {} }
          end
        end
      end
      all_wl[#all_wl + 1] = wl
    end
  end
  if info.data.canned == nil and MERGE_DOC and type(MERGE_DOC.machine) == "table" and type(MERGE_DOC.machine.data) == "table" then
    info.data.canned = MERGE_DOC.machine.data.canned
  end
end
local function carried_note(wl)
  if not wl.carried then return nil end
  return ("_Carried over from the full run of %s (%s rounds): not repeated by this run._"):format(
    os.date("!%Y-%m-%d %H:%M UTC", wl.carried.generated_unix or 0), tostring(wl.carried.rounds or "?"))
end

-- ------------------------------------------------------------- summary ----
local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

local summary = {} -- summary[wl][peer][metric] = { median, min, max }
for _, wl in ipairs(all_wl) do
  summary[wl.id] = {}
  for _, p in ipairs(wl.members) do
    local slot = results[wl.id][p.id]
    local s = {}
    for _, m in ipairs(METRICS[wl.verb]) do
      local vals = {}
      for _, run in ipairs(slot.runs) do
        if run.figures[m[1]] then vals[#vals + 1] = run.figures[m[1]] end
      end
      if #vals > 0 then
        local mn, mx = math.huge, -math.huge
        for _, v in ipairs(vals) do mn = math.min(mn, v); mx = math.max(mx, v) end
        s[m[1]] = { median = median(vals), min = mn, max = mx, n = #vals }
      end
    end
    summary[wl.id][p.id] = s
  end
end

local function fmt(v)
  if v == nil then return "–" end
  local a = math.abs(v)
  if a >= 1000 then return string.format("%.0f", v)
  elseif a >= 100 then return string.format("%.0f", v)
  elseif a >= 10 then return string.format("%.1f", v)
  elseif a >= 1 then return string.format("%.2f", v)
  else return string.format("%.3f", v) end
end
local function ratio(a, b)
  if not a or not b or b == 0 then return nil end
  return a / b
end
local function fr(x) if not x then return "–" end; return (x >= 10 and string.format("%.0f×", x)) or string.format("%.2f×", x) end

-- the headline metric of each workload, used for the ratio columns
local HEADLINE = { get = "cpu_us", list = "wall_ms", pager = "wall_ms", watch = "cpu_us_event" }

local md = {}
local function out(s) md[#md + 1] = s end
local mode = opt.tiny and "tiny run (harness check only, not representative)" or "full run"
out(("Benchmark: %s. %d round%s, peers interleaved within each round; median [min–max] over rounds."):format(
  mode, opt.rounds, opt.rounds == 1 and "" or "s"))
do
  local ran, kept = {}, {}
  for _, wl in ipairs(all_wl) do
    local n = wl.title:match("^(%d+%a?)%.") or wl.id
    if wl.carried then kept[#kept + 1] = n else ran[#ran + 1] = n end
  end
  if #kept > 0 then
    out(("This run measured section%s %s; section%s %s are carried over from the previous full run (marked below; machine and load figures are this run's)."):format(
      #ran == 1 and "" or "s", table.concat(ran, ", "), #kept == 1 and "" or "s", table.concat(kept, ", ")))
  end
end
out("")
out(("Machine: %s, %d cores, %s RAM, %s, %s; load average %s at the start, %s at the end (the machine is shared: other builds and tests ran concurrently)."):format(
  info.cpu or "?", info.cores or 0, info.memory or "?", info.kernel or "?", info.os or "?", info.loadavg_start or "?", info.loadavg_end or "?"))
out(("Versions: Kubernetes %s, client-go %s, %s, %s, %s (`kubernetes` %s), kubectl %s, lua-cjson %s, %s."):format(
  info.versions.kubernetes or "?", info.versions["client-go"] or "?", info.versions.lua or "?", info.versions.luajit or "?",
  info.versions.python or "?", info.versions.python_kubernetes or "?", info.versions.kubectl or "?", info.versions.lua_cjson or "?",
  (info.versions.libcurl or "?"):match("^(curl %S+)") or "?"))
out(("Data: %d ConfigMaps in the namespace (%d bench objects + kube-root-ca.crt); the GET object is %d bytes of JSON.%s"):format(
  total, opt.objects, get_bytes, inf_total and (" Informers: %d ConfigMaps in a namespace of their own."):format(inf_total) or ""))
out("")
-- the plain-Lua GET that the OpenResty section is compared with: this run's section 1, else the last full run's
local function plain_get()
  local function m(id) local s = summary.get and summary.get[id] and summary.get[id].cpu_us; return s and s.median end
  if m("luajit") or m("lua54") then
    local source = "this run"
    for _, wl in ipairs(all_wl) do
      if wl.id == "get" and wl.carried then
        source = "the full run of " .. os.date("!%Y-%m-%d %H:%M UTC", wl.carried.generated_unix or 0)
      end
    end
    return { luajit = m("luajit"), lua54 = m("lua54"), source = source }
  end
  if PREV_GET and (PREV_GET.luajit or PREV_GET.lua54) then
    return { luajit = PREV_GET.luajit, lua54 = PREV_GET.lua54, source = "the last full run, bench/results.json of "
      .. os.date("!%Y-%m-%d %H:%M UTC", PREV_GET.generated_unix or 0) }
  end
end
local ngx_summary -- figures derived from the OpenResty section, for the JSON document

local function ngx_section(wl)
  local S = summary[wl.id]
  local ref = plain_get()
  local function md_(id, m) local x = S[id] and S[id][m]; return x and x.median end
  out("### " .. wl.title)
  out("")
  if wl.carried then out(carried_note(wl)); out("") end
  local cols = { "variant" }
  for _, m in ipairs(METRICS.ngx) do cols[#cols + 1] = m[2] end
  cols[#cols + 1] = "requests/s, % of static"
  cols[#cols + 1] = "CPU/req ÷ plain-Lua GET (LuaJIT)"
  cols[#cols + 1] = "CPU/req ÷ plain-Lua GET (Lua 5.4)"
  out("| " .. table.concat(cols, " | ") .. " |")
  local al = { "---" }
  for _ = 2, #cols do al[#al + 1] = "---:" end
  out("|" .. table.concat(al, "|") .. "|")
  for _, v in ipairs(wl.members) do
    local s = S[v.id]
    local row = { v.label }
    if next(s) == nil then
      for _ = 2, #cols do row[#row + 1] = "–" end
      row[2] = "failed: " .. (results[wl.id][v.id].errors[1] or "?"):gsub("[|\n]", " "):sub(1, 160)
    else
      for _, m in ipairs(METRICS.ngx) do
        local x = s[m[1]]
        row[#row + 1] = x and (x.n > 1 and ("%s [%s–%s]"):format(fmt(x.median), fmt(x.min), fmt(x.max)) or fmt(x.median)) or "–"
      end
      local pc = ratio(md_(v.id, "rps"), md_("static", "rps"))
      row[#row + 1] = pc and (pc >= 0.1 and ("%.0f %%"):format(pc * 100) or ("%.2f %%"):format(pc * 100)) or "–"
      row[#row + 1] = fr(ratio(md_(v.id, "cpu_us"), ref and ref.luajit))
      row[#row + 1] = fr(ratio(md_(v.id, "cpu_us"), ref and ref.lua54))
    end
    out("| " .. table.concat(row, " | ") .. " |")
  end
  out("")
  local st, co, bl = md_("static", "cpu_us"), md_("cosocket", "cpu_us"), md_("blocking", "cpu_us")
  ngx_summary = { plain_get = ref }
  local lines = {}
  if ref then
    lines[#lines + 1] = ("Reference: the plain-Lua GET of section 1 (one process, sequential Gets, libcurl over HTTP/2; %s) costs %s µs CPU on LuaJIT, %s µs on Lua 5.4."):format(
      ref.source, fmt(ref.luajit), fmt(ref.lua54))
  else
    lines[#lines + 1] = "No plain-Lua GET figure to compare with (run the `get` workload, or keep a full run in bench/results.json)."
  end
  local nets = {}
  for _, x in ipairs { { co, "cosocket", "with cosockets" }, { bl, "blocking", "with blocking libcurl" } } do
    if x[1] and st then
      local n = x[1] - st
      ngx_summary[x[2]] = { cpu_us_net = n, ratio_luajit = ratio(n, ref and ref.luajit), ratio_lua54 = ratio(n, ref and ref.lua54) }
      nets[#nets + 1] = ("%s µs %s%s"):format(fmt(n), x[3], ref and ref.luajit and (" (" .. fr(ratio(n, ref.luajit)) .. " the plain LuaJIT GET)") or "")
    end
  end
  if #nets > 0 then
    lines[#lines + 1] = ("Net of the static answer's %s µs (nginx's own handling of wrk's request), a Get costs %s of worker CPU."):format(
      fmt(st), table.concat(nets, " and "))
  end
  local rc, rb = md_("cosocket", "rps"), md_("blocking", "rps")
  if rc and rb then
    ngx_summary.rps_cosocket_over_blocking = ratio(rc, rb)
    lines[#lines + 1] = ("Cosockets serve %s the requests/s of the blocking driver, p99 %s ms against %s ms."):format(
      fr(ratio(rc, rb)), fmt(md_("cosocket", "p99_ms")), fmt(md_("blocking", "p99_ms")))
  end
  local cc = { requests = 0, connects = 0, reused = 0, handshakes = 0, resumed = 0 }
  for _, run in ipairs(results[wl.id].cosocket and results[wl.id].cosocket.runs or {}) do
    if run.conn then
      cc.requests = cc.requests + run.requests
      for k, n in pairs(run.conn) do cc[k] = cc[k] + n end
    end
  end
  if cc.connects > 0 then
    ngx_summary.cosocket_connections = cc
    lines[#lines + 1] = ("Keep-alive (k8s.ngx.stats() over the timed cosocket runs): %d of %d API requests on a pooled connection, %d TLS handshakes (%d resumed) for %d requests served."):format(
      cc.reused, cc.connects, cc.handshakes, cc.resumed, cc.requests)
  end
  out(table.concat(lines, " "))
  out("")
end

local function cell(v)
  return v and (v.n > 1 and ("%s [%s–%s]"):format(fmt(v.median), fmt(v.min), fmt(v.max)) or fmt(v.median)) or "–"
end

-- Section 7: two tables (the sync, then the updates), ratios to client-go (JSON).
local function informer_section(wl)
  local S = summary[wl.id]
  out("### " .. wl.title)
  out("")
  if wl.carried then out(carried_note(wl)); out("") end
  local cg = S.clientgo or {}
  local parts = {
    { "sync", "Sync: Start → HasSynced", { "sync_ms", "sync_cpu_ms", "rss_mib", "heap_mib" } },
    { "update", "Updates: OnUpdate events while a writer process changes " .. (wl.title:match("then (%d+) updates") or "?") .. " objects", { "cpu_us_event" } },
  }
  for _, part in ipairs(parts) do
    local metrics, label = {}, {}
    for _, m in ipairs(METRICS.informer) do
      if m[3] == part[1] then metrics[#metrics + 1] = m end
      label[m[1]] = m[2]
    end
    out("**" .. part[2] .. "**")
    out("")
    local cols = { "peer" }
    for _, m in ipairs(metrics) do cols[#cols + 1] = m[2] end
    for _, r in ipairs(part[3]) do cols[#cols + 1] = label[r] .. " ÷ client-go" end
    out("| " .. table.concat(cols, " | ") .. " |")
    local al = { "---" }
    for _ = 2, #cols do al[#al + 1] = "---:" end
    out("|" .. table.concat(al, "|") .. "|")
    for _, p in ipairs(wl.members) do
      local s = S[p.id]
      local row = { p.label }
      if next(s) == nil then
        for _ = 2, #cols do row[#row + 1] = "–" end
        row[2] = "failed: " .. (results[wl.id][p.id].errors[1] or "?"):gsub("[|\n]", " "):sub(1, 160)
      else
        for _, m in ipairs(metrics) do row[#row + 1] = cell(s[m[1]]) end
        for _, r in ipairs(part[3]) do
          row[#row + 1] = fr(ratio(s[r] and s[r].median, cg[r] and cg[r].median))
        end
      end
      out("| " .. table.concat(row, " | ") .. " |")
    end
    out("")
  end
  -- the sync path each peer took (WatchList, or LIST then WATCH)
  local paths = {}
  for _, p in ipairs(wl.members) do
    local seen, list = {}, {}
    for _, run in ipairs(results[wl.id][p.id].runs) do
      if run.mode and not seen[run.mode] then seen[run.mode] = true; list[#list + 1] = run.mode end
    end
    if #list > 0 then paths[#paths + 1] = p.label .. ": " .. table.concat(list, " / ") end
  end
  if #paths > 0 then out("Sync path: " .. table.concat(paths, "; ") .. "."); out("") end
end

-- Section 8: wall time to apply the folder, and kubectl's wall time divided by each row's.
local function apply_section(wl)
  local S = summary[wl.id]
  out("### " .. wl.title)
  out("")
  if wl.carried then out(carried_note(wl)); out("") end
  local cols = { "peer" }
  for _, m in ipairs(METRICS.apply) do cols[#cols + 1] = m[2] end
  cols[#cols + 1] = "kubectl wall ÷ this"
  out("| " .. table.concat(cols, " | ") .. " |")
  local al = { "---" }
  for _ = 2, #cols do al[#al + 1] = "---:" end
  out("|" .. table.concat(al, "|") .. "|")
  local kc = S.kubectl and S.kubectl.wall_ms and S.kubectl.wall_ms.median
  for _, p in ipairs(wl.members) do
    local s = S[p.id]
    local row = { p.id == "kubectl" and "kubectl apply --server-side -f (one process)" or p.label .. " (k8s.apply.Apply)" }
    if next(s) == nil then
      for _ = 2, #cols do row[#row + 1] = "–" end
      row[2] = "failed: " .. (results[wl.id][p.id].errors[1] or "?"):gsub("[|\n]", " "):sub(1, 160)
    else
      for _, m in ipairs(METRICS.apply) do row[#row + 1] = cell(s[m[1]]) end
      row[#row + 1] = p.id == "kubectl" and "1×" or fr(ratio(kc, s.wall_ms and s.wall_ms.median))
    end
    out("| " .. table.concat(row, " | ") .. " |")
  end
  out("")
end

for _, wl in ipairs(all_wl) do
 if wl.verb == "ngx" then ngx_section(wl)
 elseif wl.verb == "informer" then informer_section(wl)
 elseif wl.verb == "apply" then apply_section(wl) else
  local metrics = METRICS[wl.verb]
  local head = HEADLINE[wl.verb]
  local headlabel
  for _, m in ipairs(metrics) do if m[1] == head then headlabel = m[2] end end
  out("### " .. wl.title)
  out("")
  if wl.carried then out(carried_note(wl)); out("") end
  local cols = { "peer" }
  for _, m in ipairs(metrics) do cols[#cols + 1] = m[2] end
  cols[#cols + 1] = headlabel .. " ÷ client-go"
  cols[#cols + 1] = headlabel .. " ÷ curl+cjson"
  out("| " .. table.concat(cols, " | ") .. " |")
  local al = { "---" }
  for _ = 2, #cols do al[#al + 1] = "---:" end
  out("|" .. table.concat(al, "|") .. "|")
  local cg = summary[wl.id].clientgo and summary[wl.id].clientgo[head]
  for _, p in ipairs(wl.members) do
    local s = summary[wl.id][p.id]
    local row = { p.label }
    if p.id == "kubectl" and wl.verb == "get" then row[1] = row[1] .. (" (%d calls)"):format(opt.kubectl_gets) end
    local errs = results[wl.id][p.id].errors
    if next(s) == nil then
      for _ = 1, #metrics + 2 do row[#row + 1] = "–" end
      row[2] = "failed: " .. (errs[1] or "?"):gsub("[|\n]", " "):sub(1, 160)
    else
      for _, m in ipairs(metrics) do
        local v = s[m[1]]
        row[#row + 1] = v and (v.n > 1 and ("%s [%s–%s]"):format(fmt(v.median), fmt(v.min), fmt(v.max)) or fmt(v.median)) or "–"
      end
      local h = s[head] and s[head].median
      local bound = summary[wl.id][p.bound or "curl54"]
      row[#row + 1] = fr(ratio(h, cg and cg.median))
      row[#row + 1] = fr(ratio(h, bound and bound[head] and bound[head].median))
    end
    out("| " .. table.concat(row, " | ") .. " |")
  end
  out("")
 end
end

-- targets
local function med(wl, peer, m)
  local s = summary[wl] and summary[wl][peer] and summary[wl][peer][m]
  return s and s.median
end
local targets = {}
local function target(name, value, goal, ok)
  targets[#targets + 1] = { name = name, value = value, goal = goal, met = ok }
end
for _, lib in ipairs { "lua54", "luajit" } do
  local L = PEER[lib].label
  local function cmp(name, wlid, m, limit, goal, inverse)
    local a, b
    if inverse then a, b = med(wlid, inverse, m), med(wlid, lib, m) else a, b = med(wlid, lib, m), med(wlid, limit, m) end
    local r = ratio(a, b)
    if r then target(L .. ": " .. name, r, goal, nil) end
    return r
  end
  local r
  r = cmp("CPU per GET ÷ client-go", "get", "cpu_us", "clientgo", "< 1"); if r then targets[#targets].met = r < 1 end
  r = cmp("CPU per GET ÷ client-go (canned)", "get-canned", "cpu_us", "clientgo", "< 1"); if r then targets[#targets].met = r < 1 end
  r = cmp("LIST time to objects ÷ client-go", "list", "wall_ms", "clientgo", "< 1"); if r then targets[#targets].met = r < 1 end
  r = cmp("LIST time to objects ÷ client-go (canned)", "list-canned", "wall_ms", "clientgo", "< 1"); if r then targets[#targets].met = r < 1 end
  r = cmp("CPU per watch event ÷ client-go", "watch", "cpu_us_event", "clientgo", "< 1"); if r then targets[#targets].met = r < 1 end
  r = cmp("LIST time to objects ÷ curl+cjson", "list", "wall_ms", PEER[lib].bound, "≤ 1.3"); if r then targets[#targets].met = r <= 1.3 end
  r = cmp("LIST time to objects ÷ curl+cjson (canned)", "list-canned", "wall_ms", PEER[lib].bound, "≤ 1.3"); if r then targets[#targets].met = r <= 1.3 end
  r = cmp("kubectl wall per GET ÷ this", "get", "wall_ms", nil, "≥ 50", "kubectl"); if r then targets[#targets].met = r >= 50 end
  -- this library speaking protobuf (its default) against client-go's default
  do
    local function pb(name, wlid, m, goal, limit)
      local r = ratio(med(wlid, lib .. "-pb", m), med(wlid, "clientgo-pb", m))
      local met = nil
      if limit then met = r and r <= limit end
      if r then target(PEER[lib .. "-pb"].label .. ": " .. name, r, goal, met) end
    end
    pb(("LIST of %d time to objects ÷ client-go protobuf"):format(opt.objects), "list", "wall_ms", "≤ 0.8", 0.8)
    pb("CPU per watch event ÷ client-go protobuf", "watch", "cpu_us_event", "≤ 0.8", 0.8)
    pb("CPU per GET ÷ client-go protobuf", "get", "cpu_us", "≤ 0.6", 0.6)
    pb("peak RSS of the LIST ÷ client-go protobuf", "list", "rss_mib", "≤ 0.75", 0.75)
    pb("LIST time to objects ÷ client-go protobuf (canned)", "list-canned", "wall_ms", "(info)", nil)
  end
  -- not targets: the JSON rows against client-go's own default for built-in types (protobuf)
  cmp("JSON: CPU per GET ÷ client-go protobuf", "get", "cpu_us", "clientgo-pb", "(info)")
  cmp("JSON: LIST time to objects ÷ client-go protobuf", "list", "wall_ms", "clientgo-pb", "(info)")
  cmp("JSON: CPU per watch event ÷ client-go protobuf", "watch", "cpu_us_event", "clientgo-pb", "(info)")
  -- the informer section: information (no goal set for it)
  cmp("informer sync time ÷ client-go", "informer", "sync_ms", "clientgo", "(info)")
  cmp("informer heap after sync ÷ client-go", "informer", "heap_mib", "clientgo", "(info)")
  cmp("informer peak RSS ÷ client-go", "informer", "rss_mib", "clientgo", "(info)")
  cmp("informer CPU per update ÷ client-go", "informer", "cpu_us_event", "clientgo", "(info)")
  cmp("informer sync time ÷ client-go protobuf", "informer", "sync_ms", "clientgo-pb", "(info)")
  cmp("informer CPU per update ÷ client-go protobuf", "informer", "cpu_us_event", "clientgo-pb", "(info)")
  -- the apply section: information
  cmp(("kubectl apply wall ÷ this, %d manifests"):format(opt.apply_objects), "apply", "wall_ms", nil, "(info)", "kubectl")
  r = ratio(med("apply", "kubectl", "wall_ms"), med("apply", lib .. "-c8", "wall_ms"))
  if r then target(L .. ": " .. ("kubectl apply wall ÷ this with Concurrency = 8, %d manifests"):format(opt.apply_objects), r, "(info)", nil) end
end
do -- the OpenResty section: information, not targets
  local ref = plain_get()
  local co, bl = med("openresty", "cosocket", "cpu_us"), med("openresty", "blocking", "cpu_us")
  local r = ratio(co, ref and ref.luajit)
  if r then target("k8s-lua in nginx (cosockets): worker CPU per GET ÷ plain-Lua GET (LuaJIT)", r, "(info)", nil) end
  r = ratio(bl, ref and ref.luajit)
  if r then target("k8s-lua in nginx (blocking libcurl): worker CPU per GET ÷ plain-Lua GET (LuaJIT)", r, "(info)", nil) end
  r = ratio(med("openresty", "cosocket", "rps"), med("openresty", "blocking", "rps"))
  if r then target("k8s-lua in nginx: requests/s, cosockets ÷ blocking libcurl", r, "(info)", nil) end
end
if #targets > 0 then
  out("### Targets")
  out("")
  out("| target | measured | goal | met |")
  out("|---|---:|---:|:---:|")
  for _, t in ipairs(targets) do
    local met = t.goal == "(info)" and "–" or t.met and "yes" or "**no**"
    out(("| %s | %s | %s | %s |"):format(t.name, string.format(t.value >= 10 and "%.0f×" or "%.2f×", t.value), t.goal, met))
  end
  out("")
end
out("Notes: CPU is user+sys from getrusage(RUSAGE_SELF) inside each client process around the timed section (kubectl: wait4() of each kubectl process, start-up included). "
  .. "Connections are warmed before timing (kubectl: discovery cache warmed). "
  .. "client-go (JSON) sets ContentType and AcceptContentTypes to JSON, the format this library speaks; since v0.35 client-go's typed clients of built-in types ask for protobuf when ContentType is unset, which is the client-go (protobuf) row. "
  .. "\"time to objects\" ends when every item is a native object (Lua table, Go struct, Python model). "
  .. "Watch: a watch without resourceVersion gets a synthetic ADDED per existing object; then a separate writer process stamps "
  .. opt.watch_modified .. " objects with its wall clock and the delay is measured at the client. "
  .. "curl+cjson: one libcurl easy handle (HTTP/2, gzip, as this library) plus lua-cjson's decode: the lower bound for this design; "
  .. "ratio columns use the lower bound of the same Lua VM for the LuaJIT row and the Lua 5.4 bound otherwise. "
  .. "Canned: nginx serving bytes captured from the API server (gzip for the LIST, as the API server sends them). "
  .. "kubectl LIST uses --chunk-size=0 and the pager workload --chunk-size=" .. opt.page .. "; kubectl watch CPU includes its initial LIST."
  .. (results.informer and (" Informers: each peer process makes a shared informer factory for the namespace (resync 0) with one ConfigMaps informer and one handler, "
    .. "after warming its connection (this library: a LIST in a task of k8s.loop, whose connection pool the informer uses); the sync is timed from Start to HasSynced "
    .. "(this library: WaitForCacheSync, which drives k8s.Run and checks after every step; client-go: HasSynced polled every 1 ms, as WaitForCacheSync polls every 100 ms), "
    .. "CPU and peak RSS are read then, the heap after a full collection (Lua: collectgarbage(\"count\"); Go: runtime.GC then MemStats.HeapAlloc; client-go after its handler has had every initial add). "
    .. "Then a separate writer process (this library on Lua 5.4, HTTP/1.1, one PATCH after another) stamps objects with its wall clock; CPU/update is the process CPU from the ready signal to the last OnUpdate, divided by the updates; "
    .. "the delay is measured in the handler. The sync path each peer took is listed under the tables (WatchList: one watch with sendInitialEvents, ended by a bookmark, "
    .. "the default of both libraries, client-go v0.35's WatchListClient gate being on; LIST+WATCH: a LIST at resourceVersion 0, then a watch; `--informer-watchlist 0` sets the latter for both); "
    .. "this library talks HTTP/1.1 on its event loop, client-go HTTP/2.") or "")
  .. (results.apply and (" Apply: one folder of " .. opt.apply_objects .. " manifests (one per file: ConfigMaps, Deployments of 1 replica, headless Services, in turn), "
    .. "applied by each peer into a namespace of its own, fresh for every run and deleted (waited for) after it; this library: files read and decoded, "
    .. "then one k8s.apply.Apply call (discovery included: the process has no cache; one LIST page per resource for the live objects, an apply PATCH per object; the Concurrency = 8 rows: 8 objects at a time on tasks of k8s.loop), timed after a warm-up request; "
    .. "kubectl: `kubectl apply --server-side -f DIR -n NS`, one process from spawn to exit, its discovery cache warm. The ratio is kubectl's wall time over the row's.") or "")
  .. (results.openresty and (" OpenResty: Debian's nginx " .. ((info.versions.nginx or ""):match("nginx/(%S+)") or "?")
    .. " + lua module " .. (info.versions.nginx_lua or "?") .. ", " .. opt.ngx_workers .. " workers, loaded by " .. (info.versions.wrk or "wrk")
    .. " (" .. opt.ngx_threads .. " threads, " .. opt.ngx_connections .. " keep-alive connections, " .. opt.ngx_warmup .. " s warm-up then "
    .. opt.ngx_duration .. " s per variant and round, variants in turn); each request of /get does one ConfigMap Get (the object of section 1) "
    .. "through a clientset made once per worker (token + CA, QPS -1), HTTP/1.1 over TLS on cosockets with k8s.ngx PoolSize = "
    .. opt.ngx_connections .. " so that every request in flight keeps its connection; the blocking row uses the libcurl driver (HTTP/2) and stalls its worker. "
    .. "Worker CPU is utime+stime of the nginx worker processes (/proc/<pid>/stat, clock ticks) over the timed run divided by the requests wrk completed; "
    .. "the plain-Lua GET it is compared with is one process doing sequential Gets, so the nginx figure also pays for serving wrk's HTTP request (the static row).") or ""))
local markdown = table.concat(md, "\n") .. "\n"
io.write(markdown)

-- ---------------------------------------------------------------- files ----
local counts = { passed = 0, failed = 0 }
for _, wl in ipairs(selected_wl) do
  for _, p in ipairs(wl.members) do
    local slot = results[wl.id][p.id]
    if #slot.errors == 0 and #slot.runs == opt.rounds then counts.passed = counts.passed + 1 else counts.failed = counts.failed + 1 end
  end
end

local function arr(t) return setmetatable(t, k8s.array_mt) end
local doc = {
  generated_unix = os.time(), mode = opt.tiny and "tiny" or "full", options = {
    rounds = opt.rounds, objects = opt.objects, gets = opt.gets, kubectl_gets = opt.kubectl_gets, page = opt.page,
    watch_modified = opt.watch_modified, ngx_duration = opt.ngx_duration, ngx_warmup = opt.ngx_warmup,
    ngx_connections = opt.ngx_connections, ngx_workers = opt.ngx_workers, ngx_threads = opt.ngx_threads,
    informer_objects = opt.informer_objects, informer_updates = opt.informer_updates, informer_watchlist = opt.informer_watchlist,
    apply_objects = opt.apply_objects,
  },
  openresty = ngx_summary,
  machine = info, peers = {}, workloads = {}, targets = arr(targets), summary = summary, runs = {},
}
do -- the peers of every reported workload, in the order of PEERS
  local used = {}
  for _, p in ipairs(selected_peers) do used[p.id] = true end
  for _, wl in ipairs(all_wl) do
    if wl.verb ~= "ngx" then for _, p in ipairs(wl.members) do used[p.id] = true end end
  end
  for _, p in ipairs(PEERS) do
    if used[p.id] then doc.peers[#doc.peers + 1] = { id = p.id, label = p.label } end
  end
end
arr(doc.peers)
for _, wl in ipairs(all_wl) do
  local w = { id = wl.id, title = wl.title, target = wl.target, generated_unix = doc.generated_unix, rounds = opt.rounds }
  if wl.carried then w.generated_unix, w.rounds, w.carried = wl.carried.generated_unix, wl.carried.rounds, true end
  doc.workloads[#doc.workloads + 1] = w
end
arr(doc.workloads)
for _, wl in ipairs(all_wl) do
  doc.runs[wl.id] = {}
  for _, p in ipairs(wl.members) do
    local slot = results[wl.id][p.id]
    for _, run in ipairs(slot.runs) do
      if run.delays then arr(run.delays) end
      if run.cpu_by_worker then arr(run.cpu_by_worker) end
    end
    doc.runs[wl.id][p.id] = { runs = arr(slot.runs), errors = arr(slot.errors) }
  end
end
writefile(opt.out .. "/results.json.tmp", k8s.json.encode(doc) .. "\n")
os.rename(opt.out .. "/results.json.tmp", opt.out .. "/results.json")
writefile(opt.out .. "/RESULTS.md", "# Benchmark results\n\nProduced by `make bench` (tools/bench.sh) on "
  .. os.date("!%Y-%m-%d %H:%M UTC", doc.generated_unix) .. "; see bench/README.md for the method.\n\n" .. markdown)
log("wrote %s/results.json and %s/RESULTS.md in %.0fs", opt.out, opt.out, u.now() - t_start)
if counts.failed > 0 then
  local f = readfile(errlog)
  if f and #f > 0 then io.stderr:write(f:sub(-4000)) end
end
io.stderr:write(("bench: %d passed, %d failed\n"):format(counts.passed, counts.failed))
os.exit(counts.failed == 0 and 0 or 3)

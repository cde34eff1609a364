-- A busted-driven harness that runs a real nginx (Debian's nginx 1.22 +
-- libnginx-mod-http-lua) for the specs under spec/ngx/. The code under test
-- runs inside nginx's LuaJIT; busted (Lua 5.4 or LuaJIT) only drives it with
-- curl. Design: docs in /work/shared/reference/openresty.md section 4.
--
--   local N = require "spec.ngx.helper"
--   local srv = N.start { server = [[location = /t { content_by_lua_block { ngx.say("hi") } }]] }
--   local status, body = srv:get("/t")
--   assert.is_nil(srv:check_log())
--   srv:stop()
--
-- Server methods: url(path); get(path, {timeout, method, data, headers}) ->
-- status, body, seconds, curl rc; get_many(path|paths, n, concurrency) ->
-- {{status, body, status=, body=}...}; stream(path, seconds) -> body, curl
-- rc; reload(); rewrite_conf(changes); children(); worker_pids();
-- shutting_down_count(); wait_until(fn, timeout); log([mark]); log_mark();
-- log_entries([mark]); check_log(allowed, [mark]); assert_log_clean(...);
-- stop(). Module: start(opts), available(), ensure_build(), wait_until,
-- alive(pid), sh(cmd) -> output, rc; ROOT (the repository).
--
-- nginx is a declared dependency (tools/deps.sh): N.start raises when it is
-- missing, so specs fail rather than skip.
--
-- Process model: nginx runs with `daemon off` under a small bash watchdog
-- started with io.popen(..., "w"). The watchdog is nginx's parent, so it
-- reaps it (PID 1 in some containers reaps nothing), and it stops nginx
-- (QUIT, then KILL) as soon as its stdin reaches EOF: when the server object
-- is collected, or when busted exits or dies. srv:stop() does not rely on
-- that: it signals nginx itself and then closes the pipe.
local N = {}

N.NGINX = "/usr/sbin/nginx"
N.MODULES = "/usr/lib/nginx/modules"
N.NDK_MODULE = N.MODULES .. "/ndk_http_module.so"
N.LUA_MODULE = N.MODULES .. "/ngx_http_lua_module.so"

local function shq(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
N.shq = shq

-- Run a shell command: its combined output and exit code (the same on Lua
-- 5.4 and LuaJIT, whose os.execute/close return values differ).
-- Commands run without the sanitizer preload of tools/check-memory.sh: its
-- LeakSanitizer would fail curl, python3 and nginx with exit code 98.
local CLEAN_ENV = "unset LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; "
N.CLEAN_ENV = CLEAN_ENV

local function sh(cmd)
  local p = assert(io.popen(CLEAN_ENV .. "(" .. cmd .. ") 2>&1; echo \"__RC=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__RC=(%d+)%s*$"))
  out = out:gsub("__RC=%d+%s*$", "")
  return out, rc
end
N.sh = sh

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
N.read_file = read_file

local function write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function sleep(s)
  os.execute("sleep " .. string.format("%.3f", s))
end
N.sleep = sleep

--- Wall-clock seconds (sub-second), from date(1).
local function now()
  local p = io.popen("date +%s.%N")
  local s = p:read("*l")
  p:close()
  return tonumber(s) or os.time()
end
N.now = now

-- The repository root: three levels above this file (spec/ngx/helper.lua).
local function repo_root()
  local src = debug.getinfo(1, "S").source
  local dir = src:sub(1, 1) == "@" and src:sub(2):match("^(.*)/spec/ngx/[^/]*$")
  local pwd = assert(io.popen("pwd")):read("*l")
  if not dir or dir == "" or dir == "." then return pwd end
  if dir:sub(1, 2) == "./" then dir = dir:sub(3) end
  if dir:sub(1, 1) ~= "/" then dir = pwd .. "/" .. dir end
  return dir
end
N.ROOT = repo_root()

--- Whether nginx and the lua module are installed.
function N.available()
  return exists(N.NGINX) and exists(N.NDK_MODULE) and exists(N.LUA_MODULE)
end

--- Build the project if the LuaJIT binding is missing (`make -s`).
function N.ensure_build()
  local so = N.ROOT .. "/build/luajit/k8s/core.so"
  if exists(so) then return so end
  local out, rc = sh("cd " .. shq(N.ROOT) .. " && make -s")
  assert(rc == 0 and exists(so), "make -s failed (" .. so .. " missing):\n" .. out)
  return so
end

local function is_root()
  local out = sh("id -u")
  return out:match("^%s*0%s*$") ~= nil
end

-- A free loopback port below the ephemeral range (so that curl's client
-- ports cannot take it), bind-tested by python3 (a declared dependency).
local used_ports = {}
local PORT_PY = [[
import random, socket, sys
avoid = set(int(a) for a in sys.argv[1:])
rnd = random.SystemRandom()
for _ in range(500):
    p = rnd.randint(20000, 32000)
    if p in avoid:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
]]
local function free_port()
  local avoid = {}
  for p in pairs(used_ports) do avoid[#avoid + 1] = tostring(p) end
  local out, rc = sh("python3 -c " .. shq(PORT_PY) .. " " .. table.concat(avoid, " "))
  local port = tonumber(out:match("^%s*(%d+)%s*$"))
  assert(rc == 0 and port, "could not find a free port: " .. out)
  used_ports[port] = true
  return port
end
N.free_port = free_port

-- An nginx.conf string literal.
local function confq(s)
  return '"' .. tostring(s):gsub("[\\\"]", "\\%0") .. '"'
end

local function render_conf(o)
  local R, P = N.ROOT, o.prefix
  local L = {}
  local function add(s) L[#L + 1] = s end
  add("daemon off;")
  add("master_process on;")
  add("worker_processes " .. o.workers .. ";")
  -- CI runs as root; without this, workers run as nobody and cannot read
  -- 0600 key files. Only meaningful (and only accepted quietly) as root.
  if o.root then add("user root;") end
  add("pid " .. P .. "/logs/nginx.pid;")
  add("error_log " .. P .. "/logs/error.log " .. o.error_log_level .. ";")
  -- ndk first: the lua module imports ndk_* symbols. Absolute paths: with
  -- -p, relative ones resolve under the prefix.
  add("load_module " .. N.NDK_MODULE .. ";")
  add("load_module " .. N.LUA_MODULE .. ";")
  add("env PATH;")
  add("env HOME;")
  local env = {}
  for k, v in pairs(o.env or {}) do env[k] = v end
  local kc = os.getenv("KUBECONFIG")
  if kc and kc ~= "" and env.KUBECONFIG == nil then env.KUBECONFIG = kc end
  local names = {}
  for k in pairs(env) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    local v = env[k]
    if v == true then
      add("env " .. k .. ";")
    elseif v ~= false then
      add("env " .. confq(k .. "=" .. tostring(v)) .. ";")
    end
  end
  if o.main then add(o.main) end
  add("events { worker_connections " .. o.worker_connections .. "; }")
  add("http {")
  add("  access_log off;")
  add("  client_body_temp_path " .. P .. "/tmp/body;")
  add("  proxy_temp_path " .. P .. "/tmp/proxy;")
  add("  fastcgi_temp_path " .. P .. "/tmp/fcgi;")
  add("  uwsgi_temp_path " .. P .. "/tmp/uwsgi;")
  add("  scgi_temp_path " .. P .. "/tmp/scgi;")
  -- keep ";;": the default path (with /usr/share/lua/5.1, where resty.core
  -- lives) is substituted there; without it nginx does not start.
  add("  lua_package_path " .. confq(R .. "/lua/?.lua;" .. R .. "/lua/?/init.lua;"
    .. R .. "/spec/ngx/lua/?.lua;;") .. ";")
  add("  lua_package_cpath " .. confq(R .. "/build/luajit/?.so;;") .. ";")
  add("  lua_socket_buffer_size 64k;")
  if o.http then add(o.http) end
  add("  server {")
  add("    listen 127.0.0.1:" .. o.port .. ";")
  add("    location = /static { return 200 \"static\\n\"; }")
  if o.server then add(o.server) end
  add("  }")
  add("}")
  return table.concat(L, "\n") .. "\n"
end

local Server = {}
Server.__index = Server

local function proc_state(pid)
  local stat = read_file("/proc/" .. pid .. "/stat")
  if not stat then return nil end
  return stat:match("^%d+ %b() (%a)")
end

--- Whether a process is running (a zombie counts as exited).
local function alive(pid)
  local st = proc_state(pid)
  return st ~= nil and st ~= "Z" and st ~= "X"
end
N.alive = alive

local function poll(fn, timeout, interval)
  local deadline = now() + (timeout or 10)
  while true do
    local v = fn()
    if v then return v end
    if now() > deadline then return nil end
    sleep(interval or 0.05)
  end
end

--- The nginx command line for this server, with extra arguments.
function Server:nginx_cmd(args)
  return N.NGINX .. " -p " .. shq(self.prefix .. "/") .. " -c conf/nginx.conf -e logs/error.log"
    .. (args and (" " .. args) or "")
end

--- http://127.0.0.1:PORT<path>
function Server:url(path)
  return "http://127.0.0.1:" .. self.port .. (path or "/")
end

function Server:tmpfile(tag)
  self.seq = self.seq + 1
  return string.format("%s/tmp/%s-%d", self.prefix, tag or "f", self.seq)
end

-- curl without ~/.curlrc and without proxies (CI may set http_proxy).
local CURL = "curl -q -s --noproxy '*'"

local function header_args(headers)
  local a = {}
  for k, v in pairs(headers or {}) do
    if type(k) == "number" then a[#a + 1] = "-H " .. shq(v)
    else a[#a + 1] = "-H " .. shq(k .. ": " .. v) end
  end
  table.sort(a)
  return table.concat(a, " ")
end

--- One request with curl. opts: timeout (10 s), method, data (a string, sent
--- as is), headers (a list of "Name: value" or a map).
--- Returns status (0 when there was no response), body, seconds, curl's exit code.
function Server:get(path, opts)
  opts = opts or {}
  local bodyf = self:tmpfile("body")
  local cmd = { CURL .. " -o " .. shq(bodyf), "-w '%{http_code} %{time_total}'",
    "-m " .. (opts.timeout or 10) }
  if opts.method then cmd[#cmd + 1] = "-X " .. shq(opts.method) end
  local dataf
  if opts.data then
    dataf = self:tmpfile("data")
    write_file(dataf, opts.data)
    cmd[#cmd + 1] = "--data-binary @" .. shq(dataf)
  end
  cmd[#cmd + 1] = header_args(opts.headers)
  cmd[#cmd + 1] = shq(self:url(path))
  local out, rc = sh(table.concat(cmd, " "))
  local code, t = out:match("(%d%d%d) ([%d%.]+)%s*$")
  local body = read_file(bodyf) or ""
  os.remove(bodyf)
  if dataf then os.remove(dataf) end
  return tonumber(code) or 0, body, tonumber(t) or 0, rc
end

--- n requests to path (or to each path of a list) with `concurrency`
--- (default 10) in flight, by curl --parallel. Returns a list of
--- {status, body, status = , body = } in request order.
function Server:get_many(path, n, concurrency, opts)
  opts = opts or {}
  local paths = {}
  if type(path) == "table" then paths = path
  else for i = 1, n do paths[i] = path end end
  n = #paths
  local base = self:tmpfile("many")
  local cmd = { CURL .. " --parallel --parallel-immediate --parallel-max " .. (concurrency or 10),
    "-m " .. (opts.timeout or 10), "-w '%{urlnum} %{http_code}\\n'", header_args(opts.headers) }
  for i = 1, n do
    cmd[#cmd + 1] = shq(self:url(paths[i])) .. " -o " .. shq(base .. "-" .. i)
  end
  local cfg = base .. ".sh"
  write_file(cfg, table.concat(cmd, " ") .. "\n")
  local out = sh("sh " .. shq(cfg))
  os.remove(cfg)
  local codes = {}
  for num, code in out:gmatch("(%d+) (%d%d%d)") do codes[tonumber(num) + 1] = tonumber(code) end
  local res = {}
  for i = 1, n do
    local f = base .. "-" .. i
    local body = read_file(f) or ""
    os.remove(f)
    local st = codes[i] or 0
    res[i] = { st, body, status = st, body = body }
  end
  return res
end

--- Read a streaming response (e.g. SSE) for up to `seconds`; returns what
--- arrived, and curl's exit code (28 when the time ran out).
function Server:stream(path, seconds, opts)
  opts = opts or {}
  local f = self:tmpfile("stream")
  local _, rc = sh(CURL .. " -N -o " .. shq(f) .. " -m " .. (seconds or 2) .. " "
    .. header_args(opts.headers) .. " " .. shq(self:url(path)))
  local body = read_file(f) or ""
  os.remove(f)
  return body, rc
end

--- The master's children: list of { pid = , cmd = }.
function Server:children()
  local out = sh("ps -o pid=,args= --ppid " .. self.pid)
  local list = {}
  for line in out:gmatch("[^\n]+") do
    local pid, cmd = line:match("^%s*(%d+)%s+(.-)%s*$")
    if pid and alive(pid) then list[#list + 1] = { pid = tonumber(pid), cmd = cmd } end
  end
  return list
end

--- PIDs of the live (not shutting down) worker processes, sorted.
function Server:worker_pids()
  local pids = {}
  for _, c in ipairs(self:children()) do
    if c.cmd == "nginx: worker process" then pids[#pids + 1] = c.pid end
  end
  table.sort(pids)
  return pids
end

--- How many workers are "nginx: worker process is shutting down".
function Server:shutting_down_count()
  local n = 0
  for _, c in ipairs(self:children()) do
    if c.cmd == "nginx: worker process is shutting down" then n = n + 1 end
  end
  return n
end

--- Poll fn (every 50 ms) until it returns a truthy value, for up to
--- `timeout` seconds (default 10). Returns that value, or nil and a message.
function Server:wait_until(fn, timeout, interval)
  local v = poll(fn, timeout, interval)
  if v then return v end
  return nil, "timed out after " .. (timeout or 10) .. "s"
end
N.wait_until = function(fn, timeout, interval) return Server.wait_until(nil, fn, timeout, interval) end

function Server:log_path()
  return self.prefix .. "/logs/error.log"
end

--- A position in error.log, for srv:log(mark) / srv:check_log(allowed, mark).
function Server:log_mark()
  return #(read_file(self:log_path()) or "")
end

--- error.log text (from byte offset `since`, when given).
function Server:log(since)
  local s = read_file(self:log_path()) or ""
  if since then s = s:sub(since + 1) end
  return s
end

--- error.log entries (since mark `since`): a line starting with a
--- timestamp, with the lines that continue it (e.g. a stack traceback).
function Server:log_entries(since)
  local entries = {}
  for line in self:log(since):gmatch("[^\n]+") do
    if line:match("^%d%d%d%d/%d%d/%d%d %d%d:%d%d:%d%d ") or #entries == 0 then
      entries[#entries + 1] = line
    else
      entries[#entries] = entries[#entries] .. "\n" .. line
    end
  end
  return entries
end

--- nil when error.log (since mark `since`) is clean; otherwise a message
--- listing every [alert], [crit], [emerg] entry, every [error] entry that
--- matches none of the Lua patterns `allowed` (a string or a list; matched
--- against the whole entry, traceback included), and every "ngx.sleep(0)
--- called without delayed events patch" warning.
function Server:check_log(allowed, since)
  if type(allowed) == "string" then allowed = { allowed } end
  local bad = {}
  for _, entry in ipairs(self:log_entries(since)) do
    local head = entry:match("^[^\n]*")
    local flag = false
    if head:find("[alert]", 1, true) or head:find("[crit]", 1, true)
      or head:find("[emerg]", 1, true) then
      flag = true
    elseif head:find("ngx.sleep(0) called without delayed events patch", 1, true) then
      flag = true
    elseif head:find("[error]", 1, true) then
      flag = true
      for _, pat in ipairs(allowed or {}) do
        if entry:find(pat) then flag = false break end
      end
    end
    if flag then bad[#bad + 1] = entry end
  end
  if #bad == 0 then return nil end
  return "unexpected lines in " .. self:log_path() .. ":\n" .. table.concat(bad, "\n")
end

--- Raise when check_log finds something.
function Server:assert_log_clean(allowed, since)
  local msg = self:check_log(allowed, since)
  if msg then error(msg, 2) end
end

--- `nginx -s reload`, then wait (bounded, `timeout` default 10 s) until a
--- new generation of workers is up. Returns true, or nil and a message
--- (e.g. when the new configuration was refused: see srv:log()).
function Server:reload(timeout)
  local old = {}
  for _, p in ipairs(self:worker_pids()) do old[p] = true end
  local out, rc = sh(self:nginx_cmd("-t"))
  if rc ~= 0 then return nil, "nginx -t failed:\n" .. out end
  out, rc = sh(self:nginx_cmd("-s reload"))
  if rc ~= 0 then return nil, "nginx -s reload failed:\n" .. out end
  local ok = poll(function()
    local pids = self:worker_pids()
    if #pids ~= self.workers then return false end
    for _, p in ipairs(pids) do if old[p] then return false end end
    return true
  end, timeout or 10)
  if not ok then return nil, "no new workers after reload:\n" .. self:log() end
  return true
end

--- Rewrite conf/nginx.conf with changed options (same port and prefix),
--- e.g. before srv:reload(). Raises with nginx -t's output when invalid.
function Server:rewrite_conf(changes)
  for k, v in pairs(changes or {}) do self.opts[k] = v end
  write_file(self.prefix .. "/conf/nginx.conf", render_conf(self.opts))
  local out, rc = sh(self:nginx_cmd("-t"))
  if rc ~= 0 then error("nginx -t failed:\n" .. out, 2) end
end

local function signal(pid, sig)
  os.execute("kill -" .. sig .. " " .. pid .. " 2>/dev/null")
end

--- Stop nginx: `nginx -s quit`, then TERM, then KILL, each with a bounded
--- wait; then close the watchdog (which reaps the master) and remove the
--- prefix unless K8S_LUA_KEEP_NGX is set. Idempotent. Returns true when the
--- graceful quit was enough.
function Server:stop(timeout)
  if self.stopped then return self.graceful end
  self.stopped = true
  local pid = self.pid
  local graceful = true
  if pid and alive(pid) then
    local kids = {}
    for _, c in ipairs(self:children()) do kids[#kids + 1] = c.pid end
    sh(self:nginx_cmd("-s quit"))
    if not poll(function() return not alive(pid) end, timeout or 10) then
      graceful = false
      signal(pid, "TERM")
      if not poll(function() return not alive(pid) end, 5) then
        signal(pid, "KILL")
        for _, k in ipairs(kids) do signal(k, "KILL") end
        poll(function() return not alive(pid) end, 5)
      end
    end
    -- workers exit with the master; make sure before the prefix goes
    poll(function()
      for _, k in ipairs(kids) do if alive(k) then return false end end
      return true
    end, 5)
  end
  if self.watchdog then
    self.watchdog:close() -- EOF: the watchdog reaps the master and exits
    self.watchdog = nil
  end
  self.graceful = graceful
  if not os.getenv("K8S_LUA_KEEP_NGX") then
    sh("rm -rf " .. shq(self.prefix))
  end
  return graceful
end

-- The watchdog (bash): closes the descriptors it inherited (other
-- watchdogs' pipes, so that their EOF is not held up by this nginx), runs
-- nginx in the background and records its pid. A reader subshell waits for
-- EOF on stdin, then stops nginx (QUIT, KILL after 10 s); the main shell
-- waits for (and so reaps) nginx, then ends the reader and exits. So closing
-- the pipe after nginx has exited returns at once, even when another
-- process still holds the pipe's write end.
local WATCHDOG = [[
P=$1; shift
exec >"$P/logs/stdout.log" 2>&1
for fd in $(ls /proc/$BASHPID/fd); do
  [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
done
exec 3<&0 </dev/null # bash gives background jobs /dev/null as stdin: use fd 3
"$@" 3<&- &
pid=$!
echo "$pid" >"$P/logs/master.pid.tmp" && mv "$P/logs/master.pid.tmp" "$P/logs/master.pid"
running() { local s; s=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) && [ "$s" != Z ] && [ "$s" != X ]; }
(
  while read -r -u 3 line; do :; done
  if running; then
    kill -QUIT "$pid" 2>/dev/null
    i=0
    while running && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    running && kill -KILL "$pid" 2>/dev/null
  fi
) &
reader=$!
exec 3<&-
wait "$pid" 2>/dev/null
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
exit 0
]]

local function make_prefix()
  local base = os.getenv("K8S_LUA_NGX_TMP")
  if not base or base == "" then base = os.getenv("TMPDIR") or "/tmp" end
  local out, rc = sh("mktemp -d " .. shq(base .. "/k8s-lua-ngx.XXXXXX"))
  local dir = out:match("^%s*(.-)%s*$")
  assert(rc == 0 and dir ~= "", "mktemp failed: " .. out)
  local _, rc2 = sh("mkdir -p " .. shq(dir .. "/conf") .. " " .. shq(dir .. "/logs") .. " "
    .. shq(dir .. "/tmp"))
  assert(rc2 == 0, "mkdir failed in " .. dir)
  return dir
end

local function start_once(o)
  o.prefix = make_prefix()
  o.port = free_port()
  local srv = setmetatable({ prefix = o.prefix, port = o.port, workers = o.workers,
    opts = o, seq = 0 }, Server)
  local function fail(msg)
    srv:stop(2)
    error(msg, 0)
  end
  write_file(o.prefix .. "/conf/nginx.conf", render_conf(o))
  local out, rc = sh(srv:nginx_cmd("-t"))
  if rc ~= 0 then fail("nginx -t failed:\n" .. out) end
  srv.watchdog = assert(io.popen(CLEAN_ENV .. "exec bash -c " .. shq(WATCHDOG) .. " watchdog " .. shq(o.prefix)
    .. " " .. N.NGINX .. " -p " .. shq(o.prefix .. "/") .. " -c conf/nginx.conf -e logs/error.log", "w"))
  local pidf = o.prefix .. "/logs/master.pid"
  poll(function() return exists(pidf) end, 5, 0.02)
  srv.pid = tonumber((read_file(pidf) or ""):match("%d+"))
  if not srv.pid then fail("nginx did not start (no pid)") end
  local up = poll(function()
    if not alive(srv.pid) then return "dead" end
    local code = srv:get("/static", { timeout = 1 })
    if code == 200 then return "up" end
  end, o.start_timeout or 10)
  if up ~= "up" then
    local log = srv:log() .. (read_file(o.prefix .. "/logs/stdout.log") or "")
    local busy = log:find("Address already in use", 1, true) ~= nil
    srv:stop(2)
    return nil, "nginx did not come up on port " .. o.port .. " ("
      .. (up or "timeout") .. "):\n" .. log, busy
  end
  -- every worker running (they accept only once initialised)
  poll(function() return #srv:worker_pids() == o.workers end, 10)
  return srv
end

--- Start nginx. opts: workers (2), worker_connections (256), http (text in
--- http{}), server (text in server{}), main (main-context text), env (map
--- NAME -> value: `env NAME=value;`, true: `env NAME;`), error_log_level
--- ("info"), start_timeout (10 s). Raises on failure, with nginx's output.
function N.start(opts)
  assert(N.available(), "nginx or the lua module is missing (" .. N.NGINX .. ", "
    .. N.LUA_MODULE .. "): run tools/deps.sh")
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.workers = o.workers or 2
  o.worker_connections = o.worker_connections or 256
  o.error_log_level = o.error_log_level or "info"
  if o.root == nil then o.root = is_root() end
  local last
  for _ = 1, 3 do -- the port may be taken between the bind test and nginx
    local srv, err, busy = start_once(o)
    if srv then return srv end
    last = err
    if not busy then break end
  end
  error(last, 2)
end

return N

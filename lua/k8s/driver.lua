--- The cosocket-style driver: carries out the C engine's actions (src/call.c)
-- over a socket API shaped like nginx's cosockets. Two environments use it:
-- nginx (lua/k8s/ngx.lua: ngx.socket.tcp, ngx.sleep) and the plain-Lua event
-- loop (lua/k8s/loop.lua: non-blocking sockets, poll). TLS and HTTP/1.1 run
-- in C (k8s.Wire); this file only moves bytes and waits.
-- @module k8s.driver
local core = require "k8s.core"

local PENDING = core.PENDING
local errors = require "k8s.errors"

local M = {}

--- new(env, opts) -> driver. env: tcp() (a cosocket-like object), sleep(s),
-- now() (seconds), exiting() (true when the process is shutting down), pid.
-- opts: the option table (PoolSize, IdleTimeout, ConnectTimeout, ReadTimeout,
-- WatchReadSlice), read at each use so that configure() applies at once.
function M.new(env, opts)
local D = {}
D.err = errors.New

-- A cosocket error string as a transport class.
local function sock_err(e, what)
  local reason = "ConnectionReset"
  if e == "timeout" then reason = "Timeout"
  elseif e and e:find("refused", 1, true) then reason = "ConnectionRefused"
  elseif e and (e:find("resolve", 1, true) or e:find("resolver", 1, true)) then reason = "DNSError"
  elseif e == "closed" then reason = "ConnectionReset" end
  return D.err(reason, (what or "connection") .. ": " .. tostring(e))
end

-- ---- connection pool: per worker, per cluster + TLS identity ----
-- Each idle connection has a pool name of its own, so its TLS state (a
-- k8s.Wire, which lives in this worker) goes with exactly that socket.
local idle = {}        -- key -> { {name =, wire =}, ... }
local seq = 0
local stats = { connects = 0, reused = 0, handshakes = 0, resumed = 0 }

local function pop_idle(key)
  local list = idle[key]
  if list and #list > 0 then return table.remove(list) end
end

local function release(conn, reusable)
  if not conn or conn.released then return end
  conn.released = true
  local list = idle[conn.key]
  if reusable and conn.wire:keepalive() and not env.exiting() and (not list or #list < opts.PoolSize) then
    local ok = conn.sock:setkeepalive(opts.IdleTimeout * 1000, 1)
    if ok then
      list = list or {}
      idle[conn.key] = list
      list[#list + 1] = { name = conn.name, wire = conn.wire }
      return
    end
  end
  conn.sock:close()
  conn.wire:close()
end

-- A request's Timeout bounds the whole attempt (the engine hands the time
-- left as the SEND's timeout): connect, TLS handshake, send, head and body.
-- arm(sock, deadline) sets the socket's timeouts to what is left before the
-- deadline (nil: no deadline, the timeouts set at connect stay), or returns
-- nil, err once it has passed.
local function arm(sock, deadline)
  if not deadline then return true end
  local left = deadline - env.now()
  if left <= 0 then return nil, D.err("Timeout", "context deadline exceeded (the request's Timeout passed)") end
  local ms = math.ceil(left * 1000)
  sock:settimeouts(math.min(ms, opts.ConnectTimeout * 1000), ms, ms)
  return true
end

local function send_pending(sock, wire, deadline)
  local out = wire:pending()
  while out do
    local aok, ae = arm(sock, deadline)
    if not aok then return nil, ae end
    local ok, e = sock:send(out)
    if not ok then return nil, sock_err(e, "send") end
    out = wire:pending()
  end
  return true
end

local function handshake(sock, wire, deadline)
  while true do
    local done, e = wire:handshake()
    if done == nil then return nil, e end
    local ok, se = send_pending(sock, wire, deadline)
    if not ok then return nil, se end
    if done then return true end
    local aok, ae = arm(sock, deadline)
    if not aok then return nil, ae end
    local data, re = sock:receiveany(65536)
    if not data then return nil, sock_err(re, "TLS handshake") end
    local fok, fe = wire:feed(data)
    if fok == nil then return nil, fe end
  end
end

-- Read until the response head is complete. Returns true, or nil, err, early
-- (early: nothing at all came back on a reused connection: retry on a new one).
local function read_head(conn)
  local sock, wire = conn.sock, conn.wire
  local got = false
  while true do
    local aok, ae = arm(sock, conn.deadline)
    if not aok then return nil, ae end
    local data, e = sock:receiveany(65536)
    if not data then
      if e == "closed" then
        if not got and conn.reused then return nil, sock_err(e), true end
        local ok, ee = wire:eof()
        if not ok then return nil, ee end
        return true
      end
      return nil, sock_err(e), (not got and conn.reused and e ~= "timeout")
    end
    got = true
    local hd, done = wire:feed(data)
    if hd == nil then return nil, done end
    local ok, se = send_pending(sock, wire, conn.deadline)
    if not ok then return nil, se end
    if hd then return true end
  end
end

-- methods Go's Transport sends again after a failure on a reused connection
local replayable = { GET = true, HEAD = true, OPTIONS = true, TRACE = true }

-- Connect (reusing an idle connection when one is there), send the request
-- and read the response head, all before `deadline` (nil: none; each read
-- then waits up to ReadTimeout).
local function exchange(call, deadline, fresh)
  local wire, host, port, key = call:wire()
  if not wire then return nil, host end
  local entry = not fresh and pop_idle(key)
  local name
  if entry then
    name = entry.name
  else
    seq = seq + 1
    name = key .. "#" .. env.pid .. "." .. seq
  end
  local sock = env.tcp()
  sock:settimeouts(opts.ConnectTimeout * 1000, opts.ReadTimeout * 1000, opts.ReadTimeout * 1000)
  local aok, ae = arm(sock, deadline)
  if not aok then
    wire:close()
    if entry then entry.wire:close() end
    return nil, ae
  end
  local ok, e = sock:connect(host, port, { pool = name })
  if not ok then
    wire:close()
    if entry then entry.wire:close() end
    return nil, sock_err(e, "connect to " .. host .. ":" .. port)
  end
  local reused = sock:getreusedtimes() > 0
  stats.connects = stats.connects + 1
  if entry and reused then
    stats.reused = stats.reused + 1
    wire:close()
    wire = entry.wire
  else
    if entry then entry.wire:close() end
    local hok, he = handshake(sock, wire, deadline)
    if not hok then sock:close(); wire:close(); return nil, he end
    if wire:is_tls() then
      stats.handshakes = stats.handshakes + 1
      if wire:session_reused() then stats.resumed = stats.resumed + 1 end
    end
  end
  local conn = { sock = sock, wire = wire, key = key, name = name, reused = reused, deadline = deadline }
  local rok, re = wire:request(call)
  if not rok then release(conn, false); return nil, re end
  local sok, se = send_pending(sock, wire, deadline)
  if not sok then
    release(conn, false)
    if reused and se.reason ~= "Timeout" then return exchange(call, deadline, true) end
    return nil, se
  end
  local hok, he, early = read_head(conn)
  if not hok then
    release(conn, false)
    -- the request was sent on a reused connection and no byte came back:
    -- the server may have closed it while idle, or may have taken the
    -- request and died. As Go's Transport (shouldRetryRequest), only a
    -- replayable method is sent again: a POST could be made twice.
    if early and replayable[call:method()] then return exchange(call, deadline, true) end
    return nil, he
  end
  return conn
end

-- The rest of the body; the connection goes back to the pool when it can.
local function read_body(conn)
  local wire, sock = conn.wire, conn.sock
  local parts, n = {}, 0
  while true do
    local b = wire:body()
    if b then n = n + 1; parts[n] = b end
    if wire:keepalive() or conn.ended then break end
    local aok, ae = arm(sock, conn.deadline)
    if not aok then release(conn, false); return nil, ae end
    local data, e = sock:receiveany(65536)
    if not data then
      if e ~= "closed" then release(conn, false); return nil, sock_err(e, "reading the response body") end
      local ok, ee = wire:eof()
      if not ok then release(conn, false); return nil, ee end
      conn.ended = true
    else
      local hd, done = wire:feed(data)
      if hd == nil then release(conn, false); return nil, done end
      local sok, se = send_pending(sock, wire, conn.deadline)
      if not sok then release(conn, false); return nil, se end
      if done and not wire:keepalive() then conn.ended = true end
    end
  end
  release(conn, not conn.ended)
  return table.concat(parts)
end

-- ---- streams and watches over a connection ----

local Stream = { __name = "k8s.driver.Stream" }
Stream.__index = Stream

--- stream:read([timeout]) -> chunk | nil at the end | nil, err
function Stream:read(timeout)
  local conn = self.conn
  if not conn then return nil end
  while true do
    local b = conn.wire:body()
    if b then return b end
    if self.ended then self:close(); return nil end
    conn.sock:settimeouts(nil, nil, ((timeout and timeout >= 0) and timeout or opts.ReadTimeout) * 1000)
    local data, e = conn.sock:receiveany(65536)
    if not data then
      if e ~= "closed" then
        if e == "timeout" then return nil, D.err("Timeout", "no data within " .. tostring(timeout) .. "s") end
        self:close(); return nil, sock_err(e)
      end
      local ok, ee = conn.wire:eof()
      if not ok then self:close(); return nil, ee end
      self.ended = true
    else
      local hd, done = conn.wire:feed(data)
      if hd == nil then self:close(); return nil, done end
      if done then self.ended = true end
    end
  end
end

--- stream:close()
function Stream:close()
  if self.conn then release(self.conn, false); self.conn = nil end
end

local Watcher = { __name = "k8s.driver.Watcher" }
Watcher.__index = Watcher

local function watch_feed(self)
  local b = self.conn.wire:body()
  if b then core.watch_feed(self.ud, b) end
end

-- Read once (at most `slice` seconds, and no later than the core's stall
-- limit): feeds the decoder, records the end.
local function watch_pump(self, slice)
  local conn = self.conn
  if env.exiting() then self:Stop(); return end
  local stall = core.watch_stall_in(self.ud)
  if stall and stall < slice then slice = stall end
  conn.sock:settimeouts(nil, nil, math.max(slice, 0.001) * 1000)
  local data, e = conn.sock:receiveany(65536)
  if data then
    local hd, done = conn.wire:feed(data)
    if hd == nil then core.watch_end(self.ud, done.reason, done.message); return end
    watch_feed(self)
    if done then core.watch_end(self.ud) end
  elseif e == "closed" then
    local ok, ee = conn.wire:eof()
    watch_feed(self)
    if ok then core.watch_end(self.ud) else core.watch_end(self.ud, ee.reason, ee.message) end
  elseif e ~= "timeout" then
    core.watch_end(self.ud, "ConnectionReset", "watch: " .. tostring(e))
  end
end

--- w:Next([timeoutSeconds]) -> event | nil (ended) | nil, err
function Watcher:Next(timeout)
  if not self.ud then return nil end
  local deadline = timeout and timeout >= 0 and env.now() + timeout
  while true do
    local ev, e = core.watch_step(self.ud, false)
    if ev ~= PENDING then
      -- the end, or a dead connection (the core's stall limit): let it go
      if ev == nil and (e == nil or e.reason == "WatchStalled") then self:Stop() end
      return ev, e
    end
    local slice = opts.WatchReadSlice
    if deadline then
      local left = deadline - env.now()
      if left <= 0 then return nil, D.err("Timeout", "no data within " .. timeout .. "s") end
      if left < slice then slice = left end
    end
    watch_pump(self, slice)
    if not self.ud then return nil end
  end
end

--- for ev in w:ResultChan() do ... end: ends when the server closes the
-- watch, after w:Stop(), or when the connection fails or the worker exits.
function Watcher:ResultChan()
  return function()
    while self.ud do
      local ev = core.watch_step(self.ud, true)
      if ev ~= PENDING then
        if ev == nil then self:Stop() end
        return ev
      end
      watch_pump(self, opts.WatchReadSlice)
    end
    return nil
  end
end

--- w:Stop(): close the watch; buffered events are dropped.
function Watcher:Stop()
  if self.ud then self.ud:Stop(); self.ud = nil end
  if self.conn then release(self.conn, false); self.conn = nil end
end

local function open_watch(call, conn)
  local ud, e = call:watcher()
  if not ud then release(conn, false); return nil, e end
  local w = setmetatable({ ud = ud, conn = conn }, Watcher)
  watch_feed(w)
  if conn.wire:keepalive() then core.watch_end(ud) end
  return w
end

-- ---- the driver loop ----

local function run(call)
  local conn
  while true do
    local act, a = call:next()
    if act == "sleep" then
      env.sleep(a > 0.001 and a or 0.001)
      call:slept()
    elseif act == "exec" then
      if call:exec_start() then
        local delay = 0.002
        while not call:exec_poll() do
          env.sleep(delay)
          if delay < 0.05 then delay = delay * 2 end
        end
      end
    elseif act == "token" then
      local fn = call:token_source()
      if fn then
        call:token_done(pcall(fn, a))
      else
        call:token_done(false, "no token source")
      end
    elseif act == "send" then
      -- a: the attempt's timeout, what is left of the request's Timeout (0: none)
      if conn then release(conn, false); conn = nil end
      local c, e = exchange(call, a and a > 0 and env.now() + a or nil)
      if c then
        conn = c
        call:response(c.wire)
      else
        call:failed(e.reason, e.message)
      end
    elseif act == "drain" then
      if conn then
        local body = read_body(conn) -- reused when it can be, as client-go drains before a retry
        if not body then conn = nil end
        conn = nil
      end
      call:drained()
    else -- done
      local rc, status = call:status()
      if rc ~= 0 or not conn then
        if conn then release(conn, false) end
        return call:finish()
      end
      local kind = call:kind()
      if (kind == "stream" or kind == "watch") and ((status >= 200 and status <= 206) or status == 101) then
        if kind == "watch" then return open_watch(call, conn) end
        return setmetatable({ conn = conn, ended = conn.wire:keepalive() }, Stream)
      end
      local body, e = read_body(conn)
      if not body then return nil, e end
      return call:finish(body)
    end
  end
end


D.run = run
D.Stream, D.Watcher = Stream, Watcher

--- idle_connections(): keep-alive connections held, per pool key.
function D.idle_connections()
  local r = {}
  for k, list in pairs(idle) do r[k] = #list end
  return r
end

--- stats(): connection counters (connects, reused, handshakes, resumed).
function D.stats()
  return { connects = stats.connects, reused = stats.reused, handshakes = stats.handshakes, resumed = stats.resumed }
end

return D
end

M.PENDING = PENDING
return M

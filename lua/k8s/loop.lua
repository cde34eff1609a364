--- The plain-Lua event loop (Lua 5.4 and LuaJIT outside nginx): tasks are
-- coroutines; calls they make to the API server yield instead of blocking,
-- carried out by the same driver nginx uses (k8s.driver) over non-blocking
-- sockets and poll(). k8s.Run drives every task started in the process:
-- informers, leader electors, watches and the program's own work.
--   local loop = require "k8s.loop"
--   loop.spawn(function() ... loop.sleep(1) ... end)
--   k8s.Run(30)                          -- for 30 s
--   k8s.Run(function() return done end)  -- until done is true (checked after each step)
-- Handlers and tasks run one at a time; a task that raises is reported on
-- stderr and ends, the others go on.
-- @module k8s.loop
local core = require "k8s.core"

local M = {}
local unpack = table.unpack or unpack

local now = core.monotonic
M.now = now

local tasks = {}      -- task -> true
local ready = {}      -- tasks to resume, in order
local current         -- the task running now
local ntasks = 0

local Task = { __name = "k8s.loop.Task" }
Task.__index = Task

--- spawn(fn, ...) -> task: run fn(...) as a task of the loop (from the next step).
function M.spawn(fn, ...)
  if type(fn) ~= "function" then error("k8s.loop.spawn: fn must be a function", 2) end
  local args = { n = select("#", ...), ... }
  local t = setmetatable({ name = tostring(fn) }, Task)
  t.co = coroutine.create(function() return fn(unpack(args, 1, args.n)) end)
  tasks[t] = true
  ntasks = ntasks + 1
  ready[#ready + 1] = t
  return t
end

--- task:cancel(): the task is not resumed again (its sockets are closed by the GC).
function Task:cancel()
  if tasks[self] then
    tasks[self] = nil
    ntasks = ntasks - 1
  end
  self.done = true
end

--- task:done() -> true once the task has returned, raised or been cancelled.
function Task:finished() return self.done == true end

local joins = 0 -- tasks waiting in join(): the scheduler looks for them only then

--- join(list of tasks): wait until every task of the list has finished
-- (in a task: yields until then; elsewhere: drives the loop until then).
function M.join(list)
  local function all_done()
    for _, t in ipairs(list) do if not t.done then return false end end
    return true
  end
  if all_done() then return end
  if M.in_task() then
    joins = joins + 1
    coroutine.yield({ join = all_done })
  else
    M.Run(all_done)
  end
end

--- in_task() -> true when called from a task's own coroutine.
function M.in_task()
  return current ~= nil and coroutine.running() == current.co
end

--- sleep(seconds): in a task, yields to the loop; elsewhere, blocks.
function M.sleep(s)
  s = tonumber(s) or 0
  if M.in_task() then
    coroutine.yield({ wake = now() + (s > 0 and s or 0) })
  elseif s > 0 then
    core.poll({}, {}, s)
  end
end

--- wait_fd(fd, "r" | "w", timeout) -> true when ready, false on timeout (in a task).
function M.wait_fd(fd, dir, timeout)
  if not M.in_task() then
    local r, w = core.poll(dir == "r" and { fd } or {}, dir == "w" and { fd } or {}, timeout or -1)
    return (r[fd] or w[fd]) and true or false
  end
  local ok = coroutine.yield({ fd = fd, dir = dir, wake = timeout and timeout >= 0 and now() + timeout or nil })
  return ok
end

-- ---- a cosocket-like TCP object over core.sock_connect ----
local pool = {}       -- pool name -> { {sock =, reused =, expires =}, ... }

local Sock = { __name = "k8s.loop.Socket" }
Sock.__index = Sock

--- tcp() -> a socket with the subset of nginx's cosocket API the driver uses.
function M.tcp()
  return setmetatable({ ct = 60, st = 60, rt = 60, reused = 0 }, Sock)
end

function Sock:settimeouts(c, s, r)
  if c then self.ct = c / 1000 end
  if s then self.st = s / 1000 end
  if r then self.rt = r / 1000 end
  return true
end

function Sock:connect(host, port, o)
  local name = o and o.pool
  self.pool = name
  local list = name and pool[name]
  while list and #list > 0 do
    local e = table.remove(list)
    -- An idle connection is readable only when the server closed it (or
    -- broke the protocol): drop it, as nginx's keepalive pool and Go's
    -- Transport do, so that a request (a POST too) is not sent on it.
    local fd = e.sock:fd()
    if e.expires > now() and not core.poll({ fd }, {}, 0)[fd] then
      self.s, self.reused = e.sock, e.reused + 1
      return true
    end
    e.sock:close()
  end
  local s, err = core.sock_connect(host, port)
  if not s then return nil, err end
  if not M.wait_fd(s:fd(), "w", self.ct) then s:close(); return nil, "timeout" end
  local ok, cerr = s:connect_result()
  if not ok then s:close(); return nil, cerr end
  self.s, self.reused = s, 0
  return true
end

function Sock:getreusedtimes() return self.reused end

function Sock:send(data)
  local s = self.s
  if not s then return nil, "closed" end
  local from = 1
  while from <= #data do
    local n, err = s:send(data, from)
    if not n then return nil, err end
    if n == 0 then
      if not M.wait_fd(s:fd(), "w", self.st) then return nil, "timeout" end
    else
      from = from + n
    end
  end
  return #data
end

function Sock:receiveany(max)
  local s = self.s
  if not s then return nil, "closed" end
  while true do
    local d, err = s:recv(max)
    if d then return d end
    if d == nil then return nil, err end
    if not M.wait_fd(s:fd(), "r", self.rt) then return nil, "timeout" end
  end
end

function Sock:close()
  if self.s then self.s:close(); self.s = nil end
  return true
end

function Sock:setkeepalive(timeout_ms)
  if not self.s or not self.pool then return self:close() end
  local list = pool[self.pool] or {}
  pool[self.pool] = list
  list[#list + 1] = { sock = self.s, reused = self.reused, expires = now() + (timeout_ms or 60000) / 1000 }
  self.s = nil
  return true
end

-- ---- the driver and the dispatch of pending calls ----
local opts = { PoolSize = 8, IdleTimeout = 60, ConnectTimeout = 10, ReadTimeout = 300, WatchReadSlice = 5 }
local stopping = false
local driver = require("k8s.driver").new({
  tcp = M.tcp,
  sleep = M.sleep,
  now = now,
  exiting = function() return stopping end,
  pid = 0,
}, opts)
M.driver = driver
M.stats = driver.stats
M.Watcher = driver.Watcher

local drive = require "k8s.drive"
drive.install()
drive.add(function(call)
  if M.in_task() then return true, driver.run(call) end
  return false
end)

--- configure(options): the driver's options inside k8s.Run (as k8s.ngx.configure).
function M.configure(o)
  for k, v in pairs(o) do
    if opts[k] == nil then error("k8s.loop.configure: unknown option " .. tostring(k), 2) end
    if type(v) ~= "number" or v <= 0 then error("k8s.loop.configure: " .. k .. " must be a positive number", 2) end
    opts[k] = v
  end
end

-- ---- the scheduler ----
local waiting = {}   -- task -> wait spec

local function resume(t, ...)
  current = t
  local ok, w = coroutine.resume(t.co, ...)
  current = nil
  if not ok then
    io.stderr:write("k8s.loop: task failed: ", tostring(w), "\n", debug.traceback(t.co), "\n")
    t:cancel()
    t.err = w
    return
  end
  if coroutine.status(t.co) == "dead" then
    t:cancel()
    return
  end
  if type(w) == "table" then
    waiting[t] = w
  else -- a bare coroutine.yield(): run again at the next step
    ready[#ready + 1] = t
  end
end

--- Run(seconds | fn | nil): drive the tasks for seconds, until fn() returns
-- true, or (nil) until no task is left. Returns true, or false when it
-- stopped because no task was left while fn had not returned true.
function M.Run(arg)
  local deadline = type(arg) == "number" and now() + arg or nil
  local until_fn = type(arg) == "function" and arg or nil
  if arg ~= nil and not deadline and not until_fn then
    error("k8s.Run: expects seconds (number), a function, or nothing", 2)
  end
  if M.in_task() then error("k8s.Run: called from a task of the loop", 2) end
  core.set_driver(true)
  local ok, res = pcall(function()
    while true do
      local batch = ready
      ready = {}
      for i = 1, #batch do
        if tasks[batch[i]] then resume(batch[i]) end
      end
      if until_fn and until_fn() then return true end
      local t0 = now()
      if deadline and t0 >= deadline then return true end
      if ntasks == 0 then return until_fn == nil end
      if joins > 0 then
        for t, w in pairs(waiting) do -- joins whose tasks have all finished
          if w.join and (w.join() or not tasks[t]) then
            waiting[t] = nil
            joins = joins - 1
            if tasks[t] then ready[#ready + 1] = t end
          end
        end
      end
      if #ready == 0 then
        local rfds, wfds, by_fd, wake = {}, {}, {}, deadline
        for t, w in pairs(waiting) do
          if not tasks[t] then
            waiting[t] = nil
          else
            if w.fd then
              by_fd[w.fd] = t
              if w.dir == "r" then rfds[#rfds + 1] = w.fd else wfds[#wfds + 1] = w.fd end
            end
            if w.wake and (not wake or w.wake < wake) then wake = w.wake end
          end
        end
        local timeout = wake and math.max(0, wake - now()) or -1
        if until_fn and (timeout < 0 or timeout > 0.5) then timeout = 0.5 end
        local R, W = core.poll(rfds, wfds, timeout)
        local t1 = now()
        for t, w in pairs(waiting) do
          local fired
          if w.fd and (R[w.fd] or W[w.fd]) then fired = true
          elseif w.wake and w.wake <= t1 then fired = not w.fd end -- an fd wait that timed out: false
          if fired ~= nil then
            waiting[t] = nil
            if tasks[t] then
              ready[#ready + 1] = t
              t.resume_with = fired
            end
          end
        end
        local batch2 = ready
        ready = {}
        for i = 1, #batch2 do
          local t = batch2[i]
          if tasks[t] then
            local v = t.resume_with
            t.resume_with = nil
            resume(t, v)
          end
        end
      end
    end
  end)
  core.set_driver(false)
  if not ok then error(res, 0) end
  return res
end

--- tasks_count() -> how many tasks are alive.
function M.tasks_count() return ntasks end

return M

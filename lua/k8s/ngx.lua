--- The OpenResty/nginx driver: the same calls, without blocking the worker.
-- Loaded by `require "k8s"` when running inside nginx's lua module. Every
-- call that talks to the server (resource verbs, RESTClient Do/DoRaw/Stream/
-- Watch, discovery, dynamic, pager) is decided by the C engine (src/call.c)
-- and carried out here: cosockets move the bytes (TLS and HTTP/1.1 run in C
-- over memory buffers), ngx.sleep waits, exec plugins are polled, auth
-- provider Token() runs as ordinary Lua (it may use cosockets itself).
--
-- Phases: rewrite, access, content, ngx.timer.* and the ssl_* phases yield;
-- init_by_lua* blocks (the libcurl driver, as outside nginx); elsewhere
-- (init_worker, set, log, header/body filters) a call returns nil, err with
-- reason "NotYieldable".
--
-- Options: k8s.ngx.configure{ PoolSize = 8, IdleTimeout = 60, ConnectTimeout = 10,
--                              ReadTimeout = 300, WatchReadSlice = 5, Blocking = false }
-- (Blocking = true runs every call with the blocking libcurl driver, which
-- stalls the worker: only for comparison, as `make bench` does.)
-- @module k8s.ngx
local core = require "k8s.core"

local ngx = ngx

local M = {}

local opts = {
  PoolSize = 8,          -- idle keep-alive connections kept per cluster + TLS identity, per worker
  IdleTimeout = 60,      -- seconds an idle connection is kept
  ConnectTimeout = 10,   -- seconds
  ReadTimeout = 300,     -- seconds without a byte before a request without Timeout fails
  WatchReadSlice = 5,    -- watches read in slices this long, checking ngx.worker.exiting()
  Blocking = false,      -- true: the blocking libcurl driver (stalls the worker; for comparison only)
}

--- configure(options): change the driver's options (see the module comment).
function M.configure(o)
  if type(o) ~= "table" then error("k8s.ngx.configure: options must be a table", 2) end
  for k, v in pairs(o) do
    if opts[k] == nil then error("k8s.ngx.configure: unknown option " .. tostring(k), 2) end
    if type(opts[k]) == "boolean" then
      if type(v) ~= "boolean" then error("k8s.ngx.configure: " .. k .. " must be a boolean", 2) end
    elseif type(v) ~= "number" or v <= 0 then
      error("k8s.ngx.configure: " .. k .. " must be a positive number", 2)
    end
    opts[k] = v
  end
end

local yieldable = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true,
}

local driver = require("k8s.driver").new({
  tcp = function() return ngx.socket.tcp() end,
  sleep = function(s) return ngx.sleep(s) end,
  now = function() return ngx.now() end,
  exiting = function() return ngx.worker.exiting() end,
  pid = ngx.worker.pid(),
}, opts)
local run, err = driver.run, driver.err

local function drive(call)
  local phase = ngx.get_phase()
  if phase == "init" or opts.Blocking then
    return call:run_blocking() -- the master may block at start-up (libcurl)
  end
  if not yieldable[phase] then
    call:close()
    return nil, err("NotYieldable", "k8s: cannot talk to the API server in the " .. phase ..
      " phase of nginx (cosockets are not available there); call it from a request phase or ngx.timer.at(0, ...)")
  end
  local ok, a, b = pcall(run, call)
  if not ok then
    call:close()
    error(a, 0)
  end
  return a, b
end

local drv = require "k8s.drive"
drv.install()
drv.add(function(call) return true, drive(call) end)
core.set_driver(true)

--- in_nginx(): true (this module is only loaded inside nginx).
function M.in_nginx() return true end

--- SharedInformer(opts | name): an informer cache in a lua_shared_dict,
-- run by one worker and read by all (see lua/k8s/ngxinformer.lua).
function M.SharedInformer(o) return require("k8s.ngxinformer").SharedInformer(o) end

M.idle_connections = driver.idle_connections
M.stats = driver.stats

return M

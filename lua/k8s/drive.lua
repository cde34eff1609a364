--- Dispatch of pending calls. In driver mode the binding returns a call
-- pending (k8s.core.PENDING, call) instead of running it; every method that
-- can talk to the server is wrapped here so that the pending call is carried
-- out by the driver of the running environment: nginx (k8s.ngx), the
-- plain-Lua loop inside k8s.Run (k8s.loop), or else the blocking driver.
-- @module k8s.drive
local core = require "k8s.core"

local PENDING = core.PENDING
local M = {}

local dispatchers = {}

--- add(fn): fn(call) -> handled, result, err. The last one added is asked first.
function M.add(fn)
  table.insert(dispatchers, 1, fn)
end

local function settle(first, ...)
  if first ~= PENDING then return first, ... end
  local call = ...
  for i = 1, #dispatchers do
    local handled, a, b = dispatchers[i](call)
    if handled then return a, b end
  end
  return call:run_blocking()
end

local wrapped = false
--- install(): wrap the methods that execute requests (once per Lua state).
function M.install()
  if wrapped then return end
  wrapped = true
  core.wrap_methods(function(f)
    return function(...) return settle(f(...)) end
  end)
end

return M

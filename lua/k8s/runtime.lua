--- The running environment for long-running machinery (informers, leader
-- election, wait loops): the same calls inside nginx (timers, ngx.sleep) and
-- in plain Lua (tasks of k8s.loop, driven by k8s.Run).
--   local rt = require "k8s.runtime"
--   rt.spawn(function() while not rt.exiting() do ... rt.sleep(1) end end)
-- @module k8s.runtime
local core = require "k8s.core"

local M = {}

if type(ngx) == "table" and type(ngx.get_phase) == "function" and ngx.config and ngx.config.ngx_lua_version then
  M.nginx = true
  --- spawn(fn, ...): run fn(...) concurrently (nginx: ngx.timer.at(0)).
  function M.spawn(fn, ...)
    local ok, err = ngx.timer.at(0, function(premature, ...)
      if premature then return end
      local ok2, e = pcall(fn, ...)
      if not ok2 then ngx.log(ngx.ERR, "k8s: task failed: ", tostring(e)) end
    end, ...)
    if not ok then return nil, err end
    return true
  end
  --- sleep(seconds): yield for that long.
  function M.sleep(s) return ngx.sleep((s and s > 0.001) and s or 0.001) end
  --- now(): monotonic-ish seconds (ngx.now after update_time).
  function M.now() ngx.update_time(); return ngx.now() end
  --- walltime(): Unix seconds with microseconds.
  M.walltime = M.now
  --- exiting(): true when the worker is shutting down.
  function M.exiting() return ngx.worker.exiting() end
else
  local loop = require "k8s.loop"
  M.nginx = false
  function M.spawn(fn, ...) return loop.spawn(fn, ...) end
  M.sleep = loop.sleep
  M.now = loop.now
  M.walltime = core.walltime
  function M.exiting() return false end
end

return M

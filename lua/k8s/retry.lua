--- client-go's util/retry: run a function again while it fails with an error
-- worth retrying, sleeping per an exponential backoff (apimachinery's
-- wait.Backoff and wait.ExponentialBackoff).
--   local err = k8s.retry.RetryOnConflict(k8s.retry.DefaultRetry, function()
--     local cm, err = cms:Get("settings")          -- re-read on every try
--     if not cm then return err end
--     cm.data.mode = "on"
--     local _, uerr = cms:Update(cm)
--     return uerr                                  -- nil: done; a Conflict: tried again
--   end)
-- fn returns nil (or nothing) on success and the error otherwise. `return nil,
-- err` counts as the error err too, so that `return client:Update(obj)` can
-- never take a failure for a success; but note that such a call returns the
-- object on success, which would be taken for an error: return its error only.
-- A Lua error raised by fn (or by retriable) is not caught: it propagates.
--
-- A backoff is a table with wait.Backoff's fields, durations in seconds:
-- Duration, Factor, Jitter, Steps, Cap, and, an extension, Sleep (a
-- function(seconds) used instead of the default sleep; tests use it to see
-- the requested sleeps). The default sleep is k8s.runtime's: ngx.sleep inside
-- nginx, a yield to the loop inside a task of k8s.Run, else a blocking wait.
-- The caller's table is never changed (Go passes a Backoff by value).
-- @module k8s.retry
local errors = require "k8s.errors"

local M = {}

--- DefaultRetry: the recommended retry for a conflict where multiple clients
-- are making changes to the same resource (5 tries, 10 ms apart, +10 % jitter).
M.DefaultRetry = { Steps = 5, Duration = 0.010, Factor = 1.0, Jitter = 0.1 }

--- DefaultBackoff: the recommended backoff for a conflict where a client may
-- be attempting to make an unrelated modification to a resource under active
-- management by one or more controllers (4 tries, sleeping 10, 50, 250 ms, +10 % jitter).
M.DefaultBackoff = { Steps = 4, Duration = 0.010, Factor = 5.0, Jitter = 0.1 }

--- ErrWaitTimeout's message (apimachinery's wait.ErrWaitTimeout).
M.ErrWaitTimeoutMessage = "timed out waiting for the condition"

local function wait_timeout()
  return errors.New("Timeout", M.ErrWaitTimeoutMessage)
end

-- a private copy of a backoff table, checked; level: the caller to blame
local function copy_backoff(b, level)
  if type(b) ~= "table" then error("backoff must be a table (wait.Backoff), got " .. type(b), level + 1) end
  local c = { Sleep = b.Sleep }
  if c.Sleep ~= nil and type(c.Sleep) ~= "function" then
    error("backoff.Sleep must be a function, got " .. type(c.Sleep), level + 1)
  end
  for _, k in ipairs { "Duration", "Factor", "Jitter", "Steps", "Cap" } do
    local v = b[k]
    if v ~= nil and type(v) ~= "number" then
      error("backoff." .. k .. " must be a number, got " .. type(v), level + 1)
    end
    c[k] = v or 0
  end
  c.Steps = math.floor(c.Steps)
  return c
end

--- Jitter(duration, maxFactor): duration plus a random amount up to
-- maxFactor * duration (maxFactor <= 0 means 1), as wait.Jitter.
function M.Jitter(duration, maxFactor)
  if maxFactor <= 0 then maxFactor = 1.0 end
  return duration + math.random() * maxFactor * duration
end

--- Step(backoff) -> seconds: wait.Backoff's Step. Returns the duration to
-- sleep now (Duration, plus jitter) and updates backoff in place: while Steps
-- is positive, Steps goes down by one and Duration is multiplied by Factor
-- (when not 0); a product beyond Cap (when Cap > 0) becomes Cap and sets
-- Steps to 0. With Steps not positive, Duration no longer changes.
function M.Step(b)
  if b == nil then return 0 end
  local steps, duration, cap, factor, jitter = b.Steps or 0, b.Duration or 0, b.Cap or 0, b.Factor or 0, b.Jitter or 0
  if steps < 1 then
    if jitter > 0 then return M.Jitter(duration, jitter) end
    return duration
  end
  steps = steps - 1
  local next_d
  if factor ~= 0 then
    next_d = duration * factor
    if cap > 0 and next_d > cap then
      next_d = cap
      steps = 0
    end
  else
    next_d = duration
  end
  local now_d = duration
  if jitter > 0 then now_d = M.Jitter(duration, jitter) end
  b.Duration, b.Steps = next_d, steps
  return now_d
end

local function sleep(b, s)
  if b.Sleep then return b.Sleep(s) end
  return require("k8s.runtime").sleep(s)
end

-- fn's result: the error, or nil on success (see the module comment)
local function result_err(a, b)
  if a == nil or a == false then
    if b ~= nil and b ~= false then return b end
    return nil
  end
  return a
end

-- wait.ExponentialBackoff on a private backoff b: err, and whether the steps ran out
local function exponential(b, condition)
  while b.Steps > 0 do
    local ok, err = condition()
    if err ~= nil or ok then return err, false end
    if b.Steps == 1 then break end
    sleep(b, M.Step(b))
  end
  return wait_timeout(), true
end

--- ExponentialBackoff(backoff, condition) -> nil | err: wait.ExponentialBackoff.
-- condition() returns done, err. It is called at most backoff.Steps times,
-- sleeping Step(backoff) between two calls (none after the last); it stops at
-- done (nil) or an error (returned). Running out of steps returns
-- ErrWaitTimeout: reason "Timeout", "timed out waiting for the condition". As
-- in apimachinery, reaching Cap sets Steps to 0, which ends the loop after
-- that sleep, without another call.
function M.ExponentialBackoff(backoff, condition)
  if type(condition) ~= "function" then error("ExponentialBackoff: condition must be a function", 2) end
  return (exponential(copy_backoff(backoff, 2), condition))
end

--- OnError(backoff, retriable, fn) -> nil | err: retry fn while retriable(err)
-- is true, sleeping per backoff between tries (at most backoff.Steps tries).
-- Returns nil once fn succeeds, fn's error at once when it is not retriable,
-- and the last error when the tries run out (ErrWaitTimeout only when fn was
-- never called: Steps <= 0).
function M.OnError(backoff, retriable, fn)
  if type(retriable) ~= "function" then error("OnError: retriable must be a function", 2) end
  if type(fn) ~= "function" then error("OnError: fn must be a function", 2) end
  local last
  local err, interrupted = exponential(copy_backoff(backoff, 2), function()
    local e = result_err(fn())
    if e == nil then return true, nil end
    if retriable(e) then
      last = e
      return false, nil
    end
    return false, e
  end)
  if interrupted and last ~= nil then return last end
  return err
end

--- RetryOnConflict(backoff, fn) -> nil | err: OnError(backoff, k8s.errors.IsConflict, fn).
-- fn should fetch the object, change it and update it, returning the update's
-- error unchanged, so that a 409 Conflict is recognised and fn runs again
-- (with a fresh read) after the backoff's sleep.
function M.RetryOnConflict(backoff, fn)
  if type(fn) ~= "function" then error("RetryOnConflict: fn must be a function", 2) end
  copy_backoff(backoff, 2) -- an invalid backoff is blamed on the caller
  return M.OnError(backoff, errors.IsConflict, fn)
end

return M

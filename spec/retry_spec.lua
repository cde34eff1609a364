-- k8s.retry (client-go's util/retry) on both drivers: RetryOnConflict
-- against a real conflicting writer (a real 409 from the server, the retry
-- re-reads and both writers' changes survive), OnError's stop on a
-- non-retriable error and on exhaustion (the last error after exactly Steps
-- tries), the sleeps wait.Backoff asks for (Factor, Jitter, Cap) seen through
-- an injected Sleep (never measured), and a Lua error from fn propagating.
local H = require "spec.helper"
local k8s = require "k8s"

local retry = k8s.retry
local errors = k8s.errors

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- a copy of backoff whose sleeps are recorded instead of slept
local function recording(backoff)
  local b, sleeps = copy(backoff), {}
  b.Sleep = function(s) sleeps[#sleeps + 1] = s end
  return b, sleeps
end

describe("k8s.retry (" .. H.interpreter .. ")", function()
  it("DefaultRetry and DefaultBackoff are client-go's (seconds)", function()
    assert.same({ Steps = 5, Duration = 0.010, Factor = 1.0, Jitter = 0.1 }, retry.DefaultRetry)
    assert.same({ Steps = 4, Duration = 0.010, Factor = 5.0, Jitter = 0.1 }, retry.DefaultBackoff)
    assert.equal(retry, require "k8s.retry")
  end)

  it("OnError with a non-retriable error returns it after one try, without sleeping", function()
    local b, sleeps = recording(retry.DefaultRetry)
    local tries = 0
    local e = { reason = "Forbidden" }
    local err = retry.OnError(b, function(x) return x.reason == "Conflict" end, function()
      tries = tries + 1
      return e
    end)
    assert.equal(e, err)
    assert.equal(1, tries)
    assert.same({}, sleeps)
  end)

  it("OnError returns the last error after exactly Steps tries, sleeping Steps-1 times", function()
    for _, steps in ipairs { 1, 2, 5 } do
      local b, sleeps = recording({ Steps = steps, Duration = 0.01, Factor = 1, Jitter = 0 })
      local tries = 0
      local err = retry.OnError(b, function() return true end, function()
        tries = tries + 1
        return { try = tries }
      end)
      assert.equal(steps, tries)
      assert.same({ try = steps }, err)
      assert.equal(steps - 1, #sleeps)
    end
  end)

  it("OnError returns nil once fn succeeds; `nil, err` counts as the error err", function()
    local b, sleeps = recording(retry.DefaultRetry)
    local tries = 0
    local err = retry.OnError(b, function(e) return e == "again" end, function()
      tries = tries + 1
      if tries < 3 then return nil, "again" end -- the `return client:Update(obj)` failure form
    end)
    assert.is_nil(err)
    assert.equal(3, tries)
    assert.equal(2, #sleeps)
    -- false is success too
    assert.is_nil(retry.OnError(retry.DefaultRetry, function() return true end, function() return false end))
  end)

  it("the sleeps are wait.Backoff's steps: Duration times Factor, jitter within Jitter*Duration", function()
    local b, sleeps = recording({ Steps = 4, Duration = 0.010, Factor = 5.0, Jitter = 0 })
    retry.OnError(b, function() return true end, function() return "e" end)
    assert.equal(3, #sleeps)
    local want = { 0.010, 0.050, 0.250 }
    for i, w in ipairs(want) do assert.near(w, sleeps[i], 1e-12) end

    -- DefaultBackoff: the same durations, each with up to +10 % jitter
    b, sleeps = recording(retry.DefaultBackoff)
    retry.OnError(b, function() return true end, function() return "e" end)
    assert.equal(3, #sleeps)
    for i, w in ipairs(want) do
      assert.is_true(sleeps[i] >= w - 1e-12 and sleeps[i] <= w * 1.1 + 1e-12, "sleep " .. i .. ": " .. sleeps[i])
    end

    -- DefaultRetry: Factor 1, four sleeps of 10 ms (+ up to 10 %)
    b, sleeps = recording(retry.DefaultRetry)
    retry.OnError(b, function() return true end, function() return "e" end)
    assert.equal(4, #sleeps)
    for i = 1, 4 do assert.is_true(sleeps[i] >= 0.010 - 1e-12 and sleeps[i] <= 0.011 + 1e-12) end

    -- Cap: the duration that would pass Cap becomes Cap and Steps drops to 0,
    -- which ends ExponentialBackoff after that sleep (apimachinery's behaviour)
    b, sleeps = recording({ Steps = 10, Duration = 1, Factor = 3, Cap = 5 })
    local tries = 0
    local err = retry.OnError(b, function() return true end, function() tries = tries + 1; return "e" .. tries end)
    assert.equal(2, tries)
    assert.equal("e2", err)
    assert.same({ 1, 3 }, sleeps)

    -- Step itself, as wait.Backoff.Step
    local s = { Steps = 3, Duration = 2, Factor = 2, Cap = 6 }
    assert.equal(2, retry.Step(s)); assert.same({ Steps = 2, Duration = 4, Factor = 2, Cap = 6 }, s)
    assert.equal(4, retry.Step(s)); assert.same({ Steps = 0, Duration = 6, Factor = 2, Cap = 6 }, s)
    assert.equal(6, retry.Step(s)); assert.same({ Steps = 0, Duration = 6, Factor = 2, Cap = 6 }, s)
  end)

  it("the caller's backoff table is not changed (Go passes a Backoff by value)", function()
    local b, sleeps = recording(retry.DefaultBackoff)
    local before = copy(b)
    retry.OnError(b, function() return true end, function() return "e" end)
    assert.same(before, b)
    assert.equal(3, #sleeps)
    assert.same({ Steps = 4, Duration = 0.010, Factor = 5.0, Jitter = 0.1 }, retry.DefaultBackoff)
  end)

  it("Steps <= 0: fn is never called and the result is ErrWaitTimeout", function()
    local tries = 0
    local err = retry.OnError({ Steps = 0, Duration = 0.01 }, function() return true end, function() tries = tries + 1 end)
    assert.equal(0, tries)
    assert.equal("Timeout", err.reason)
    assert.equal("timed out waiting for the condition", err.message)
    assert.matches("timed out waiting for the condition", tostring(err), 1, true)
  end)

  it("a Lua error raised by fn or by retriable propagates", function()
    local b, sleeps = recording(retry.DefaultRetry)
    local tries = 0
    local ok, msg = pcall(retry.RetryOnConflict, b, function()
      tries = tries + 1
      error("boom in fn")
    end)
    assert.is_false(ok)
    assert.matches("boom in fn", msg, 1, true)
    assert.equal(1, tries)
    assert.same({}, sleeps)
    ok, msg = pcall(retry.OnError, b, function() error("boom in retriable") end, function() return "e" end)
    assert.is_false(ok)
    assert.matches("boom in retriable", msg, 1, true)
  end)

  it("invalid arguments raise", function()
    assert.has_error(function() retry.OnError(nil, function() end, function() end) end)
    assert.has_error(function() retry.OnError(retry.DefaultRetry, nil, function() end) end)
    assert.has_error(function() retry.OnError(retry.DefaultRetry, function() end, nil) end)
    assert.has_error(function() retry.RetryOnConflict(retry.DefaultRetry) end)
    assert.has_error(function() retry.RetryOnConflict({ Steps = "5" }, function() end) end)
    assert.has_error(function() retry.RetryOnConflict({ Steps = 5, Sleep = 1 }, function() end) end)
  end)
end)

describe("k8s.retry.RetryOnConflict against the server (" .. H.interpreter .. ")", function()
  local cs, other, ns

  setup(function()
    cs = assert(k8s.NewForConfig(H.config("admin-token")))
    other = assert(k8s.NewForConfig(H.config("admin-cert"))) -- the second writer, its own connections
    ns = H.namespace(cs)
  end)

  teardown(function()
    H.cleanup_namespaces()
  end)

  for _, d in ipairs(H.DRIVERS) do
    it("re-reads after a real 409 and keeps both writers' changes (" .. d.name .. ")", function()
      d.run(function()
        local cms = cs:CoreV1():ConfigMaps(ns)
        local name = H.name("rc")
        assert(cms:Create({ metadata = { name = name }, data = { base = "0" } }))
        local b, sleeps = recording(retry.DefaultRetry)
        local tries, seen = 0, {}
        local err = retry.RetryOnConflict(b, function()
          tries = tries + 1
          local cm, gerr = cms:Get(name)
          if not cm then return gerr end
          if tries <= 2 then
            -- the other writer changes the object after our read: our copy is stale
            local o = assert(other:CoreV1():ConfigMaps(ns):Get(name))
            o.data["other" .. tries] = "x"
            assert(other:CoreV1():ConfigMaps(ns):Update(o))
          end
          cm.data.mine = "yes"
          local _, uerr = cms:Update(cm)
          seen[#seen + 1] = uerr or false
          return uerr
        end)
        assert.is_nil(err)
        assert.equal(3, tries)
        assert.equal(2, #sleeps)
        -- the first two updates got the server's 409 Conflict
        for i = 1, 2 do
          assert.is_true(errors.IsConflict(seen[i]), tostring(seen[i]))
          assert.equal(409, seen[i].code)
          assert.matches("the object has been modified", seen[i].message, 1, true)
        end
        assert.is_false(seen[3])
        local final = assert(cms:Get(name))
        assert.same({ base = "0", other1 = "x", other2 = "x", mine = "yes" }, final.data)
      end)
    end)

    it("gives up after Steps tries with the last 409, and sleeps with the default sleep (" .. d.name .. ")", function()
      d.run(function()
        local cms = cs:CoreV1():ConfigMaps(ns)
        local name = H.name("rx")
        assert(cms:Create({ metadata = { name = name }, data = { n = "0" } }))
        local tries = 0
        -- no Sleep: k8s.runtime's (a yield to the loop in a task, else a blocking wait)
        local err = retry.RetryOnConflict({ Steps = 3, Duration = 0.001, Factor = 1, Jitter = 0 }, function()
          tries = tries + 1
          local cm = assert(cms:Get(name))
          local o = assert(other:CoreV1():ConfigMaps(ns):Get(name))
          o.data.n = tostring(tries)
          assert(other:CoreV1():ConfigMaps(ns):Update(o))
          local _, uerr = cms:Update(cm)
          return uerr
        end)
        assert.equal(3, tries)
        assert.is_true(errors.IsConflict(err), tostring(err))
        assert.equal("3", assert(cms:Get(name)).data.n)
      end)
    end)
  end
end)

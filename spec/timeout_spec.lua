-- A Timeout bounds the whole call, retries and waits included (client-go's
-- context deadline over its retry loop), not each attempt. A fake server
-- (tests/fakewatch retryafter; faults the real API server will not produce
-- on demand) answers 429 with Retry-After: 5: with a Timeout of 1 s the call
-- ends at once with the server's 429 Status instead of waiting the
-- Retry-After and sending again; on the blocking libcurl driver and on the
-- plain-Lua loop (k8s.Run, the cosocket-style driver). The fake server
-- counts the requests it received; no assertion depends on timing: one
-- request and the server's 429 prove the Retry-After was not waited for and
-- nothing was sent again (the deadline would have made it a Timeout).
local k8s = require "k8s"
local H = require "spec.helper"

local errors = k8s.errors
local interpreter = (jit and "luajit") or _VERSION
-- the fake server is a helper, not code under test: the plain build (as watch_spec)
local BUILD = "build"

-- the blocking default and the plain-Lua loop (spec/helper.lua)
local DRIVERS = H.DRIVERS

-- Start the fake server: its URL and the pipe it reports on.
local function fake()
  local p = assert(io.popen(BUILD .. "/tests/fakewatch retryafter"))
  local url = p:read("*l")
  assert(url and url:match("^http://127%.0%.0%.1:%d+$"), "fakewatch did not start")
  return url, p
end

local function rest_client(url, extra)
  local c = { Host = url, APIPath = "/api", ContentConfig = { GroupVersion = "v1" }, QPS = -1 }
  for k, v in pairs(extra or {}) do c[k] = v end
  return assert(k8s.rest.RESTClientFor(c))
end

-- Stop the fake server (a GET /stop, on the blocking driver): how many
-- requests it received before.
local function requests(url, p)
  rest_client(url):Get():AbsPath("/stop"):Do()
  local line = p:read("*l")
  p:close()
  return tonumber(line and line:match("^requests (%d+)$"))
end

local function assert_429(err)
  assert.is_table(err)
  assert.equal(429, err.code)
  assert.equal("TooManyRequests", err.reason)
  assert.is_true(errors.IsTooManyRequests(err))
  assert.equal(5, err.retryAfterSeconds)
end

describe("Timeout bounds the whole call (" .. interpreter .. ")", function()
  for _, d in ipairs(DRIVERS) do
    it(d.name .. ": the config's Timeout 1 s and a Retry-After of 5 s: the 429 at once, one request", function()
      local url, p = fake()
      local obj, err
      local ok, e = pcall(d.run, function()
        local cs = assert(k8s.NewForConfig({ Host = url, Timeout = 1, QPS = -1 }))
        obj, err = cs:CoreV1():ConfigMaps("default"):Get("cm")
      end)
      local n = requests(url, p)
      assert(ok, e)
      assert.is_nil(obj)
      assert_429(err)
      assert.equal(1, n)
    end)

    it(d.name .. ": the request's Timeout(1): the same", function()
      local url, p = fake()
      local res
      local ok, e = pcall(d.run, function()
        local rc = rest_client(url)
        res = rc:Get():Namespace("default"):Resource("configmaps"):Name("cm"):Timeout(1):Do()
      end)
      local n = requests(url, p)
      assert(ok, e)
      assert.equal(429, res:StatusCode())
      assert_429(res:Error())
      assert.equal(1, n)
    end)

    it(d.name .. ": the Timeout bounds the whole attempt, not each read (a body dripping for 3 s)", function()
      local p = assert(io.popen(BUILD .. "/tests/fakewatch drip"))
      local url = p:read("*l")
      assert(url and url:match("^http://127%.0%.0%.1:%d+$"), "fakewatch did not start")
      local obj, err
      local ok, e = pcall(d.run, function()
        local cs = assert(k8s.NewForConfig({ Host = url, Timeout = 1, QPS = -1 }))
        obj, err = cs:CoreV1():ConfigMaps("default"):Get("cm")
      end)
      p:close()
      assert(ok, e)
      assert.is_nil(obj)
      assert.is_table(err)
      assert.equal("Timeout", err.reason)
    end)
  end
end)

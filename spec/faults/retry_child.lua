-- A child of spec/faults/shutdown_spec.lua (row 14): one GET of a ConfigMap
-- with the default retry policy on one driver, in a process of its own so
-- that the spec can act while the call waits, and read what the call did
-- from the client's own debug log (K8S_LUA_V=6, on stderr: each attempt's
-- status, each Retry-After honoured).
-- Usage: retry_child.lua DRIVER NAMESPACE NAME; prints "RESULT <json>".
local k8s = require "k8s"
local H = require "spec.helper"

local dname, ns, name = ...
local d
for _, x in ipairs(H.DRIVERS) do
  if x.name == dname then d = x end
end
assert(d, "no driver " .. tostring(dname))

local R = {}
local ok, e = pcall(d.run, function()
  local cs = assert(k8s.NewForConfig(H.config("admin-token")))
  local o, err = cs:CoreV1():ConfigMaps(ns):Get(name)
  R.name = o and o.metadata.name
  if err then R.err = { code = err.code, reason = err.reason, message = err.message } end
end, 120)
if not ok then R.crash = tostring(e) end
io.stderr:flush()
io.stdout:write("RESULT ", k8s.json.encode(R), "\n")

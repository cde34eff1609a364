-- Server-side apply: apply a ConfigMap twice with a change, show which
-- field manager owns what, then show a conflict between two managers and
-- how `force` resolves it. Uses a namespace of its own.
--   KUBECONFIG=~/.kube/config lua5.4 examples/apply.lua
local k8s = require "k8s"

local config = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))
local cs = assert(k8s.NewForConfig(config))

local ns = string.format("example-apply-%d-%d", os.time(), math.random(1000, 9999))
assert(cs:CoreV1():Namespaces():Create({ metadata = { name = ns } }))
print("created namespace " .. ns)

local function show(cm)
  local keys = {}
  for k, v in pairs(cm.data or {}) do keys[#keys + 1] = k .. "=" .. v end
  table.sort(keys)
  print("  data: { " .. table.concat(keys, ", ") .. " }  resourceVersion " .. cm.metadata.resourceVersion)
  for _, mf in ipairs(cm.metadata.managedFields or {}) do
    local owned = {}
    local fdata = mf.fieldsV1 and mf.fieldsV1["f:data"]
    for f in pairs(type(fdata) == "table" and fdata or {}) do owned[#owned + 1] = f:gsub("^f:", "") end
    table.sort(owned)
    print(string.format("  managedFields: manager %q, operation %s, owns data: %s", mf.manager, mf.operation,
      table.concat(owned, ", ")))
  end
end

local ok, failure = pcall(function()
  local cms = cs:CoreV1():ConfigMaps(ns)
  local desired = {
    apiVersion = "v1", kind = "ConfigMap",
    metadata = { name = "applied" },
    data = { replicas = "1", mode = "fast" },
  }

  print("apply #1 as manager example-apply:")
  show(assert(cms:Apply(desired, { fieldManager = "example-apply" })))

  desired.data.replicas = "3"
  desired.data.mode = nil -- no longer in our configuration: the server removes it
  print("apply #2 with a change (replicas=3, mode dropped):")
  show(assert(cms:Apply(desired, { fieldManager = "example-apply" })))

  local theirs = { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "applied" }, data = { replicas = "5" } }
  local _, err = cms:Apply(theirs, { fieldManager = "other-tool" })
  print("apply by other-tool: " .. tostring(err))
  print("  IsConflict: " .. tostring(k8s.errors.IsConflict(err)))

  print("apply by other-tool with force = true:")
  show(assert(cms:Apply(theirs, { fieldManager = "other-tool", force = true })))
end)

assert(cs:CoreV1():Namespaces():Delete(ns))
print("deleted namespace " .. ns)
if not ok then error(failure, 0) end

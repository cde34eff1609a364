-- Create, Get, Update, Patch, List and Delete a ConfigMap with the typed
-- clientset, in a namespace of its own that it deletes at the end.
--   KUBECONFIG=~/.kube/config lua5.4 examples/crud_configmap.lua
local k8s = require "k8s"

local config = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))
local cs = assert(k8s.NewForConfig(config))

local ns = string.format("example-crud-%d-%d", os.time(), math.random(1000, 9999))
assert(cs:CoreV1():Namespaces():Create({ metadata = { name = ns } }))
print("created namespace " .. ns)

local ok, failure = pcall(function()
  local cms = cs:CoreV1():ConfigMaps(ns)

  -- Create
  local cm = assert(cms:Create({
    metadata = { name = "settings", labels = { app = "example" } },
    data = { color = "blue", size = "10" },
  }))
  print(string.format("Create: %s/%s (resourceVersion %s)", cm.metadata.namespace, cm.metadata.name,
    cm.metadata.resourceVersion))

  -- Get
  cm = assert(cms:Get("settings"))
  print("Get: color = " .. cm.data.color)

  -- Update: change the object we read and send it back whole
  cm.data.color = "green"
  cm = assert(cms:Update(cm))
  print("Update: color = " .. cm.data.color .. " (resourceVersion " .. cm.metadata.resourceVersion .. ")")

  -- an Update with an old resourceVersion is a conflict
  local stale = assert(cms:Get("settings"))
  assert(cms:Patch("settings", k8s.types.MergePatchType, { data = { color = "red" } })) -- someone else writes
  stale.data.color = "yellow"
  local _, err = cms:Update(stale)
  print("Update with a stale resourceVersion: " .. tostring(err) ..
    " (IsConflict: " .. tostring(k8s.errors.IsConflict(err)) .. ")")

  -- Patch: a JSON merge patch; null removes a key
  cm = assert(cms:Patch("settings", k8s.types.MergePatchType, { data = { size = k8s.null, shape = "round" } }))
  local keys = {}
  for k, v in pairs(cm.data) do keys[#keys + 1] = k .. "=" .. v end
  table.sort(keys)
  print("Patch: data = { " .. table.concat(keys, ", ") .. " }")

  -- List by label
  assert(cms:Create({ metadata = { name = "other", labels = { app = "example" } } }))
  local list = assert(cms:List({ labelSelector = "app=example" }))
  for _, item in ipairs(list.items) do print("List: " .. item.metadata.name) end

  -- Delete
  assert(cms:Delete("settings"))
  _, err = cms:Get("settings")
  print("Delete: Get now says " .. tostring(err) .. " (IsNotFound: " .. tostring(k8s.errors.IsNotFound(err)) .. ")")
end)

assert(cs:CoreV1():Namespaces():Delete(ns))
print("deleted namespace " .. ns)
if not ok then error(failure, 0) end

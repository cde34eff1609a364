-- Watch ConfigMaps while creating, updating and deleting one, print the
-- events, then stop the watch. Uses a namespace of its own.
--   KUBECONFIG=~/.kube/config lua5.4 examples/watch.lua
local k8s = require "k8s"

local config = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))
local cs = assert(k8s.NewForConfig(config))

local ns = string.format("example-watch-%d-%d", os.time(), math.random(1000, 9999))
assert(cs:CoreV1():Namespaces():Create({ metadata = { name = ns } }))
print("created namespace " .. ns)

local ok, failure = pcall(function()
  local cms = cs:CoreV1():ConfigMaps(ns)

  -- start from the list's resourceVersion, so that no change is missed
  local list = assert(cms:List())
  local w = assert(cms:Watch({ resourceVersion = list.metadata.resourceVersion, allowWatchBookmarks = true }))
  print("watching configmaps in " .. ns .. " from resourceVersion " .. list.metadata.resourceVersion)

  -- nothing has happened yet: Next with a timeout says so
  local ev, err = w:Next(0.5)
  print("Next(0.5) before any change: " .. tostring(ev) .. ", " .. tostring(err))

  assert(cms:Create({ metadata = { name = "watched" }, data = { step = "1" } }))
  assert(cms:Patch("watched", k8s.types.MergePatchType, { data = { step = "2" } }))
  assert(cms:Delete("watched"))

  -- other ConfigMaps of the namespace (e.g. kube-root-ca.crt) may show up too
  while true do
    ev, err = w:Next(10)
    if not ev then error("watch: " .. tostring(err or "ended")) end
    local o = ev.object
    if ev.type == "BOOKMARK" then
      print("BOOKMARK at resourceVersion " .. o.metadata.resourceVersion)
    else
      local step = type(o.data) == "table" and o.data.step or "-"
      print(string.format("%-8s %s (resourceVersion %s, step %s)", ev.type, o.metadata.name,
        o.metadata.resourceVersion, step))
      if ev.type == "DELETED" and o.metadata.name == "watched" then break end
    end
  end

  w:Stop()
  print("stopped; Next now returns " .. tostring((w:Next(1))))
end)

assert(cs:CoreV1():Namespaces():Delete(ns))
print("deleted namespace " .. ns)
if not ok then error(failure, 0) end

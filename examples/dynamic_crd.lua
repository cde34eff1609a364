-- Create a CustomResourceDefinition, wait until it is Established, use the
-- dynamic client on its custom resources, then delete everything.
--   KUBECONFIG=~/.kube/config lua5.4 examples/dynamic_crd.lua
local k8s = require "k8s"

local config = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))
local cs = assert(k8s.NewForConfig(config))
local dc = assert(k8s.dynamic.NewForConfig(config))

local id = string.format("%d%d", os.time() % 100000, math.random(100, 999))
local group = "examples.k8s-lua.io"
local plural, kind = "crontabs" .. id, "CronTab" .. id
local ns = "example-dynamic-" .. id

local crds = cs:ApiextensionsV1():CustomResourceDefinitions()
local crd = assert(crds:Create({
  metadata = { name = plural .. "." .. group },
  spec = {
    group = group,
    scope = "Namespaced",
    names = { plural = plural, singular = "crontab" .. id, kind = kind },
    versions = { {
      name = "v1", served = true, storage = true,
      schema = { openAPIV3Schema = { type = "object", properties = {
        spec = { type = "object", properties = {
          cronSpec = { type = "string" },
          image = { type = "string" },
          replicas = { type = "integer" },
        } },
      } } },
    } },
  },
}))
print("created CRD " .. crd.metadata.name)
assert(cs:CoreV1():Namespaces():Create({ metadata = { name = ns } }))
print("created namespace " .. ns)

local ok, failure = pcall(function()
  -- wait for the Established condition
  local deadline = os.time() + 60
  while true do
    local c = assert(crds:Get(crd.metadata.name))
    local conds = type(c.status) == "table" and c.status.conditions
    local established = false
    for _, cond in ipairs(type(conds) == "table" and conds or {}) do
      if cond.type == "Established" and cond.status == "True" then established = true end
    end
    if established then break end
    assert(os.time() < deadline, "the CRD did not become Established")
    os.execute("sleep 0.2")
  end
  print("CRD is Established")

  local crontabs = dc:Resource({ Group = group, Version = "v1", Resource = plural }):Namespace(ns)
  local function new(name, cron)
    return { apiVersion = group .. "/v1", kind = kind, metadata = { name = name },
             spec = { cronSpec = cron, image = "my-cron-image", replicas = 1 } }
  end

  local obj = assert(crontabs:Create(new("nightly", "0 3 * * *")))
  print("Create: " .. obj.metadata.name .. " cronSpec " .. obj.spec.cronSpec)
  assert(crontabs:Create(new("hourly", "0 * * * *")))

  obj = assert(crontabs:Get("nightly"))
  obj.spec.replicas = 2
  obj = assert(crontabs:Update(obj))
  print("Update: replicas " .. obj.spec.replicas)

  obj = assert(crontabs:Patch("nightly", k8s.types.MergePatchType, { spec = { cronSpec = "30 3 * * *" } }))
  print("Patch: cronSpec " .. obj.spec.cronSpec)

  local list = assert(crontabs:List())
  for _, item in ipairs(list.items) do
    print(string.format("List: %s (%s, replicas %d)", item.metadata.name, item.spec.cronSpec, item.spec.replicas))
  end

  -- the schema is enforced: replicas must be an integer
  local _, err = crontabs:Create({ apiVersion = group .. "/v1", kind = kind, metadata = { name = "bad" },
                                   spec = { replicas = "many" } })
  print("Create with an invalid field: " .. tostring(err))

  assert(crontabs:Delete("nightly"))
  assert(crontabs:Delete("hourly"))
  print("deleted the custom resources; " .. #assert(crontabs:List()).items .. " left")
end)

assert(cs:CoreV1():Namespaces():Delete(ns))
print("deleted namespace " .. ns)
assert(crds:Delete(crd.metadata.name))
print("deleted CRD " .. crd.metadata.name)
if not ok then error(failure, 0) end

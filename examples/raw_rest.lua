-- The RESTClient without a clientset: absolute paths (/version, /readyz)
-- on an unversioned client, and a versioned client for the core group
-- listing namespaces with the request builder.
--   KUBECONFIG=~/.kube/config lua5.4 examples/raw_rest.lua
local k8s = require "k8s"

local config = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))

-- an unversioned client: AbsPath requests
local raw = assert(k8s.rest.UnversionedRESTClientFor(config))
local version = assert(raw:Get():AbsPath("/version"):Do():Get())
print("GET /version: " .. version.gitVersion .. " (" .. version.platform .. ")")
print("GET /readyz: " .. assert(raw:Get():AbsPath("/readyz"):DoRaw()))
local res = raw:Get():AbsPath("/livez"):Param("verbose", true):Do()
print("GET /livez?verbose=true: HTTP " .. res:StatusCode() .. ", " .. select(2, res:Raw():gsub("\n", "")) .. " lines")

-- a versioned client for the core group, as rest.RESTClientFor wants it
local c = k8s.rest.CopyConfig(config)
c.APIPath = "/api"
c.ContentConfig = { GroupVersion = { Group = "", Version = "v1" } }
local rc = assert(k8s.rest.RESTClientFor(c))
local gv = rc:APIVersion()
print(string.format("RESTClient for group %q version %q, rate limiter at %g QPS", gv.Group, gv.Version,
  rc:GetRateLimiter():QPS()))

local req = rc:Get():Resource("namespaces"):VersionedParams({ limit = 50 })
print("GET " .. req:URL())
res = req:Do()
print("HTTP " .. res:StatusCode() .. ", " .. #res:Raw() .. " bytes")
local list = assert(res:Get())
for _, ns in ipairs(list.items) do
  print("  " .. ns.metadata.name .. "  " .. ns.status.phase)
end

-- errors come back as results, or as nil, err from DoRaw
res = rc:Get():Resource("namespaces"):Name("does-not-exist"):Do()
print("GET a missing namespace: HTTP " .. res:StatusCode() .. ", " .. tostring(res:Error()))

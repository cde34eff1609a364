-- Discovery's handling of answers the real control plane does not give on
-- demand (a stale group-version in aggregated discovery, a server without
-- aggregated discovery), through a stub RESTClient; the real server's
-- aggregated and legacy answers are compared in clientset_spec.
local discovery = require "k8s.discovery"
local k8s = require "k8s"

-- a RESTClient stub: path -> { body, content type } (or a 404), recording requests
local function stub(routes)
  local rc = { requests = {} }
  function rc:Get()
    local req = { headers = {} }
    function req:AbsPath(p) self.path = p; return self end
    function req:SetHeader(k, v) self.headers[k] = v; return self end
    function req:Do()
      rc.requests[#rc.requests + 1] = { path = self.path, accept = self.headers.Accept }
      local route = routes[self.path]
      return {
        Get = function()
          if not route then return nil, setmetatable({ code = 404, reason = "NotFound", message = "not found" }, { __index = {} }) end
          return k8s.json.decode(route[1])
        end,
        ContentType = function() return route and route[2] end,
      }
    end
    return req
  end
  return rc
end

local AGG = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

describe("discovery formats", function()
  it("recognizes the aggregated Content-Type as client-go's ContentTypeIsGVK", function()
    assert.is_true(discovery.is_aggregated(AGG))
    assert.is_true(discovery.is_aggregated("application/json; as=APIGroupDiscoveryList;v=v2beta1;g=apidiscovery.k8s.io;charset=utf-8"))
    assert.is_false(discovery.is_aggregated("application/json"))
    assert.is_false(discovery.is_aggregated("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList"))
    assert.is_false(discovery.is_aggregated("application/yaml;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"))
    assert.is_false(discovery.is_aggregated(nil))
  end)

  it("turns a stale group-version into GroupDiscoveryFailed and keeps the rest", function()
    local rc = stub({
      ["/api"] = { '{"kind":"APIGroupDiscoveryList","items":[{"metadata":{"name":""},"versions":[{"version":"v1","resources":['
        .. '{"resource":"pods","responseKind":{"group":"","version":"","kind":"Pod"},"scope":"Namespaced","singularResource":"pod","verbs":["get","list"],'
        .. '"subresources":[{"subresource":"status","responseKind":{"group":"","version":"","kind":"Pod"},"verbs":["get"]}]}]}]}]}', AGG },
      ["/apis"] = { '{"kind":"APIGroupDiscoveryList","items":[{"metadata":{"name":"metrics.example.com"},"versions":['
        .. '{"version":"v2","freshness":"Stale"},'
        .. '{"version":"v1","resources":[{"resource":"widgets","responseKind":{"group":"metrics.example.com","version":"v1","kind":"Widget"},"scope":"Cluster","verbs":["get"]},'
        .. '{"resource":"nokind","scope":"Cluster","verbs":["get"]}]}]}]}', AGG },
    })
    local d = discovery.new(rc)
    local groups, by_gv, failed = d:GroupsAndMaybeResources()
    assert.equal(2, #rc.requests)
    assert.matches("v=v2;as=APIGroupDiscoveryList", rc.requests[1].accept, 1, true)
    assert.same({ { gv = "metrics.example.com/v2", message = "stale GroupVersion discovery: metrics.example.com/v2" } }, failed)
    assert.equal("metrics.example.com/v1", groups.groups[2].preferredVersion.groupVersion) -- the first one not stale
    assert.equal(1, #groups.groups[2].versions)
    assert.same({ "pods", "pods/status" }, { by_gv.v1.resources[1].name, by_gv.v1.resources[2].name })
    assert.is_true(by_gv.v1.resources[2].namespaced)
    assert.equal(1, #by_gv["metrics.example.com/v1"].resources) -- no kind: left out
    local lists, err = d:ServerPreferredResources()
    assert.equal(2, #lists)
    assert.equal("GroupDiscoveryFailed", err.reason)
    assert.matches("metrics.example.com/v2: stale GroupVersion discovery", err.message, 1, true)
    assert.equal(4, #rc.requests) -- /api and /apis again, and no request per group-version
  end)

  it("asks each group-version when the server answers in the legacy format, and tolerates a 404 from /api", function()
    local rc = stub({
      ["/apis"] = { '{"kind":"APIGroupList","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"},'
        .. '{"groupVersion":"apps/v1beta9","version":"v1beta9"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]}', "application/json" },
      ["/apis/apps/v1"] = { '{"groupVersion":"apps/v1","resources":[{"name":"deployments","kind":"Deployment","namespaced":true,"verbs":["get"]}]}', "application/json" },
      ["/apis/apps/v1beta9"] = { '{"groupVersion":"apps/v1beta9","resources":[{"name":"deployments","kind":"Deployment","namespaced":true,"verbs":["get"]},'
        .. '{"name":"gadgets","kind":"Gadget","namespaced":false,"verbs":["get"]}]}', "application/json" },
    })
    local d = discovery.new(rc)
    local groups, by_gv = d:GroupsAndMaybeResources()
    assert.is_nil(by_gv)
    assert.equal(1, #groups.groups)
    local lists = assert(d:ServerPreferredResources())
    assert.equal(2, #lists)
    -- deployments at the preferred version; gadgets only where served
    assert.same({ "deployments" }, { lists[1].resources[1].name })
    assert.equal("apps/v1beta9", lists[2].groupVersion)
    assert.same({ "gadgets" }, { lists[2].resources[1].name, lists[2].resources[2] })
  end)
end)

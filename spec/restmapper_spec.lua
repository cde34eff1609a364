-- k8s.restmapper against the real control plane: kinds to resources at the
-- preferred or a given version, scopes, kubectl's resource arguments (short
-- names, resource.group, resource.version.group, kinds), the "all"
-- category, and the one refresh of a cache filled by an earlier call (a CRD
-- created after the first lookup is found; a miss on a fresh cache reads
-- discovery once).
local H = require "spec.helper"
local k8s = require "k8s"

describe("restmapper (" .. H.interpreter .. ")", function()
  local cs, mapper

  setup(function()
    cs = assert(k8s.NewForConfig(H.config("admin-cert")))
    mapper = k8s.restmapper.NewDeferredDiscoveryRESTMapper(cs)
  end)

  it("maps kinds to resources, scopes and versions", function()
    local m = assert(mapper:RESTMapping({ Group = "apps", Kind = "Deployment" }, "v1"))
    assert.same({ Group = "apps", Version = "v1", Resource = "deployments" }, m.Resource)
    assert.same({ Group = "apps", Version = "v1", Kind = "Deployment" }, m.GroupVersionKind)
    assert.equal("Namespaced", m.Scope)
    m = assert(mapper:RESTMapping({ Group = "", Kind = "ConfigMap" }))
    assert.same({ Group = "", Version = "v1", Resource = "configmaps" }, m.Resource)
    m = assert(mapper:RESTMapping({ Group = "rbac.authorization.k8s.io", Kind = "ClusterRole" }))
    assert.equal("clusterroles", m.Resource.Resource)
    assert.equal("Cluster", m.Scope)
    m = assert(mapper:RESTMapping({ Kind = "Namespace" }))
    assert.equal("Cluster", m.Scope)
    -- the lower-case kind too, as client-go's mapper
    m = assert(mapper:RESTMapping({ Group = "apps", Kind = "deployment" }, "v1"))
    assert.equal("deployments", m.Resource.Resource)
    -- autoscaling serves v1 and v2: the preferred one without a version, the
    -- asked one with it
    m = assert(mapper:RESTMapping({ Group = "autoscaling", Kind = "HorizontalPodAutoscaler" }))
    assert.equal("v2", m.Resource.Version)
    m = assert(mapper:RESTMapping({ Group = "autoscaling", Kind = "HorizontalPodAutoscaler" }, "v1"))
    assert.equal("v1", m.Resource.Version)
    local all = assert(mapper:RESTMappings({ Group = "autoscaling", Kind = "HorizontalPodAutoscaler" }))
    assert.equal(2, #all)
    assert.equal("v2", all[1].Resource.Version)
  end)

  it("reports an unknown kind or version with client-go's text", function()
    local m, err = mapper:RESTMapping({ Group = "apps", Kind = "Deployment" }, "v1beta1")
    assert.is_nil(m)
    assert.equal("NoKindMatch", err.reason)
    assert.equal('no matches for kind "Deployment" in version "apps/v1beta1"', err.message)
    m, err = mapper:RESTMapping({ Group = "example.com", Kind = "Nope" })
    assert.is_nil(m)
    assert.equal('no matches for kind "Nope" in group "example.com"', err.message)
    assert.has_error(function() mapper:RESTMapping({ Group = "apps" }) end,
      "RESTMapping: a GroupKind { Group =, Kind = } with a non-empty Kind is required")
  end)

  it("reads kubectl's resource arguments", function()
    local cases = {
      deploy = "apps/deployments", deployments = "apps/deployments", deployment = "apps/deployments",
      ["deployments.apps"] = "apps/deployments", ["deployment.v1.apps"] = "apps/deployments",
      ["Deployment"] = "apps/deployments", ["Deployment.apps"] = "apps/deployments",
      po = "/pods", pods = "/pods", cm = "/configmaps", ns = "/namespaces", svc = "/services",
      crd = "apiextensions.k8s.io/customresourcedefinitions", hpa = "autoscaling/horizontalpodautoscalers",
      ["leases.coordination.k8s.io"] = "coordination.k8s.io/leases", sts = "apps/statefulsets",
    }
    for arg, want in pairs(cases) do
      local m = assert(mapper:MappingFor(arg))
      assert.equal(want, m.Resource.Group .. "/" .. m.Resource.Resource, arg)
    end
    local m, err = mapper:MappingFor("nonesuch")
    assert.is_nil(m)
    assert.equal('the server doesn\'t have a resource type "nonesuch"', err.message)
    m, err = mapper:MappingFor("deployments.nonesuch.example.com")
    assert.is_nil(m)
    assert.truthy(err.message:find("deployments", 1, true))
    assert.equal("deployment", mapper:ResourceSingularizer("deployments"))
    assert.same({ Group = "apps", Version = "v1", Kind = "Deployment" }, mapper:KindFor({ Resource = "deployments" }))
    assert.same({ Group = "", Version = "v1", Resource = "pods" }, mapper:ResourceFor({ Resource = "pod" }))
  end)

  it("expands the all category as kubectl get all", function()
    local got = {}
    for _, m in ipairs(mapper:ExpandCategory("all")) do got[m.Resource.Group .. "/" .. m.Resource.Resource] = true end
    for _, want in ipairs({ "/pods", "/services", "/replicationcontrollers", "apps/deployments", "apps/replicasets",
      "apps/statefulsets", "apps/daemonsets", "batch/jobs", "batch/cronjobs",
      "autoscaling/horizontalpodautoscalers" }) do
      assert.is_true(got[want] == true, want)
    end
    assert.is_nil(got["/configmaps"])
    assert.is_nil(got["/secrets"])
    assert.same({}, mapper:ExpandCategory("nonesuch"))
  end)

  it("reads discovery once, and once more when a cached lookup misses", function()
    local m2 = k8s.restmapper.NewDeferredDiscoveryRESTMapper(cs:Discovery())
    assert.equal(0, m2:Loads())
    assert(m2:RESTMapping({ Kind = "Pod" }))
    assert(m2:RESTMapping({ Group = "apps", Kind = "Deployment" }))
    assert.equal(1, m2:Loads())

    -- a CRD created after the mapper's first read
    local suffix = H.name("m"):gsub("-", "")
    local group, kind, plural = "mapper.k8slua.example.com", "Gadget" .. suffix, "gadgets" .. suffix
    local crds = cs:ApiextensionsV1():CustomResourceDefinitions()
    assert(crds:Create({
      metadata = { name = plural .. "." .. group },
      spec = { group = group, scope = "Cluster",
        names = { plural = plural, singular = "gadget" .. suffix, kind = kind, shortNames = { "gd" .. suffix } },
        versions = { { name = "v1", served = true, storage = true,
          schema = { openAPIV3Schema = { type = "object", ["x-kubernetes-preserve-unknown-fields"] = true } } } } },
    }))
    finally(function() crds:Delete(plural .. "." .. group) end)
    -- the condition: another discovery client sees the new resource
    local dc = cs:Discovery()
    H.eventually(function()
      local list = dc:ServerResourcesForGroupVersion(group .. "/v1")
      return list and #(list.resources or {}) > 0
    end, 60, "discovery of the new CRD")

    local m = assert(m2:RESTMapping({ Group = group, Kind = kind }, "v1"))
    assert.same({ Group = group, Version = "v1", Resource = plural }, m.Resource)
    assert.equal("Cluster", m.Scope)
    assert.equal(2, m2:Loads())
    assert.equal(plural, assert(m2:MappingFor("gd" .. suffix)).Resource.Resource)

    -- a miss on a cache this lookup filled: no second read
    local m3 = k8s.restmapper.NewDeferredDiscoveryRESTMapper(cs)
    local none, err = m3:RESTMapping({ Group = group, Kind = "Missing" .. suffix })
    assert.is_nil(none)
    assert.equal("NoKindMatch", err.reason)
    assert.equal(1, m3:Loads())
    -- and a miss on an earlier call's cache reads once more, then gives up
    none = m3:RESTMapping({ Group = group, Kind = "Missing" .. suffix })
    assert.is_nil(none)
    assert.equal(2, m3:Loads())
  end)
end)

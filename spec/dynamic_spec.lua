-- The dynamic client (k8s.dynamic.NewForConfig) against the real control
-- plane, on a CustomResourceDefinition the spec creates through the typed
-- clientset: every verb, status and scale subresources, patches, server-side
-- apply, Watch, discovery of the new group, arbitrary JSON (64-bit integers,
-- [], {}, null) through Get -> modify -> Update, and built-in resources.
local H = require "spec.helper"
local k8s = require "k8s"

local namespace = H.namespace
local errors = k8s.errors

local is54 = _VERSION == "Lua 5.4" and not jit
local GROUP = "k8slua.example.com"

local function conditions(obj)
  local c = type(obj.status) == "table" and obj.status.conditions
  return type(c) == "table" and c or {}
end

local names_of = H.names_of

describe("dynamic client (" .. H.interpreter .. ")", function()
  local cs, dc, ns, crds, crd, plural, kind, gvr, widgets

  setup(function()
    local cfg = H.config("admin-cert")
    cfg.QPS, cfg.Burst = 200, 400
    cs = assert(k8s.NewForConfig(cfg))
    dc = assert(k8s.dynamic.NewForConfig(cfg))
    ns = namespace(cs)

    -- a CRD unique to this run and interpreter
    local suffix = H.name("w"):gsub("-", "")
    plural, kind = "widgets" .. suffix, "Widget" .. suffix
    crds = cs:ApiextensionsV1():CustomResourceDefinitions()
    local open = { type = "object", ["x-kubernetes-preserve-unknown-fields"] = true }
    crd = assert(crds:Create({
      metadata = { name = plural .. "." .. GROUP },
      spec = {
        group = GROUP,
        scope = "Namespaced",
        names = { plural = plural, singular = "widget" .. suffix, kind = kind, listKind = kind .. "List" },
        versions = { {
          name = "v1", served = true, storage = true,
          schema = { openAPIV3Schema = { type = "object", properties = { spec = open, status = open } } },
          subresources = {
            status = {}, -- an empty object on the wire
            scale = { specReplicasPath = ".spec.replicas", statusReplicasPath = ".status.replicas" },
          },
        } },
      },
    }))
    H.eventually(function()
      local c = assert(crds:Get(crd.metadata.name))
      for _, cond in ipairs(conditions(c)) do
        if cond.type == "Established" and cond.status == "True" then return true end
      end
    end, 30, "CRD " .. crd.metadata.name .. " to be Established")
    gvr = { Group = GROUP, Version = "v1", Resource = plural }
    widgets = dc:Resource(gvr):Namespace(ns)
    -- Established comes before every apiserver handler serves the resource
    -- (a 404 or 429 meanwhile): the first request of the specs waits for it
    H.eventually(function() return widgets:List() ~= nil end, 30, "the custom resource to be served")
  end)

  teardown(function()
    if crd then crds:Delete(crd.metadata.name) end
    H.cleanup_namespaces()
  end)

  local function widget(name, spec)
    return { apiVersion = GROUP .. "/v1", kind = kind, metadata = { name = name }, spec = spec or { size = 1 } }
  end

  it("the CRD was created through the typed client and is served", function()
    assert.equal("CustomResourceDefinition", crd.kind)
    assert.equal("apiextensions.k8s.io/v1", crd.apiVersion)
    assert.same({}, crd.spec.versions[1].subresources.status)
    -- discovery of the group and of its resources may lag behind each other
    local list
    H.eventually(function()
      list = cs:Discovery():ServerResourcesForGroupVersion(GROUP .. "/v1")
      if not list then return false end
      local groups = dc:Discovery():ServerGroups()
      for _, g in ipairs(groups and groups.groups or {}) do
        if g.name == GROUP then return true end
      end
    end, 30, "discovery of " .. GROUP .. "/v1 and of the group in ServerGroups()")
    local found = {}
    for _, r in ipairs(list.resources) do found[r.name] = r end
    assert.is_table(found[plural])
    assert.equal(kind, found[plural].kind)
    assert.is_true(found[plural].namespaced)
    assert.is_table(found[plural .. "/status"])
    assert.is_table(found[plural .. "/scale"])
    -- and through the dynamic client's own discovery (waited for above)
    local groups = assert(dc:Discovery():ServerGroups())
    local seen = false
    for _, g in ipairs(groups.groups) do if g.name == GROUP then seen = true end end
    assert.is_true(seen)
  end)

  it("Create Get List Update Patch Delete on the custom resource", function()
    local name = H.name("cr")
    local created = assert(widgets:Create(widget(name, { size = 1, color = "red" })))
    assert.equal(kind, created.kind)
    assert.equal(GROUP .. "/v1", created.apiVersion)
    assert.equal(ns, created.metadata.namespace)
    assert.equal(1, created.metadata.generation)

    local got = assert(widgets:Get(name))
    assert.equal(created.metadata.uid, got.metadata.uid)
    assert.equal("red", got.spec.color)

    local list = assert(widgets:List())
    assert.equal(kind .. "List", list.kind)
    assert.same({ name }, names_of(list))

    got.spec.color = "blue"
    local updated = assert(widgets:Update(got))
    assert.equal("blue", updated.spec.color)
    assert.equal(2, updated.metadata.generation)

    local patched = assert(widgets:Patch(name, k8s.types.MergePatchType, { spec = { color = k8s.null, shape = "round" } }))
    assert.is_nil(patched.spec.color)
    assert.equal("round", patched.spec.shape)
    patched = assert(widgets:Patch(name, k8s.types.JSONPatchType,
      { { op = "replace", path = "/spec/size", value = 5 } }))
    assert.equal(5, patched.spec.size)
    -- custom resources have no strategic merge patch
    local none, err = widgets:Patch(name, k8s.types.StrategicMergePatchType, { spec = { size = 6 } })
    assert.is_nil(none)
    assert.equal(415, err.code)
    assert.is_true(errors.IsUnsupportedMediaType(err))

    -- a stale update conflicts
    got.spec.color = "stale"
    none, err = widgets:Update(got)
    assert.is_nil(none)
    assert.is_true(errors.IsConflict(err))

    -- Create of an existing name
    none, err = widgets:Create(widget(name))
    assert.is_nil(none)
    assert.is_true(errors.IsAlreadyExists(err))

    assert.is_true(widgets:Delete(name))
    none, err = widgets:Get(name)
    assert.is_nil(none)
    assert.is_true(errors.IsNotFound(err))
  end)

  it("UpdateStatus, GetScale and UpdateScale on the custom resource", function()
    local name = H.name("st")
    assert(widgets:Create(widget(name, { replicas = 2 })))
    local obj = assert(widgets:Get(name))
    obj.status = { replicas = 1, phase = "Ready" }
    obj.spec.replicas = 9 -- ignored by the status subresource
    local out = assert(widgets:UpdateStatus(obj))
    assert.equal("Ready", out.status.phase)
    assert.equal(2, out.spec.replicas)
    -- Update ignores status
    out.status.phase = "Changed"
    out.spec.replicas = 3
    out = assert(widgets:Update(out))
    assert.equal("Ready", out.status.phase)
    assert.equal(3, out.spec.replicas)

    local scale = assert(widgets:GetScale(name))
    assert.equal("Scale", scale.kind)
    assert.equal(3, scale.spec.replicas)
    assert.equal(1, scale.status.replicas)
    scale.spec.replicas = 4
    scale = assert(widgets:UpdateScale(name, scale))
    assert.equal(4, scale.spec.replicas)
    assert.equal(4, assert(widgets:Get(name)).spec.replicas)
  end)

  it("server-side apply with field managers", function()
    local name = H.name("ssa")
    local out = assert(widgets:Apply(widget(name, { size = 1, owner = "a" }), { fieldManager = "mgr-a" }))
    assert.equal(1, out.spec.size)
    local none, err = widgets:Apply(widget(name, { size = 2 }), { fieldManager = "mgr-b" })
    assert.is_nil(none)
    assert.is_true(errors.IsConflict(err))
    assert.matches('conflict with "mgr-a"', err.message, 1, true)
    out = assert(widgets:Apply(widget(name, { size = 2 }), { fieldManager = "mgr-b", force = true }))
    assert.equal(2, out.spec.size)
    assert.equal("a", out.spec.owner)
    -- status through the status subresource
    out = assert(widgets:ApplyStatus({ apiVersion = GROUP .. "/v1", kind = kind, metadata = { name = name },
      status = { phase = "Applied" } }, { fieldManager = "mgr-s" }))
    assert.equal("Applied", out.status.phase)
  end)

  it("List across namespaces, DeleteCollection by label, and List pages", function()
    local label = H.name("l")
    local want = {}
    for i = 1, 5 do
      local w = widget(H.name("many"))
      w.metadata.labels = { suite = label, half = i <= 2 and "a" or "b" }
      want[#want + 1] = w.metadata.name
      assert(widgets:Create(w))
    end
    table.sort(want)
    -- without Namespace: all namespaces
    local all = assert(dc:Resource(gvr):List({ labelSelector = "suite=" .. label }))
    assert.same(want, names_of(all))
    -- pages
    local list = assert(k8s.pager.List(widgets, { labelSelector = "suite=" .. label, limit = 2 }))
    assert.same(want, names_of(list))
    -- DeleteCollection
    assert.is_true(widgets:DeleteCollection(nil, { labelSelector = "suite=" .. label .. ",half=a" }))
    local left = assert(widgets:List({ labelSelector = "suite=" .. label }))
    assert.equal(3, #left.items)
    for _, it in ipairs(left.items) do assert.equal("b", it.metadata.labels.half) end
    -- a namespaced resource used without a namespace: the cluster path does not exist
    local none, err = dc:Resource(gvr):Create(widget(H.name("nons")))
    assert.is_nil(none)
    assert.is_true(errors.IsNotFound(err))
  end)

  it("Watch delivers create, modify and delete in order", function()
    local rv = assert(widgets:List()).metadata.resourceVersion
    local w = assert(widgets:Watch({ resourceVersion = rv }))
    local name = H.name("wat")
    assert(widgets:Create(widget(name, { v = 1 })))
    assert(widgets:Patch(name, k8s.types.MergePatchType, { spec = { v = 2 } }))
    assert(widgets:Delete(name))
    local got = {}
    while #got < 3 do
      local ev, err = w:Next(15)
      assert(ev, tostring(err))
      if ev.object.metadata.name == name then got[#got + 1] = ev.type .. ":" .. ev.object.spec.v end
    end
    assert.same({ "ADDED:1", "MODIFIED:2", "DELETED:2" }, got)
    w:Stop()
  end)

  it("Get -> modify -> Update round-trips 64-bit integers, [], {} and null", function()
    local name = H.name("json")
    local big = is54 and math.tointeger(9007199254740993) or 9007199254740991
    local spec = {
      big = big,
      negative = -big,
      float = 1.5,
      emptyArray = k8s.empty_array(),
      emptyObject = {},
      nothing = k8s.null,
      nested = { {}, { inner = k8s.empty_array() }, { k8s.null } },
      text = "tab\there \"quoted\" \xc3\xbc \xe2\x82\xac",
    }
    if is54 then
      spec.max = math.maxinteger
      spec.min = math.mininteger
    end
    assert(widgets:Create(widget(name, spec)))
    local function check(s)
      assert.equal(big, s.big)
      assert.equal(-big, s.negative)
      assert.equal(1.5, s.float)
      if is54 then
        assert.equal("integer", math.type(s.big))
        assert.equal(math.maxinteger, s.max)
        assert.equal(math.mininteger, s.min)
      end
      assert.equal(k8s.array_mt, getmetatable(s.emptyArray))
      assert.equal(0, #s.emptyArray)
      assert.same({}, s.emptyObject)
      assert.is_nil(getmetatable(s.emptyObject))
      assert.equal(k8s.null, s.nothing)
      assert.same({}, s.nested[1])
      assert.equal(k8s.array_mt, getmetatable(s.nested[2].inner))
      assert.equal(k8s.null, s.nested[3][1])
      assert.equal(spec.text, s.text)
    end
    local obj = assert(widgets:Get(name))
    check(obj.spec)
    obj.spec.added = "yes"
    obj = assert(widgets:Update(obj))
    check(obj.spec)
    assert.equal("yes", obj.spec.added)
    -- twice more: nothing drifts
    obj = assert(widgets:Update(assert(widgets:Get(name))))
    check(obj.spec)
    check(assert(widgets:Get(name)).spec)

    local raw = assert(cs:RESTClientForGroupVersion(GROUP, "v1"):Get():Namespace(ns):Resource(plural):Name(name):DoRaw())
    assert.matches('"emptyArray":[]', raw, 1, true)
    assert.matches('"emptyObject":{}', raw, 1, true)
    assert.matches('"nothing":null', raw, 1, true)
    assert.matches('"big":' .. (is54 and "9007199254740993" or "9007199254740991"), raw, 1, true)
    if is54 then assert.matches('"max":9223372036854775807', raw, 1, true) end
  end)

  it("works on built-in resources, namespaced and cluster-scoped", function()
    local cms = dc:Resource({ Version = "v1", Resource = "configmaps" }):Namespace(ns)
    local name = H.name("dcm")
    local cm = assert(cms:Create({ apiVersion = "v1", kind = "ConfigMap", metadata = { name = name }, data = { a = "1" } }))
    assert.equal("1", cm.data.a)
    -- the typed client sees the same object
    assert.equal(cm.metadata.uid, assert(cs:CoreV1():ConfigMaps(ns):Get(name)).metadata.uid)
    assert.is_true(cms:Delete(name))

    local nsobj = assert(dc:Resource({ Group = "", Version = "v1", Resource = "namespaces" }):Get(ns))
    assert.equal("Namespace", nsobj.kind)
    local deps = dc:Resource({ Group = "apps", Version = "v1", Resource = "deployments" }):Namespace(ns)
    assert.equal(0, #assert(deps:List()).items)
    assert.same({ Group = "apps", Version = "v1", Resource = "deployments", Namespaced = true, Namespace = ns },
      deps:Info())
  end)

  it("invalid arguments raise", function()
    assert.has_error(function() dc:Resource({ Group = "x" }) end, "Resource: Version is required")
    assert.has_error(function() dc:Resource({ Version = "v1" }) end, "Resource: Resource is required")
    assert.has_error(function() dc:Resource("pods") end)
    assert.has_error(function() dc:Resource(gvr):Namespace(5) end, "Namespace: namespace must be a string, got number")
    assert.has_error(function() widgets:Get(nil) end, "Get: name must be a string, got nil")
    assert.has_error(function() widgets:Update({ spec = {} }) end, "Update: object has no metadata.name")
    assert.has_error(function() cs:CoreV1():ConfigMaps(ns):Namespace("x") end,
      "Namespace: only dynamic resource clients take a namespace this way")
  end)

  it("the restricted identity gets IsForbidden", function()
    local rdc = assert(k8s.dynamic.NewForConfig(H.config("restricted")))
    local list, err = rdc:Resource(gvr):Namespace(ns):List()
    assert.is_nil(list)
    assert.is_true(errors.IsForbidden(err))
  end)
end)

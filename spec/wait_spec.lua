-- k8s.wait (kubectl wait) against the real control plane, on both drivers.
-- This control plane has no scheduler and no kubelet: a Deployment's pods
-- stay Pending and the deployment controller reports Available=False
-- (MinimumReplicasUnavailable). Changes that must happen *during* a wait are
-- made from opts.OnWatch, which the wait calls after it has read the object
-- and found the condition unmet, before it watches: directly on the blocking
-- driver (the watch starts from the list's resourceVersion, so it sees the
-- change), from a task spawned on the loop driver (it runs while the wait
-- is blocked in the watch). Nothing sleeps for a duration; the only
-- timeouts are bounds, or the subject of the test (a short Timeout that
-- must expire, with its message checked).
local H = require "spec.helper"
local k8s = require "k8s"

local wait = k8s.wait
local errors = k8s.errors
local loop = require "k8s.loop"

local GROUP = "waitspec.example.com"

-- run fn concurrently with the wait on the loop driver, at once on the blocking one
local function make_change(d, failures)
  return function(fn)
    if d.name == "loop" then
      loop.spawn(function()
        local ok, e = pcall(fn)
        if not ok then failures[#failures + 1] = tostring(e) end
      end)
    else
      fn()
    end
  end
end

local function condition(obj, t)
  for _, c in ipairs(obj.status and obj.status.conditions or {}) do
    if c.type == t then return c end
  end
end

local function names(list)
  local out = {}
  for i, o in ipairs(list) do out[i] = o.metadata.name end
  table.sort(out)
  return out
end

describe("k8s.wait (" .. H.interpreter .. ")", function()
  local cfg, cs, dc, ns, cms

  setup(function()
    cfg = H.config("admin-token")
    cfg.QPS, cfg.Burst = 200, 400
    cs = assert(k8s.NewForConfig(cfg))
    dc = assert(k8s.dynamic.NewForConfig(cfg))
    ns = H.namespace(cs)
    cms = cs:CoreV1():ConfigMaps(ns)
  end)

  teardown(function()
    H.cleanup_namespaces()
  end)

  it("takes a config, a Clientset or a dynamic client, and resource names as kubectl reads them", function()
    local name = H.name("cm")
    assert(cms:Create({ metadata = { name = name }, data = { k = "v" } }))
    local spellings = { "configmaps", "configmap", "cm", "ConfigMap", "CONFIGMAPS",
      { Group = "", Version = "v1", Resource = "configmaps" } }
    for _, client in ipairs { cfg, cs, dc } do
      for _, res in ipairs(spellings) do
        local objs, err = wait.For(client, res, ns, name, { For = "jsonpath={.data.k}=v", Timeout = 0 })
        assert(objs, tostring(err))
        assert.equal(1, #objs)
        assert.equal(name, objs[1].metadata.name)
      end
    end
    -- resource.group, resource.version.group, kind, short name of a group
    local dep = H.name("dep")
    assert(cs:AppsV1():Deployments(ns):Create({ metadata = { name = dep }, spec = {
      replicas = 0, selector = { matchLabels = { app = dep } },
      template = { metadata = { labels = { app = dep } }, spec = { containers = { { name = "c", image = "registry.invalid/x:1" } } } } } }))
    for _, res in ipairs { "deployments.apps", "deployments.v1.apps", "deployment", "deploy", "Deployment", "deploy.apps" } do
      local objs, err = wait.For(cs, res, ns, dep, { For = "jsonpath={.spec.replicas}=0", Timeout = 0 })
      assert(objs, res .. ": " .. tostring(err))
      assert.equal("Deployment", objs[1].kind)
    end
    -- an unknown resource type
    local objs, err = wait.For(cs, "nosuchthings", ns, "x", { For = "delete" })
    assert.is_nil(objs)
    assert.matches('the server doesn\'t have a resource type "nosuchthings"', err.message, 1, true)
    -- the config's namespace is the default one, for a config and for clients made from it
    local c2 = H.config("admin-token")
    c2.Namespace = ns
    for _, client in ipairs { c2, assert(k8s.NewForConfig(c2)), assert(k8s.dynamic.NewForConfig(c2)) } do
      objs = assert(wait.For(client, "cm", nil, name, { For = "create", Timeout = 0 }))
      assert.equal(ns, objs[1].metadata.namespace)
    end
    -- a mapper shared between calls reads discovery once
    local mapper = k8s.restmapper.NewDeferredDiscoveryRESTMapper(cs)
    for _, res in ipairs { "cm", "deploy", "configmaps" } do
      assert(wait.For(cs, res, ns, res == "deploy" and dep or name, { For = "create", Timeout = 0, Mapper = mapper }))
    end
    assert.equal(1, mapper:Loads())
  end)

  it("invalid arguments raise", function()
    assert.has_error(function() wait.For(cs, "cm", ns, "x", { For = "bogus" }) end, 'unrecognized condition: "bogus"')
    assert.has_error(function() wait.For(cs, "cm", ns, "x", { For = "jsonpath={.data.k}=" }) end)
    assert.has_error(function() wait.For(cs, "cm", ns, "x", { For = "jsonpath={.data[}" }) end)
    assert.has_error(function() wait.For(cs, "cm", ns, "x", {}) end)
    assert.has_error(function() wait.For(cs, "cm", ns, {}, { For = "delete" }) end)
    assert.has_error(function() wait.For(cs, "cm", ns, "x", { For = "delete", Timeout = "1" }) end)
    assert.has_error(function() wait.For(42, "cm", ns, "x", { For = "delete" }) end)
  end)

  for _, d in ipairs(H.DRIVERS) do
    describe("on the " .. d.name .. " driver", function()
      local failures, change

      before_each(function()
        failures = {}
        change = make_change(d, failures)
      end)

      after_each(function()
        assert.same({}, failures)
      end)

      -- (a)
      it("condition=Available on a Deployment whose pods never run: Available=False, then a timeout naming it", function()
        d.run(function()
          local name = H.name("web")
          assert(cs:AppsV1():Deployments(ns):Create({ metadata = { name = name }, spec = {
            replicas = 1, selector = { matchLabels = { app = name } },
            template = { metadata = { labels = { app = name } },
              spec = { containers = { { name = "c", image = "registry.invalid/never:1" } } } } } }))
          -- the deployment controller's verdict (a bound, not a timing assertion)
          local objs = assert(wait.For(cs, "deployments.apps", ns, name, { For = "condition=Available=False", Timeout = 120 }))
          assert.equal(1, #objs)
          local c = condition(objs[1], "Available")
          assert.equal("False", c.status)
          assert.equal("MinimumReplicasUnavailable", c.reason)
          -- the value and the type are compared without regard to case
          assert(wait.For(cs, "deployments.apps", ns, name, { For = "condition=available=false", Timeout = 0 }))
          -- Available (=True) cannot happen: the timeout says what is still unmet
          local res, err = wait.For(cs, "deployments.apps", ns, name, { For = "condition=Available", Timeout = 2 })
          assert.is_nil(res)
          assert.equal("Timeout", err.reason)
          assert.equal(0, err.code)
          assert.is_true(errors.IsTimeout(err))
          assert.matches("timed out waiting for the condition on deployments/" .. name, err.message, 1, true)
          assert.matches("Available=False", err.message, 1, true)
          assert.matches("MinimumReplicasUnavailable", err.message, 1, true)
          assert.matches("Deployment does not have minimum availability.", tostring(err), 1, true)
          -- Timeout = 0: checked once, kubectl's "condition not met"
          res, err = wait.For(cs, "deployments.apps", ns, name, { For = "condition=Available", Timeout = 0 })
          assert.is_nil(res)
          assert.matches("condition not met for deployments.apps/" .. name .. ": Available=False", err.message, 1, true)
          -- a number compared as Go prints it
          assert(wait.For(cs, "deploy", ns, name, { For = "jsonpath={.spec.replicas}=1", Timeout = 0 }))
        end)
      end)

      -- (b)
      it("delete on a namespace returns once the namespace controller has finalized it", function()
        d.run(function()
          local victim = H.name("gone")
          assert(cs:CoreV1():Namespaces():Create({ metadata = { name = victim } }))
          assert(cs:CoreV1():ConfigMaps(victim):Create({ metadata = { name = "content" } }))
          assert(cs:CoreV1():Namespaces():Delete(victim))
          local objs, err = wait.For(cs, "namespaces", nil, victim, { For = "delete", Timeout = 120 })
          assert(objs, tostring(err))
          -- the last state seen before it went away
          assert.equal(1, #objs)
          assert.equal(victim, objs[1].metadata.name)
          local _, gerr = cs:CoreV1():Namespaces():Get(victim)
          assert.is_true(errors.IsNotFound(gerr))
        end)
      end)

      it("delete: a timeout names what holds the object; removing the finalizer ends the wait", function()
        d.run(function()
          local name = H.name("fin")
          assert(cms:Create({ metadata = { name = name, finalizers = { "example.com/hold" } } }))
          assert(cms:Delete(name))
          local res, err = wait.For(cs, "configmaps", ns, name, { For = "delete", Timeout = 1 })
          assert.is_nil(res)
          assert.equal("Timeout", err.reason)
          assert.matches("timed out waiting for the condition on configmaps/" .. name .. ": the object still exists", err.message, 1, true)
          assert.matches("being deleted since", err.message, 1, true)
          assert.matches("example.com/hold", err.message, 1, true)
          local watched = 0
          local objs = assert(wait.For(cs, "configmaps", ns, name, { For = "delete", Timeout = 60,
            OnWatch = function(obj)
              watched = watched + 1
              assert.equal(name, obj.metadata.name)
              if watched == 1 then
                change(function()
                  assert(cms:Patch(name, k8s.types.JSONPatchType, { { op = "remove", path = "/metadata/finalizers" } }))
                end)
              end
            end }))
          assert.is_true(watched >= 1)
          assert.equal(1, #objs)
          assert.is_true(errors.IsNotFound(select(2, cms:Get(name))))
        end)
      end)

      -- (c)
      it("jsonpath: a change made while the wait is watching satisfies it", function()
        d.run(function()
          local name = H.name("jp")
          assert(cms:Create({ metadata = { name = name }, data = { k = "v1" } }))
          assert.equal("v1", assert(cms:Get(name)).data.k) -- not met when the wait starts
          local watched, first
          local objs = assert(wait.For(cs, "configmaps", ns, name, { For = "jsonpath={.data.k}=v2", Timeout = 60,
            OnWatch = function(obj)
              if watched then return end
              watched, first = true, obj.data.k
              change(function() assert(cms:Patch(name, k8s.types.MergePatchType, { data = { k = "v2" } })) end)
            end }))
          assert.is_true(watched)
          assert.equal("v1", first)
          assert.equal("v2", objs[1].data.k)
          -- without a value: the path exists (kubectl 1.31+); quoted values, relaxed paths
          watched = false
          objs = assert(wait.For(dc, "configmaps", ns, name, { For = "jsonpath=data.later", Timeout = 60,
            OnWatch = function()
              if watched then return end
              watched = true
              change(function() assert(cms:Patch(name, k8s.types.MergePatchType, { data = { later = "" } })) end)
            end }))
          assert.is_true(watched)
          assert.equal("", objs[1].data.later)
          assert(wait.For(cs, "cm", ns, name, { For = "jsonpath={.data.k}='v2'", Timeout = 0 }))
          assert(wait.For(cs, "cm", ns, name, { For = "jsonpath={.metadata.name}=" .. name, Timeout = 0 }))
          -- the timeout gives the current value
          local res, err = wait.For(cs, "cm", ns, name, { For = "jsonpath={.data.k}=v3", Timeout = 1 })
          assert.is_nil(res)
          assert.matches('on configmaps/' .. name .. ': {.data.k}="v2", waiting for "v3"', err.message, 1, true)
          res, err = wait.For(cs, "cm", ns, name, { For = "jsonpath={.data.none}", Timeout = 1 })
          assert.is_nil(res)
          assert.matches("{.data.none} has no value", err.message, 1, true)
          -- kubectl refuses a map or list as the value to compare
          res, err = wait.For(cs, "cm", ns, name, { For = "jsonpath={.data}=x", Timeout = 5 })
          assert.is_nil(res)
          assert.matches("nested object or list which is not supported", err.message, 1, true)
        end)
      end)

      -- (d)
      it("create: returns at once for an object that exists, else when it is created", function()
        d.run(function()
          local name = H.name("new")
          local watched = 0
          local objs = assert(wait.For(cs, "configmaps", ns, name, { For = "create", Timeout = 60,
            OnWatch = function(obj)
              watched = watched + 1
              assert.is_nil(obj) -- absent when the wait started
              if watched == 1 then
                change(function() assert(cms:Create({ metadata = { name = name }, data = { x = "1" } })) end)
              end
            end }))
          assert.equal(1, watched)
          assert.equal("1", objs[1].data.x)
          -- already there: no watch at all
          watched = 0
          objs = assert(wait.For(cs, "configmaps", ns, name, { For = "create", Timeout = 60,
            OnWatch = function() watched = watched + 1 end }))
          assert.equal(0, watched)
          assert.equal(name, objs[1].metadata.name)
          -- a selector: until something matches it
          local label = H.name("l")
          watched = 0
          objs = assert(wait.For(cs, "configmaps", ns, { LabelSelector = "grp=" .. label }, { For = "create", Timeout = 60,
            OnWatch = function()
              watched = watched + 1
              if watched == 1 then
                change(function() assert(cms:Create({ metadata = { name = H.name("sel"), labels = { grp = label } } })) end)
              end
            end }))
          assert.is_true(watched >= 1)
          assert.equal(1, #objs)
          assert.equal(label, objs[1].metadata.labels.grp)
          -- never created: a timeout naming it
          local res, err = wait.For(cs, "configmaps", ns, H.name("never"), { For = "create", Timeout = 1 })
          assert.is_nil(res)
          assert.equal("Timeout", err.reason)
          assert.matches("the object does not exist", err.message, 1, true)
        end)
      end)

      -- (e)
      it("a label selector: every matching object must satisfy the condition", function()
        d.run(function()
          local label = H.name("pair")
          local a, b = H.name("a"), H.name("b")
          for _, n in ipairs { a, b } do
            assert(cms:Create({ metadata = { name = n, labels = { pair = label } }, data = { ready = "no" } }))
          end
          local watched = {}
          local objs = assert(wait.For(cs, "configmaps", ns, { LabelSelector = "pair=" .. label },
            { For = "jsonpath={.data.ready}=yes", Timeout = 60,
              OnWatch = function(obj, n)
                if watched[n] then return end
                watched[n] = obj.data.ready
                change(function() assert(cms:Patch(n, k8s.types.MergePatchType, { data = { ready = "yes" } })) end)
              end }))
          assert.same({ [a] = "no", [b] = "no" }, watched)
          assert.same({ a, b }, names(objs))
          for _, o in ipairs(objs) do assert.equal("yes", o.data.ready) end
          -- both deleted: delete with the selector lists both
          local deleted = {}
          objs = assert(wait.For(cs, "configmaps", ns, { LabelSelector = "pair=" .. label }, { For = "delete", Timeout = 60,
            OnWatch = function(_, n)
              if deleted[n] then return end
              deleted[n] = true
              change(function() assert(cms:Delete(n)) end)
            end }))
          assert.same({ a, b }, names(objs))
          -- nothing left: delete succeeds at once, a condition finds no match (kubectl's errors)
          objs = assert(wait.For(cs, "configmaps", ns, { LabelSelector = "pair=" .. label }, { For = "delete", Timeout = 60 }))
          assert.equal(0, #objs)
          local res, err = wait.For(cs, "configmaps", ns, { LabelSelector = "pair=" .. label }, { For = "jsonpath={.data.ready}=yes" })
          assert.is_nil(res)
          assert.equal("NoMatchingResources", err.reason)
          assert.equal("no matching resources found", err.message)
        end)
      end)

      -- (f)
      it("a condition on a missing object fails at once with NotFound naming it; one deleted during the wait times out naming it", function()
        d.run(function()
          local name = H.name("missing")
          local watched = 0
          local res, err = wait.For(cs, "configmaps", ns, name, { For = "condition=Ready", Timeout = 60,
            OnWatch = function() watched = watched + 1 end })
          assert.is_nil(res)
          assert.is_true(errors.IsNotFound(err))
          assert.equal(404, err.code)
          assert.equal('configmaps "' .. name .. '" not found', err.message)
          assert.equal(0, watched)
          -- exists at the start, deleted while the wait watches: kubectl keeps waiting
          assert(cms:Create({ metadata = { name = name } }))
          res, err = wait.For(cs, "configmaps", ns, name, { For = "condition=Ready", Timeout = 2,
            OnWatch = function(obj)
              watched = watched + 1
              if obj then change(function() assert(cms:Delete(name)) end) end
            end })
          assert.is_nil(res)
          assert.is_true(watched >= 1)
          assert.equal("Timeout", err.reason)
          assert.matches("timed out waiting for the condition on configmaps/" .. name .. ": the object does not exist", err.message, 1, true)
        end)
      end)

      -- (g)
      it("delete of an absent object returns at once, without watching", function()
        d.run(function()
          local watched = 0
          local objs = assert(wait.For(cs, "configmaps", ns, H.name("absent"), { For = "delete", Timeout = 60,
            OnWatch = function() watched = watched + 1 end }))
          assert.equal(0, #objs)
          assert.equal(0, watched)
          -- cluster-scoped too
          objs = assert(wait.For(cs, "namespaces", nil, H.name("absent"), { For = "delete", Timeout = 60,
            OnWatch = function() watched = watched + 1 end }))
          assert.equal(0, #objs)
          assert.equal(0, watched)
        end)
      end)
    end)
  end
end)

describe("k8s.wait on a custom resource (" .. H.interpreter .. ")", function()
  local cs, dc, ns, crds, crdname, plural, kind, short, gvr

  setup(function()
    local cfg = H.config("admin-cert")
    cfg.QPS, cfg.Burst = 200, 400
    cs = assert(k8s.NewForConfig(cfg))
    dc = assert(k8s.dynamic.NewForConfig(cfg))
    ns = H.namespace(cs)
    local suffix = H.name("g"):gsub("-", "")
    plural, kind, short = "gadgets" .. suffix, "Gadget" .. suffix, "gd" .. suffix
    crdname = plural .. "." .. GROUP
    crds = cs:ApiextensionsV1():CustomResourceDefinitions()
    local open = { type = "object", ["x-kubernetes-preserve-unknown-fields"] = true }
    assert(crds:Create({
      metadata = { name = crdname },
      spec = {
        group = GROUP, scope = "Namespaced",
        names = { plural = plural, singular = "onegadget" .. suffix, kind = kind, listKind = kind .. "List", shortNames = { short } },
        versions = { { name = "v1", served = true, storage = true, subresources = { status = {} },
          schema = { openAPIV3Schema = { type = "object", properties = { spec = open, status = open } } } } },
      },
    }))
    -- the CRD's own condition, through k8s.wait (a bound, not a timing assertion)
    assert(wait.For(cs, "customresourcedefinitions.apiextensions.k8s.io", nil, crdname,
      { For = "condition=Established", Timeout = 60 }))
    -- discovery serves the new group a moment after Established
    H.eventually(function()
      local lists = cs:Discovery():ServerPreferredResources()
      for _, l in ipairs(lists or {}) do
        if l.groupVersion == GROUP .. "/v1" then return true end
      end
    end, 60, GROUP .. " in discovery")
    gvr = { Group = GROUP, Version = "v1", Resource = plural }
  end)

  teardown(function()
    H.cleanup_namespaces()
    if crds and crdname then crds:Delete(crdname) end
  end)

  it("resolves plural.group, Kind.group and short name; observedGeneration below generation is not met", function()
    local gadgets = dc:Resource(gvr):Namespace(ns)
    local name = H.name("gd")
    local obj = assert(gadgets:Create({ apiVersion = GROUP .. "/v1", kind = kind, metadata = { name = name }, spec = { x = 1 } }))
    assert.equal(1, obj.metadata.generation)
    obj.status = { conditions = { { type = "Ready", status = "True", reason = "Fine", message = "all good", observedGeneration = 1 } } }
    obj = assert(gadgets:UpdateStatus(obj))
    -- (a bare kind is found only through a singular equal to it, as in kubectl: Kind.group here)
    for _, res in ipairs { plural .. "." .. GROUP, plural .. ".v1." .. GROUP, kind .. "." .. GROUP, short, gvr } do
      local objs, err = wait.For(cs, res, ns, name, { For = "condition=Ready", Timeout = 0 })
      assert(objs, tostring(res) .. ": " .. tostring(err))
    end
    -- a spec change: generation 2, the condition still describes generation 1
    obj = assert(gadgets:Patch(name, k8s.types.MergePatchType, { spec = { x = 2 } }))
    assert.equal(2, obj.metadata.generation)
    local res, err = wait.For(dc, plural .. "." .. GROUP, ns, name, { For = "condition=Ready", Timeout = 0 })
    assert.is_nil(res)
    assert.matches("condition not met for " .. plural .. "." .. GROUP .. "/" .. name, err.message, 1, true)
    assert.matches("Ready=True (Fine: all good), observed at generation 1 < metadata.generation 2", err.message, 1, true)
    -- the controller catches up while the wait watches
    local watched = 0
    local objs = assert(wait.For(dc, plural .. "." .. GROUP, ns, name, { For = "condition=Ready", Timeout = 60,
      OnWatch = function(cur)
        watched = watched + 1
        if watched == 1 then
          assert.equal(1, cur.status.conditions[1].observedGeneration)
          local fresh = assert(gadgets:Get(name))
          fresh.status.conditions[1].observedGeneration = 2
          assert(gadgets:UpdateStatus(fresh))
        end
      end }))
    assert.equal(1, watched)
    assert.equal(2, objs[1].status.conditions[1].observedGeneration)
    -- without observedGeneration on the condition, status.observedGeneration counts
    obj = objs[1]
    obj.status = { observedGeneration = 1, conditions = { { type = "Ready", status = "True" } } }
    assert(gadgets:UpdateStatus(obj))
    res, err = wait.For(dc, gvr, ns, name, { For = "condition=Ready", Timeout = 0 })
    assert.is_nil(res)
    assert.matches("observed at generation 1 < metadata.generation 2", err.message, 1, true)
    -- a type that is absent is named
    res, err = wait.For(dc, gvr, ns, name, { For = "condition=Healthy", Timeout = 0 })
    assert.is_nil(res)
    assert.matches("no Healthy condition", err.message, 1, true)
    -- a filter as kubectl documents it
    obj = assert(gadgets:Get(name))
    obj.status = { conditions = { { type = "Ready", status = "True", observedGeneration = 2 } } }
    assert(gadgets:UpdateStatus(obj))
    assert(wait.For(dc, gvr, ns, name, { For = 'jsonpath={.status.conditions[?(@.type=="Ready")].status}=True', Timeout = 0 }))
  end)
end)

-- The typed Clientset against the real control plane: every verb on
-- namespaced and cluster-scoped resources of several API groups, status and
-- scale subresources, the error predicates the server's answers map to,
-- server-side apply, each patch type, DeleteCollection, List paging,
-- namespace finalization, discovery, the restricted identity, JSON
-- round-trips through Get -> modify -> Update, argument validation and the
-- subresource helpers (CreateToken, GetLogs, EvictV1).
local H = require "spec.helper"
local k8s = require "k8s"

local namespace = H.namespace
local errors = k8s.errors

local is54 = _VERSION == "Lua 5.4" and not jit

-- client-go's retry.RetryOnConflict around Get -> mutate -> Update (or any
-- method taking the object): controllers write status concurrently.
local function update_retry(client, name, mutate, method)
  method = method or "Update"
  local last
  for _ = 1, 10 do
    local obj = assert(client:Get(name))
    mutate(obj)
    local out, err = client[method](client, obj)
    if out then return out end
    if not errors.IsConflict(err) then return nil, err end
    last = err
  end
  error("still conflicting after 10 tries: " .. tostring(last))
end

-- Events of a watch for one object name, up to and including the first
-- event of type `last`.
local function events_until(w, name, last, timeout)
  local evs = {}
  while true do
    local ev, err = w:Next(timeout or 15)
    assert(ev, "watch: " .. tostring(err or "ended"))
    local md = ev.object.metadata
    if md and md.name == name then
      evs[#evs + 1] = ev
      if ev.type == last then return evs end
    end
  end
end

local names_of = H.names_of

local function pod_spec(image)
  return { containers = { { name = "c", image = image or "registry.k8s.io/pause:3.10" } } }
end

local function deployment(name, containers)
  return {
    metadata = { name = name },
    spec = {
      replicas = 1,
      selector = { matchLabels = { app = name } },
      template = {
        metadata = { labels = { app = name } },
        spec = { containers = containers or pod_spec().containers },
      },
    },
  }
end

describe("clientset (" .. H.interpreter .. ")", function()
  local cs, ns

  setup(function()
    local cfg = H.config("admin-cert")
    cfg.QPS, cfg.Burst = 200, 400 -- client-go's 5/10 would throttle the suite
    cs = assert(k8s.NewForConfig(cfg))
    ns = namespace(cs)
    -- the namespace's default ServiceAccount, made here rather than waited for
    -- from the controller-manager (pods need it)
    local _, serr = cs:CoreV1():ServiceAccounts(ns):Create({ metadata = { name = "default" } })
    assert(serr == nil or k8s.errors.IsAlreadyExists(serr), tostring(serr))
  end)

  teardown(function()
    H.cleanup_namespaces()
  end)

  -- One row per resource: how to get its client, a new object, a change for
  -- Update and how to see that change.
  local cases = {
    {
      what = "core/v1 ConfigMaps (namespaced)", kind = "ConfigMap", apiVersion = "v1",
      client = function() return cs:CoreV1():ConfigMaps(ns) end,
      new = function(name) return { metadata = { name = name }, data = { a = "1" } } end,
      mutate = function(o) o.data.a = "2" end,
      check = function(o) assert.equal("2", o.data.a) end,
    },
    {
      what = "core/v1 Secrets (namespaced)", kind = "Secret", apiVersion = "v1",
      client = function() return cs:CoreV1():Secrets(ns) end,
      new = function(name) return { metadata = { name = name }, type = "Opaque", stringData = { user = "u" } } end,
      mutate = function(o) o.data.pw = "eA==" end, -- base64("x")
      check = function(o) assert.equal("dQ==", o.data.user); assert.equal("eA==", o.data.pw) end,
    },
    {
      what = "core/v1 Namespaces (cluster-scoped)", kind = "Namespace", apiVersion = "v1",
      client = function() return cs:CoreV1():Namespaces() end,
      new = function(name) return { metadata = { name = name } } end,
      mutate = function(o) o.metadata.annotations = { owner = "spec" } end,
      check = function(o) assert.equal("spec", o.metadata.annotations.owner) end,
      -- the controller-manager finalizes it: its contents go too
      gone_slowly = true,
      before_delete = function(name)
        assert(cs:CoreV1():ConfigMaps(name):Create({ metadata = { name = "inside" } }))
      end,
      after_delete = function(name)
        local n = cs:CoreV1():Namespaces():Get(name)
        if n then assert.equal("Terminating", n.status.phase) end
      end,
      after_gone = function(name)
        local _, err = cs:CoreV1():ConfigMaps(name):Get("inside")
        assert.is_true(errors.IsNotFound(err))
      end,
    },
    {
      what = "apps/v1 Deployments (namespaced)", kind = "Deployment", apiVersion = "apps/v1",
      client = function() return cs:AppsV1():Deployments(ns) end,
      new = function(name) return deployment(name) end,
      mutate = function(o) o.spec.replicas = 2 end,
      check = function(o) assert.equal(2, o.spec.replicas) end,
    },
    {
      what = "batch/v1 Jobs (namespaced)", kind = "Job", apiVersion = "batch/v1",
      client = function() return cs:BatchV1():Jobs(ns) end,
      new = function(name)
        local spec = pod_spec()
        spec.restartPolicy = "Never"
        return { metadata = { name = name }, spec = { suspend = true, template = { spec = spec } } }
      end,
      mutate = function(o) o.spec.backoffLimit = 2 end,
      check = function(o) assert.equal(2, o.spec.backoffLimit) end,
    },
    {
      what = "rbac.authorization.k8s.io/v1 Roles (namespaced)", kind = "Role",
      apiVersion = "rbac.authorization.k8s.io/v1",
      client = function() return cs:RbacV1():Roles(ns) end,
      new = function(name)
        return { metadata = { name = name },
                 rules = { { apiGroups = { "" }, resources = { "configmaps" }, verbs = { "get" } } } }
      end,
      mutate = function(o) table.insert(o.rules[1].verbs, "list") end,
      check = function(o) assert.same({ "get", "list" }, o.rules[1].verbs) end,
    },
    {
      what = "rbac.authorization.k8s.io/v1 ClusterRoles (cluster-scoped)", kind = "ClusterRole",
      apiVersion = "rbac.authorization.k8s.io/v1",
      client = function() return cs:RbacV1():ClusterRoles() end,
      new = function(name)
        return { metadata = { name = name },
                 rules = { { apiGroups = { "" }, resources = { "pods" }, verbs = { "get" } } } }
      end,
      mutate = function(o) o.rules[1].resources = { "pods", "services" } end,
      check = function(o) assert.same({ "pods", "services" }, o.rules[1].resources) end,
    },
    {
      what = "networking.k8s.io/v1 NetworkPolicies (namespaced)", kind = "NetworkPolicy",
      apiVersion = "networking.k8s.io/v1",
      client = function() return cs:NetworkingV1():NetworkPolicies(ns) end,
      new = function(name) return { metadata = { name = name }, spec = { podSelector = {}, policyTypes = { "Ingress" } } } end,
      mutate = function(o) o.spec.podSelector = { matchLabels = { app = "db" } } end,
      check = function(o) assert.equal("db", o.spec.podSelector.matchLabels.app) end,
    },
    {
      what = "scheduling.k8s.io/v1 PriorityClasses (cluster-scoped)", kind = "PriorityClass",
      apiVersion = "scheduling.k8s.io/v1",
      client = function() return cs:SchedulingV1():PriorityClasses() end,
      new = function(name) return { metadata = { name = name }, value = 1000, description = "one" } end,
      mutate = function(o) o.description = "two" end,
      check = function(o) assert.equal("two", o.description); assert.equal(1000, o.value) end,
    },
    {
      what = "coordination.k8s.io/v1 Leases (namespaced)", kind = "Lease", apiVersion = "coordination.k8s.io/v1",
      client = function() return cs:CoordinationV1():Leases(ns) end,
      new = function(name) return { metadata = { name = name }, spec = { holderIdentity = "a", leaseDurationSeconds = 15 } } end,
      mutate = function(o) o.spec.holderIdentity = "b" end,
      check = function(o) assert.equal("b", o.spec.holderIdentity); assert.equal(15, o.spec.leaseDurationSeconds) end,
    },
    {
      what = "storage.k8s.io/v1 StorageClasses (cluster-scoped)", kind = "StorageClass", apiVersion = "storage.k8s.io/v1",
      client = function() return cs:StorageV1():StorageClasses() end,
      new = function(name) return { metadata = { name = name }, provisioner = "example.com/spec", reclaimPolicy = "Delete" } end,
      mutate = function(o) o.allowVolumeExpansion = true end,
      check = function(o) assert.is_true(o.allowVolumeExpansion) end,
    },
  }

  for _, c in ipairs(cases) do
    it(c.what .. ": Create Get List Update Patch Watch Delete DeleteCollection", function()
      local client = c.client()
      local name, label = H.name("v"), H.name("l")
      local obj = c.new(name)
      obj.metadata.labels = { suite = label }

      -- Create fills apiVersion and kind, the server answers with the object
      local created = assert(client:Create(obj))
      assert.equal(c.kind, created.kind)
      assert.equal(c.apiVersion, created.apiVersion)
      assert.equal(name, created.metadata.name)
      assert.is_string(created.metadata.uid)
      local rv0 = created.metadata.resourceVersion

      -- Get
      local got = assert(client:Get(name))
      assert.equal(created.metadata.uid, got.metadata.uid)

      -- List by label: exactly this object
      local list = assert(client:List({ labelSelector = "suite=" .. label }))
      assert.same({ name }, names_of(list))
      assert.is_string(list.metadata.resourceVersion)

      -- Update
      local updated = assert(update_retry(client, name, c.mutate))
      c.check(updated)
      c.check(assert(client:Get(name)))

      -- Patch (merge)
      local patched = assert(client:Patch(name, k8s.types.MergePatchType,
        { metadata = { annotations = { patched = "yes" } } }))
      assert.equal("yes", patched.metadata.annotations.patched)
      c.check(patched)

      -- Delete, then the object is gone (namespaces once finalized)
      if c.before_delete then c.before_delete(name) end
      assert.is_true(client:Delete(name, { propagationPolicy = "Background" }))
      if c.after_delete then c.after_delete(name) end
      H.eventually(function()
        local o, err = client:Get(name)
        return o == nil and errors.IsNotFound(err)
      end, 60, name .. " to be gone")
      if c.after_gone then c.after_gone(name) end

      -- Watch from the creation's resourceVersion replays the rest in order
      local w = assert(client:Watch({ resourceVersion = rv0, labelSelector = "suite=" .. label }))
      local evs = events_until(w, name, "DELETED")
      w:Stop()
      assert.is_true(#evs >= 3)
      local saw_update, saw_patch = false, false
      for i, ev in ipairs(evs) do
        if i < #evs then assert.equal("MODIFIED", ev.type) end
        local ann = ev.object.metadata.annotations
        if ann and ann.patched == "yes" then saw_patch = true end
        if not saw_patch and pcall(c.check, ev.object) then saw_update = true end
      end
      assert.is_true(saw_update, "a MODIFIED event with the update before the patch")
      assert.is_true(saw_patch, "a MODIFIED event with the patch")

      -- DeleteCollection with a labelSelector deletes exactly the matching objects
      if not c.gone_slowly then
        local coll, other = H.name("dc"), H.name("keep")
        for i = 1, 3 do
          local o = c.new(H.name("dc"))
          o.metadata.labels = { suite = label, coll = i <= 2 and coll or other }
          assert(client:Create(o))
        end
        assert.is_true(client:DeleteCollection({ propagationPolicy = "Background" },
          { labelSelector = "coll=" .. coll }))
        local left
        H.eventually(function()
          left = assert(client:List({ labelSelector = "suite=" .. label }))
          return #left.items == 1
        end, 30, "DeleteCollection")
        assert.equal(other, left.items[1].metadata.labels.coll)
        assert(client:Delete(left.items[1].metadata.name))
      end
    end)
  end

  it("lists a namespaced resource across all namespaces with \"\"", function()
    local name, label = H.name("all"), H.name("l")
    assert(cs:CoreV1():ConfigMaps(ns):Create({ metadata = { name = name, labels = { suite = label } } }))
    local list = assert(cs:CoreV1():ConfigMaps(""):List({ labelSelector = "suite=" .. label }))
    assert.equal(1, #list.items)
    assert.equal(ns, list.items[1].metadata.namespace)
    list = assert(cs:CoreV1():ConfigMaps():List({ labelSelector = "suite=" .. label }))
    assert.equal(1, #list.items)
  end)

  it("UpdateStatus writes status and ignores spec (Deployments)", function()
    local d = cs:AppsV1():Deployments(ns)
    local name = H.name("st")
    assert(d:Create(deployment(name)))
    local out = assert(update_retry(d, name, function(o)
      o.status = o.status or {}
      o.status.collisionCount = 5
      o.spec.replicas = 7 -- ignored by the status subresource
    end, "UpdateStatus"))
    assert.equal(5, out.status.collisionCount)
    assert.equal(1, out.spec.replicas)
    local got = assert(d:Get(name))
    assert.equal(5, got.status.collisionCount)
    assert.equal(1, got.spec.replicas)
  end)

  it("GetScale and UpdateScale (Deployments)", function()
    local d = cs:AppsV1():Deployments(ns)
    local name = H.name("sc")
    assert(d:Create(deployment(name)))
    local scale = assert(d:GetScale(name))
    assert.equal("Scale", scale.kind)
    assert.equal("autoscaling/v1", scale.apiVersion)
    assert.equal(1, scale.spec.replicas)
    assert.equal("app=" .. name, scale.status.selector)
    -- without apiVersion and kind: UpdateScale sends autoscaling/v1 Scale,
    -- and leaves the caller's table as it was
    local function strip(sc) sc.spec.replicas = 3; sc.apiVersion = nil; sc.kind = nil; return sc end
    scale = strip(scale)
    local out, err
    for _ = 1, 10 do
      out, err = d:UpdateScale(name, scale)
      if out or not errors.IsConflict(err) then break end
      scale = strip(assert(d:GetScale(name)))
    end
    assert(out, tostring(err))
    assert.is_nil(scale.apiVersion)
    assert.is_nil(scale.kind)
    assert.equal(3, out.spec.replicas)
    assert.equal(3, assert(d:Get(name)).spec.replicas)
  end)

  it("an Update with a stale resourceVersion gives IsConflict", function()
    local c = cs:CoreV1():ConfigMaps(ns)
    local name = H.name("cf")
    local first = assert(c:Create({ metadata = { name = name }, data = { v = "0" } }))
    local second = assert(c:Get(name))
    second.data.v = "1"
    assert(c:Update(second))
    first.data.v = "stale"
    local out, err = c:Update(first)
    assert.is_nil(out)
    assert.equal(409, err.code)
    assert.equal("Conflict", err.reason)
    assert.is_true(errors.IsConflict(err))
    assert.is_false(errors.IsAlreadyExists(err))
    assert.matches("the object has been modified", err.message, 1, true)
    assert.equal("1", assert(c:Get(name)).data.v)
  end)

  it("Create of an existing name gives IsAlreadyExists", function()
    local c = cs:CoreV1():ConfigMaps(ns)
    local name = H.name("ae")
    assert(c:Create({ metadata = { name = name } }))
    local out, err = c:Create({ metadata = { name = name } })
    assert.is_nil(out)
    assert.equal(409, err.code)
    assert.equal("AlreadyExists", err.reason)
    assert.is_true(errors.IsAlreadyExists(err))
    assert.is_false(errors.IsConflict(err))
    assert.equal(name, err.status.details.name)
    assert.equal("configmaps", err.status.details.kind)
  end)

  it("an invalid object gives IsInvalid with the server's field message", function()
    local out, err = cs:CoreV1():ConfigMaps(ns):Create({ metadata = { name = "Bad_Name" } })
    assert.is_nil(out)
    assert.equal(422, err.code)
    assert.equal("Invalid", err.reason)
    assert.is_true(errors.IsInvalid(err))
    assert.matches('metadata.name: Invalid value: "Bad_Name"', err.message, 1, true)
    assert.equal("metadata.name", err.status.details.causes[1].field)
    assert.matches("Bad_Name", tostring(err), 1, true)

    out, err = cs:AppsV1():Deployments(ns):Create({ metadata = { name = H.name("inv") },
      spec = { selector = { matchLabels = { a = "b" } }, template = { metadata = { labels = { a = "c" } },
      spec = pod_spec() } } })
    assert.is_nil(out)
    assert.is_true(errors.IsInvalid(err))
    assert.matches("spec.template.metadata.labels", err.message, 1, true)
  end)

  it("server-side apply: two field managers conflict (409) and force resolves it", function()
    local c = cs:CoreV1():ConfigMaps(ns)
    local name = H.name("ssa")
    local obj = { apiVersion = "v1", kind = "ConfigMap", metadata = { name = name }, data = { k = "a" } }
    local out = assert(c:Apply(obj, { fieldManager = "alpha" }))
    assert.equal("a", out.data.k)
    -- applying the same again is a no-op for alpha
    assert.equal(out.metadata.resourceVersion,
      assert(c:Apply(obj, { fieldManager = "alpha" })).metadata.resourceVersion)

    local theirs = { apiVersion = "v1", kind = "ConfigMap", metadata = { name = name }, data = { k = "b" } }
    local none, err = c:Apply(theirs, { fieldManager = "beta" })
    assert.is_nil(none)
    assert.equal(409, err.code)
    assert.is_true(errors.IsConflict(err))
    assert.matches('conflict with "alpha"', err.message, 1, true)
    assert.matches(".data.k", err.message, 1, true)

    out = assert(c:Apply(theirs, { fieldManager = "beta", force = true }))
    assert.equal("b", out.data.k)
    local managers = {}
    for _, mf in ipairs(out.metadata.managedFields) do managers[mf.manager] = mf.operation end
    assert.equal("Apply", managers.beta)
    -- alpha lost its only field, so it no longer manages anything
    assert.is_nil(managers.alpha)

    -- a field owned by no one else: apply without force works
    out = assert(c:Apply({ apiVersion = "v1", kind = "ConfigMap", metadata = { name = name },
      data = { k = "b", extra = "x" } }, { fieldManager = "beta" }))
    assert.equal("x", out.data.extra)
  end)

  it("each patch type changes what it should", function()
    local d = cs:AppsV1():Deployments(ns)
    local two = { { name = "a", image = "registry.k8s.io/pause:3.10" }, { name = "b", image = "registry.k8s.io/pause:3.10" } }

    -- strategic merge: containers merge by name
    local sname = H.name("smp")
    assert(d:Create(deployment(sname, two)))
    local out = assert(d:Patch(sname, k8s.types.StrategicMergePatchType,
      { spec = { template = { spec = { containers = { { name = "b", image = "registry.k8s.io/pause:3.9" } } } } } }))
    local cts = out.spec.template.spec.containers
    assert.equal(2, #cts)
    assert.equal("a", cts[1].name)
    assert.equal("registry.k8s.io/pause:3.10", cts[1].image)
    assert.equal("registry.k8s.io/pause:3.9", cts[2].image)

    -- JSON merge patch: the same body replaces the whole list
    local mname = H.name("mp")
    assert(d:Create(deployment(mname, two)))
    out = assert(d:Patch(mname, k8s.types.MergePatchType,
      '{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"registry.k8s.io/pause:3.9"}]}}}}'))
    cts = out.spec.template.spec.containers
    assert.equal(1, #cts)
    assert.equal("b", cts[1].name)

    -- JSON patch: operations in order
    out = assert(d:Patch(mname, k8s.types.JSONPatchType, {
      { op = "replace", path = "/spec/replicas", value = 4 },
      { op = "add", path = "/metadata/labels", value = { tier = "web" } },
      { op = "test", path = "/spec/replicas", value = 4 },
    }))
    assert.equal(4, out.spec.replicas)
    assert.equal("web", out.metadata.labels.tier)
    -- a failing "test" operation changes nothing
    local none, err = d:Patch(mname, k8s.types.JSONPatchType,
      '[{"op":"test","path":"/spec/replicas","value":9},{"op":"replace","path":"/spec/replicas","value":9}]')
    assert.is_nil(none)
    assert.is_true(err.code == 422 or err.code == 500, tostring(err))
    assert.equal(4, assert(d:Get(mname)).spec.replicas)

    -- merge patch with null removes a key
    local c = cs:CoreV1():ConfigMaps(ns)
    local cname = H.name("null")
    assert(c:Create({ metadata = { name = cname }, data = { keep = "1", drop = "2" } }))
    out = assert(c:Patch(cname, k8s.types.MergePatchType, { data = { drop = k8s.null, add = "3" } }))
    assert.same({ keep = "1", add = "3" }, out.data)

    -- apply patch through Patch: needs a fieldManager, creates the object
    local aname = H.name("ap")
    out = assert(c:Patch(aname, k8s.types.ApplyPatchType,
      { apiVersion = "v1", kind = "ConfigMap", metadata = { name = aname }, data = { via = "patch" } },
      { fieldManager = "patcher" }))
    assert.equal("patch", out.data.via)
    assert.equal("patcher", out.metadata.managedFields[1].manager)
    local _, e2 = c:Patch(aname, k8s.types.ApplyPatchType,
      { apiVersion = "v1", kind = "ConfigMap", metadata = { name = aname }, data = { via = "x" } })
    assert.is_true(errors.IsInvalid(e2), tostring(e2))
    assert.matches("fieldManager: Required value", e2.message, 1, true)
  end)

  it("Patch reaches a subresource (status)", function()
    local d = cs:AppsV1():Deployments(ns)
    local name = H.name("ps")
    assert(d:Create(deployment(name)))
    local out = assert(d:Patch(name, k8s.types.MergePatchType, { status = { collisionCount = 3 }, spec = { replicas = 5 } },
      nil, "status"))
    assert.equal(3, out.status.collisionCount)
    assert.equal(1, out.spec.replicas)
  end)

  it("DeleteCollection with a labelSelector deletes exactly the matching objects", function()
    local c = cs:CoreV1():ConfigMaps(ns)
    local label = H.name("dcol")
    for i = 1, 6 do
      assert(c:Create({ metadata = { name = H.name("dcol"),
        labels = { suite = label, parity = (i % 2 == 0) and "even" or "odd" } } }))
    end
    assert.is_true(c:DeleteCollection(nil, { labelSelector = "suite=" .. label .. ",parity=even" }))
    local left = assert(c:List({ labelSelector = "suite=" .. label }))
    assert.equal(3, #left.items)
    for _, it in ipairs(left.items) do assert.equal("odd", it.metadata.labels.parity) end
    -- dryRun deletes nothing
    assert.is_true(c:DeleteCollection({ dryRun = { "All" } }, { labelSelector = "suite=" .. label }))
    assert.equal(3, #assert(c:List({ labelSelector = "suite=" .. label })).items)
  end)

  it("List pages with limit and continue", function()
    local c = cs:CoreV1():ConfigMaps(ns)
    local label = H.name("page")
    local want = {}
    for _ = 1, 7 do
      local n = H.name("pg")
      want[#want + 1] = n
      assert(c:Create({ metadata = { name = n, labels = { suite = label } } }))
    end
    table.sort(want)
    local seen, pages, opts = {}, 0, { labelSelector = "suite=" .. label, limit = 3 }
    repeat
      local page = assert(c:List(opts))
      pages = pages + 1
      assert.is_true(#page.items <= 3)
      for _, it in ipairs(page.items) do seen[#seen + 1] = it.metadata.name end
      opts["continue"] = page.metadata["continue"]
      if pages < 3 then assert.is_string(opts["continue"]) end
      -- the server leaves remainingItemCount out when a selector is used
      assert.is_nil(page.metadata.remainingItemCount)
    until opts["continue"] == nil or opts["continue"] == ""
    assert.equal(3, pages)
    table.sort(seen)
    assert.same(want, seen)
  end)

  it("a List larger than 64 KiB, decoded while it arrives, is the object the whole body decodes to", function()
    local c = cs:CoreV1():ConfigMaps(ns)
    local label = H.name("big")
    local blob = ("0123456789abcdef"):rep(64) -- 1 KiB of data each
    for i = 1, 120 do
      assert(c:Create({ metadata = { name = H.name("big"), labels = { suite = label } },
                        data = { blob = blob, esc = "tab\there \u{2603} <&> \"q\"", n = tostring(i) },
                        binaryData = { b = "AAEC" } }))
    end
    local list = assert(c:List({ labelSelector = "suite=" .. label }))
    assert.equal(120, #list.items)
    assert.equal(k8s.array_mt, getmetatable(list.items))
    local raw = assert(cs:CoreV1():RESTClient():Get():Namespace(ns):Resource("configmaps")
      :Param("labelSelector", "suite=" .. label):DoRaw())
    assert.is_true(#raw > 64 * 1024)
    local whole = k8s.json.decode(raw)
    -- the two requests can differ only in the list's resourceVersion
    whole.metadata.resourceVersion = list.metadata.resourceVersion
    assert.same(whole, list)
    for _, it in ipairs(list.items) do
      assert.equal(blob, it.data.blob)
      assert.equal("tab\there \u{2603} <&> \"q\"", it.data.esc) -- the server escapes <&> as \u003c...
    end
  end)

  it("discovery lists the groups and resources of the pinned version", function()
    local d = cs:Discovery()
    local v = assert(d:ServerVersion())
    assert.equal(H.env.K8S_LUA_K8S_VERSION, v.gitVersion)
    assert.equal(H.env.K8S_LUA_K8S_VERSION:match("^v(%d+)%."), v.major)

    local groups = assert(d:ServerGroups())
    assert.equal("APIGroupList", groups.kind)
    assert.equal("", groups.groups[1].name)
    assert.equal("v1", groups.groups[1].preferredVersion.groupVersion)
    local served = {}
    for _, g in ipairs(groups.groups) do
      for _, ver in ipairs(g.versions) do served[ver.groupVersion] = true end
    end
    for _, gv in ipairs({ "v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1",
                          "scheduling.k8s.io/v1", "coordination.k8s.io/v1", "storage.k8s.io/v1",
                          "apiextensions.k8s.io/v1", "policy/v1", "authentication.k8s.io/v1" }) do
      assert.is_true(served[gv], gv .. " is served")
    end

    -- every group-version of the clientset is served, with the same resources
    local gvs = cs:GroupVersions()
    assert.is_true(#gvs >= 15)
    local mine = {}
    for _, m in ipairs(gvs) do
      local gvc = cs[m](cs)
      local api = gvc:RESTClient():APIVersion()
      local gvstr = api.Group == "" and api.Version or (api.Group .. "/" .. api.Version)
      mine[gvstr] = m
      assert.is_true(served[gvstr], m .. " (" .. gvstr .. ") is served")
      local list = assert(d:ServerResourcesForGroupVersion(gvstr))
      local byname = {}
      for _, r in ipairs(list.resources) do byname[r.name] = r end
      for _, r in ipairs(gvc:Resources()) do
        local dr = byname[r.name]
        assert.is_table(dr, gvstr .. " " .. r.name .. " in discovery")
        assert.equal(dr.namespaced, r.namespaced, r.name)
        assert.equal(dr.kind, r.kind, r.name)
      end
    end

    -- and every built-in group-version served (not from a CRD) has its method
    local crd_groups = {}
    for _, crd in ipairs(assert(cs:ApiextensionsV1():CustomResourceDefinitions():List()).items) do
      crd_groups[crd.spec.group] = true
    end
    for _, g in ipairs(groups.groups) do
      if not crd_groups[g.name] then
        for _, ver in ipairs(g.versions) do
          assert.is_string(mine[ver.groupVersion], ver.groupVersion .. " has a clientset method")
        end
      end
    end
    assert.equal("AppsV1", mine["apps/v1"])
    assert.equal("RbacV1", mine["rbac.authorization.k8s.io/v1"])

    local apps = assert(d:ServerResourcesForGroupVersion("apps/v1"))
    assert.equal("apps/v1", apps.groupVersion)
    local res = {}
    for _, r in ipairs(apps.resources) do res[r.name] = r end
    assert.is_true(res.deployments.namespaced)
    assert.equal("Deployment", res.deployments.kind)
    assert.is_table(res["deployments/scale"])
    assert.is_table(res["deployments/status"])
    local core = assert(d:ServerResourcesForGroupVersion("v1"))
    assert.equal("v1", core.groupVersion)

    local preferred = assert(d:ServerPreferredResources())
    local pref = {}
    for _, l in ipairs(preferred) do pref[l.groupVersion] = l end
    assert.is_table(pref["v1"])
    assert.is_table(pref["apps/v1"])
    for _, r in ipairs(pref["apps/v1"].resources) do
      assert.is_nil(r.name:find("/", 1, true), "no subresources in preferred resources")
    end

    -- aggregated discovery (two requests) and the legacy format (one per
    -- group-version) give the same groups and preferred resources
    local groups2, by_gv, failed = d:GroupsAndMaybeResources()
    assert.is_table(by_gv, "the server answers in the aggregated format")
    assert.same({}, failed)
    local pods_res
    for _, r in ipairs(by_gv["v1"].resources) do if r.name == "pods" then pods_res = r end end
    assert.equal("Pod", pods_res.kind)
    assert.is_nil(pods_res.storageVersionHash) -- only the legacy format has it
    local lpods
    for _, r in ipairs(assert(d:ServerResourcesForGroupVersion("v1")).resources) do
      if r.name == "pods" then lpods = r end
    end
    assert.is_string(lpods.storageVersionHash)
    local legacy = cs:Discovery()
    legacy.UseLegacyDiscovery = true
    local lgroups, lby_gv = legacy:GroupsAndMaybeResources()
    assert.is_nil(lby_gv)
    local function names(gl)
      local t = {}
      for _, g in ipairs(gl.groups) do t[#t + 1] = g.name .. "@" .. g.preferredVersion.groupVersion .. ":" .. #g.versions end
      return t
    end
    assert.same(names(lgroups), names(groups2))
    local function flat(lists)
      local t = {}
      for _, l in ipairs(lists) do
        for _, r in ipairs(l.resources) do
          local verbs = {}
          for i, v in ipairs(r.verbs) do verbs[i] = v end
          table.sort(verbs)
          t[#t + 1] = table.concat({ l.groupVersion, r.name, r.kind, tostring(r.namespaced), table.concat(verbs, ",") }, " ")
        end
      end
      table.sort(t)
      return t
    end
    local lpreferred = assert(legacy:ServerPreferredResources())
    assert.is_true(#flat(preferred) > 50)
    assert.same(flat(lpreferred), flat(preferred))
    -- a resource appears once, at its group's preferred version
    local seen = {}
    for _, l in ipairs(preferred) do
      local group = l.groupVersion:match("^(.*)/") or ""
      for _, r in ipairs(l.resources) do
        assert.is_nil(seen[group .. "/" .. r.name], group .. "/" .. r.name .. " twice")
        seen[group .. "/" .. r.name] = true
      end
    end
    assert.is_true(seen["autoscaling/horizontalpodautoscalers"])
    for _, l in ipairs(preferred) do
      if l.groupVersion == "autoscaling/v1" then assert.equal(0, #l.resources, "HPAs are at autoscaling/v2") end
    end

    local _, err = d:ServerResourcesForGroupVersion("nope.example.com/v1")
    assert.is_true(errors.IsNotFound(err))
    assert.has_error(function() d:ServerResourcesForGroupVersion("") end,
      "ServerResourcesForGroupVersion: groupVersion must be a non-empty string")
  end)

  it("group-version clients and RESTClients match the resource table", function()
    local apps = cs:AppsV1()
    assert.equal("k8s.AppsV1", tostring(apps))
    assert.same({ Group = "apps", Version = "v1" }, apps:RESTClient():APIVersion())
    assert.same({ Group = "", Version = "v1" }, cs:CoreV1():RESTClient():APIVersion())
    local info = cs:CoreV1():ConfigMaps(ns):Info()
    assert.same({ Group = "", Version = "v1", Resource = "configmaps", Kind = "ConfigMap", Namespaced = true,
                  Namespace = ns }, info)
    assert.is_nil(cs.NoSuchV1)
    assert.is_nil(cs:CoreV1().NoSuchThings)
  end)

  it("the restricted identity gets IsForbidden", function()
    local rcs = assert(k8s.NewForConfig(H.config("restricted")))
    local out, err = rcs:CoreV1():ConfigMaps(ns):Get("anything")
    assert.is_nil(out)
    assert.equal(403, err.code)
    assert.is_true(errors.IsForbidden(err))
    assert.matches('User "restricted" cannot get resource "configmaps"', err.message, 1, true)
    out, err = rcs:CoreV1():ConfigMaps(ns):Create({ metadata = { name = H.name("f") } })
    assert.is_nil(out)
    assert.is_true(errors.IsForbidden(err))
    local w
    w, err = rcs:CoreV1():Secrets(""):Watch()
    assert.is_nil(w)
    assert.is_true(errors.IsForbidden(err))
    out, err = rcs:RbacV1():ClusterRoles():DeleteCollection(nil, { labelSelector = "x=y" })
    assert.is_nil(out)
    assert.is_true(errors.IsForbidden(err))
    -- what system:authenticated may do: a create-only resource
    local review = assert(rcs:AuthorizationV1():SelfSubjectAccessReviews():Create({
      spec = { resourceAttributes = { namespace = ns, verb = "list", resource = "configmaps" } } }))
    assert.is_false(review.status.allowed)
  end)

  it("Get -> modify -> Update round-trips [], {} and null", function()
    -- Role.rules is a list: an empty Lua table would be sent as {} and rejected
    local roles = cs:RbacV1():Roles(ns)
    local _, err = roles:Create({ metadata = { name = H.name("obj") }, rules = {} })
    assert.equal(400, err.code)
    assert.is_true(errors.IsBadRequest(err))
    assert.matches("rules", err.message, 1, true)
    local rname = H.name("empty")
    local role = assert(roles:Create({ metadata = { name = rname }, rules = k8s.empty_array() }))
    -- the server stores an empty list as null
    assert.equal(k8s.null, role.rules)
    role = assert(roles:Get(rname))
    role.metadata.labels = { touched = "yes" }
    role = assert(roles:Update(role))
    assert.equal("yes", role.metadata.labels.touched)
    assert.equal(k8s.null, role.rules)

    -- NetworkPolicy.spec.podSelector is an object: sent back as [] the server would reject it
    local nps = cs:NetworkingV1():NetworkPolicies(ns)
    local nname = H.name("empty")
    assert(nps:Create({ metadata = { name = nname }, spec = { podSelector = {} } }))
    local np = assert(nps:Get(nname))
    assert.same({}, np.spec.podSelector)
    assert.is_nil(getmetatable(np.spec.podSelector))
    np.spec.policyTypes = { "Ingress" }
    np = assert(nps:Update(np))
    assert.same({ "Ingress" }, np.spec.policyTypes)
    local raw = assert(cs:NetworkingV1():RESTClient():Get():Namespace(ns):Resource("networkpolicies")
      :Name(nname):DoRaw())
    assert.matches('"podSelector":{}', raw, 1, true)

    -- Pod: the server's empty objects (securityContext, resources) go back as {}
    local pods = cs:CoreV1():Pods(ns)
    local pname = H.name("rt")
    assert(pods:Create({ metadata = { name = pname }, spec = pod_spec() }))
    local pod = assert(update_retry(pods, pname, function(o)
      assert.same({}, o.spec.securityContext)
      assert.same({}, o.spec.containers[1].resources)
      o.metadata.annotations = { round = "trip" }
    end))
    assert.equal("trip", pod.metadata.annotations.round)
    assert.same({}, pod.spec.securityContext)

    -- null removes labels through Update
    np.metadata.labels = { a = "b" }
    np = assert(nps:Update(np))
    assert.equal("b", np.metadata.labels.a)
    np.metadata.labels = k8s.null
    np = assert(nps:Update(np))
    assert.is_nil(np.metadata.labels)
  end)

  it("Get -> modify -> Update keeps 64-bit integers (int64 activeDeadlineSeconds)", function()
    local jobs = cs:BatchV1():Jobs(ns)
    local name = H.name("big")
    -- exact on 5.4; LuaJIT's doubles are exact up to 2^53
    local big = is54 and math.tointeger(9007199254740993) or 9007199254740991
    local spec = pod_spec()
    spec.restartPolicy = "Never"
    local job = assert(jobs:Create({ metadata = { name = name },
      spec = { suspend = true, activeDeadlineSeconds = big, template = { spec = spec } } }))
    assert.equal(big, job.spec.activeDeadlineSeconds)
    if is54 then assert.equal("integer", math.type(job.spec.activeDeadlineSeconds)) end
    job = assert(update_retry(jobs, name, function(o) o.metadata.labels = { round = "trip" } end))
    assert.equal(big, job.spec.activeDeadlineSeconds)
    local raw = assert(cs:BatchV1():RESTClient():Get():Namespace(ns):Resource("jobs"):Name(name):DoRaw())
    assert.matches('"activeDeadlineSeconds":' .. (is54 and tostring(big) or string.format("%.0f", big)), raw, 1, true)
  end)

  it("a verb the resource does not support raises at once", function()
    assert.has_error(function()
      cs:CoreV1():ComponentStatuses():Create({ metadata = { name = "x" } })
    end, 'Create: componentstatuses does not support the verb "create"')
    assert.has_error(function()
      cs:AuthorizationV1():SelfSubjectAccessReviews():List()
    end, 'List: selfsubjectaccessreviews.authorization.k8s.io does not support the verb "list"')
    assert.has_error(function()
      cs:CoreV1():ConfigMaps(ns):UpdateStatus({ metadata = { name = "x" } })
    end, "UpdateStatus: configmaps has no status subresource")
    assert.has_error(function() cs:CoreV1():ConfigMaps(ns):GetScale("x") end,
      "GetScale: configmaps has no scale subresource")
    assert.has_error(function() cs:CoreV1():ConfigMaps(ns):GetLogs("x") end,
      "GetLogs: configmaps has no log subresource")
    assert.has_error(function() cs:CoreV1():ConfigMaps(ns):EvictV1({ metadata = { name = "x" } }) end,
      "EvictV1: configmaps has no eviction subresource")
    -- ComponentStatuses is still readable
    assert(cs:CoreV1():ComponentStatuses():List())
  end)

  it("invalid arguments raise naming the argument", function()
    local c = cs:CoreV1():ConfigMaps(ns)
    assert.has_error(function() c:Get(nil) end, "Get: name must be a string, got nil")
    -- numbers are not names (a number would silently become "123")
    assert.has_error(function() c:Get(123) end, "Get: name must be a string, got number")
    assert.has_error(function() c:Get("") end, "Get: name must not be empty")
    assert.has_error(function() c:Get("x", "opts") end, "Get: opts must be a table, got string")
    assert.has_error(function() c:Get("x", { resourceVersion = {} , limit = function() end }) end)
    assert.has_error(function() c:List("x") end, "List: opts must be a table, got string")
    assert.has_error(function() c:Create("x") end, "Create: object must be a table, got string")
    assert.has_error(function() c:Update({ data = {} }) end, "Update: object has no metadata.name")
    assert.has_error(function() c:Update(nil) end, "Update: object must be a table, got nil")
    assert.has_error(function() c:Delete(nil) end, "Delete: name must be a string, got nil")
    assert.has_error(function() c:Delete("x", 5) end, "Delete: opts must be a table, got number")
    assert.has_error(function() c:Patch("x", nil, {}) end,
      "Patch: patch type must be a string (k8s.types.*PatchType), got nil")
    assert.has_error(function() c:Patch("x", "application/json", {}) end,
      'Patch: unknown patch type "application/json" (use k8s.types.*PatchType)')
    assert.has_error(function() c:Patch("x", k8s.types.MergePatchType, 5) end,
      "Patch: data must be a string or a table, got number")
    assert.has_error(function() c:Apply({ metadata = { name = "x" } }) end, "Apply: opts must be a table, got nil")
    assert.has_error(function() c:Apply({ metadata = { name = "x" } }, {}) end,
      "Apply: fieldManager is required for server-side apply")
    assert.has_error(function() c:Apply({ metadata = {} }, { fieldManager = "m" }) end,
      "Apply: object has no metadata.name")
    assert.has_error(function() c:Watch(true) end, "Watch: opts must be a table, got boolean")
    assert.has_error(function() c:List({ limit = k8s.null }) end,
      "List: option limit must be a string, number or boolean, got userdata")
    assert.has_error(function() c:DeleteCollection(nil, "x") end, "DeleteCollection: listOpts must be a table, got string")
    assert.has_error(function() cs:CoreV1():ConfigMaps(5) end, "ConfigMaps: namespace must be a string, got number")
    assert.has_error(function() cs:CoreV1():Namespaces("x") end,
      "namespaces is cluster-scoped: Namespaces() takes no namespace")
    assert.has_error(function() cs:CoreV1():ConfigMaps(""):Create({ metadata = { name = "x" } }) end,
      "Create: create configmaps: a namespace is required for a namespaced resource")
    assert.has_error(function() cs:CoreV1():ConfigMaps("a/b"):Get("x") end)
    assert.has_error(function() c:Get("a/b") end)
    assert.has_error(function() c:UpdateScale("x", nil) end)
    assert.has_error(function() cs:CoreV1():ServiceAccounts(ns):CreateToken(nil) end,
      "CreateToken: name must be a string, got nil")
    assert.has_error(function() k8s.NewForConfig({ Host = H.env.K8S_LUA_SERVER, Bogus = 1 }) end,
      "config: unknown field Bogus")
  end)

  it("an option that is no field of the method's options type raises, naming it; the right one has effect", function()
    local c = cs:CoreV1():ConfigMaps(ns)
    local function raises(fn, msg)
      local ok, err = pcall(fn)
      assert.is_false(ok)
      assert.matches(msg, tostring(err), 1, true)
    end
    -- a key in the wrong case would have been a query parameter the server ignores
    raises(function() c:List({ LabelSelector = "app=x" }) end,
      'List: unknown option "LabelSelector" (ListOptions has no such field; did you mean "labelSelector"?)')
    raises(function() c:Watch({ resourceversion = "0" }) end,
      'Watch: unknown option "resourceversion" (ListOptions has no such field; did you mean "resourceVersion"?)')
    raises(function() c:Get("x", { limit = 1 }) end, 'Get: unknown option "limit" (GetOptions has no such field)')
    raises(function() c:Create({ metadata = { name = "x" } }, { force = true }) end,
      'Create: unknown option "force" (CreateOptions has no such field)')
    raises(function() c:Update({ metadata = { name = "x" } }, { dryrun = "All" }) end,
      'Update: unknown option "dryrun" (UpdateOptions has no such field; did you mean "dryRun"?)')
    raises(function() c:Delete("x", { gracePeriod = 0 }) end,
      'Delete: unknown option "gracePeriod" (DeleteOptions has no such field)')
    raises(function() c:DeleteCollection({ PropagationPolicy = "Background" }) end,
      'DeleteCollection: unknown option "PropagationPolicy" (DeleteOptions has no such field; did you mean "propagationPolicy"?)')
    raises(function() c:DeleteCollection(nil, { selector = "a=b" }) end,
      'DeleteCollection: unknown option "selector" (ListOptions has no such field)')
    raises(function() c:Patch("x", k8s.types.MergePatchType, "{}", { fieldmanager = "m" }) end,
      'Patch: unknown option "fieldmanager" (PatchOptions has no such field; did you mean "fieldManager"?)')
    raises(function() c:Apply({ metadata = { name = "x" } }, { fieldManager = "m", Force = true }) end,
      'Apply: unknown option "Force" (PatchOptions has no such field; did you mean "force"?)')
    raises(function() cs:CoreV1():Pods(ns):GetLogs("p", { tail = 5 }) end,
      'GetLogs: unknown option "tail" (PodLogOptions has no such field)')
    raises(function() cs:AppsV1():Deployments(ns):GetScale("d", { ResourceVersion = "0" }) end,
      'GetScale: unknown option "ResourceVersion" (GetOptions has no such field; did you mean "resourceVersion"?)')
    -- the fields themselves reach the server: a selector filters, dryRun writes nothing,
    -- a DeleteOptions body with its kind and apiVersion is accepted
    local sel = "opt-test=" .. ns
    for i = 1, 2 do
      assert(c:Create({ metadata = { name = "opt-" .. i, labels = i == 1 and { ["opt-test"] = ns } or nil } }))
    end
    assert.same({ "opt-1" }, H.names_of(assert(c:List({ labelSelector = sel }))))
    assert(c:Create({ metadata = { name = "opt-dry" } }, { dryRun = { "All" }, fieldValidation = "Strict" }))
    local _, gerr = c:Get("opt-dry")
    assert.is_true(k8s.errors.IsNotFound(gerr))
    assert(c:Apply({ metadata = { name = "opt-2" }, data = { k = "v" } },
      { fieldManager = "opt-test", force = true, dryRun = "All" }))
    assert.is_nil((assert(c:Get("opt-2"))).data)
    assert(c:Delete("opt-2", { kind = "DeleteOptions", apiVersion = "v1", gracePeriodSeconds = 0,
                               propagationPolicy = "Background" }))
    local _, derr = c:Get("opt-2")
    assert.is_true(k8s.errors.IsNotFound(derr))
    assert(c:DeleteCollection({ propagationPolicy = "Background" }, { labelSelector = sel }))
    assert.same({}, H.names_of(assert(c:List({ labelSelector = sel }))))
  end)

  it("ServiceAccounts:CreateToken returns a token", function()
    local sas = cs:CoreV1():ServiceAccounts(ns)
    local name = H.name("sa")
    assert(sas:Create({ metadata = { name = name } }))
    local req = { spec = { expirationSeconds = 600 } }
    local tr = assert(sas:CreateToken(name, req))
    assert.same({ spec = { expirationSeconds = 600 } }, req) -- the caller's table is not changed
    assert.equal("TokenRequest", tr.kind)
    assert.equal("authentication.k8s.io/v1", tr.apiVersion)
    assert.is_string(tr.status.token)
    assert.matches("^[%w%-_]+%.[%w%-_]+%.[%w%-_]+$", tr.status.token)
    assert.is_string(tr.status.expirationTimestamp)
    -- the token authenticates as the service account
    local cfg = H.config("admin-token")
    cfg.BearerToken = tr.status.token
    local sacs = assert(k8s.NewForConfig(cfg))
    local review = assert(sacs:AuthenticationV1():SelfSubjectReviews():Create({}))
    assert.equal("system:serviceaccount:" .. ns .. ":" .. name, review.status.userInfo.username)
    local _, err = sas:CreateToken(H.name("nosa"), {})
    assert.is_true(errors.IsNotFound(err))
  end)

  it("Pods:GetLogs and Pods:EvictV1 on a Pending pod", function()
    local pods = cs:CoreV1():Pods(ns)
    local name = H.name("pod")
    local pod = assert(pods:Create({ metadata = { name = name }, spec = pod_spec() }))
    assert.equal("Pending", pod.status.phase)
    -- no node was assigned: the server answers 200 with an empty body
    local req = pods:GetLogs(name, { container = "c" })
    local body, err = req:DoRaw()
    assert.is_nil(err)
    assert.equal("", body)
    -- a missing container is a 400
    body, err = pods:GetLogs(name, { container = "nope" }):DoRaw()
    assert.is_nil(body)
    assert.equal(400, err.code)
    assert.is_true(errors.IsBadRequest(err))
    assert.matches("nope", err.message, 1, true)
    -- no PodDisruptionBudget: the eviction succeeds and the pod is deleted
    local eviction = { metadata = { name = name, namespace = ns } }
    local st = assert(pods:EvictV1(eviction))
    assert.same({ metadata = { name = name, namespace = ns } }, eviction) -- not changed
    assert.equal("Status", st.kind)
    assert.equal("Success", st.status)
    assert.equal(201, st.code)
    H.eventually(function()
      local p, e = pods:Get(name)
      return p == nil and errors.IsNotFound(e)
    end, 30, "evicted pod to be deleted")
    local _, e2 = pods:EvictV1({ metadata = { name = name, namespace = ns } })
    assert.is_true(errors.IsNotFound(e2))
  end)
end)

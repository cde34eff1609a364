-- k8s.apply against the real control plane: kubectl apply --server-side -f
-- on a multi-document file (Namespace, ConfigMaps, a List, a Deployment, a
-- Service, a ClusterRole with a bogus namespace, a CRD and a resource of it,
-- empty and null documents): created, applied again (unchanged), changed
-- (configured), diffed, deleted, with the objects on the server checked
-- field by field; field-manager conflicts and force; kubectl's namespace
-- rules; unknown kinds and malformed documents refused before anything is
-- written; [] and {} kept; dry run.
local H = require "spec.helper"
local k8s = require "k8s"

local errors = k8s.errors

local function count_actions(results)
  local n = {}
  for _, r in ipairs(results) do n[r.Action] = (n[r.Action] or 0) + 1 end
  return n
end

local function by_name(results)
  local m = {}
  for _, r in ipairs(results) do m[r.Kind .. "/" .. r.Name] = r end
  return m
end

describe("apply (" .. H.interpreter .. ")", function()
  local cs, cfg, crds

  setup(function()
    cfg = H.config("admin-cert")
    cfg.QPS, cfg.Burst = 200, 400
    cs = assert(k8s.NewForConfig(cfg))
    crds = cs:ApiextensionsV1():CustomResourceDefinitions()
  end)
  teardown(function() H.cleanup_namespaces() end)

  it("applies, re-applies, changes, diffs and deletes a multi-document file", function()
    local ns = H.name("ap")
    local ctxns = H.namespace(cs) -- the "context" namespace of the config
    local suffix = H.name("c"):gsub("-", "")
    local group, kind, plural = "apply.k8slua.example.com", "Thing" .. suffix, "things" .. suffix
    local role = H.name("role")
    local function manifest(color, replicas)
      return ([[
apiVersion: v1
kind: Namespace
metadata:
  name: NS
---
# an empty document, then a null one: both skipped
---
null
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: NS
  labels: {app: web}
data:
  color: COLOR
  enabled: "on"
  count: "3"
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed-a, namespace: NS}
  data: {k: a}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed-b, namespace: NS}
  data: {k: b}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: in-context
data: {where: context}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: NS
spec:
  replicas: REPLICAS
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext: {}
      containers:
      - name: web
        image: nginx:1.27
        args: []
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: NS
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ROLE
  namespace: NS
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: PLURAL.GROUP
spec:
  group: GROUP
  scope: Namespaced
  names: {plural: PLURAL, singular: SINGULAR, kind: KIND}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: GROUP/v1
kind: KIND
metadata:
  name: first
  namespace: NS
spec:
  empty_list: []
  empty_map: {}
  big: 9007199254740993
  "yes": yes
  quoted: "yes"
]]):gsub("PLURAL", plural):gsub("SINGULAR", "thing" .. suffix):gsub("KIND", kind):gsub("GROUP", group)
        :gsub("ROLE", role):gsub("NS", ns):gsub("COLOR", color):gsub("REPLICAS", tostring(replicas))
    end
    local config = {}
    for k, v in pairs(cfg) do config[k] = v end
    config.Namespace = ctxns
    finally(function()
      crds:Delete(plural .. "." .. group)
      cs:RbacV1():ClusterRoles():Delete(role)
      cs:CoreV1():Namespaces():Delete(ns)
    end)

    -- first run: everything created, in file order, the CRD's resource after
    -- the CRD is Established
    local results = assert(k8s.apply.Apply(config, manifest("blue", 2), { FieldManager = "apply-spec" }))
    assert.equal(10, #results)
    assert.same({ created = 10 }, count_actions(results))
    local r = by_name(results)
    assert.equal("Namespace", results[1].Kind)
    assert.equal(kind, results[10].Kind)
    assert.equal("document 5 item 2", r["ConfigMap/listed-b"].Document)
    assert.equal(ctxns, r["ConfigMap/in-context"].Namespace)
    assert.is_nil(r["ClusterRole/" .. role].Namespace)
    assert.same({ Group = "apps", Version = "v1", Resource = "deployments" }, r["Deployment/web"].Resource)

    -- the objects on the server, field by field
    local cm = assert(cs:CoreV1():ConfigMaps(ns):Get("settings"))
    assert.same({ color = "blue", enabled = "on", count = "3" }, cm.data)
    assert.same({ app = "web" }, cm.metadata.labels)
    local mf = cm.metadata.managedFields
    assert.equal(1, #mf)
    assert.equal("apply-spec", mf[1].manager)
    assert.equal("Apply", mf[1].operation)
    assert.equal("context", assert(cs:CoreV1():ConfigMaps(ctxns):Get("in-context")).data.where)
    assert.equal("b", assert(cs:CoreV1():ConfigMaps(ns):Get("listed-b")).data.k)
    local dep = assert(cs:AppsV1():Deployments(ns):Get("web"))
    assert.equal(2, dep.spec.replicas)
    local c = dep.spec.template.spec.containers[1]
    assert.equal("nginx:1.27", c.image)
    assert.equal(80, c.ports[1].containerPort)
    assert.equal("{}", k8s.json.encode(dep.spec.template.spec.securityContext))
    local svc = assert(cs:CoreV1():Services(ns):Get("web"))
    assert.equal(80, svc.spec.ports[1].port)
    assert.same({ app = "web" }, svc.spec.selector)
    local cr = assert(cs:RbacV1():ClusterRoles():Get(role))
    assert.is_nil(cr.metadata.namespace)
    assert.same({ "get" }, cr.rules[1].verbs)
    local dc = assert(k8s.dynamic.NewForConfig(cfg))
    local thing = assert(dc:Resource({ Group = group, Version = "v1", Resource = plural }):Namespace(ns):Get("first"))
    assert.equal("[]", k8s.json.encode(thing.spec.empty_list))
    assert.equal("{}", k8s.json.encode(thing.spec.empty_map))
    assert.equal(true, thing.spec["yes"]) -- YAML 1.1 as Kubernetes reads it
    assert.equal("yes", thing.spec.quoted)
    if math.type then assert.equal(9007199254740993, thing.spec.big) end

    -- the same file again: nothing changes
    -- (kube-apiserver 1.35 keeps no managedFields on a Namespace created by
    -- apply, so the second apply writes a "before-first-apply" entry, for
    -- kubectl too: bookkeeping of the server, no change of the Namespace)
    results = assert(k8s.apply.Apply(config, manifest("blue", 2), { FieldManager = "apply-spec" }))
    for _, x in ipairs(results) do assert.equal("unchanged", x.Action, x.Kind .. "/" .. x.Name) end
    assert.equal(cm.metadata.resourceVersion, by_name(results)["ConfigMap/settings"].Object.metadata.resourceVersion)
    assert.equal("", assert(k8s.apply.Diff(config, manifest("blue", 2), { FieldManager = "apply-spec" })))

    -- a change: the diff shows it, nothing is written by Diff
    local diff = assert(k8s.apply.Diff(config, manifest("green", 3), { FieldManager = "apply-spec" }))
    assert.truthy(diff:find("--- LIVE/v1.ConfigMap." .. ns .. ".settings\n+++ MERGED/v1.ConfigMap." .. ns .. ".settings\n", 1, true), diff)
    assert.truthy(diff:find("\n-  color: blue\n+  color: green\n", 1, true), diff)
    assert.truthy(diff:find("--- LIVE/apps.v1.Deployment." .. ns .. ".web\n", 1, true), diff)
    assert.truthy(diff:find("\n-  replicas: 2\n+  replicas: 3\n", 1, true), diff)
    assert.is_nil(diff:find("managedFields", 1, true))
    assert.is_nil(diff:find("listed-a", 1, true))
    assert.equal("blue", assert(cs:CoreV1():ConfigMaps(ns):Get("settings")).data.color)

    results = assert(k8s.apply.Apply(config, manifest("green", 3), { FieldManager = "apply-spec" }))
    r = by_name(results)
    assert.equal("configured", r["ConfigMap/settings"].Action)
    assert.equal("configured", r["Deployment/web"].Action)
    assert.equal("unchanged", r["Service/web"].Action)
    assert.same({ configured = 2, unchanged = 8 }, count_actions(results))
    assert.equal("green", assert(cs:CoreV1():ConfigMaps(ns):Get("settings")).data.color)
    assert.equal(3, assert(cs:AppsV1():Deployments(ns):Get("web")).spec.replicas)

    -- delete -f: everything, dependents before what they live in; returns
    -- once each object is gone
    results = assert(k8s.apply.Delete(config, manifest("green", 3), { Timeout = 120 }))
    assert.same({ deleted = 10 }, count_actions(results))
    local _, err = cs:CoreV1():Namespaces():Get(ns)
    assert.is_true(errors.IsNotFound(err))
    _, err = cs:RbacV1():ClusterRoles():Get(role)
    assert.is_true(errors.IsNotFound(err))
    _, err = crds:Get(plural .. "." .. group)
    assert.is_true(errors.IsNotFound(err))
    _, err = cs:CoreV1():ConfigMaps(ctxns):Get("in-context")
    assert.is_true(errors.IsNotFound(err))
    -- again: NotFound for each, unless IgnoreNotFound
    local none, derr, partial = k8s.apply.Delete(config, manifest("green", 3), { Wait = false })
    assert.is_nil(none)
    assert.equal("Aggregate", derr.reason)
    assert.equal(0, #partial)
    assert.truthy(derr.message:find("not found", 1, true))
    assert.same({}, assert(k8s.apply.Delete(config, manifest("green", 3), { IgnoreNotFound = true })))
  end)

  it("reports a field-manager conflict with the managers and fields; force takes them", function()
    local ns = H.namespace(cs)
    local doc = { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "shared", namespace = ns },
      data = { owner = "first", other = "x" } }
    assert(k8s.apply.Apply(cs, doc, { FieldManager = "first-tool" }))
    local mine = { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "shared", namespace = ns },
      data = { owner = "second" } }
    local res, err, partial = k8s.apply.Apply(cs, mine, { FieldManager = "second-tool" })
    assert.is_nil(res)
    assert.is_true(errors.IsConflict(err))
    assert.equal(409, err.code)
    assert.same({ { Manager = "first-tool", Field = ".data.owner",
      Message = err.Conflicts[1].Message } }, err.Conflicts)
    assert.truthy(err.message:find('conflict with "first-tool"', 1, true), err.message)
    assert.truthy(err.message:find(".data.owner", 1, true))
    assert.truthy(err.message:find("document 1 (ConfigMap " .. ns .. "/shared)", 1, true), err.message)
    assert.same({}, partial)
    assert.equal("first", assert(cs:CoreV1():ConfigMaps(ns):Get("shared")).data.owner)

    local results = assert(k8s.apply.Apply(cs, mine, { FieldManager = "second-tool", Force = true }))
    assert.equal("configured", results[1].Action)
    local cm = assert(cs:CoreV1():ConfigMaps(ns):Get("shared"))
    assert.equal("second", cm.data.owner)
    for _, mf in ipairs(cm.metadata.managedFields) do
      local fdata = mf.fieldsV1 and mf.fieldsV1["f:data"] or {}
      if mf.manager == "second-tool" then assert.is_not_nil(fdata["f:owner"]) end
      if mf.manager == "first-tool" then assert.is_nil(fdata["f:owner"]) end
    end
  end)

  it("follows kubectl's namespace rules and maps everything before writing", function()
    local ns = H.namespace(cs)
    local other = H.name("other")
    local text = ([[
apiVersion: v1
kind: ConfigMap
metadata: {name: before}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: elsewhere, namespace: OTHER}
]]):gsub("OTHER", other)
    local res, err = k8s.apply.Apply(cs, text, { Namespace = ns })
    assert.is_nil(res)
    assert.equal('document 2: the namespace from the provided object "' .. other .. '" does not match the namespace "'
      .. ns .. "\". You must pass '--namespace=" .. other .. "' to perform this operation.", err.message)
    local _, gerr = cs:CoreV1():ConfigMaps(ns):Get("before")
    assert.is_true(errors.IsNotFound(gerr)) -- nothing was written

    -- an unknown kind: named with its document, nothing written
    res, err = k8s.apply.Apply(cs, [[
apiVersion: v1
kind: ConfigMap
metadata: {name: before}
---
apiVersion: nope.example.com/v1
kind: Nope
metadata: {name: n1}
]], { Namespace = ns })
    assert.is_nil(res)
    assert.equal('document 2: resource mapping not found for name: "n1" namespace: "": no matches for kind "Nope" '
      .. 'in version "nope.example.com/v1"; ensure CRDs are installed first', err.message)
    _, gerr = cs:CoreV1():ConfigMaps(ns):Get("before")
    assert.is_true(errors.IsNotFound(gerr))

    -- a malformed document: its index and line
    res, err = k8s.apply.Apply(cs, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: x\n  bad: [\n",
      { Namespace = ns })
    assert.is_nil(res)
    assert.truthy(err.message:find("document 2", 1, true), err.message)
    assert.truthy(err.message:find("line", 1, true), err.message)

    -- an alias bomb is refused, quickly and without memory blow-up
    local bomb = { "a: &a [x, x, x, x, x, x, x, x, x, x]" }
    for i = 2, 12 do
      local prev = string.char(96 + i - 1)
      local cur = string.char(96 + i)
      bomb[#bomb + 1] = string.format("%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]", cur, cur,
        prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
    end
    res, err = k8s.apply.Apply(cs, table.concat(bomb, "\n") .. "\n", { Namespace = ns })
    assert.is_nil(res)
    assert.truthy(err.message:find("alias", 1, true), err.message)

    -- nothing to apply: refused as kubectl (with an ApplySet it would prune all)
    for _, empty in ipairs({ "", "---\n", "# only a comment\n---\nnull\n", {} }) do
      res, err = k8s.apply.Apply(cs, empty, { Namespace = ns, ApplySet = "secrets/set", Prune = true })
      assert.is_nil(res)
      assert.equal("no objects passed to apply", err.message)
    end
    res, err = k8s.apply.Delete(cs, "", { Namespace = ns })
    assert.is_nil(res)
    assert.equal("no objects passed to delete", err.message)

    -- an ApplySet parent naming a kind the server does not serve: refused
    -- before anything is written, as kubectl
    assert(cs:CoreV1():Secrets(ns):Create({ metadata = { name = "stale-set",
      labels = { ["applyset.kubernetes.io/id"] = k8s.apply.ApplySetID("stale-set", ns, "Secret", "") },
      annotations = { ["applyset.kubernetes.io/tooling"] = "kubectl/v1.35.4",
        ["applyset.kubernetes.io/contains-group-kinds"] = "ConfigMap,Gone.nope.example.com" } } }))
    res, err = k8s.apply.Apply(cs, { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "member" } },
      { Namespace = ns, ApplySet = "secrets/stale-set", Prune = true })
    assert.is_nil(res)
    assert.equal('parsing ApplySet annotation on "stale-set": could not find mapping for kind in '
      .. '"applyset.kubernetes.io/contains-group-kinds" annotation: no matches for kind "Gone" in group "nope.example.com"',
      err.message)
    _, gerr = cs:CoreV1():ConfigMaps(ns):Get("member")
    assert.is_true(errors.IsNotFound(gerr))

    -- missing kind, generateName, a non-object document
    res, err = k8s.apply.Apply(cs, { { apiVersion = "v1", metadata = { name = "x" } },
      { apiVersion = "v1", kind = "ConfigMap", metadata = { generateName = "g-" } } }, { Namespace = ns })
    assert.is_nil(res)
    assert.same({ "document 1: kind not set", "document 2: cannot use generate name with apply" }, err.problems)

    -- without an explicit or context namespace: "default" (a dry run)
    local dry = assert(k8s.apply.Apply(cs, { apiVersion = "v1", kind = "ConfigMap", metadata = { name = H.name("d") } },
      { DryRun = true }))
    assert.equal("default", dry[1].Namespace)
    assert.equal("created", dry[1].Action)
    _, gerr = cs:CoreV1():ConfigMaps("default"):Get(dry[1].Name)
    assert.is_true(errors.IsNotFound(gerr)) -- nothing persisted
    assert.has_error(function() k8s.apply.Apply(cs, 42) end,
      "Apply: manifests must be YAML/JSON text or tables, got number")
    assert.has_error(function() k8s.apply.Apply(cs, {}, { FieldManager = "" }) end,
      "Apply: opts.FieldManager must be a non-empty string")
    -- the server's Strict field validation, as kubectl's default
    res, err = k8s.apply.Apply(cs, { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "typo" },
      dta = { a = "1" } }, { Namespace = ns })
    assert.is_nil(res)
    assert.truthy(err.message:find(".dta: field not declared in schema", 1, true), err.message)
  end)

  it("reads many objects of one resource with one LIST page, the rest with GETs", function()
    local ns = H.namespace(cs)
    local function cm(name, v) return { apiVersion = "v1", kind = "ConfigMap", metadata = { name = name }, data = { v = v } } end
    local fillers = {}
    for i = 1, 70 do fillers[i] = cm(string.format("filler-%02d", i), "f") end
    local results = assert(k8s.apply.Apply(cs, fillers, { Namespace = ns }))
    assert.same({ created = 70 }, count_actions(results))
    assert.same({ unchanged = 70 }, count_actions(assert(k8s.apply.Apply(cs, fillers, { Namespace = ns }))))
    -- zz-* sort after the first page (64 objects); zz-a and zz-b exist
    assert(k8s.apply.Apply(cs, { cm("zz-a", "1"), cm("zz-b", "1") }, { Namespace = ns }))
    local docs = { cm("zz-a", "1"), cm("zz-b", "2"), cm("zz-c", "1"), cm("filler-01", "f"), cm("filler-02", "g") }
    for i = 1, 4 do docs[#docs + 1] = cm("zz-new-" .. i, "n") end
    docs[#docs + 1] = cm("zz-c", "again") -- the same object twice: the second sees the first's result
    results = assert(k8s.apply.Apply(cs, docs, { Namespace = ns }))
    local actions = {}
    for i, r in ipairs(results) do actions[i] = r.Action end
    assert.same({ "unchanged", "configured", "created", "unchanged", "configured", "created", "created", "created",
      "created", "configured" }, actions)
    assert.equal("again", assert(cs:CoreV1():ConfigMaps(ns):Get("zz-c")).data.v)
    assert.equal("g", assert(cs:CoreV1():ConfigMaps(ns):Get("filler-02")).data.v)
    -- a dry run compares the LIST's objects with the server's dry-run result
    results = assert(k8s.apply.Apply(cs, docs, { Namespace = ns, DryRun = true }))
    actions = {}
    for i, r in ipairs(results) do actions[i] = r.Action end
    assert.same({ "unchanged", "unchanged", "configured", "unchanged", "unchanged", "unchanged", "unchanged",
      "unchanged", "unchanged", "unchanged" }, actions)
  end)

  it("diffs a Secret without showing its values, and a new object against nothing", function()
    local ns = H.namespace(cs)
    local function secret(v)
      return { apiVersion = "v1", kind = "Secret", metadata = { name = "creds", namespace = ns },
        stringData = nil, data = { password = v, user = "YWRtaW4=" } }
    end
    local diff = assert(k8s.apply.Diff(cs, secret("c2VjcmV0MQ=="), {}))
    assert.truthy(diff:find("--- LIVE/v1.Secret." .. ns .. ".creds\n+++ MERGED/v1.Secret." .. ns .. ".creds\n@@ -0,0 +1,", 1, true), diff)
    assert.is_nil(diff:find("c2VjcmV0MQ==", 1, true))
    assert.is_nil(diff:find("YWRtaW4=", 1, true))
    assert(k8s.apply.Apply(cs, secret("c2VjcmV0MQ=="), {}))
    assert.equal("", assert(k8s.apply.Diff(cs, secret("c2VjcmV0MQ=="), {})))
    diff = assert(k8s.apply.Diff(cs, secret("c2VjcmV0Mg=="), {}))
    assert.truthy(diff:find("\n-  password: '*** (before)'\n+  password: '*** (after)'\n", 1, true)
      or diff:find('\n-  password: "*** (before)"\n+  password: "*** (after)"\n', 1, true), diff)
    assert.is_nil(diff:find("c2VjcmV0", 1, true))
    assert.is_nil(diff:find("YWRtaW4=", 1, true))
    assert.equal("c2VjcmV0MQ==", assert(cs:CoreV1():Secrets(ns):Get("creds")).data.password)
  end)

  for _, d in ipairs(H.DRIVERS) do
    it("applies N objects at a time between Namespaces on the " .. d.name .. " driver", function()
      local a, b = H.name("ca"), H.name("cb")
      finally(function()
        cs:CoreV1():Namespaces():Delete(a)
        cs:CoreV1():Namespaces():Delete(b)
      end)
      local docs = { { apiVersion = "v1", kind = "Namespace", metadata = { name = a } } }
      for i = 1, 12 do
        docs[#docs + 1] = { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "cm" .. i, namespace = a },
          data = { i = tostring(i) } }
      end
      docs[#docs + 1] = { apiVersion = "v1", kind = "Namespace", metadata = { name = b } }
      for i = 1, 12 do
        docs[#docs + 1] = { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "cm" .. i, namespace = b },
          data = { i = tostring(i) } }
      end
      local results
      d.run(function() results = assert(k8s.apply.Apply(cs, docs, { Concurrency = 5 })) end)
      assert.equal(26, #results)
      for i, r in ipairs(results) do -- input order, whatever finished first
        assert.equal(docs[i].metadata.name, r.Name)
        assert.equal("created", r.Action)
      end
      local ours = 0 -- (kube-root-ca.crt is the controller-manager's)
      for _, cm in ipairs(assert(cs:CoreV1():ConfigMaps(a):List()).items) do
        if cm.metadata.name:match("^cm%d+$") then ours = ours + 1 end
      end
      assert.equal(12, ours)
      assert.equal("7", assert(cs:CoreV1():ConfigMaps(b):Get("cm7")).data.i)
      docs[5].data.i = "changed"
      d.run(function() results = assert(k8s.apply.Apply(cs, docs, { Concurrency = 5 })) end)
      local n = count_actions(results)
      assert.same({ configured = 1, unchanged = 25 }, n)
      assert.equal("configured", results[5].Action)
      assert.has_error(function() k8s.apply.Apply(cs, docs, { Concurrency = 0 }) end,
        "Apply: opts.Concurrency must be a number >= 1")
    end)

    it("applies on the " .. d.name .. " driver", function()
      local ns = H.namespace(cs)
      d.run(function()
        local results = assert(k8s.apply.Apply(cs, ([[
apiVersion: v1
kind: ConfigMap
metadata: {name: one}
data: {k: v}
]]), { Namespace = ns }))
        assert.equal("created", results[1].Action)
      end)
      assert.equal("v", assert(cs:CoreV1():ConfigMaps(ns):Get("one")).data.k)
    end)
  end
end)

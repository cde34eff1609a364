-- ApplySet pruning (KEP-3659) of k8s.apply.Apply against the real control
-- plane, and against the real kubectl v1.35.4 (bench/setup.sh kubectl builds
-- it; BENCH_KUBECTL or $K8S_LUA_CACHE/kubectl/<version>/bin/kubectl): the
-- parent's exact id label and annotations (the id computed here with openssl,
-- not with the library), members labelled part-of, pruning of exactly what
-- left the set (never an unlabelled object or another set's), a set across
-- namespaces under a cluster-scoped custom-resource parent (the only way
-- kubectl can express one: a namespaced parent needs -n, and -n refuses
-- objects of another namespace), and both directions of interop: kubectl
-- prunes a set this library made, this library prunes a set kubectl made.
local H = require "spec.helper"
local k8s = require "k8s"
local apply = require "k8s.apply"
local wait = require "k8s.wait"

local errors = k8s.errors

local GROUP = "k8slua.example.com"
local ID_LABEL = "applyset.kubernetes.io/id"
local PART_OF = "applyset.kubernetes.io/part-of"
local TOOLING = "applyset.kubernetes.io/tooling"
local GKS = "applyset.kubernetes.io/contains-group-kinds"
local NSS = "applyset.kubernetes.io/additional-namespaces"
local K8S_VERSION = (H.env.K8S_LUA_K8S_VERSION or "v1.35.4"):gsub("^v", "")

-- kubectl as tools/bench.sh finds it (bench/setup.sh prints this path)
local function kubectl_path()
  local p = os.getenv("BENCH_KUBECTL")
  if p and p ~= "" then return p end
  local cache = os.getenv("K8S_LUA_CACHE")
  if not cache or cache == "" then cache = (os.getenv("HOME") or "") .. "/.cache/k8s-lua" end
  return cache .. "/kubectl/" .. K8S_VERSION .. "/bin/kubectl"
end
local KUBECTL = kubectl_path()

local function need_kubectl()
  assert(H.exists(KUBECTL), "kubectl v" .. K8S_VERSION .. " is missing at " .. KUBECTL
    .. ": build it with `bench/setup.sh kubectl` (make test does), or point BENCH_KUBECTL at one")
end

-- "applyset-" .. base64url-nopad(sha256(s)) .. "-v1", computed by openssl
local function applyset_id(s)
  local b64 = H.sh("printf %s " .. H.shq(s) .. " | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '='")
  assert(b64:match("^[%w_-]+$") and #b64 == 43, "openssl/base64 failed: " .. b64)
  return "applyset-" .. b64 .. "-v1"
end

local function cm(name, ns, data)
  return { apiVersion = "v1", kind = "ConfigMap", metadata = { name = name, namespace = ns }, data = data or { k = name } }
end
local function role(name)
  return { apiVersion = "rbac.authorization.k8s.io/v1", kind = "Role", metadata = { name = name },
    rules = { { apiGroups = { "" }, resources = { "configmaps" }, verbs = { "get" } } } }
end
local function clusterrole(name)
  return { apiVersion = "rbac.authorization.k8s.io/v1", kind = "ClusterRole", metadata = { name = name },
    rules = { { apiGroups = { "" }, resources = { "configmaps" }, verbs = { "list" } } } }
end

-- "Kind ns/name" of the results with this Action, sorted
local function actions(results, action)
  local out = {}
  for _, r in ipairs(results or {}) do
    if r.Action == action then out[#out + 1] = r.Kind .. " " .. (r.Namespace and r.Namespace .. "/" or "") .. r.Name end
  end
  table.sort(out)
  return out
end

describe("ApplySet (" .. H.interpreter .. ")", function()
  local cs, dc, tmp, kubeconfig, cachedir
  local kubectl_n = 0

  setup(function()
    local cfg = H.config("admin-cert")
    cs = assert(k8s.NewForConfig(cfg))
    dc = assert(k8s.dynamic.NewForConfig(cfg))
    tmp = H.sh("mktemp -d /tmp/k8s-lua-applyset.XXXXXX"):gsub("%s+$", "")
    cachedir = tmp .. "/kubectl-cache"
    -- kubectl's kubeconfig: the control plane's admin certificate
    kubeconfig = tmp .. "/kubeconfig"
    H.write(kubeconfig, string.format([[
apiVersion: v1
kind: Config
clusters: [{name: cp, cluster: {server: "%s", certificate-authority: "%s"}}]
users: [{name: admin, user: {client-certificate: "%s", client-key: "%s"}}]
contexts: [{name: admin, context: {cluster: cp, user: admin, namespace: default}}]
current-context: admin
]], H.env.K8S_LUA_SERVER, H.env.K8S_LUA_CA, H.env.K8S_LUA_ADMIN_CERT, H.env.K8S_LUA_ADMIN_KEY))
  end)

  teardown(function()
    H.cleanup_namespaces()
    if tmp and tmp:match("^/tmp/k8s%-lua%-applyset%.") then os.execute("env -u LD_PRELOAD rm -rf " .. H.shq(tmp)) end
  end)

  -- a folder of JSON manifests (kubectl reads .json as it reads .yaml)
  local function folder(objs)
    kubectl_n = kubectl_n + 1
    local dir = tmp .. "/set-" .. kubectl_n
    os.execute("env -u LD_PRELOAD mkdir -p " .. H.shq(dir))
    for i, o in ipairs(objs) do H.write(string.format("%s/%02d.json", dir, i), k8s.json.encode(o)) end
    return dir
  end

  -- kubectl apply --server-side --prune --applyset=PARENT [-n NS] -f DIR: exit code, output
  local function kubectl_apply(parent, ns, dir)
    need_kubectl()
    local cmd = string.format("env -u LD_PRELOAD -u KUBECONFIG KUBECTL_APPLYSET=true %s --kubeconfig %s --cache-dir %s"
      .. " apply --server-side --prune --applyset=%s%s -f %s 2>&1; echo EXIT:$?",
      H.shq(KUBECTL), H.shq(kubeconfig), H.shq(cachedir), H.shq(parent), ns and (" -n " .. H.shq(ns)) or "", H.shq(dir))
    local out = H.sh(cmd)
    return tonumber(out:match("EXIT:(%d+)%s*$")), out
  end

  local function get_secret(ns, name) return cs:CoreV1():Secrets(ns):Get(name) end

  -- the object is gone (pruning deletes in the background: wait for it)
  local function assert_gone(gvr, ns, name)
    assert(wait.For(dc, gvr, ns, name, { For = "delete", Timeout = 30 }))
    local r = dc:Resource(gvr)
    if ns then r = r:Namespace(ns) end
    local obj, err = r:Get(name)
    assert.is_nil(obj)
    assert.is_true(errors.IsNotFound(err), tostring(err))
  end

  local CM = { Group = "", Version = "v1", Resource = "configmaps" }
  local ROLE = { Group = "rbac.authorization.k8s.io", Version = "v1", Resource = "roles" }
  local CROLE = { Group = "rbac.authorization.k8s.io", Version = "v1", Resource = "clusterroles" }

  it("finds kubectl v" .. K8S_VERSION .. " (bench/setup.sh kubectl)", function()
    need_kubectl()
    local out = H.sh("env -u LD_PRELOAD " .. H.shq(KUBECTL) .. " version --client")
    assert.matches("Client Version: v" .. K8S_VERSION:gsub("%.", "%%."), out)
  end)

  it("a Secret parent: the exact id label and annotations, members labelled part-of", function()
    local ns = H.namespace(cs)
    local parent = H.name("set")
    local crname = H.name("cr")
    local res, err = apply.Apply(cs, { cm("a"), cm("b"), role("r"), clusterrole(crname) },
      { ApplySet = "secrets/" .. parent, Prune = true, Namespace = ns })
    assert.is_nil(err)
    assert.same({ "ClusterRole " .. crname, "ConfigMap " .. ns .. "/a", "ConfigMap " .. ns .. "/b", "Role " .. ns .. "/r" },
      actions(res, "created"))
    assert.equal(4, #res)

    local id = applyset_id(parent .. "." .. ns .. ".Secret.")
    local p = assert(get_secret(ns, parent))
    assert.same({ [ID_LABEL] = id }, p.metadata.labels)
    assert.same({
      [TOOLING] = "kubectl/v1.35.4+k8s-lua",
      [GKS] = "ClusterRole.rbac.authorization.k8s.io,ConfigMap,Role.rbac.authorization.k8s.io",
      [NSS] = "",
    }, p.metadata.annotations)
    assert.is_nil(p.data)
    -- the parent's fields belong to the ApplySet manager, as kubectl's
    local managers = {}
    for _, mf in ipairs(p.metadata.managedFields) do managers[#managers + 1] = mf.manager .. ":" .. mf.operation end
    assert.same({ "kubectl-applyset:Apply" }, managers)
    -- every member carries the part-of label (the cluster-scoped one too)
    assert.equal(id, assert(cs:CoreV1():ConfigMaps(ns):Get("a")).metadata.labels[PART_OF])
    assert.equal(id, assert(cs:CoreV1():ConfigMaps(ns):Get("b")).metadata.labels[PART_OF])
    assert.equal(id, assert(dc:Resource(ROLE):Namespace(ns):Get("r")).metadata.labels[PART_OF])
    local cr = assert(dc:Resource(CROLE):Get(crname))
    assert.equal(id, cr.metadata.labels[PART_OF])
    assert.is_nil(cr.metadata.namespace)
    assert(dc:Resource(CROLE):Delete(crname))
  end)

  it("with an explicit Namespace, an object of another namespace is refused before anything is written", function()
    local ns1, ns2 = H.namespace(cs), H.namespace(cs)
    local parent = H.name("set")
    local res, err = apply.Apply(cs, { cm("a"), cm("b", ns2) },
      { ApplySet = "secrets/" .. parent, Prune = true, Namespace = ns1 })
    assert.is_nil(res)
    assert.matches('the namespace from the provided object "' .. ns2:gsub("%-", "%%-") .. '" does not match the namespace "'
      .. ns1:gsub("%-", "%%-") .. '"', err.message)
    -- kubectl applies the objects it could read, then fails; here nothing is written
    local _, gerr = get_secret(ns1, parent)
    assert.is_true(errors.IsNotFound(gerr), tostring(gerr))
    _, gerr = cs:CoreV1():ConfigMaps(ns1):Get("a")
    assert.is_true(errors.IsNotFound(gerr), tostring(gerr))
  end)

  it("a smaller set prunes exactly what left it; other objects are never touched; the parent shrinks", function()
    local ns = H.namespace(cs)
    local parent = H.name("set")
    local crname = H.name("cr")
    local cms = cs:CoreV1():ConfigMaps(ns)
    -- in the same namespace: an unlabelled ConfigMap, and one of another set
    local bystander = assert(cms:Create(cm("bystander")))
    local foreign = assert(cms:Create({ metadata = { name = "foreign", labels = { [PART_OF] = applyset_id("other.x.Secret.") } },
      data = { k = "v" } }))
    local opts = { ApplySet = "secrets/" .. parent, Prune = true, Namespace = ns }
    assert(apply.Apply(cs, { cm("a"), cm("b"), role("r"), clusterrole(crname) }, opts))

    local res, err = apply.Apply(cs, { cm("a") }, opts)
    assert.is_nil(err)
    assert.same({ "ConfigMap " .. ns .. "/a" }, actions(res, "unchanged"))
    assert.same({ "ClusterRole " .. crname, "ConfigMap " .. ns .. "/b", "Role " .. ns .. "/r" }, actions(res, "pruned"))
    assert.equal(4, #res)
    assert_gone(CM, ns, "b")
    assert_gone(ROLE, ns, "r")
    assert_gone(CROLE, nil, crname)
    assert(cms:Get("a"))
    assert.equal(bystander.metadata.resourceVersion, assert(cms:Get("bystander")).metadata.resourceVersion)
    assert.equal(foreign.metadata.resourceVersion, assert(cms:Get("foreign")).metadata.resourceVersion)
    local p = assert(get_secret(ns, parent))
    assert.equal("ConfigMap", p.metadata.annotations[GKS])
    assert.equal("", p.metadata.annotations[NSS])
    assert.equal(applyset_id(parent .. "." .. ns .. ".Secret."), p.metadata.labels[ID_LABEL])

    -- the same set again: nothing left to prune
    res, err = apply.Apply(cs, { cm("a") }, opts)
    assert.is_nil(err)
    assert.same({ "ConfigMap " .. ns .. "/a" }, actions(res, "unchanged"))
    assert.same({}, actions(res, "pruned"))
    -- a changed member is configured, not pruned
    res = assert(apply.Apply(cs, { cm("a", nil, { k = "changed" }) }, opts))
    assert.same({ "ConfigMap " .. ns .. "/a" }, actions(res, "configured"))
    assert.equal("changed", assert(cms:Get("a")).data.k)
  end)

  it("refuses a parent of other tooling, as kubectl does", function()
    local ns = H.namespace(cs)
    local parent = H.name("set")
    local id = applyset_id(parent .. "." .. ns .. ".Secret.")
    assert(cs:CoreV1():Secrets(ns):Create({ metadata = { name = parent, labels = { [ID_LABEL] = id },
      annotations = { [TOOLING] = "helm/v3.17.0", [GKS] = "" } } }))
    local res, err = apply.Apply(cs, { cm("a") }, { ApplySet = "secrets/" .. parent, Prune = true, Namespace = ns })
    assert.is_nil(res)
    assert.matches('managed by tooling "helm" instead of "kubectl"', err.message)
    local code, out = kubectl_apply(parent, ns, folder({ cm("a") }))
    assert.equal(1, code, out)
    assert.matches('managed by tooling "helm" instead of "kubectl"', out)
    local _, gerr = cs:CoreV1():ConfigMaps(ns):Get("a")
    assert.is_true(errors.IsNotFound(gerr), tostring(gerr))
  end)

  describe("across namespaces: a cluster-scoped custom resource parent", function()
    local crds, crd, plural, kind, gvr

    setup(function()
      local suffix = H.name("s"):gsub("-", "")
      plural, kind = "sets" .. suffix, "Set" .. suffix
      crds = cs:ApiextensionsV1():CustomResourceDefinitions()
      crd = assert(crds:Create({
        metadata = { name = plural .. "." .. GROUP, labels = { ["applyset.kubernetes.io/is-parent-type"] = "true" } },
        spec = {
          group = GROUP, scope = "Cluster",
          names = { plural = plural, singular = "set" .. suffix, kind = kind, listKind = kind .. "List" },
          versions = { { name = "v1", served = true, storage = true,
            schema = { openAPIV3Schema = { type = "object", ["x-kubernetes-preserve-unknown-fields"] = true } } } },
        },
      }))
      assert(wait.For(cs, { Group = "apiextensions.k8s.io", Version = "v1", Resource = "customresourcedefinitions" }, nil,
        crd.metadata.name, { For = "condition=Established", Timeout = 60 }))
      gvr = { Group = GROUP, Version = "v1", Resource = plural }
      -- Established comes before every handler serves the resource
      H.eventually(function() return dc:Resource(gvr):List() ~= nil end, 30, "the parent resource to be served")
    end)

    teardown(function()
      if crd then crds:Delete(crd.metadata.name) end
    end)

    -- kubectl will not create a custom-resource parent, and it requires the
    -- tooling annotation (and the id label, and the kinds annotation) on it:
    -- the user creates it so
    local function make_parent(name)
      local id = applyset_id(name .. ".." .. kind .. "." .. GROUP)
      assert(dc:Resource(gvr):Create({ apiVersion = GROUP .. "/v1", kind = kind,
        metadata = { name = name, labels = { [ID_LABEL] = id }, annotations = { [TOOLING] = "kubectl/v1.35.4", [GKS] = "" } } }))
      return id
    end

    it("is not created automatically (kubectl's rule)", function()
      local ns = H.namespace(cs)
      local res, err = apply.Apply(cs, { cm("a", ns) }, { ApplySet = plural .. "." .. GROUP .. "/" .. H.name("p"), Prune = true })
      assert.is_nil(res)
      assert.matches("custom resource ApplySet parents cannot be created automatically", err.message)
    end)

    it("spans namespaces (additional-namespaces) and prunes in each; kubectl prunes it too", function()
      local ns1, ns2 = H.namespace(cs), H.namespace(cs)
      local name = H.name("p")
      local id = make_parent(name)
      local ref = plural .. "." .. GROUP .. "/" .. name
      local res, err = apply.Apply(cs, { cm("a", ns1), cm("b", ns2), cm("c", ns2) }, { ApplySet = ref, Prune = true })
      assert.is_nil(err)
      assert.same({ "ConfigMap " .. ns1 .. "/a", "ConfigMap " .. ns2 .. "/b", "ConfigMap " .. ns2 .. "/c" }, actions(res, "created"))
      local p = assert(dc:Resource(gvr):Get(name))
      assert.same({ [ID_LABEL] = id }, p.metadata.labels)
      local sorted = { ns1, ns2 }
      table.sort(sorted)
      assert.same({ [TOOLING] = "kubectl/v1.35.4+k8s-lua", [GKS] = "ConfigMap", [NSS] = table.concat(sorted, ",") },
        p.metadata.annotations)
      assert.equal(id, assert(cs:CoreV1():ConfigMaps(ns2):Get("b")).metadata.labels[PART_OF])

      -- the set leaves ns2 but for c: b is pruned
      res, err = apply.Apply(cs, { cm("a", ns1), cm("c", ns2) }, { ApplySet = ref, Prune = true })
      assert.is_nil(err)
      assert.same({ "ConfigMap " .. ns2 .. "/b" }, actions(res, "pruned"))
      assert_gone(CM, ns2, "b")

      -- kubectl (no -n: the parent has no namespace) applies only c: a is pruned from ns1
      local code, out = kubectl_apply(ref, nil, folder({ cm("c", ns2) }))
      assert.equal(0, code, out)
      assert.matches("configmap/c serverside%-applied", out)
      assert.matches("configmap/a pruned", out)
      assert_gone(CM, ns1, "a")
      p = assert(dc:Resource(gvr):Get(name))
      assert.same({ [TOOLING] = "kubectl/v1.35.4", [GKS] = "ConfigMap", [NSS] = ns2 }, p.metadata.annotations)

      -- and back: this library accepts kubectl's parent and prunes c
      res, err = apply.Apply(cs, { cm("a", ns1) }, { ApplySet = ref, Prune = true })
      assert.is_nil(err)
      assert.same({ "ConfigMap " .. ns1 .. "/a" }, actions(res, "created"))
      assert.same({ "ConfigMap " .. ns2 .. "/c" }, actions(res, "pruned"))
      assert_gone(CM, ns2, "c")
      p = assert(dc:Resource(gvr):Get(name))
      assert.equal(ns1, p.metadata.annotations[NSS])
      assert(dc:Resource(gvr):Delete(name))
    end)
  end)

  describe("interop with kubectl v1.35.4 (Secret parent)", function()
    it("kubectl makes a set of 3; this library applies 2 of them and prunes the third", function()
      local ns = H.namespace(cs)
      local parent = H.name("set")
      local code, out = kubectl_apply(parent, ns, folder({ cm("k1"), cm("k2"), role("kr") }))
      assert.equal(0, code, out)
      assert.matches("configmap/k1 serverside%-applied", out)
      assert.matches("role.rbac.authorization.k8s.io/kr serverside%-applied", out)
      local id = applyset_id(parent .. "." .. ns .. ".Secret.")
      local p = assert(get_secret(ns, parent))
      assert.same({ [ID_LABEL] = id }, p.metadata.labels)
      assert.same({ [TOOLING] = "kubectl/v" .. K8S_VERSION, [GKS] = "ConfigMap,Role.rbac.authorization.k8s.io", [NSS] = "" },
        p.metadata.annotations)
      assert.equal(id, assert(cs:CoreV1():ConfigMaps(ns):Get("k2")).metadata.labels[PART_OF])

      local res, err = apply.Apply(cs, { cm("k1"), role("kr") }, { ApplySet = "secrets/" .. parent, Prune = true, Namespace = ns })
      assert.is_nil(err)
      -- kubectl's field manager is ours ("kubectl"): the same configuration is unchanged
      assert.same({ "ConfigMap " .. ns .. "/k1", "Role " .. ns .. "/kr" }, actions(res, "unchanged"))
      assert.same({ "ConfigMap " .. ns .. "/k2" }, actions(res, "pruned"))
      assert_gone(CM, ns, "k2")
      assert(cs:CoreV1():ConfigMaps(ns):Get("k1"))
      assert(dc:Resource(ROLE):Namespace(ns):Get("kr"))
      p = assert(get_secret(ns, parent))
      assert.same({ [ID_LABEL] = id }, p.metadata.labels)
      assert.same({ [TOOLING] = "kubectl/v1.35.4+k8s-lua", [GKS] = "ConfigMap,Role.rbac.authorization.k8s.io", [NSS] = "" },
        p.metadata.annotations)
      assert.same({ "kubectl-applyset" }, (function()
        local m = {}
        for _, mf in ipairs(p.metadata.managedFields) do m[#m + 1] = mf.manager end
        return m
      end)())
    end)

    it("this library makes a set of 3; kubectl accepts its parent, applies 2 and prunes the third", function()
      local ns = H.namespace(cs)
      local parent = H.name("set")
      local res, err = apply.Apply(cs, { cm("l1"), cm("l2"), role("lr") }, { ApplySet = "secrets/" .. parent, Prune = true, Namespace = ns })
      assert.is_nil(err)
      assert.equal(3, #actions(res, "created"))

      local code, out = kubectl_apply(parent, ns, folder({ cm("l1"), cm("l2") }))
      assert.equal(0, code, out)
      assert.not_matches("tooling", out)
      assert.matches("configmap/l1 serverside%-applied", out)
      assert.matches("role.rbac.authorization.k8s.io/lr pruned", out)
      assert_gone(ROLE, ns, "lr")
      assert(cs:CoreV1():ConfigMaps(ns):Get("l1"))
      assert(cs:CoreV1():ConfigMaps(ns):Get("l2"))
      local p = assert(get_secret(ns, parent))
      assert.same({ [ID_LABEL] = applyset_id(parent .. "." .. ns .. ".Secret.") }, p.metadata.labels)
      assert.same({ [TOOLING] = "kubectl/v" .. K8S_VERSION, [GKS] = "ConfigMap", [NSS] = "" }, p.metadata.annotations)
    end)
  end)
end)

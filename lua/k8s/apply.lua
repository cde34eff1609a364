--- kubectl apply --server-side -f, delete -f and diff, on YAML text or tables.
--   local results, err = k8s.apply.Apply(cs_or_config, io.open("app.yaml"):read("a"),
--     { FieldManager = "my-tool", Namespace = "ns" })
--   for _, r in ipairs(results) do print(r.Kind, r.Namespace, r.Name, r.Action) end
--
-- Every document is mapped through discovery before anything is written;
-- `kind: List` is flattened; empty and null documents are skipped;
-- namespaces follow kubectl (the explicit Namespace, else the context's,
-- else "default"; cluster-scoped objects get none). A CustomResourceDefinition
-- and resources of it may come in one input: the resources are applied after
-- the CRD is Established (kubectl fails there). ApplySet pruning (KEP-3659)
-- writes the labels and annotations kubectl writes, so that each can prune
-- the other's sets.
-- @module k8s.apply
local core = require "k8s.core"
local rest = require "k8s.rest"
local errors = require "k8s.errors"

local M = {}

local ApplyPatchType = "application/apply-patch+yaml"
local CRD_GROUP = "apiextensions.k8s.io"

-- ApplySet (KEP-3659) label and annotation keys, as kubectl's applyset.go
M.ApplySetParentIDLabel = "applyset.kubernetes.io/id"
M.ApplySetPartOfLabel = "applyset.kubernetes.io/part-of"
M.ApplySetToolingAnnotation = "applyset.kubernetes.io/tooling"
M.ApplySetGKsAnnotation = "applyset.kubernetes.io/contains-group-kinds"
M.ApplySetAdditionalNamespacesAnnotation = "applyset.kubernetes.io/additional-namespaces"
M.DeprecatedApplySetGRsAnnotation = "applyset.kubernetes.io/contains-group-resources"
M.ApplySetParentCRDLabel = "applyset.kubernetes.io/is-parent-type"
--- The default tooling annotation: kubectl's tool name (kubectl refuses a
-- set whose tooling has another name), with this library in the semver
-- build metadata.
M.DefaultApplySetTooling = "kubectl/v1.35.4+k8s-lua"

local function mkerr(reason, message, extra)
  return errors.New(reason, message, 0, extra)
end

local function is_null(v) return v == nil or v == core.null end

local function shallow(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return setmetatable(c, getmetatable(t))
end

-- ------------------------------------------------------------- clients ----

-- { client =, mapper =, namespace = (the context's) } for a Clientset, a
-- dynamic client or a config table
local function target(x, opts, what)
  local t = {}
  if type(x) == "table" then
    local dc, err = require("k8s.dynamic").NewForConfig(x)
    if not dc then return nil, err end
    t.client = dc
    t.namespace = type(x.Namespace) == "string" and x.Namespace ~= "" and x.Namespace or nil
  elseif type(x) == "userdata" then
    local ok, has = pcall(function() return x.RESTClientForGroupVersion ~= nil and x.Discovery ~= nil end)
    if not ok or not has then
      error(what .. ": a Clientset, a dynamic client or a config table is required", 3)
    end
    t.client = x
    t.namespace = rest.ClientNamespace(x)
  else
    error(what .. ": a Clientset, a dynamic client or a config table is required, got " .. type(x), 3)
  end
  t.mapper = opts.Mapper or require("k8s.restmapper").NewDeferredDiscoveryRESTMapper(t.client)
  t.rcs = {}
  return t
end

local function rc_for(t, group, version)
  local key = group .. "/" .. version
  local rc = t.rcs[key]
  if not rc then
    rc = t.client:RESTClientForGroupVersion(group, version)
    t.rcs[key] = rc
  end
  return rc
end

-- a request on an object's resource: verb = "Get", "Delete", "Patch", ...
local function req(t, item, verb, arg)
  local r = item.mapping.Resource
  local q = rc_for(t, r.Group, r.Version)[verb](rc_for(t, r.Group, r.Version), arg)
  if item.mapping.Scope == "Namespaced" then q = q:Namespace(item.namespace) end
  return q:Resource(r.Resource)
end

-- ----------------------------------------------------------- documents ----

-- documents of the input: text (YAML or JSON, one or many documents), one
-- object table, or a list of object tables. -> list of { obj, where }
local function documents(input, what)
  local docs
  if type(input) == "string" then
    local err
    docs, err = require("k8s").yaml.decode(input)
    if not docs then return nil, mkerr("Invalid", tostring(err)) end
  elseif type(input) == "table" then
    if input.kind ~= nil or input.apiVersion ~= nil or input.metadata ~= nil then
      docs = { input }
    else
      docs = input
    end
  else
    error(what .. ": manifests must be YAML/JSON text or tables, got " .. type(input), 3)
  end
  local out = {}
  for i = 1, #docs do
    local d = docs[i]
    -- empty and null documents are skipped, as kubectl's StreamVisitor
    if not is_null(d) then
      if type(d) ~= "table" then
        return nil, mkerr("Invalid", string.format("document %d: not an object (%s)", i, type(d)))
      end
      local kind = d.kind
      if type(kind) == "string" and kind:match("List$") and type(d.items) == "table" then
        for j = 1, #d.items do -- kind: List (and *List) flattened
          local it = d.items[j]
          if not is_null(it) then
            if type(it) ~= "table" then
              return nil, mkerr("Invalid", string.format("document %d item %d: not an object", i, j))
            end
            out[#out + 1] = { obj = it, where = string.format("document %d item %d", i, j) }
          end
        end
      elseif next(d) ~= nil then
        out[#out + 1] = { obj = d, where = string.format("document %d", i) }
      end
    end
  end
  return out
end

-- the mapping a CRD earlier in the same input gives a kind the server does
-- not serve yet: { mapping, crd = item } or nil
local function mapping_from_crd(items, upto, group, version, kind)
  for i = 1, upto - 1 do
    local c = items[i].obj
    local cg = type(c.apiVersion) == "string" and c.apiVersion:match("^([^/]+)/")
    local spec = type(c.spec) == "table" and c.spec or nil
    if c.kind == "CustomResourceDefinition" and cg == CRD_GROUP and spec and spec.group == group
      and type(spec.names) == "table" and spec.names.kind == kind then
      for _, v in ipairs(type(spec.versions) == "table" and spec.versions or {}) do
        if type(v) == "table" and v.name == version and v.served ~= false then
          return {
            Resource = { Group = group, Version = version, Resource = spec.names.plural or kind:lower() .. "s" },
            GroupVersionKind = { Group = group, Version = version, Kind = kind },
            Scope = spec.scope == "Cluster" and "Cluster" or "Namespaced",
          }, items[i]
      end
      end
    end
  end
  return nil
end

local function gk_string(kind, group)
  if group == "" then return kind end
  return kind .. "." .. group
end

-- Map every document (kubectl's builder: Unstructured, NamespaceParam,
-- DefaultNamespace, RequireNamespace when explicit, Flatten). Objects are
-- copied (metadata included) before namespaces or labels are set.
-- -> items | nil, err (every problem found, one per line)
local function map_all(t, input, opts, what)
  local items, err = documents(input, what)
  if not items then return nil, err end
  local problems = {}
  local explicit = opts.Namespace
  if explicit ~= nil and (type(explicit) ~= "string") then
    error(what .. ": opts.Namespace must be a string", 3)
  end
  if explicit == "" then explicit = nil end
  local default_ns = explicit or t.namespace or "default"
  for i, item in ipairs(items) do
    local obj = item.obj
    local group, version = require("k8s.restmapper").ParseGroupVersion(obj.apiVersion)
    local kind = obj.kind
    local md = obj.metadata
    if is_null(obj.apiVersion) or obj.apiVersion == "" then
      problems[#problems + 1] = item.where .. ": apiVersion not set"
    elseif not group then
      problems[#problems + 1] = string.format("%s: apiVersion %q is not of the form group/version", item.where,
        tostring(obj.apiVersion))
    elseif type(kind) ~= "string" or kind == "" then
      problems[#problems + 1] = item.where .. ": kind not set"
    elseif md ~= nil and type(md) ~= "table" then
      problems[#problems + 1] = item.where .. ": metadata must be an object"
    else
      md = md or {}
      local name = md.name
      local ns = type(md.namespace) == "string" and md.namespace or ""
      local mapping, merr = t.mapper:RESTMapping({ Group = group, Kind = kind }, version)
      if not mapping and merr and merr.reason == "NoKindMatch" then
        mapping, item.crd = mapping_from_crd(items, i, group, version, kind)
      end
      if not mapping then
        if merr and merr.reason == "NoKindMatch" then -- kubectl's text
          problems[#problems + 1] = string.format(
            '%s: resource mapping not found for name: "%s" namespace: "%s": %s; ensure CRDs are installed first',
            item.where, tostring(name or ""), ns, merr.message)
        else
          problems[#problems + 1] = string.format("%s: unable to recognize %s %s: %s", item.where, kind,
            tostring(obj.apiVersion), tostring(merr))
        end
      elseif type(name) ~= "string" or name == "" then
        if type(md.generateName) == "string" and md.generateName ~= "" then
          problems[#problems + 1] = item.where .. ": cannot use generate name with apply"
        else
          problems[#problems + 1] = string.format("%s: %s has no metadata.name", item.where, kind)
        end
      else
        local copy = shallow(obj)
        copy.metadata = shallow(md)
        if mapping.Scope == "Namespaced" then
          if ns == "" then
            ns = default_ns
            copy.metadata.namespace = ns
          elseif explicit and ns ~= explicit then
            problems[#problems + 1] = string.format('%s: the namespace from the provided object "%s" does not '
              .. 'match the namespace "%s". You must pass \'--namespace=%s\' to perform this operation.',
              item.where, ns, explicit, ns)
          end
        else
          ns = ""
          copy.metadata.namespace = nil -- cleared for cluster-scoped kinds, as kubectl's FilterNamespace
        end
        item.obj, item.mapping, item.name, item.namespace = copy, mapping, name, ns
        item.group, item.version, item.kind = group, version, kind
      end
    end
  end
  if #problems > 0 then
    return nil, mkerr("Invalid", table.concat(problems, "\n"), { problems = problems })
  end
  return items
end

-- --------------------------------------------------------- CRD waiting ----

-- after a CRD of this input was applied: wait until it is Established, then
-- look its kind up again (the mapper's cache is refreshed once on a miss)
local function crd_ready(t, item, opts, done)
  local crd = item.crd
  if done[crd] then return true end
  local w = require("k8s.wait")
  local _, err = w.For(t.client, { Group = CRD_GROUP, Version = "v1", Resource = "customresourcedefinitions" }, nil,
    crd.name, { For = "condition=Established", Timeout = opts.Timeout or 60 })
  if err then return nil, err end
  done[crd] = true
  return true
end

-- ---------------------------------------------------------------- Apply ----

local function conflicts_of(err)
  local out = {}
  local details = type(err) == "table" and type(err.status) == "table" and err.status.details
  for _, c in ipairs(type(details) == "table" and details.causes or {}) do
    if c.reason == "FieldManagerConflict" then -- StatusCause.Type is "reason" in JSON
      out[#out + 1] = { Manager = (c.message or ""):match('conflict with "([^"]*)"') or "", Field = c.field or "",
        Message = c.message }
    end
  end
  return out
end

-- the error of one object: the server's error (predicates keep working),
-- its message prefixed with the document and object
local function object_error(item, err, verb)
  local e = {}
  if type(err) == "table" then for k, v in pairs(err) do e[k] = v end else e.message = tostring(err) end
  e.code = e.code or 0
  e.reason = e.reason or "Unknown"
  local prefix = string.format("%s (%s %s%s): %s failed: ", item.where, gk_string(item.kind, item.group),
    item.namespace ~= "" and item.namespace .. "/" or "", item.name, verb)
  e.message = prefix .. tostring(e.message or "")
  e.Document = item.where
  if errors.IsConflict(err) then e.Conflicts = conflicts_of(err) end
  return errors.New(e.reason, e.message, e.code, e)
end

local function aggregate(errs)
  if #errs == 1 then return errs[1] end
  local msgs = {}
  for i, e in ipairs(errs) do msgs[i] = tostring(e.message) end
  return mkerr("Aggregate", #errs .. " errors:\n" .. table.concat(msgs, "\n"), { Errors = errs })
end

local function result_of(item, action, obj)
  return { Kind = item.kind, Group = item.group, Namespace = item.namespace ~= "" and item.namespace or nil,
    Name = item.name, Action = action, Object = obj, Resource = item.mapping.Resource, Document = item.where }
end

-- our field manager's Apply entry of an object's managedFields, as text
local function apply_entry(o, opts)
  local md = type(o) == "table" and o.metadata
  for _, e in ipairs(type(md) == "table" and type(md.managedFields) == "table" and md.managedFields or {}) do
    if e.manager == (opts.FieldManager or "kubectl") and e.operation == "Apply" and (e.subresource or "") == "" then
      return tostring(e.time) .. " " .. core.json_encode(e.fieldsV1 or core.null)
    end
  end
  return ""
end

local function empty(v) return v == nil or v == core.null or (type(v) == "table" and next(v) == nil) end

-- whether every value the manifest sets is already in the object (lists
-- element by element; an empty list or map asks for nothing); top: skip
-- apiVersion, kind (LIST items carry neither) and status (not applied)
local function subset(want, have, top)
  if want == nil or want == core.null then return have == nil or have == core.null end
  if type(want) ~= "table" then return want == have end
  if next(want) == nil then return true end
  if type(have) ~= "table" then return false end
  if #want > 0 then
    if #want ~= #have then return false end
    for i = 1, #want do if not subset(want[i], have[i]) then return false end end
    return true
  end
  for k, v in pairs(want) do
    if not (top and (k == "apiVersion" or k == "kind" or k == "status")) and not (empty(v) and empty(have[k]))
      and not subset(v, have[k]) then
      return false
    end
  end
  return true
end

local function patch_apply(t, item, opts, force, dry)
  local q = req(t, item, "Patch", ApplyPatchType):Name(item.name)
    :Param("fieldManager", opts.FieldManager or "kubectl"):Param("force", force and "true" or "false")
  if dry then q = q:Param("dryRun", "All") end
  local fv = opts.FieldValidation == nil and "Strict" or opts.FieldValidation
  if fv ~= false and fv ~= "" then q = q:Param("fieldValidation", fv) end
  local res = q:Body(item.obj):Do()
  local obj, err = res:Get()
  return obj, err, res:StatusCode()
end

local function get_live(t, item)
  local obj, err = req(t, item, "Get"):Name(item.name):Do():Get()
  if obj then return obj end
  if errors.IsNotFound(err) then return nil end
  return nil, err
end

-- one object: GET (the action), PATCH apply; a resource of a CRD of this
-- input right after it was Established may still be 404 for a moment
-- a 404 because the resource itself is not served yet (a CRD of this input
-- just Established), not because the object does not exist
local function resource_not_served(item, e)
  if item.crd == nil or not errors.IsNotFound(e) then return false end
  local st = type(e) == "table" and e.status
  local d = type(st) == "table" and st.details
  return not (type(d) == "table" and d.name == item.name)
end

--- Objects of one resource and namespace read with one LIST (instead of a
-- GET each) when the input holds at least this many of them.
M.ListThreshold = 8

local function group_key(item)
  local r = item.mapping.Resource
  return r.Group .. "/" .. r.Version .. "/" .. r.Resource .. "/" .. item.namespace
end

-- The live object before applying: from one LIST page of the item's
-- resource and namespace when the input has many of them (names not on the
-- page, when there are more pages, are read with a GET), else a GET.
local function live_of(t, item, live)
  local key = group_key(item)
  local g = live.groups[key]
  if g == nil and (live.counts[key] or 0) >= M.ListThreshold then
    local n = live.counts[key]
    live.groups[key] = false -- while the LIST runs (or when it failed: not allowed, not served yet), GETs
    local list = req(t, item, "Get"):Param("limit", tostring(math.max(64, 4 * n))):Do():Get()
    if list then
      g = { objs = {}, complete = not (list.metadata and (list.metadata.continue or "") ~= "") }
      for _, o in ipairs(list.items or {}) do g.objs[o.metadata.name] = o end
      live.groups[key] = g
    end
  end
  if g then
    local o = g.objs[item.name]
    if o ~= nil or g.complete then return o end
  end
  return get_live(t, item)
end

-- one object: its live state (the action), then the apply PATCH; a
-- resource of a CRD of this input may answer 404 for a moment after the CRD
-- is Established
local function apply_one(t, item, opts, crds_done, live)
  if item.crd then
    local ok, err = crd_ready(t, item, opts, crds_done)
    if not ok then return nil, err end
  end
  local retry = require "k8s.retry"
  local not_served = function(e) return resource_not_served(item, e) end
  local before
  local err = retry.OnError(M.CRDServedBackoff, not_served, function()
    local e
    before, e = live_of(t, item, live)
    return e
  end)
  if err then return nil, err end
  local obj, code
  err = retry.OnError(M.CRDServedBackoff, not_served, function()
    local e
    obj, e, code = patch_apply(t, item, opts, opts.Force, opts.DryRun)
    return e
  end)
  if err then return nil, err end
  local action
  if not before or code == 201 then
    action = "created"
  elseif not opts.DryRun and (obj.metadata or {}).resourceVersion == (before.metadata or {}).resourceVersion then
    action = "unchanged" -- nothing was written
  elseif apply_entry(before, opts) ~= apply_entry(obj, opts) then
    action = "configured" -- the server changed our field manager's entry: we wrote
  else
    -- someone else wrote between our read and our apply (a controller's
    -- status or annotation), or we changed a value within the second of our
    -- last apply: configured when the manifest asks for what was not there
    action = subset(item.obj, before, true) and "unchanged" or "configured"
  end
  local g = not opts.DryRun and live.groups[group_key(item)]
  if g then g.objs[item.name] = obj end -- the same object twice in the input
  return obj, action
end

--- How long a resource of a just-Established CRD may answer 404 (retries).
M.CRDServedBackoff = { Steps = 12, Duration = 0.05, Factor = 1.5, Jitter = 0.1 }

-- ------------------------------------------------------------- ApplySet ----

local function b64url_nopad(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
    for k = 1, chars do
      local idx = math.floor(n / 2 ^ (18 - 6 * (k - 1))) % 64
      out[#out + 1] = alphabet:sub(idx + 1, idx + 1)
    end
  end
  return table.concat(out)
end

--- ApplySetID(name, namespace, kind, group) -> the applyset.kubernetes.io/id
-- value: "applyset-" .. base64url(sha256("<name>.<namespace>.<kind>.<group>")) .. "-v1".
function M.ApplySetID(name, namespace, kind, group)
  return "applyset-" .. b64url_nopad(core.sha256(table.concat({ name, namespace or "", kind, group or "" }, ".")))
    .. "-v1"
end

local function split_list(s)
  local out = {}
  if type(s) ~= "string" or s == "" then return out end
  for part in s:gmatch("[^,]+") do out[#out + 1] = part end
  return out
end

local function sorted_keys(set)
  local out = {}
  for k in pairs(set) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function tooling_base(s)
  local base = s:match("^(.*)/[^/]*$")
  return base or s
end

-- kubectl's ParseApplySetParentRef: "[RESOURCE][.GROUP]/NAME", default secrets
local function applyset_parent(t, ref, opts)
  if type(ref) ~= "string" or ref == "" then error("Apply: opts.ApplySet must be a string \"[RESOURCE][.GROUP]/NAME\"", 4) end
  local gr, name = ref:match("^([^/]*)/(.*)$")
  if not gr then gr, name = "secrets", ref end
  if name == "" then return nil, mkerr("Invalid", string.format("invalid parent reference %q: name cannot be blank", ref)) end
  local resource, group = gr:match("^([^.]*)%.(.*)$")
  if not resource then resource, group = gr, "" end
  local kind, err = t.mapper:KindFor({ Group = group, Resource = resource })
  if not kind then return nil, mkerr("Invalid", string.format("invalid parent reference %q: %s", ref, tostring(err))) end
  local mapping
  mapping, err = t.mapper:RESTMapping({ Group = kind.Group, Kind = kind.Kind })
  if not mapping then return nil, err end
  local p = { name = name, kind = kind.Kind, group = kind.Group, mapping = mapping, namespace = "", where = "ApplySet parent" }
  if mapping.Scope == "Namespaced" then
    p.namespace = opts.Namespace or ""
    if p.namespace == "" then
      return nil, mkerr("Invalid", "namespace is required to use namespace-scoped ApplySet (opts.Namespace)")
    end
  end
  local builtin = group == "" and (mapping.Resource.Resource == "secrets" or mapping.Resource.Resource == "configmaps")
  if not builtin then -- a custom resource whose CRD carries the is-parent-type label
    local crds, lerr = rc_for(t, CRD_GROUP, "v1"):Get():Resource("customresourcedefinitions")
      :Param("labelSelector", M.ApplySetParentCRDLabel):Do():Get()
    if not crds then return nil, lerr end
    local allowed = false
    for _, c in ipairs(crds.items or {}) do
      if c.metadata.name == mapping.Resource.Resource .. "." .. mapping.Resource.Group then allowed = true end
    end
    if not allowed then
      return nil, mkerr("Invalid", string.format('resource "%s" is not permitted as an ApplySet parent',
        mapping.Resource.Resource .. "." .. mapping.Resource.Group))
    end
  end
  p.builtin = builtin
  p.id = M.ApplySetID(name, p.namespace, kind.Kind, kind.Group)
  p.tooling = opts.ApplySetTooling or M.DefaultApplySetTooling
  p.manager = tooling_base(p.tooling) .. "-applyset"
  return p
end

-- kubectl's fetchParent: the current kinds and namespaces of the set
local function applyset_fetch(t, p)
  local obj, err = get_live(t, p)
  p.current_gks, p.current_ns = {}, {}
  if err then return nil, mkerr(err.reason, string.format('failed to fetch ApplySet parent object "%s": %s',
    p.name, tostring(err.message)), { code = err.code, status = err.status }) end
  if not obj then
    if not p.builtin then return nil, mkerr("Invalid", "custom resource ApplySet parents cannot be created automatically") end
    return true
  end
  local md = obj.metadata or {}
  local labels, ann = md.labels or {}, md.annotations or {}
  local tool = ann[M.ApplySetToolingAnnotation]
  if tool == nil then
    return nil, mkerr("Invalid", string.format('ApplySet parent object "%s" already exists and is missing required annotation "%s"',
      p.name, M.ApplySetToolingAnnotation))
  end
  if tooling_base(tool) ~= tooling_base(p.tooling) then
    return nil, mkerr("Invalid", string.format('ApplySet parent object "%s" already exists and is managed by tooling "%s" instead of "%s"',
      p.name, tooling_base(tool), tooling_base(p.tooling)))
  end
  local id = labels[M.ApplySetParentIDLabel]
  if id == nil then
    return nil, mkerr("Invalid", string.format('ApplySet parent object "%s" exists and does not have required label %s',
      p.name, M.ApplySetParentIDLabel))
  end
  if id ~= p.id then
    return nil, mkerr("Invalid", string.format('ApplySet parent object "%s" exists and has incorrect value for label "%s" (got: %s, want: %s)',
      p.name, M.ApplySetParentIDLabel, id, p.id))
  end
  local gks = ann[M.ApplySetGKsAnnotation]
  if gks ~= nil then
    for _, s in ipairs(split_list(gks)) do
      local kind, group = s:match("^([^.]*)%.(.*)$")
      local _, merr = t.mapper:RESTMapping({ Group = group or "", Kind = kind or s })
      if merr then -- before anything is written, as kubectl's parseKindAnnotation
        return nil, mkerr(merr.reason or "Invalid", string.format('parsing ApplySet annotation on "%s": could not find '
          .. 'mapping for kind in "%s" annotation: %s', p.name, M.ApplySetGKsAnnotation, tostring(merr.message)))
      end
      p.current_gks[s] = true
    end
  elseif (ann[M.DeprecatedApplySetGRsAnnotation] or "") ~= "" then
    for _, gr in ipairs(split_list(ann[M.DeprecatedApplySetGRsAnnotation])) do
      local resource, group = gr:match("^([^.]*)%.(.*)$")
      local k, kerr = t.mapper:KindFor({ Resource = resource or gr, Group = group or "" })
      if not k then return nil, kerr end
      p.current_gks[gk_string(k.Kind, k.Group)] = true
    end
  else
    return nil, mkerr("Invalid", string.format('the "%s" annotation must be set on ApplySet parent objects',
      M.ApplySetGKsAnnotation))
  end
  for _, ns in ipairs(split_list(ann[M.ApplySetAdditionalNamespacesAnnotation])) do p.current_ns[ns] = true end
  if p.namespace ~= "" then p.current_ns[p.namespace] = true end
  return true
end

local function applyset_update(t, p, gks, namespaces, opts)
  local ns = {}
  for n in pairs(namespaces) do if n ~= p.namespace then ns[n] = true end end
  local body = {
    apiVersion = p.group == "" and p.mapping.Resource.Version or (p.group .. "/" .. p.mapping.Resource.Version),
    kind = p.kind,
    metadata = {
      name = p.name, namespace = p.namespace ~= "" and p.namespace or nil,
      labels = { [M.ApplySetParentIDLabel] = p.id },
      annotations = {
        [M.ApplySetToolingAnnotation] = p.tooling,
        [M.ApplySetGKsAnnotation] = table.concat(sorted_keys(gks), ","),
        [M.ApplySetAdditionalNamespacesAnnotation] = table.concat(sorted_keys(ns), ","),
      },
    },
  }
  local item = { mapping = p.mapping, namespace = p.namespace, name = p.name, obj = body }
  local o = { FieldManager = p.manager, FieldValidation = opts.FieldValidation }
  local _, err = patch_apply(t, item, o, false, opts.DryRun)
  if err and errors.IsConflict(err) then -- kubectl retries a conflict with force
    _, err = patch_apply(t, item, o, true, opts.DryRun)
  end
  if err then
    return nil, mkerr(err.reason or "Unknown", "failed to update ApplySet: " .. tostring(err.message),
      { code = err.code, status = err.status })
  end
  return true
end

local function union(a, b)
  local u = {}
  for k in pairs(a) do u[k] = true end
  for k in pairs(b) do u[k] = true end
  return u
end

-- delete every member of the set (by label) whose UID was not applied now
local function applyset_prune(t, p, visited, opts, results)
  for _, gk in ipairs(sorted_keys(p.current_gks)) do
    local kind, group = gk:match("^([^.]*)%.(.*)$")
    if not kind then kind, group = gk, "" end
    local mapping, err = t.mapper:RESTMapping({ Group = group, Kind = kind })
    if not mapping then return nil, err end
    local namespaces = mapping.Scope == "Namespaced" and sorted_keys(p.current_ns) or { "" }
    for _, ns in ipairs(namespaces) do
      local item = { mapping = mapping, namespace = ns }
      local list, lerr = req(t, item, "Get"):Param("labelSelector", M.ApplySetPartOfLabel .. "=" .. p.id):Do():Get()
      if not list then
        return nil, mkerr(lerr.reason or "Unknown", string.format("listing %s objects for pruning: %s", gk,
          tostring(lerr.message)), { code = lerr.code, status = lerr.status })
      end
      for _, o in ipairs(list.items or {}) do
        if not visited[o.metadata.uid] then
          local q = req(t, item, "Delete"):Name(o.metadata.name)
          if opts.DryRun then q = q:Param("dryRun", "All") end
          local _, derr = q:Body({ kind = "DeleteOptions", apiVersion = "v1",
            propagationPolicy = opts.PropagationPolicy or "Background" }):Do():Get()
          if derr and not errors.IsNotFound(derr) then
            return nil, mkerr(derr.reason or "Unknown", string.format("pruning %s %s%s: %s", gk,
              ns ~= "" and ns .. "/" or "", o.metadata.name, tostring(derr.message)), { code = derr.code, status = derr.status })
          end
          results[#results + 1] = { Kind = kind, Group = group, Namespace = ns ~= "" and ns or nil,
            Name = o.metadata.name, Action = "pruned", Object = o, Resource = mapping.Resource }
        end
      end
    end
  end
  return true
end

-- Namespaces and CRDs are applied alone: what follows them may live in
-- them or be defined by them
local barrier = { Namespace = "", CustomResourceDefinition = CRD_GROUP }

-- fn(i, item) for every item: one after another (n = 1), or n at a time
-- between barrier objects, on light threads (nginx) or tasks of k8s.loop;
-- where neither can run (nginx phases without ngx.thread), one after another
local function each_object(items, n, fn)
  n = n or 1
  local i, last = 1, #items
  while i <= last do
    local item = items[i]
    if n <= 1 or barrier[item.kind] == item.group then
      fn(i, item)
      i = i + 1
    else
      local stop = i
      while stop < last and barrier[items[stop + 1].kind] ~= items[stop + 1].group do stop = stop + 1 end
      local nexti = i
      local function worker()
        while nexti <= stop do
          local k = nexti
          nexti = nexti + 1
          fn(k, items[k])
        end
      end
      local rt = require "k8s.runtime"
      if rt.nginx then
        local threads = {}
        for _ = 1, math.min(n, stop - i + 1) do
          local ok, th = pcall(ngx.thread.spawn, worker)
          if ok and th then threads[#threads + 1] = th end
        end
        for _, th in ipairs(threads) do
          local ok, err = ngx.thread.wait(th)
          if not ok then error(err, 0) end
        end
        worker() -- what no thread took (no thread API in this phase)
      else
        local loop = require "k8s.loop"
        local tasks = {}
        for _ = 1, math.min(n, stop - i + 1) do tasks[#tasks + 1] = loop.spawn(worker) end
        loop.join(tasks)
        for _, task in ipairs(tasks) do
          if task.err then error(task.err, 0) end
        end
      end
      i = stop + 1
    end
  end
end

local function check_opts(opts, what)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(what .. ": opts must be a table, got " .. type(opts), 3) end
  if opts.FieldManager ~= nil and (type(opts.FieldManager) ~= "string" or opts.FieldManager == "") then
    error(what .. ": opts.FieldManager must be a non-empty string", 3)
  end
  if opts.Concurrency ~= nil and (type(opts.Concurrency) ~= "number" or opts.Concurrency < 1) then
    error(what .. ": opts.Concurrency must be a number >= 1", 3)
  end
  return opts
end

--- Apply(cs_or_config, manifests, opts) -> results | nil, err, results:
-- kubectl apply --server-side -f. `manifests` is YAML or JSON text (any
-- number of documents), one object table or a list of them. opts:
--   FieldManager ("kubectl", as kubectl), Force (take conflicting fields),
--   DryRun (the server's dryRun=All), Namespace (explicit: objects naming
--   another namespace are refused), FieldValidation ("Strict" as kubectl's
--   default, "Warn", "Ignore" or false), Timeout (seconds to wait for a CRD
--   of the input to be Established, 60), Mapper (a k8s.restmapper mapper to
--   reuse), ApplySet ("[RESOURCE][.GROUP]/NAME", a Secret by default) with
--   Prune = true (delete what left the set), ApplySetTooling, Concurrency
--   (1: one object after another in input order, as kubectl; N: Namespaces
--   and CRDs alone, in order, and the objects between them N at a time on
--   the loop's tasks or nginx's light threads; results keep input order).
-- results[i] = { Kind, Group, Namespace, Name, Action = "created" |
-- "configured" | "unchanged" | "pruned", Object, Resource = {Group,Version,
-- Resource}, Document = "document N" }. Objects are applied in input order;
-- when some fail the others are still applied (as kubectl), and err is the
-- one error (predicates such as IsConflict work; a conflict lists
-- err.Conflicts = { {Manager, Field} }) or an "Aggregate" with err.Errors.
function M.Apply(client, manifests, opts)
  opts = check_opts(opts, "Apply")
  if opts.Prune and not opts.ApplySet then error("Apply: opts.Prune requires opts.ApplySet (kubectl's --applyset)", 2) end
  if opts.ApplySet and not opts.Prune then error("Apply: opts.ApplySet requires opts.Prune = true (kubectl's --prune)", 2) end
  local t, terr = target(client, opts, "Apply")
  if not t then return nil, terr end
  local items, err = map_all(t, manifests, opts, "Apply")
  if not items then return nil, err end
  -- as kubectl; with an ApplySet an empty input would prune the whole set
  if #items == 0 then return nil, mkerr("Invalid", "no objects passed to apply") end
  local p
  if opts.ApplySet then
    p, err = applyset_parent(t, opts.ApplySet, opts)
    if not p then return nil, err end
    for _, item in ipairs(items) do -- kubectl's AddLabels
      local md = item.obj.metadata
      local labels = type(md.labels) == "table" and shallow(md.labels) or {}
      if labels[M.ApplySetPartOfLabel] ~= nil then
        return nil, mkerr("Invalid", string.format('%s: ApplySet label "%s" already set in input data', item.where,
          M.ApplySetPartOfLabel))
      end
      labels[M.ApplySetPartOfLabel] = p.id
      md.labels = labels
    end
    local ok, ferr = applyset_fetch(t, p)
    if not ok then return nil, ferr end
    p.updated_gks, p.updated_ns = {}, {}
    for _, item in ipairs(items) do
      p.updated_gks[gk_string(item.kind, item.group)] = true
      if item.mapping.Scope == "Namespaced" and item.namespace ~= "" then p.updated_ns[item.namespace] = true end
    end
    ok, ferr = applyset_update(t, p, union(p.current_gks, p.updated_gks), union(p.current_ns, p.updated_ns), opts)
    if not ok then return nil, ferr end
  end
  local results, errs, visited, crds_done = {}, {}, {}, {}
  local live = { counts = {}, groups = {} }
  for _, item in ipairs(items) do
    local key = group_key(item)
    live.counts[key] = (live.counts[key] or 0) + 1
  end
  local outcome = {}
  each_object(items, opts.Concurrency, function(i, item)
    outcome[i] = { apply_one(t, item, opts, crds_done, live) }
  end)
  for i, item in ipairs(items) do
    local obj, action = outcome[i][1], outcome[i][2]
    if obj then
      results[#results + 1] = result_of(item, action, obj)
      if type(obj.metadata) == "table" and obj.metadata.uid then visited[obj.metadata.uid] = true end
    else
      errs[#errs + 1] = object_error(item, action, "apply")
    end
  end
  if p and #errs == 0 then
    -- kubectl: prune, then the parent down to the latest set; when pruning
    -- fails the parent keeps the superset, so the next run can finish it
    local ok, perr = applyset_prune(t, p, visited, opts, results)
    if ok then
      ok, perr = applyset_update(t, p, p.updated_gks, p.updated_ns, opts)
      if not ok then perr.message = "apply and prune succeeded, but ApplySet update failed: " .. perr.message end
    end
    if not ok then errs[#errs + 1] = perr end
  end
  if #errs > 0 then return nil, aggregate(errs), results end
  return results
end

-- --------------------------------------------------------------- Delete ----

--- Delete(cs_or_config, manifests, opts) -> results | nil, err, results:
-- kubectl delete -f. Every document is mapped first; objects are deleted in
-- reverse input order (what lives in a namespace or is defined by a CRD
-- before the namespace or CRD, where kubectl's input order can end in
-- NotFound errors). opts: Namespace, IgnoreNotFound (false: a missing object is
-- an error, as kubectl), PropagationPolicy ("Background"), GracePeriodSeconds,
-- DryRun, Wait (true, as kubectl's --wait: return once each object is gone),
-- Timeout (seconds for Wait, 60), Mapper.
-- results[i] = { Kind, Group, Namespace, Name, Action = "deleted", Resource }.
function M.Delete(client, manifests, opts)
  opts = check_opts(opts, "Delete")
  local t, terr = target(client, opts, "Delete")
  if not t then return nil, terr end
  local items, err = map_all(t, manifests, opts, "Delete")
  if not items then return nil, err end
  if #items == 0 then return nil, mkerr("Invalid", "no objects passed to delete") end
  local results, errs, deleted = {}, {}, {}
  for i = #items, 1, -1 do
    local item = items[i]
    local body = { kind = "DeleteOptions", apiVersion = "v1", propagationPolicy = opts.PropagationPolicy or "Background",
      gracePeriodSeconds = opts.GracePeriodSeconds }
    local q = req(t, item, "Delete"):Name(item.name)
    if opts.DryRun then q = q:Param("dryRun", "All") end
    local _, derr = q:Body(body):Do():Get()
    if derr and not (opts.IgnoreNotFound and errors.IsNotFound(derr)) then
      errs[#errs + 1] = object_error(item, derr, "delete")
    elseif not derr then
      results[#results + 1] = result_of(item, "deleted")
      deleted[#deleted + 1] = item
    end
  end
  if opts.Wait ~= false and not opts.DryRun then
    local w = require "k8s.wait"
    for _, item in ipairs(deleted) do
      local _, werr = w.For(t.client, item.mapping.Resource, item.mapping.Scope == "Namespaced" and item.namespace or nil,
        item.name, { For = "delete", Timeout = opts.Timeout or 60 })
      if werr then errs[#errs + 1] = object_error(item, werr, "wait for deletion") end
    end
  end
  if #errs > 0 then return nil, aggregate(errs), results end
  return results
end

-- ----------------------------------------------------------------- Diff ----

-- kubectl diff's Masker: Secret values never shown
local function mask_secrets(live, merged)
  local function data_of(o) return type(o) == "table" and type(o.data) == "table" and o.data or nil end
  local a, b = data_of(live), data_of(merged)
  if a then live.data = shallow(a) end
  if b then merged.data = shallow(b) end
  for k in pairs(union(a or {}, b or {})) do
    local x, y = a and a[k], b and b[k]
    if x ~= nil and y ~= nil and x ~= y then
      live.data[k], merged.data[k] = "*** (before)", "*** (after)"
    else
      if x ~= nil then live.data[k] = "***" end
      if y ~= nil then merged.data[k] = "***" end
    end
  end
end

local function for_diff(o)
  if o == nil then return nil end
  local c = shallow(o)
  if type(c.metadata) == "table" then
    c.metadata = shallow(c.metadata)
    c.metadata.managedFields = nil -- hidden, as kubectl diff without --show-managed-fields
  end
  return c
end

local function lines_of(text)
  local out = {}
  if text == nil or text == "" then return out end
  for line in (text:sub(-1) == "\n" and text or text .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = line end
  return out
end

-- Myers' O(ND) line diff: a list of { op, line }, op " ", "-" or "+"
local function edit_script(a, b)
  local n, m = #a, #b
  local v, trace, dfinal = { [1] = 0 }, {}, 0
  for d = 0, n + m do
    local snap = {}
    for k, x in pairs(v) do snap[k] = x end
    trace[d] = snap
    local reached = false
    for k = -d, d, 2 do
      local x
      if k == -d or (k ~= d and v[k - 1] < v[k + 1]) then x = v[k + 1] else x = v[k - 1] + 1 end
      local y = x - k
      while x < n and y < m and a[x + 1] == b[y + 1] do x, y = x + 1, y + 1 end
      v[k] = x
      if x >= n and y >= m then reached = true break end
    end
    if reached then dfinal = d break end
  end
  local ops, x, y = {}, n, m
  for d = dfinal, 1, -1 do
    local vv, k = trace[d], x - y
    local pk
    if k == -d or (k ~= d and vv[k - 1] < vv[k + 1]) then pk = k + 1 else pk = k - 1 end
    local px = vv[pk]
    local py = px - pk
    while x > px and y > py do ops[#ops + 1] = { " ", a[x] }; x, y = x - 1, y - 1 end
    if x == px then ops[#ops + 1] = { "+", b[y] }; y = y - 1
    else ops[#ops + 1] = { "-", a[x] }; x = x - 1 end
  end
  while x > 0 and y > 0 do ops[#ops + 1] = { " ", a[x] }; x, y = x - 1, y - 1 end
  local out = {}
  for i = #ops, 1, -1 do out[#out + 1] = ops[i] end
  return out
end

--- UnifiedDiff(a, b, nameA, nameB, context) -> the `diff -u` text of two
-- texts ("" when equal), with `context` lines (3) around each change.
function M.UnifiedDiff(a, b, name_a, name_b, context)
  context = context or 3
  local la, lb = lines_of(a), lines_of(b)
  local ops = edit_script(la, lb)
  local changed = false
  for _, op in ipairs(ops) do if op[1] ~= " " then changed = true break end end
  if not changed then return "" end
  local out = { "--- " .. (name_a or "a"), "+++ " .. (name_b or "b") }
  -- positions of each op in a and b
  local ia, ib = 1, 1
  local pos = {}
  for i, op in ipairs(ops) do
    pos[i] = { ia, ib }
    if op[1] ~= "+" then ia = ia + 1 end
    if op[1] ~= "-" then ib = ib + 1 end
  end
  local i = 1
  while i <= #ops do
    if ops[i][1] == " " then
      i = i + 1
    else
      local start = math.max(1, i - context)
      local j = i
      local last_change = i
      while j <= #ops do
        if ops[j][1] ~= " " then last_change = j end
        if j - last_change > 2 * context then break end
        j = j + 1
      end
      local stop = math.min(#ops, last_change + context)
      local sa, sb, ca, cb = pos[start][1], pos[start][2], 0, 0
      local body = {}
      for k = start, stop do
        local op = ops[k]
        body[#body + 1] = op[1] .. op[2]
        if op[1] ~= "+" then ca = ca + 1 end
        if op[1] ~= "-" then cb = cb + 1 end
      end
      local function range(s, c)
        if c == 0 then return (s - 1) .. ",0" end
        if c == 1 then return tostring(s) end
        return s .. "," .. c
      end
      out[#out + 1] = string.format("@@ -%s +%s @@", range(sa, ca), range(sb, cb))
      for _, l in ipairs(body) do out[#out + 1] = l end
      i = stop + 1
    end
  end
  return table.concat(out, "\n") .. "\n"
end

local function diff_name(item)
  local gv = item.group == "" and item.version or (item.group .. "." .. item.version)
  local parts = { gv, item.kind }
  if item.namespace ~= "" then parts[#parts + 1] = item.namespace end
  parts[#parts + 1] = item.name
  return table.concat(parts, ".")
end

--- Diff(cs_or_config, manifests, opts) -> text | nil, err: kubectl diff
-- --server-side. For each object the live object is compared with the
-- server's dry-run apply of the manifest (what Apply would make of it),
-- both as YAML, managedFields hidden and Secret values masked; the result is
-- a unified diff per object ("--- LIVE/<gv>.<Kind>.<ns>.<name>" /
-- "+++ MERGED/..."), "" when nothing would change. opts: FieldManager,
-- Force, Namespace, FieldValidation, Mapper (as Apply).
function M.Diff(client, manifests, opts)
  opts = check_opts(opts, "Diff")
  local t, terr = target(client, opts, "Diff")
  if not t then return nil, terr end
  local items, err = map_all(t, manifests, opts, "Diff")
  if not items then return nil, err end
  local yaml = require("k8s").yaml
  local out, errs = {}, {}
  for _, item in ipairs(items) do
    local live, gerr = get_live(t, item)
    local merged, perr
    if not gerr then merged, perr = patch_apply(t, item, opts, opts.Force, true) end
    if gerr or perr then
      errs[#errs + 1] = object_error(item, gerr or perr, "diff")
    else
      live, merged = for_diff(live), for_diff(merged)
      if item.kind == "Secret" and item.group == "" then mask_secrets(live or {}, merged) end
      local a = live and assert(yaml.encode(live)) or ""
      local b = assert(yaml.encode(merged))
      local name = diff_name(item)
      local d = M.UnifiedDiff(a, b, "LIVE/" .. name, "MERGED/" .. name)
      if d ~= "" then out[#out + 1] = d end
    end
  end
  if #errs > 0 then return nil, aggregate(errs) end
  return table.concat(out)
end

return M

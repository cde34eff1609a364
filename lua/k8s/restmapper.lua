--- client-go's restmapper: kinds to resources and back, from discovery.
--   local mapper = k8s.restmapper.NewDeferredDiscoveryRESTMapper(cs)
--   local m = assert(mapper:RESTMapping({ Group = "apps", Kind = "Deployment" }, "v1"))
--   m.Resource  --> { Group = "apps", Version = "v1", Resource = "deployments" }
--   m.Scope     --> "Namespaced" | "Cluster"
--   mapper:MappingFor("deploy")   -- kubectl's resource argument: short names, resource.group, Kind
--
-- As client-go's DeferredDiscoveryRESTMapper over a memory cache, with
-- kubectl's ShortcutExpander and category expansion on top:
-- - discovery is read once (aggregated discovery: two requests) and cached in
--   the mapper; `mapper:Reset()` drops the cache;
-- - a lookup that fails on a cache filled by an earlier call resets the cache
--   and tries once more (a CRD created a moment ago is found);
-- - groups keep the server's order (the core group first), and within a
--   group the preferred version comes first, then the others in the server's
--   order (client-go's PriorityRESTMapper);
-- - subresources are not mapped; a resource's `namespaced` decides its scope.
-- @module k8s.restmapper

local M = {}
local Mapper = {}
Mapper.__index = Mapper
Mapper.__name = "k8s.DeferredDiscoveryRESTMapper"

local mkerr = require("k8s.errors").New

local function gv_string(group, version)
  if (group or "") == "" then return version or "" end
  return group .. "/" .. (version or "")
end

--- Split an apiVersion "apps/v1" or "v1" into group and version.
function M.ParseGroupVersion(apiVersion)
  if type(apiVersion) ~= "string" then return nil, nil end
  local g, v = apiVersion:match("^([^/]*)/([^/]*)$")
  if g then return g, v end
  if apiVersion:find("/", 1, true) then return nil, nil end
  return "", apiVersion
end

-- NoKindMatchError's text (apimachinery meta/errors.go)
local function no_kind_match(gk, versions)
  local msg
  local searched = {}
  for _, v in ipairs(versions or {}) do if v ~= "" then searched[#searched + 1] = v end end
  if #searched == 0 then
    msg = string.format('no matches for kind "%s" in group "%s"', gk.Kind, gk.Group or "")
  elseif #searched == 1 then
    msg = string.format('no matches for kind "%s" in version "%s"', gk.Kind, gv_string(gk.Group, searched[1]))
  else
    local all = {}
    for i, v in ipairs(searched) do all[i] = gv_string(gk.Group, v) end
    msg = string.format('no matches for kind "%s" in versions [%s]', gk.Kind, table.concat(all, " "))
  end
  local e = mkerr("NoKindMatch", msg)
  e.GroupKind = { Group = gk.Group or "", Kind = gk.Kind }
  return e
end

local function no_resource_match(r)
  local parts = {}
  if (r.Group or "") ~= "" then parts[#parts + 1] = "Group: " .. string.format("%q", r.Group) end
  if (r.Version or "") ~= "" then parts[#parts + 1] = "Version: " .. string.format("%q", r.Version) end
  parts[#parts + 1] = "Resource: " .. string.format("%q", r.Resource or "")
  local e = mkerr("NoResourceMatch", "no matches for " .. table.concat(parts, ", "))
  e.PartialResource = { Group = r.Group, Version = r.Version, Resource = r.Resource }
  return e
end

--- NewDeferredDiscoveryRESTMapper(client): client is a Clientset, a dynamic
-- client or a discovery client (anything with GroupsAndMaybeResources or
-- Discovery()). Nothing is read until the first lookup.
function M.NewDeferredDiscoveryRESTMapper(client)
  local dc = client
  if type(client) == "userdata" or (type(client) == "table" and not client.GroupsAndMaybeResources) then
    if not client.Discovery then
      error("NewDeferredDiscoveryRESTMapper: a Clientset, dynamic client or discovery client is required", 2)
    end
    dc = client:Discovery()
  elseif type(client) ~= "table" then
    error("NewDeferredDiscoveryRESTMapper: a Clientset, dynamic client or discovery client is required, got "
      .. type(client), 2)
  end
  return setmetatable({ dc = dc, state = nil, loads = 0 }, Mapper)
end

-- Build the mapping state from discovery: an ordered list of entries, one
-- per (group, version, resource), in priority order.
local function build(dc)
  local groups, by_gv, failed = dc:GroupsAndMaybeResources()
  if not groups then return nil, by_gv end
  if not by_gv then -- legacy discovery: one request per group-version
    by_gv = {}
    for _, g in ipairs(groups.groups) do
      for _, v in ipairs(g.versions or {}) do
        local list = dc:ServerResourcesForGroupVersion(v.groupVersion)
        if list then by_gv[v.groupVersion] = list end -- a failed group is left out, as client-go's
      end
    end
  end
  local st = { entries = {}, groups = {} }
  local preferred_entries, other_entries = {}, {}
  for _, g in ipairs(groups.groups) do
    st.groups[#st.groups + 1] = g.name
    local preferred = g.preferredVersion and g.preferredVersion.version
    for _, v in ipairs(g.versions or {}) do
      local list = by_gv[v.groupVersion]
      if list then
        local dest = v.version == preferred and preferred_entries or other_entries
        for _, r in ipairs(list.resources or {}) do
          if not r.name:find("/", 1, true) and (r.kind or "") ~= "" then
            dest[#dest + 1] = {
              Group = g.name, Version = v.version, Resource = r.name,
              Singular = (r.singularName and r.singularName ~= "") and r.singularName or r.kind:lower(),
              Kind = r.kind, Namespaced = r.namespaced and true or false,
              ShortNames = r.shortNames or {}, Categories = r.categories or {}, Verbs = r.verbs or {},
            }
          end
        end
      end
    end
  end
  -- client-go's priority: every group's preferred version (groups in
  -- server order), then the other versions
  for _, e in ipairs(preferred_entries) do st.entries[#st.entries + 1] = e end
  for _, e in ipairs(other_entries) do st.entries[#st.entries + 1] = e end
  st.failed = failed
  return st
end

local function state(self)
  if self.state then return self.state, false end
  local st, err = build(self.dc)
  if not st then return nil, err end
  self.state = st
  self.loads = self.loads + 1
  return st, true
end

--- Reset(): forget what discovery said; the next lookup reads it again.
function Mapper:Reset()
  self.state = nil
end

-- Run lookup(state) -> result | nil, err; on a miss with a cache that this
-- call did not fill, reset and try once more (DeferredDiscoveryRESTMapper).
local function with_retry(self, lookup)
  local st, fresh = state(self)
  if not st then return nil, fresh end
  local r, err, extra = lookup(st)
  if r == nil and not fresh and err and err.reason ~= "AmbiguousResource" then
    self:Reset()
    st, fresh = state(self)
    if not st then return nil, fresh end
    r, err, extra = lookup(st)
  end
  return r, err, extra
end

local function mapping_of(e)
  return {
    Resource = { Group = e.Group, Version = e.Version, Resource = e.Resource },
    GroupVersionKind = { Group = e.Group, Version = e.Version, Kind = e.Kind },
    Scope = e.Namespaced and "Namespaced" or "Cluster",
  }
end

local function check_gk(gk, what)
  if type(gk) ~= "table" or type(gk.Kind) ~= "string" or gk.Kind == "" then
    error(what .. ": a GroupKind { Group =, Kind = } with a non-empty Kind is required", 3)
  end
  if gk.Group ~= nil and type(gk.Group) ~= "string" then error(what .. ": GroupKind.Group must be a string", 3) end
end

local function mappings(st, gk, versions)
  local group = gk.Group or ""
  local lower = gk.Kind:lower()
  local found, seen = {}, {}
  local had_version = false
  for _, v in ipairs(versions) do
    if v ~= "" then had_version = true end
  end
  for _, e in ipairs(st.entries) do
    if e.Group == group and (e.Kind == gk.Kind or e.Kind:lower() == lower and gk.Kind == lower) then
      local ok = not had_version
      for _, v in ipairs(versions) do if v == e.Version then ok = true end end
      local key = e.Version .. "\0" .. e.Resource
      if ok and not seen[key] then
        seen[key] = true
        found[#found + 1] = mapping_of(e)
      end
    end
  end
  if had_version and #found > 1 then -- the first version asked for that has it
    for _, v in ipairs(versions) do
      for _, m in ipairs(found) do
        if m.Resource.Version == v then return { m } end
      end
    end
  end
  return found
end

local function versions_of(...)
  local versions = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v ~= nil then
      if type(v) ~= "string" then error("RESTMapping: versions must be strings", 3) end
      versions[#versions + 1] = v
    end
  end
  return versions
end

--- RESTMapping(gk, [version, ...]) -> mapping | nil, err: the mapping of a
-- GroupKind at the first of the given versions that serves it, or at the
-- group's preferred version when none is given. mapping = { Resource =
-- {Group,Version,Resource}, GroupVersionKind = {Group,Version,Kind}, Scope =
-- "Namespaced" | "Cluster" }. Unknown: reason "NoKindMatch", message as
-- client-go's (`no matches for kind "K" in version "g/v"`).
function Mapper:RESTMapping(gk, ...)
  check_gk(gk, "RESTMapping")
  local versions = versions_of(...)
  return with_retry(self, function(st)
    local found = mappings(st, gk, versions)
    if #found == 0 then return nil, no_kind_match(gk, versions) end
    return found[1]
  end)
end

--- RESTMappings(gk, [version, ...]) -> list of mappings (every version that
-- serves the kind, in priority order) | nil, err.
function Mapper:RESTMappings(gk, ...)
  check_gk(gk, "RESTMappings")
  local versions = versions_of(...)
  return with_retry(self, function(st)
    local found = mappings(st, gk, versions)
    if #found == 0 then return nil, no_kind_match(gk, versions) end
    return found
  end)
end

local function check_gvr(r, what)
  if type(r) ~= "table" or type(r.Resource) ~= "string" or r.Resource == "" then
    error(what .. ": a partial GroupVersionResource { Group =, Version =, Resource = } is required", 3)
  end
end

-- every entry matching a partial resource (plural or singular, any case)
local function resources_for(st, r)
  local res = r.Resource:lower()
  local out, seen = {}, {}
  for _, e in ipairs(st.entries) do
    if (e.Resource == res or e.Singular == res)
      and ((r.Group or "") == "" or r.Group == "*" or e.Group == r.Group)
      and ((r.Version or "") == "" or r.Version == "*" or e.Version == r.Version) then
      local key = e.Group .. "\0" .. e.Version .. "\0" .. e.Resource
      if not seen[key] then seen[key] = true; out[#out + 1] = e end
    end
  end
  return out
end

-- the priority mapper's choice: the first entry; more than one group with
-- the resource is ambiguous only when a group was not asked for
local function choose(found, r)
  if #found == 0 then return nil, no_resource_match(r) end
  return found[1]
end

--- ResourceFor(partialGVR) -> {Group,Version,Resource} | nil, err: the
-- resource a partial name means ("deployments", "deployment", with or
-- without Group/Version), in priority order.
function Mapper:ResourceFor(r)
  check_gvr(r, "ResourceFor")
  return with_retry(self, function(st)
    local e, err = choose(resources_for(st, r), r)
    if not e then return nil, err end
    return { Group = e.Group, Version = e.Version, Resource = e.Resource }
  end)
end

--- ResourcesFor(partialGVR) -> list of every {Group,Version,Resource} matching.
function Mapper:ResourcesFor(r)
  check_gvr(r, "ResourcesFor")
  return with_retry(self, function(st)
    local found = resources_for(st, r)
    if #found == 0 then return nil, no_resource_match(r) end
    local out = {}
    for i, e in ipairs(found) do out[i] = { Group = e.Group, Version = e.Version, Resource = e.Resource } end
    return out
  end)
end

--- KindFor(partialGVR) -> {Group,Version,Kind} | nil, err.
function Mapper:KindFor(r)
  check_gvr(r, "KindFor")
  return with_retry(self, function(st)
    local e, err = choose(resources_for(st, r), r)
    if not e then return nil, err end
    return { Group = e.Group, Version = e.Version, Kind = e.Kind }
  end)
end

--- ResourceSingularizer(resource) -> singular | nil, err.
function Mapper:ResourceSingularizer(resource)
  local e, err = self:KindFor({ Resource = resource })
  if not e then return nil, err end
  local st = self.state
  for _, x in ipairs(st.entries) do
    if x.Group == e.Group and x.Version == e.Version and x.Kind == e.Kind then return x.Singular end
  end
  return resource
end

-- kubectl's ShortcutExpander: a short name from discovery becomes its
-- resource (and group); the user's group, when given, must match
local function expand_short(st, r)
  local res = r.Resource:lower()
  for _, e in ipairs(st.entries) do
    for _, s in ipairs(e.ShortNames) do
      if s == res and ((r.Group or "") == "" or r.Group == e.Group) then
        return { Group = e.Group, Version = r.Version, Resource = e.Resource }
      end
    end
  end
  return r
end

--- MappingFor(arg) -> mapping | nil, err: kubectl's reading of a resource
-- argument ("deploy", "deployments", "deployment", "deployments.apps",
-- "deployments.v1.apps", "Deployment", "Deployment.apps", "crontabs.stable.example.com"):
-- a fully specified resource.version.group first, then resource.group
-- (short names expanded), then a kind, as kubectl's ResourceBuilder.mappingFor.
function Mapper:MappingFor(arg)
  if type(arg) ~= "string" or arg == "" then error("MappingFor: a resource name is required", 2) end
  return with_retry(self, function(st)
    -- schema.ParseResourceArg
    local full
    local first, rest = arg:match("^([^.]+)%.(.+)$")
    if rest then
      local ver, grp = rest:match("^([^.]+)%.(.+)$")
      if ver then full = { Resource = first, Version = ver, Group = grp } end
    end
    local gr = first and { Resource = first, Group = rest } or { Resource = arg, Group = "" }
    local candidates = {}
    if full then candidates[#candidates + 1] = full end
    candidates[#candidates + 1] = gr
    for _, c in ipairs(candidates) do
      local found = resources_for(st, expand_short(st, c))
      if #found > 0 then return mapping_of(found[1]) end
    end
    -- a kind: Kind, Kind.group or Kind.version.group
    local kinds = {}
    if full then kinds[#kinds + 1] = { gk = { Group = full.Group, Kind = full.Resource }, v = { full.Version } } end
    kinds[#kinds + 1] = { gk = { Group = gr.Group, Kind = gr.Resource }, v = {} }
    for _, k in ipairs(kinds) do
      local found = mappings(st, k.gk, k.v)
      if #found > 0 then return found[1] end
    end
    -- kubectl's message
    return nil, mkerr("NotFound", string.format('the server doesn\'t have a resource type "%s"', first or arg))
  end)
end

--- ExpandCategory(category) -> list of mappings of the resources in a
-- discovery category ("all": what `kubectl get all` lists), each group
-- once, at its preferred version, in discovery order; empty when unknown.
function Mapper:ExpandCategory(category)
  if type(category) ~= "string" then error("ExpandCategory: a category name is required", 2) end
  local st, err = state(self)
  if not st then return nil, err end
  local out, seen = {}, {}
  for _, e in ipairs(st.entries) do
    for _, c in ipairs(e.Categories) do
      if c == category and not seen[e.Group .. "\0" .. e.Resource] then
        seen[e.Group .. "\0" .. e.Resource] = true
        out[#out + 1] = mapping_of(e)
      end
    end
  end
  return out
end

--- Loads() -> how many times discovery has been read (the cache's refreshes).
function Mapper:Loads()
  return self.loads
end

return M

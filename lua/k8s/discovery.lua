--- client-go's discovery client: ServerVersion, ServerGroups,
-- ServerResourcesForGroupVersion, ServerPreferredResources.
--
-- As client-go's DiscoveryClient, /api and /apis are asked for aggregated
-- discovery (apidiscovery.k8s.io v2, or v2beta1), which carries every
-- group-version's resources in those two responses; a server that answers
-- in the legacy format is asked once per group-version instead. Setting
-- `d.UseLegacyDiscovery = true` asks for the legacy format only.
-- @module k8s.discovery
local core = require "k8s.core"
local errors = require "k8s.errors"

local M = {}
local Discovery = {}
Discovery.__index = Discovery
Discovery.__name = "k8s.DiscoveryClient"

local AcceptV1 = "application/json"
local AcceptV2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
local AcceptV2Beta1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
local acceptDiscoveryFormats = AcceptV2 .. "," .. AcceptV2Beta1 .. "," .. AcceptV1

local function array(t) return setmetatable(t or {}, core.array_mt) end

--- Wrap an unversioned RESTClient (discovery's defaults: Burst 300, Timeout 32s).
function M.new(rc)
  return setmetatable({ rc = rc, UseLegacyDiscovery = false }, Discovery)
end

local function get(self, path)
  return self.rc:Get():AbsPath(path):Do():Get()
end

--- Whether a Content-Type is aggregated discovery (client-go's ContentTypeIsGVK
-- for apidiscovery.k8s.io/v2 or v2beta1 APIGroupDiscoveryList).
function M.is_aggregated(content_type)
  if type(content_type) ~= "string" then return false end
  local media, params = content_type:match("^%s*([^;]-)%s*(;.*)$")
  if not media or media:lower() ~= "application/json" then return false end
  local p = {}
  for k, v in params:gmatch(";%s*([^=;%s]+)%s*=%s*([^;%s]*)") do p[k:lower()] = v end
  return p.g == "apidiscovery.k8s.io" and (p.v == "v2" or p.v == "v2beta1") and p.as == "APIGroupDiscoveryList"
end

-- client-go's convertAPIResource / convertAPISubresource: nil without a kind
local function convert_resource(r)
  local out = {
    name = r.resource, singularName = r.singularResource, namespaced = r.scope == "Namespaced",
    verbs = r.verbs or array(), shortNames = r.shortNames, categories = r.categories,
  }
  local rk = r.responseKind
  local ok = type(rk) == "table" and ((rk.kind or "") ~= "" or (rk.group or "") ~= "" or (rk.version or "") ~= "")
  if ok then -- empty fields are left out, as encoding/json's omitempty
    if (rk.group or "") ~= "" then out.group = rk.group end
    if (rk.version or "") ~= "" then out.version = rk.version end
    out.kind = rk.kind
  end
  return out, ok
end

local function convert_subresource(parent, s)
  local rk = s.responseKind
  if type(rk) ~= "table" or ((rk.kind or "") == "" and (rk.group or "") == "" and (rk.version or "") == "") then
    return nil
  end
  local out = { name = parent.name .. "/" .. s.subresource, singularName = parent.singularName,
                namespaced = parent.namespaced, kind = rk.kind, verbs = s.verbs or array() }
  if (rk.group or "") ~= "" then out.group = rk.group end
  if (rk.version or "") ~= "" then out.version = rk.version end
  return out
end

-- client-go's SplitGroupsAndResources: groups, resource lists by
-- group-version, and the stale group-versions (failed)
local function split(list, groups, by_gv, failed)
  for _, ag in ipairs(list.items or {}) do
    local name = ag.metadata and ag.metadata.name or ""
    local g = { name = name, versions = array() }
    for _, v in ipairs(ag.versions or {}) do
      local gv = name == "" and v.version or (name .. "/" .. v.version)
      if v.freshness == "Stale" then
        failed[#failed + 1] = { gv = gv, message = "stale GroupVersion discovery: " .. gv }
      else
        local ver = { groupVersion = gv, version = v.version }
        g.versions[#g.versions + 1] = ver
        g.preferredVersion = g.preferredVersion or ver -- the first one that is not stale
        local resources = array()
        for _, r in ipairs(v.resources or {}) do
          local res, ok = convert_resource(r)
          if ok then resources[#resources + 1] = res end
          for _, s in ipairs(r.subresources or {}) do
            local sr = convert_subresource(res, s)
            if sr then resources[#resources + 1] = sr end
          end
        end
        by_gv[gv] = { kind = "APIResourceList", apiVersion = "v1", groupVersion = gv, resources = resources }
      end
    end
    groups[#groups + 1] = g
  end
end

local function download(self, path, groups, failed)
  local res = self.rc:Get():AbsPath(path)
    :SetHeader("Accept", self.UseLegacyDiscovery and AcceptV1 or acceptDiscoveryFormats):Do()
  local body, err = res:Get()
  if not body then return nil, err end
  if M.is_aggregated(res:ContentType()) then
    local by_gv = {}
    split(body, groups, by_gv, failed)
    return by_gv
  end
  if path == "/api" then -- APIVersions: the legacy core group
    if body.versions and #body.versions > 0 then
      local versions = array()
      for i, v in ipairs(body.versions) do versions[i] = { groupVersion = v, version = v } end
      groups[#groups + 1] = { name = "", versions = versions, preferredVersion = versions[1] }
    end
  else
    for _, g in ipairs(body.groups or {}) do groups[#groups + 1] = g end
  end
  return false -- groups only
end

--- GroupsAndMaybeResources (client-go's AggregatedDiscoveryInterface): the
-- APIGroupList; with aggregated discovery also the APIResourceLists by
-- group-version (else nil) and the stale group-versions ({ gv, message }).
function Discovery:GroupsAndMaybeResources()
  local groups, failed = array(), {}
  local core_res, err = download(self, "/api", groups, failed)
  if core_res == nil then
    -- tolerate a 404 from /api (aggregated API servers), as client-go
    if not (err and err.code == 404) then return nil, err end
    core_res = {}
  end
  local apis_res
  apis_res, err = download(self, "/apis", groups, failed)
  if apis_res == nil then return nil, err end
  local by_gv
  if core_res and apis_res then -- resources only when both answers carried them
    by_gv = core_res
    for gv, l in pairs(apis_res) do by_gv[gv] = l end
  end
  return { kind = "APIGroupList", apiVersion = "v1", groups = groups }, by_gv, failed
end

--- ServerVersion: the decoded /version (gitVersion, major, minor, ...).
function Discovery:ServerVersion()
  return get(self, "/version")
end

--- ServerGroups: an APIGroupList whose first group is the legacy core group "".
function Discovery:ServerGroups()
  local groups, err = self:GroupsAndMaybeResources()
  if not groups then return nil, err end
  return groups
end

--- ServerResourcesForGroupVersion("apps/v1") or ("v1"): an APIResourceList.
function Discovery:ServerResourcesForGroupVersion(gv)
  if type(gv) ~= "string" or gv == "" then
    error("ServerResourcesForGroupVersion: groupVersion must be a non-empty string", 2)
  end
  if gv:find("/", 1, true) then return get(self, "/apis/" .. gv) end
  return get(self, "/api/" .. gv)
end

local function group_discovery_failed(failed)
  table.sort(failed, function(a, b) return a.gv < b.gv end)
  local parts = {}
  for i, f in ipairs(failed) do parts[i] = f.gv .. ": " .. f.message end
  return errors.New("GroupDiscoveryFailed",
    "unable to retrieve the complete list of server APIs: " .. table.concat(parts, ", "))
end

--- ServerPreferredResources (client-go's): one APIResourceList per
-- group-version; each resource of a group appears once, at the group's
-- preferred version when it is served there, else at the first version that
-- serves it; subresources are left out. A partial failure returns the lists
-- found plus an error naming the failed group-versions (GroupDiscoveryFailed).
function Discovery:ServerPreferredResources()
  local groups, by_gv, failed = self:GroupsAndMaybeResources()
  if not groups then return nil, by_gv end
  if not by_gv then -- legacy discovery: ask each group-version
    by_gv = {}
    for _, g in ipairs(groups.groups) do
      for _, v in ipairs(g.versions or {}) do
        local list, e = self:ServerResourcesForGroupVersion(v.groupVersion)
        if list then by_gv[v.groupVersion] = list
        else failed[#failed + 1] = { gv = v.groupVersion, message = tostring(e) } end
      end
    end
  end
  local result, lists, chosen, order = {}, {}, {}, {}
  for _, g in ipairs(groups.groups) do
    local preferred = g.preferredVersion and g.preferredVersion.version
    for _, v in ipairs(g.versions or {}) do
      local list = by_gv[v.groupVersion]
      if list then
        local out = { groupVersion = v.groupVersion, resources = array() }
        lists[v.groupVersion] = out
        result[#result + 1] = out
        for _, r in ipairs(list.resources or {}) do
          if not r.name:find("/", 1, true) then
            local key = g.name .. "\0" .. r.name
            if not chosen[key] then order[#order + 1] = key end
            if not chosen[key] or v.version == preferred then
              chosen[key] = { gv = v.groupVersion, resource = r }
            end
          end
        end
      end
    end
  end
  for _, key in ipairs(order) do
    local c = chosen[key]
    local l = lists[c.gv].resources
    l[#l + 1] = c.resource
  end
  if #failed > 0 then return result, group_discovery_failed(failed) end
  return result
end

--- RESTClient: the underlying unversioned RESTClient.
function Discovery:RESTClient()
  return self.rc
end

return M

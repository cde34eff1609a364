--- client-go's discovery client: ServerVersion, ServerGroups,
-- ServerResourcesForGroupVersion, ServerPreferredResources.
-- @module k8s.discovery
local M = {}
local Discovery = {}
Discovery.__index = Discovery
Discovery.__name = "k8s.DiscoveryClient"

--- Wrap an unversioned RESTClient (discovery's defaults: Burst 300, Timeout 32s).
function M.new(rc)
  return setmetatable({ rc = rc }, Discovery)
end

local function get(self, path)
  return self.rc:Get():AbsPath(path):Do():Get()
end

--- ServerVersion: the decoded /version (gitVersion, major, minor, ...).
function Discovery:ServerVersion()
  return get(self, "/version")
end

--- ServerGroups: an APIGroupList whose first group is the legacy core group "".
function Discovery:ServerGroups()
  local core, err = get(self, "/api")
  if not core then return nil, err end
  local apis
  apis, err = get(self, "/apis")
  if not apis then return nil, err end
  local groups = setmetatable({}, getmetatable(apis.groups))
  if core.versions and #core.versions > 0 then
    local versions = {}
    for i, v in ipairs(core.versions) do
      versions[i] = { groupVersion = v, version = v }
    end
    groups[1] = { name = "", versions = versions, preferredVersion = versions[1] }
  end
  for _, g in ipairs(apis.groups or {}) do groups[#groups + 1] = g end
  return { kind = "APIGroupList", apiVersion = "v1", groups = groups }
end

--- ServerResourcesForGroupVersion("apps/v1") or ("v1"): an APIResourceList.
function Discovery:ServerResourcesForGroupVersion(gv)
  if type(gv) ~= "string" or gv == "" then
    error("ServerResourcesForGroupVersion: groupVersion must be a non-empty string", 2)
  end
  if gv:find("/", 1, true) then return get(self, "/apis/" .. gv) end
  return get(self, "/api/" .. gv)
end

--- ServerPreferredResources: one APIResourceList per group, at the group's
-- preferred version. A partial failure returns the lists found plus an
-- error naming the failed group-versions (ErrGroupDiscoveryFailed).
function Discovery:ServerPreferredResources()
  local groups, err = self:ServerGroups()
  if not groups then return nil, err end
  local out, failed = {}, {}
  for _, g in ipairs(groups.groups) do
    local pv = g.preferredVersion and g.preferredVersion.groupVersion
    if pv then
      local list, e = self:ServerResourcesForGroupVersion(pv)
      if list then
        local keep = {}
        for _, r in ipairs(list.resources or {}) do
          if not r.name:find("/", 1, true) then keep[#keep + 1] = r end
        end
        out[#out + 1] = { groupVersion = pv, resources = keep }
      else
        failed[#failed + 1] = pv .. ": " .. tostring(e)
      end
    end
  end
  if #failed > 0 then
    return out, setmetatable({ code = 0, reason = "GroupDiscoveryFailed",
      message = "unable to retrieve the complete list of server APIs: " .. table.concat(failed, ", "),
      retryAfterSeconds = 0 }, require("k8s.core").error_mt)
  end
  return out
end

--- RESTClient: the underlying unversioned RESTClient.
function Discovery:RESTClient()
  return self.rc
end

return M

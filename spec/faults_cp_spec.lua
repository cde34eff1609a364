-- Faults the real control plane produces on demand (reliability.md 3.5, 3.6;
-- fault matrix rows 15 and 16), and what the client must do, as
-- client-go v0.35 does:
--  * discovery 503: an APIService whose Service has no endpoints. The
--    aggregator marks the group-version Stale in aggregated discovery and
--    answers 503 for its path; discovery returns every other group's
--    resources plus a GroupDiscoveryFailed error naming the group-version
--    (client-go's ErrGroupDiscoveryFailed with partial results);
--  * a watch the server ends (timeoutSeconds): Next returns nil and no error,
--    the watch does not resume by itself (re-watching is the caller's, as
--    the reflector's). (The BOOKMARK the server sends near the deadline is
--    not tested here: it comes from the watch cache's 1 s timer, a server
--    schedule a loaded machine can miss.)
-- Each behaviour runs on every driver of H.DRIVERS.
local H = require "spec.helper"
local k8s = require "k8s"

local errors = k8s.errors

local APISERVICES = { Group = "apiregistration.k8s.io", Version = "v1", Resource = "apiservices" }

-- the names of the resources of an APIResourceList
local function resource_names(list)
  local out = {}
  for _, r in ipairs(list and list.resources or {}) do out[r.name] = true end
  return out
end

-- the list of `lists` for group-version gv
local function list_for(lists, gv)
  for _, l in ipairs(lists or {}) do
    if l.groupVersion == gv then return l end
  end
end

describe("discovery with an APIService without a backend (" .. H.interpreter .. ")", function()
  local cs, dc, group, gv, apiservice

  setup(function()
    cs = assert(k8s.NewForConfig(H.config("admin-token")))
    dc = assert(k8s.dynamic.NewForConfig(H.config("admin-token")))
    local ns = H.namespace(cs)
    -- a Service without a selector: nothing gives it endpoints
    assert(cs:CoreV1():Services(ns):Create({
      metadata = { name = "no-backend" },
      spec = { ports = { { name = "https", port = 443, protocol = "TCP" } } },
    }))
    group = H.name("fault") .. ".k8s-lua.test"
    gv = group .. "/v1"
    apiservice = "v1." .. group
    assert(dc:Resource(APISERVICES):Create({
      apiVersion = "apiregistration.k8s.io/v1", kind = "APIService",
      metadata = { name = apiservice },
      spec = {
        group = group, version = "v1",
        service = { namespace = ns, name = "no-backend", port = 443 },
        insecureSkipTLSVerify = true, groupPriorityMinimum = 1000, versionPriority = 15,
      },
    }))
    -- until the aggregator reports it unavailable, its path answers 503 and
    -- aggregated discovery marks it stale
    local d = cs:Discovery()
    H.eventually(function()
      local o = dc:Resource(APISERVICES):Get(apiservice)
      local available
      for _, c in ipairs(o and o.status and o.status.conditions or {}) do
        if c.type == "Available" then available = c.status end
      end
      if available ~= "False" then return false end
      local l, err = d:ServerResourcesForGroupVersion(gv)
      if l or not err or err.code ~= 503 then return false end
      local _, _, failed = d:GroupsAndMaybeResources()
      for _, f in ipairs(failed or {}) do
        if f.gv == gv then return true end
      end
      return false
    end, 90, "the APIService " .. apiservice .. " to be unavailable and its discovery to answer 503")
  end)

  teardown(function()
    -- cluster-scoped: deleted whatever happened above
    if apiservice then pcall(function() dc:Resource(APISERVICES):Delete(apiservice) end) end
    H.cleanup_namespaces()
  end)

  for _, driver in ipairs(H.DRIVERS) do
    it("GroupsAndMaybeResources and ServerGroups: every other group-version's resources, the failed one named (" .. driver.name .. ")", function()
      driver.run(function()
        local d = cs:Discovery()
        local groups, by_gv, failed = d:GroupsAndMaybeResources()
        assert(groups, tostring(by_gv))
        assert.is_table(by_gv)
        -- the failed group-version, as client-go's StaleGroupVersionError
        local mine
        for _, f in ipairs(failed) do
          if f.gv == gv then mine = f end
        end
        assert.same({ gv = gv, message = "stale GroupVersion discovery: " .. gv }, mine)
        assert.is_nil(by_gv[gv])
        -- the group is listed without the version (client-go's convertAPIGroup)
        local seen
        for _, g in ipairs(groups.groups) do
          if g.name == group then
            seen = g
          else
            for _, v in ipairs(g.versions) do
              assert.is_table(by_gv[v.groupVersion], "resources of " .. v.groupVersion)
            end
          end
        end
        assert.is_table(seen)
        assert.equal(0, #seen.versions)
        assert.is_nil(seen.preferredVersion)
        assert.is_true(resource_names(by_gv["v1"]).pods)
        assert.is_true(resource_names(by_gv["apps/v1"]).deployments)
        assert.is_true(resource_names(by_gv["apiregistration.k8s.io/v1"]).apiservices)
        -- ServerGroups, as client-go's, ignores the failed group-versions
        local sg, err = d:ServerGroups()
        assert.is_nil(err)
        assert.equal(#groups.groups, #sg.groups)
      end)
    end)

    -- every other group's preferred resources, none for gv, and the
    -- GroupDiscoveryFailed error (returned for the row's own checks)
    local function assert_partial(lists, err)
      assert.is_table(lists)
      assert.is_true(resource_names(list_for(lists, "v1")).pods)
      assert.is_true(resource_names(list_for(lists, "apps/v1")).deployments)
      assert.is_nil(list_for(lists, gv))
      assert.equal("GroupDiscoveryFailed", err.reason)
      assert.matches("^unable to retrieve the complete list of server APIs: ", err.message)
      return err
    end

    it("ServerPreferredResources: partial results and GroupDiscoveryFailed naming the group-version (" .. driver.name .. ")", function()
      driver.run(function()
        local d = cs:Discovery()
        local err = assert_partial(d:ServerPreferredResources())
        assert.matches(gv .. ": stale GroupVersion discovery: " .. gv, err.message, 1, true)
        assert.is_false(errors.IsServiceUnavailable(err))
        assert.matches(gv, tostring(err), 1, true)
      end)
    end)

    it("legacy discovery: the group-version's 503 is named in GroupDiscoveryFailed, the rest is returned (" .. driver.name .. ")", function()
      driver.run(function()
        local d = cs:Discovery()
        d.UseLegacyDiscovery = true
        local groups = assert(d:ServerGroups())
        local listed
        for _, g in ipairs(groups.groups) do
          if g.name == group then listed = g.preferredVersion.groupVersion end
        end
        assert.equal(gv, listed) -- /apis lists it; only its own path fails
        local err = assert_partial(d:ServerPreferredResources())
        assert.matches(gv .. ": k8s: ServiceUnavailable (503): the server is currently unable to handle the request",
          err.message, 1, true)
      end)
    end)

    it("a GET of the group-version's path answers 503, IsServiceUnavailable (" .. driver.name .. ")", function()
      driver.run(function()
        local l, err = cs:Discovery():ServerResourcesForGroupVersion(gv)
        assert.is_nil(l)
        assert.equal(503, err.code)
        assert.equal("ServiceUnavailable", err.reason)
        assert.is_true(errors.IsServiceUnavailable(err))
        assert.is_false(errors.IsTransportError(err))
        assert.matches("the server is currently unable to handle the request", err.message, 1, true)
      end)
    end)
  end
end)

describe("server-ended watches (" .. H.interpreter .. ")", function()
  local cs, cms

  setup(function()
    cs = assert(k8s.NewForConfig(H.config("admin-token")))
    cms = cs:CoreV1():ConfigMaps(H.namespace(cs))
  end)

  teardown(function()
    H.cleanup_namespaces()
  end)

  for _, driver in ipairs(H.DRIVERS) do
    it("timeoutSeconds: Next returns nil and no error at the server's end, and the caller re-watches (" .. driver.name .. ")", function()
      driver.run(function()
        local label = H.name("end")
        local rv = assert(cms:List()).metadata.resourceVersion
        local first = H.name("first")
        assert(cms:Create({ metadata = { name = first, labels = { suite = label } } }))
        local w = assert(cms:Watch({ resourceVersion = rv, labelSelector = "suite=" .. label, timeoutSeconds = 2 }))
        local ev, err = w:Next(30)
        assert(ev, tostring(err))
        assert.equal("ADDED", ev.type)
        assert.equal(first, ev.object.metadata.name)
        local last_rv = ev.object.metadata.resourceVersion
        -- the server ends the watch: a clean end, no error (a transport error
        -- or a Next timeout would come back as nil and an error)
        ev, err = w:Next(30)
        assert.is_nil(ev)
        assert.is_nil(err)
        -- the ended watch does not resume by itself
        local second = H.name("second")
        assert(cms:Create({ metadata = { name = second, labels = { suite = label } } }))
        ev, err = w:Next(1)
        assert.is_nil(ev)
        assert.is_nil(err)
        w:Stop()
        -- re-watching from the last resourceVersion is the caller's (the reflector's)
        w = assert(cms:Watch({ resourceVersion = last_rv, labelSelector = "suite=" .. label, timeoutSeconds = 2 }))
        local names = {}
        for e in w:ResultChan() do
          assert.equal("ADDED", e.type)
          names[#names + 1] = e.object.metadata.name
        end
        assert.same({ second }, names) -- the ResultChan loop also ends at the server's end
        ev, err = w:Next(1)
        assert.is_nil(ev)
        assert.is_nil(err)
      end)
    end)

  end
end)

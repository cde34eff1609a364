-- The RESTClient (client-go's rest.Interface) against the real control
-- plane: RESTClientFor's requirements, the request builder (Namespace,
-- Resource, Name, SubResource, Param, VersionedParams, SetHeader, Body,
-- Timeout, AbsPath, Prefix, Suffix), Do / DoRaw / Stream / Watch, results,
-- rate limiters and request validation.
local H = require "spec.helper"
local k8s = require "k8s"

local namespace = H.namespace
local errors = k8s.errors

local function versioned(gv, apiPath, who, extra)
  local c = H.config(who or "admin-cert")
  c.APIPath = apiPath
  c.ContentConfig = { GroupVersion = gv }
  for k, v in pairs(extra or {}) do c[k] = v end
  return assert(k8s.rest.RESTClientFor(c))
end

describe("RESTClient (" .. H.interpreter .. ")", function()
  local cs, ns, rc, server

  setup(function()
    local cfg = H.config("admin-cert")
    cfg.QPS, cfg.Burst = 200, 400
    cs = assert(k8s.NewForConfig(cfg))
    ns = namespace(cs)
    rc = versioned({ Group = "", Version = "v1" }, "/api", "admin-cert", { QPS = 200, Burst = 400 })
    server = H.env.K8S_LUA_SERVER
  end)

  teardown(function()
    H.cleanup_namespaces()
  end)

  it("RESTClientFor needs GroupVersion and APIPath", function()
    assert.has_error(function() k8s.rest.RESTClientFor(H.config("admin-cert")) end,
      "RESTClientFor: GroupVersion is required when initializing a RESTClient (config.ContentConfig.GroupVersion)")
    local c = H.config("admin-cert")
    c.ContentConfig = { GroupVersion = "v1" }
    assert.has_error(function() k8s.rest.RESTClientFor(c) end,
      'RESTClientFor: APIPath is required (config.APIPath, "/api" or "/apis")')
    assert.has_error(function() k8s.rest.RESTClientFor("config") end, "config must be a table, got string")

    assert.same({ Group = "", Version = "v1" }, rc:APIVersion())
    local apps = versioned("apps/v1", "/apis")
    assert.same({ Group = "apps", Version = "v1" }, apps:APIVersion())
    assert.equal("k8s.RESTClient(" .. server .. " apps/v1)", tostring(apps))
    local apps2 = versioned({ Group = "apps", Version = "v1" }, "/apis")
    assert.same({ Group = "apps", Version = "v1" }, apps2:APIVersion())
    assert.equal(server .. "/apis/apps/v1/namespaces/x/deployments",
      apps2:Get():Namespace("x"):Resource("deployments"):URL())
    -- a group-version client of the clientset hands out its RESTClient
    assert.same({ Group = "batch", Version = "v1" }, cs:BatchV1():RESTClient():APIVersion())
  end)

  it("Get: Namespace Resource Name Do Get, and the result's accessors", function()
    local name = H.name("rget")
    assert(cs:CoreV1():ConfigMaps(ns):Create({ metadata = { name = name }, data = { k = "v" } }))
    local res = rc:Get():Namespace(ns):Resource("configmaps"):Name(name):Do()
    assert.equal(200, res:StatusCode())
    assert.is_nil(res:Error())
    assert.equal("application/json", res:ContentType())
    local obj = assert(res:Get())
    assert.equal("ConfigMap", obj.kind)
    assert.equal("v", obj.data.k)
    local raw = res:Raw()
    assert.is_string(raw)
    assert.equal(name, k8s.json.decode(raw).metadata.name)
    assert.is_table(res:Warnings())

    -- a 404 is a result too; Get and Error give the error
    res = rc:Get():Namespace(ns):Resource("configmaps"):Name("missing"):Do()
    assert.equal(404, res:StatusCode())
    local err = res:Error()
    assert.is_true(errors.IsNotFound(err))
    assert.equal("NotFound", err.reason)
    assert.equal("Status", err.status.kind)
    local none, e2 = res:Get()
    assert.is_nil(none)
    assert.is_true(errors.IsNotFound(e2))
    assert.equal("Status", k8s.json.decode(res:Raw()).kind)

    -- the same request may be executed again
    local req = rc:Get():Namespace(ns):Resource("configmaps"):Name(name)
    assert.equal(200, req:Do():StatusCode())
    assert.equal(200, req:Do():StatusCode())
    -- Verb("GET") is Get()
    assert.equal(name, assert(rc:Verb("GET"):Namespace(ns):Resource("configmaps"):Name(name):Do():Get()).metadata.name)
  end)

  it("Post with Body(table) and Body(string), Put, Patch, Delete", function()
    local a, b = H.name("post"), H.name("post")
    local res = rc:Post():Namespace(ns):Resource("configmaps")
      :Body({ apiVersion = "v1", kind = "ConfigMap", metadata = { name = a }, data = { from = "table" } }):Do()
    assert.equal(201, res:StatusCode())
    assert.equal("table", assert(res:Get()).data.from)
    res = rc:Post():Namespace(ns):Resource("configmaps")
      :Body('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"' .. b .. '"},"data":{"from":"string"}}'):Do()
    assert.equal(201, res:StatusCode())
    assert.equal("string", assert(cs:CoreV1():ConfigMaps(ns):Get(b)).data.from)

    -- Put replaces
    local obj = assert(rc:Get():Namespace(ns):Resource("configmaps"):Name(a):Do():Get())
    obj.data = { from = "put" }
    res = rc:Put():Namespace(ns):Resource("configmaps"):Name(a):Body(obj):Do()
    assert.equal(200, res:StatusCode())
    assert.equal("put", assert(res:Get()).data.from)

    -- Patch(pt) sends the patch type as Content-Type
    local patched = assert(rc:Patch(k8s.types.MergePatchType):Namespace(ns):Resource("configmaps"):Name(a)
      :Body({ data = { extra = "1" } }):Do():Get())
    assert.same({ from = "put", extra = "1" }, patched.data)
    patched = assert(rc:Patch(k8s.types.JSONPatchType):Namespace(ns):Resource("configmaps"):Name(a)
      :Body('[{"op":"remove","path":"/data/extra"}]'):Do():Get())
    assert.same({ from = "put" }, patched.data)
    local bad = rc:Patch("text/plain"):Namespace(ns):Resource("configmaps"):Name(a):Body("x"):Do()
    assert.equal(415, bad:StatusCode())
    assert.is_true(errors.IsUnsupportedMediaType(bad:Error()))

    -- Delete with DeleteOptions in the body
    res = rc:Delete():Namespace(ns):Resource("configmaps"):Name(a)
      :Body({ apiVersion = "v1", kind = "DeleteOptions", gracePeriodSeconds = 0 }):Do()
    assert.equal(200, res:StatusCode())
    assert.is_true(errors.IsNotFound(select(2, cs:CoreV1():ConfigMaps(ns):Get(a))))
  end)

  it("Param and VersionedParams become query parameters with real effect", function()
    local label = H.name("vp")
    for i = 1, 3 do
      assert(cs:CoreV1():ConfigMaps(ns):Create({ metadata = { name = H.name("vp"),
        labels = { suite = label, n = tostring(i) } } }))
    end
    local req = rc:Get():Namespace(ns):Resource("configmaps")
      :VersionedParams({ labelSelector = "suite=" .. label, limit = 2, fieldSelector = "" })
    assert.equal(server .. "/api/v1/namespaces/" .. ns .. "/configmaps?labelSelector=suite%3D" .. label .. "&limit=2",
      req:URL())
    local page = assert(req:Do():Get())
    assert.equal(2, #page.items)
    assert.is_string(page.metadata["continue"])
    local rest = assert(rc:Get():Namespace(ns):Resource("configmaps")
      :Param("labelSelector", "suite=" .. label):Param("limit", 2):Param("continue", page.metadata["continue"])
      :Do():Get())
    assert.equal(1, #rest.items)

    -- lists repeat the parameter, booleans and numbers are spelled out
    assert.equal(server .. "/api/v1/namespaces?a=x&a=y&b=true&c=7",
      rc:Get():Resource("namespaces"):VersionedParams({ a = { "x", "y" }, b = true, c = 7 }):URL())
    -- dryRun really is a dry run
    local name = H.name("dry")
    local res = rc:Post():Namespace(ns):Resource("configmaps"):VersionedParams({ dryRun = { "All" } })
      :Body({ metadata = { name = name } }):Do()
    assert.equal(201, res:StatusCode())
    assert.is_true(errors.IsNotFound(select(2, cs:CoreV1():ConfigMaps(ns):Get(name))))
  end)

  it("SetHeader: Accept a Table", function()
    local tbl = assert(rc:Get():Resource("namespaces")
      :SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"):Do():Get())
    assert.equal("Table", tbl.kind)
    assert.equal("meta.k8s.io/v1", tbl.apiVersion)
    assert.equal("Name", tbl.columnDefinitions[1].name)
    local found = false
    for _, row in ipairs(tbl.rows) do if row.cells[1] == ns then found = true end end
    assert.is_true(found)
  end)

  it("SubResource, Prefix, Suffix and AbsPath build the path", function()
    local st = assert(rc:Get():Resource("namespaces"):Name(ns):SubResource("status"):Do():Get())
    assert.equal("Namespace", st.kind)
    assert.equal("Active", st.status.phase)
    assert.equal(server .. "/api/v1/namespaces/" .. ns .. "/pods/p/log",
      rc:Get():Namespace(ns):Resource("pods"):Name("p"):SubResource("log"):URL())
    assert.equal(server .. "/api/v1/a/b/namespaces/c",
      rc:Get():Prefix("a", "b"):Resource("namespaces"):Suffix("c"):URL())
    assert.equal(server .. "/version", rc:Get():AbsPath("/version"):URL())
    assert.equal(server .. "/api/v1", rc:Get():AbsPath("/api", "v1"):URL())
    assert.equal(server .. "/api/v1", rc:Get():AbsPath("/api/", "/v1"):URL())
    local list = assert(rc:Get():AbsPath("/api", "v1", "namespaces"):Do():Get())
    assert.equal("NamespaceList", list.kind)
  end)

  it("AbsPath on an unversioned client: /version, /readyz, /healthz", function()
    local u = assert(k8s.rest.UnversionedRESTClientFor(H.config("admin-token")))
    local v = assert(u:Get():AbsPath("/version"):Do():Get())
    assert.equal(H.env.K8S_LUA_K8S_VERSION, v.gitVersion)
    assert.equal("ok", assert(u:Get():AbsPath("/readyz"):DoRaw()))
    assert.equal("ok", assert(u:Get():AbsPath("/healthz"):DoRaw()))
    local verbose = assert(u:Get():AbsPath("/readyz"):Param("verbose", true):DoRaw())
    assert.matches("readyz check passed", verbose, 1, true)
    local groups = assert(u:Get():AbsPath("/apis"):Do():Get())
    assert.equal("APIGroupList", groups.kind)
  end)

  it("DoRaw returns the body or nil, err", function()
    local name = H.name("raw")
    assert(cs:CoreV1():ConfigMaps(ns):Create({ metadata = { name = name } }))
    local body = assert(rc:Get():Namespace(ns):Resource("configmaps"):Name(name):DoRaw())
    assert.is_string(body)
    assert.matches('"name":"' .. name .. '"', body, 1, true)
    local none, err = rc:Get():Namespace(ns):Resource("configmaps"):Name("missing"):DoRaw()
    assert.is_nil(none)
    assert.equal(404, err.code)
    assert.is_true(errors.IsNotFound(err))
    local rrc = versioned("v1", "/api", "restricted")
    none, err = rrc:Get():Resource("namespaces"):DoRaw()
    assert.is_nil(none)
    assert.is_true(errors.IsForbidden(err))
  end)

  it("server and transport failures map to the error predicates", function()
    local res = rc:Post():Namespace(ns):Resource("configmaps"):Name("x"):Body({}):Do()
    assert.equal(405, res:StatusCode())
    local err = res:Error()
    assert.equal(405, err.code)
    assert.is_true(errors.IsMethodNotSupported(err))
    assert.is_false(errors.IsNotFound(err))
    assert.is_false(errors.IsTransportError(err))

    local _, e2 = rc:Post():Namespace(ns):Resource("configmaps"):Body("{not json"):DoRaw()
    assert.equal(400, e2.code)
    assert.is_true(errors.IsBadRequest(e2))

    -- nothing listens on port 1: no HTTP status at all
    local dead = assert(k8s.rest.UnversionedRESTClientFor({ Host = "https://127.0.0.1:1",
      TLSClientConfig = { CAFile = H.env.K8S_LUA_CA } }))
    -- Do still gives a result (as client-go's Result): status 0 and the error
    local dres = dead:Get():AbsPath("/version"):Do()
    assert.equal(0, dres:StatusCode())
    assert.equal("ConnectionRefused", dres:Error().reason)
    local none, e3 = dres:Get()
    assert.is_nil(none)
    assert.equal("ConnectionRefused", e3.reason)
    none, e3 = dead:Get():AbsPath("/version"):DoRaw()
    assert.is_nil(none)
    assert.equal(0, e3.code)
    assert.equal("ConnectionRefused", e3.reason)
    assert.is_true(errors.IsTransportError(e3))
    assert.equal("", errors.ReasonForError({}))
    assert.equal("ConnectionRefused", errors.ReasonForError(e3))
  end)

  it("errors.New makes the errors the library returns; IsError tells them apart", function()
    local _, served = rc:Get():Namespace(ns):Resource("configmaps"):Name("absent-" .. ns):DoRaw()
    assert.is_true(errors.IsError(served))
    local e = errors.New("NotFound", "configmaps \"x\" not found", 404, { status = { code = 404 } })
    assert.equal(getmetatable(served), getmetatable(e))
    local mt = getmetatable(e)
    assert.same({ code = 404, reason = "NotFound", message = 'configmaps "x" not found', retryAfterSeconds = 0,
                  status = { code = 404 } }, setmetatable(e, nil))
    setmetatable(e, mt)
    assert.equal('k8s: NotFound (404): configmaps "x" not found', tostring(e))
    assert.is_true(errors.IsNotFound(e))
    local plain = errors.New("Timeout", "timed out waiting for the condition")
    assert.equal(0, plain.code)
    assert.equal("k8s: Timeout: timed out waiting for the condition", tostring(plain))
    assert.is_false(errors.IsError({ code = 0, reason = "Timeout" }))
    assert.is_false(errors.IsError("k8s: Timeout"))
  end)

  it("Stream reads a List in chunks until nil", function()
    local label = H.name("st")
    for _ = 1, 30 do
      assert(cs:CoreV1():ConfigMaps(ns):Create({ metadata = { name = H.name("st"), labels = { suite = label } },
        data = { pad = string.rep("x", 2000) } }))
    end
    local s = assert(rc:Get():Namespace(ns):Resource("configmaps"):Param("labelSelector", "suite=" .. label):Stream())
    local chunks = {}
    while true do
      local chunk, err = s:read()
      assert.is_nil(err)
      if not chunk then break end
      assert.is_true(#chunk > 0)
      chunks[#chunks + 1] = chunk
    end
    assert.is_nil(s:read()) -- stays at the end
    s:close()
    assert.is_true(#chunks >= 1)
    local list = k8s.json.decode(table.concat(chunks))
    assert.equal("ConfigMapList", list.kind)
    assert.equal(30, #list.items)

    -- a server error comes back before any chunk
    local none, err = rc:Get():Namespace(ns):Resource("configmaps"):Name("missing"):Stream()
    assert.is_nil(none)
    assert.is_true(errors.IsNotFound(err))
  end)

  it("Watch through the request builder", function()
    local rv = assert(rc:Get():Namespace(ns):Resource("configmaps"):Do():Get()).metadata.resourceVersion
    local w = assert(rc:Get():Namespace(ns):Resource("configmaps"):Param("resourceVersion", rv):Watch())
    local name = H.name("rw")
    assert(cs:CoreV1():ConfigMaps(ns):Create({ metadata = { name = name } }))
    local ev
    repeat ev = assert(w:Next(10)) until ev.object.metadata.name == name
    assert.equal("ADDED", ev.type)
    w:Stop()
  end)

  it("Timeout sets the server's timeout parameter", function()
    assert.equal(server .. "/api/v1/namespaces?timeout=2.5s", rc:Get():Resource("namespaces"):Timeout(2.5):URL())
    assert.equal(server .. "/api/v1/namespaces?timeout=250ms", rc:Get():Resource("namespaces"):Timeout(0.25):URL())
    assert(rc:Get():Resource("namespaces"):Timeout(10):Do():Get())
    -- watches end by timeoutSeconds (the apiserver ignores `timeout` there, as for client-go)
    local rv = assert(rc:Get():Namespace(ns):Resource("configmaps"):Do():Get()).metadata.resourceVersion
    local w = assert(rc:Get():Namespace(ns):Resource("configmaps"):VersionedParams({ resourceVersion = rv,
      labelSelector = "none=" .. H.name("x"), timeoutSeconds = 1 }):Watch())
    -- nil, nil: the server ended the watch (Next's own timeout gives an error)
    local ev, err = w:Next(10)
    assert.is_nil(ev)
    assert.is_nil(err)
  end)

  it("rate limiters: GetRateLimiter, QPS, TryAccept, Accept, shared limiters", function()
    local default = versioned("v1", "/api")
    local lim = assert(default:GetRateLimiter())
    assert.equal(5, lim:QPS()) -- client-go's default
    assert.is_true(lim:TryAccept())
    assert.equal(200, rc:GetRateLimiter():QPS())

    local tb = k8s.flowcontrol.NewTokenBucketRateLimiter(2, 1)
    assert.equal(2, tb:QPS())
    local now = require("k8s.loop").now
    local t0 = now()
    assert.is_true(tb:TryAccept())
    assert.is_false(tb:TryAccept())
    local waited = tb:Accept()
    local elapsed = now() - t0
    assert.is_number(waited)
    -- the burst was taken at once: the next token is due 1/QPS after it
    -- (to the nanosecond the sleep is rounded to), and Accept's wait is
    -- part of that time
    assert.is_true(elapsed >= 0.5 - 1e-6, "Accept returned " .. elapsed .. "s after the burst")
    assert.is_true(waited >= 0 and waited <= elapsed, "waited " .. waited .. " of " .. elapsed .. "s")

    -- a limiter given in the config is the client's
    local shared = k8s.flowcontrol.NewTokenBucketRateLimiter(1, 1)
    local c1 = versioned("v1", "/api", "admin-cert", { RateLimiter = shared })
    assert.equal(1, c1:GetRateLimiter():QPS())
    assert.is_true(shared:TryAccept())
    assert.is_false(c1:GetRateLimiter():TryAccept())
    assert.has_error(function() k8s.flowcontrol.NewTokenBucketRateLimiter("x", 1) end)
  end)

  it("request validation errors raise", function()
    assert.has_error(function() rc:Get():Name("") end, "Name: resource name may not be empty")
    assert.has_error(function() rc:Get():Namespace("a/b") end, "Namespace: invalid namespace \"a/b\": may not contain '/'")
    assert.has_error(function() rc:Get():Resource("pods"):Resource("configmaps") end,
      'Resource: resource already set to "pods", cannot change to "configmaps"')
    assert.has_error(function() rc:Get():Namespace("a"):Namespace("b") end,
      'Namespace: namespace already set to "a", cannot change to "b"')
    assert.has_error(function() rc:Get():Name("a"):Name("b") end,
      'Name: resource name already set to "a", cannot change to "b"')
    assert.has_error(function() rc:Get():Name("a/b") end, "Name: invalid resource name \"a/b\": may not contain '/'")
    assert.has_error(function() rc:Get():Resource("a/b") end, "Resource: invalid resource \"a/b\": may not contain '/'")
    assert.has_error(function() rc:Get():Timeout(-1) end, "Timeout: timeout must not be negative")
    assert.has_error(function() rc:Get():Param("a", {}) end)
    assert.has_error(function() rc:Get():SetHeader("a") end)
    assert.has_error(function() rc:Get():Body(12) end)
    assert.has_error(function() rc:Get():VersionedParams({ limit = {} , x = function() end }) end)
    assert.has_error(function() rc:Verb("") end, "Verb: request: verb must not be empty")
  end)
end)

-- examples/nginx/app.lua: the handlers of examples/nginx/nginx.conf.
-- Every call yields on cosockets: the worker keeps serving other requests.
local k8s = require "k8s"

local M = {}
local cs -- one clientset per worker, made on first use

local function client()
  if not cs then
    cs = assert(k8s.NewForConfig(assert(k8s.clientcmd.BuildConfigFromFlags("", ""))))
  end
  return cs
end

-- GET /pods?namespace=NS : the pods of a namespace as JSON
function M.pods()
  local ns = ngx.var.arg_namespace or "default"
  local list, err = client():CoreV1():Pods(ns):List()
  ngx.header["Content-Type"] = "application/json"
  if not list then
    ngx.status = err.code ~= 0 and err.code or 502
    ngx.say(k8s.json.encode({ error = err.reason, message = err.message }))
    return
  end
  local pods = setmetatable({}, k8s.array_mt)
  for _, p in ipairs(list.items) do
    pods[#pods + 1] = { name = p.metadata.name, phase = p.status and p.status.phase or k8s.null }
  end
  ngx.say(k8s.json.encode({ namespace = ns, resourceVersion = list.metadata.resourceVersion, pods = pods }))
end

-- GET /watch?namespace=NS&resource=configmaps : watch events as server-sent events
function M.watch()
  local ns = ngx.var.arg_namespace or "default"
  local resource = ngx.var.arg_resource == "pods" and "Pods" or "ConfigMaps"
  local w, err = client():CoreV1()[resource](client():CoreV1(), ns):Watch({ allowWatchBookmarks = true })
  if not w then
    ngx.status = 502
    ngx.say(tostring(err))
    return
  end
  ngx.header["Content-Type"] = "text/event-stream"
  ngx.header["Cache-Control"] = "no-cache"
  ngx.print(": watching ", resource, " in ", ns, "\n\n")
  ngx.flush(true)
  for ev in w:ResultChan() do
    local o = ev.object or {}
    local line = k8s.json.encode({ name = o.metadata and o.metadata.name or k8s.null,
      resourceVersion = o.metadata and o.metadata.resourceVersion or k8s.null })
    local ok = ngx.print("event: ", ev.type, "\ndata: ", line, "\n\n")
    if not ok or not ngx.flush(true) then break end -- the client went away
  end
  w:Stop()
end

-- init_worker_by_lua: a cache of every Endpoints object, shared by the
-- workers (one of them runs the informer; see k8s.ngx.SharedInformer)
function M.init_worker()
  k8s.ngx.SharedInformer({
    dict = "k8s", name = "endpoints",
    config = function() return assert(k8s.clientcmd.BuildConfigFromFlags("", "")) end,
    resource = { Group = "", Version = "v1", Resource = "endpoints" },
  }):Start()
end

-- GET /endpoints?namespace=NS&service=NAME : the addresses of a Service,
-- answered from the shared cache: no API call per request
function M.endpoints()
  local si = k8s.ngx.SharedInformer("endpoints")
  ngx.header["Content-Type"] = "application/json"
  if not si:HasSynced() then
    ngx.status = 503
    ngx.say(k8s.json.encode({ error = "the endpoints cache is not synced yet" }))
    return
  end
  local ep, err = si:Lister():ByNamespace(ngx.var.arg_namespace or "default"):Get(ngx.var.arg_service or "")
  if not ep then
    ngx.status = err.code
    ngx.say(k8s.json.encode({ error = err.reason, message = err.message }))
    return
  end
  local addrs = setmetatable({}, k8s.array_mt)
  for _, subset in ipairs(ep.subsets or {}) do
    for _, a in ipairs(subset.addresses or {}) do
      for _, p in ipairs(subset.ports or { {} }) do
        addrs[#addrs + 1] = a.ip .. (p.port and (":" .. p.port) or "")
      end
    end
  end
  ngx.say(k8s.json.encode({ service = ep.metadata.name, namespace = ep.metadata.namespace, addresses = addrs }))
end

return M

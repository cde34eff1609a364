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

return M

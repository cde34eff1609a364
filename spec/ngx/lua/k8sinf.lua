-- The handlers of spec/ngx/informer_spec.lua: a shared informer over the
-- Endpoints of one namespace, read by every worker.
local k8s = require "k8s"

local T = {}

local function config()
  local E = os.getenv
  return { Host = E("K8S_LUA_SERVER"), BearerToken = E("K8S_LUA_ADMIN_TOKEN"), TLSClientConfig = { CAFile = E("K8S_LUA_CA") } }
end

function T.start()
  k8s.ngx.SharedInformer({ dict = "k8s", name = "endpoints", config = config, LeaseTTL = 3,
    namespace = os.getenv("K8S_NGX_NS"), resource = { Group = "", Version = "v1", Resource = "endpoints" } }):Start()
end

-- GET /ep?name=N : the endpoints' first IP from the cache, with this worker's pid
function T.ep()
  local si = k8s.ngx.SharedInformer("endpoints")
  local ep, err = si:Lister():ByNamespace(os.getenv("K8S_NGX_NS")):Get(ngx.var.arg_name)
  local ip = ep and ep.subsets and ep.subsets[1] and ep.subsets[1].addresses[1].ip
  ngx.say(k8s.json.encode({ pid = ngx.worker.pid(), ip = ip or k8s.null, synced = si:HasSynced(),
    leader = si:Leader() or k8s.null, notfound = err and k8s.errors.IsNotFound(err) or false,
    count = #assert(si:Lister():List()) }))
end

return T

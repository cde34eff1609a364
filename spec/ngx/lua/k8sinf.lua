-- The handlers of spec/ngx/informer_spec.lua: a shared informer over the
-- Endpoints of one namespace, read by every worker.
local k8s = require "k8s"

local T = {}

local function config()
  local E = os.getenv
  return { Host = E("K8S_LUA_SERVER"), BearerToken = E("K8S_LUA_ADMIN_TOKEN"), TLSClientConfig = { CAFile = E("K8S_LUA_CA") } }
end

-- What this worker's cache shows for the Endpoints `name`.
local function view(name)
  local si = k8s.ngx.SharedInformer("endpoints")
  local ep, err = si:Lister():ByNamespace(os.getenv("K8S_NGX_NS")):Get(name)
  local ip = ep and ep.subsets and ep.subsets[1] and ep.subsets[1].addresses[1].ip
  return { pid = ngx.worker.pid(), ip = ip or k8s.null, synced = si:HasSynced(),
    leader = si:Leader() or k8s.null, notfound = err and k8s.errors.IsNotFound(err) or false,
    count = #assert(si:Lister():List()) }
end

-- Every worker publishes its own view of "web" as view:<pid> in the dict
-- `views`, every 50 ms: one request then shows what every worker sees
-- (the kernel may hand all of a client's connections to one worker).
local function publish(premature)
  if premature then return end
  local ok, v = pcall(view, "web")
  if not ok then v = { pid = ngx.worker.pid(), err = tostring(v) } end
  ngx.shared.views:set("view:" .. ngx.worker.pid(), k8s.json.encode(v))
end

function T.start()
  k8s.ngx.SharedInformer({ dict = "k8s", name = "endpoints", config = config, LeaseTTL = 3,
    namespace = os.getenv("K8S_NGX_NS"), resource = { Group = "", Version = "v1", Resource = "endpoints" } }):Start()
  assert(ngx.timer.every(0.05, publish))
end

-- GET /ep?name=N : the endpoints' first IP from the cache, with this worker's pid
function T.ep()
  ngx.say(k8s.json.encode(view(ngx.var.arg_name)))
end

-- GET /views : { [pid] = the view that worker published last }
function T.views()
  local d, out = ngx.shared.views, {}
  for _, k in ipairs(d:get_keys(0)) do
    local pid = k:match("^view:(%d+)$")
    if pid then out[pid] = k8s.json.decode(d:get(k)) end
  end
  ngx.say(k8s.json.encode(out))
end

return T

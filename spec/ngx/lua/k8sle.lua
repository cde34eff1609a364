-- The handlers of spec/ngx/leader_spec.lua: every worker of every nginx runs
-- an elector for the same Lease; the Lease makes one leader in all.
local k8s = require "k8s"

local T = {}

function T.start()
  local E = os.getenv
  local cs = assert(k8s.NewForConfig({ Host = E("K8S_LUA_SERVER"), BearerToken = E("K8S_LUA_ADMIN_TOKEN"),
    TLSClientConfig = { CAFile = E("K8S_LUA_CA") } }))
  local id = E("K8S_NGX_INSTANCE") .. "-" .. ngx.worker.pid()
  local dict = ngx.shared.le
  dict:set("leading:" .. ngx.worker.pid(), false)
  local le = assert(k8s.leaderelection.NewLeaderElector({
    Lock = assert(k8s.resourcelock.New("leases", E("K8S_NGX_NS"), "ngx-lock", cs:CoordinationV1(), { Identity = id })),
    LeaseDuration = 4, RenewDeadline = 3, RetryPeriod = 1, ReleaseOnCancel = true, Name = "ngx-lock",
    Callbacks = {
      OnStartedLeading = function(ctx)
        ngx.log(ngx.NOTICE, "LE started leading ", id)
        dict:set("leading:" .. ngx.worker.pid(), true)
        while not ctx:Done() do ngx.sleep(0.1) end
      end,
      OnStoppedLeading = function() ngx.log(ngx.NOTICE, "LE stopped leading ", id); dict:set("leading:" .. ngx.worker.pid(), false) end,
      OnNewLeader = function(who) ngx.log(ngx.NOTICE, "LE new leader ", who, " seen by ", id) end,
    },
  }))
  le:Run()
end

-- GET /who : the pids of this instance's workers that lead
function T.who()
  local dict = ngx.shared.le
  local out = setmetatable({}, k8s.array_mt)
  for _, key in ipairs(dict:get_keys(0)) do
    local pid = key:match("^leading:(%d+)$")
    if pid and dict:get(key) then out[#out + 1] = os.getenv("K8S_NGX_INSTANCE") .. "-" .. pid end
  end
  ngx.say(k8s.json.encode({ leading = out }))
end

return T

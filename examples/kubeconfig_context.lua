-- Use a context of your own kubeconfig ($KUBECONFIG, a ':'-separated list,
-- or ~/.kube/config) and list the pods of its namespace.
--   lua5.4 examples/kubeconfig_context.lua [context [namespace]]
--   KUBECONFIG=$K8S_LUA_STATE/kubeconfig lua5.4 examples/kubeconfig_context.lua admin-token
-- Without a context the kubeconfig's current-context is used; without a
-- namespace, the context's (or "default").

-- Run from a source checkout without installing: find lua/ and the built
-- module next to this script (build/lua5.4 or build/luajit).
do
  local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
  local top = here .. "/.."
  local interp = jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
  package.path = top .. "/lua/?.lua;" .. top .. "/lua/?/init.lua;" .. package.path
  package.cpath = top .. "/build/" .. interp .. "/?.so;" .. package.cpath
end

local k8s = require "k8s"

local context, namespace = arg[1], arg[2]
if context == "" then context = nil end

-- clientcmd's ConfigOverrides: CurrentContext (--context), Namespace (--namespace)
local config, info = k8s.clientcmd.LoadConfig({ CurrentContext = context, Namespace = namespace })
if not config then
  io.stderr:write("cannot load the kubeconfig: ", tostring(info), "\n")
  os.exit(1)
end

print(("context:   %s%s"):format(info.Context or "(none)", context and "" or " (current-context)"))
print(("user:      %s"):format(info.User or "(none)"))
print(("cluster:   %s (%s)"):format(info.Cluster or "(none)", config.Host))
print(("namespace: %s"):format(config.Namespace))
print(("files:     %s"):format(table.concat(info.Files or {}, ":")))

local cs = assert(k8s.NewForConfig(config))
local pods, err = cs:CoreV1():Pods(config.Namespace):List()
if not pods then
  if k8s.errors.IsForbidden(err) then
    io.stderr:write(("%s may not list pods in %s: %s\n"):format(info.User or "this user", config.Namespace, err.message))
  else
    io.stderr:write("listing pods failed: ", tostring(err), "\n")
  end
  os.exit(1)
end

if #pods.items == 0 then
  print(("no pods in namespace %s"):format(config.Namespace))
else
  print(("%-50s %-10s %s"):format("NAME", "PHASE", "NODE"))
  for _, pod in ipairs(pods.items) do
    print(("%-50s %-10s %s"):format(pod.metadata.name, pod.status and pod.status.phase or "",
      pod.spec and pod.spec.nodeName or ""))
  end
end

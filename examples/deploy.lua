-- A rolling image update: set the image of a Deployment's first container,
-- then wait until the Deployment controller has taken the change in.
--   lua5.4 examples/deploy.lua NAMESPACE DEPLOYMENT IMAGE [--timeout SECONDS]
--   lua5.4 examples/deploy.lua k8s-lua-demo web registry.k8s.io/pause:3.9
--
-- The update is a read-modify-write inside k8s.retry.RetryOnConflict: each
-- attempt GETs the Deployment afresh, so a 409 Conflict (someone wrote it
-- in between: the controller updating its status, another deploy) is retried
-- on the new version instead of overwriting that change.
--
-- What is waited for: `condition=Progressing`. k8s.wait (as kubectl wait)
-- does not count a condition while status.observedGeneration is below
-- metadata.generation, so this returns once the Deployment controller has
-- seen the new template and started the rollout (a new ReplicaSet). That
-- works without a kubelet: the test suite's control plane has no scheduler
-- and no kubelet, so pods never run and `condition=Available` (or kubectl
-- rollout status) would never be met there; in a real cluster, wait for
-- Available afterwards. (`jsonpath={.status.observedGeneration}=<N>` works
-- too, but only while nobody else changes the spec meanwhile.)
-- The configuration comes from $KUBECONFIG (a colon-separated list is
-- merged) or ~/.kube/config.
local k8s = require "k8s"

local ns, name, image, timeout = nil, nil, nil, 60
do
  local rest = {}
  local i = 1
  while i <= #arg do
    if arg[i] == "--timeout" then
      i = i + 1
      timeout = tonumber(arg[i])
    else
      rest[#rest + 1] = arg[i]
    end
    i = i + 1
  end
  ns, name, image = rest[1], rest[2], rest[3]
  if not (ns and name and image and timeout) or #rest > 3 then
    io.stderr:write("usage: lua5.4 examples/deploy.lua NAMESPACE DEPLOYMENT IMAGE [--timeout SECONDS]\n")
    os.exit(2)
  end
end

local config = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))
local cs = assert(k8s.NewForConfig(config))
local deployments = cs:AppsV1():Deployments(ns)

local old, current, attempts = nil, nil, 0
local err = k8s.retry.RetryOnConflict(k8s.retry.DefaultRetry, function()
  attempts = attempts + 1
  local d, gerr = deployments:Get(name) -- a fresh read on every attempt
  if not d then return gerr end
  local containers = d.spec.template.spec.containers
  old = containers[1].image
  if old == image then -- nothing to change
    current = d
    return nil
  end
  containers[1].image = image
  local updated, uerr = deployments:Update(d)
  if not updated then return uerr end -- a Conflict is tried again
  current = updated
  return nil
end)
if err then
  io.stderr:write(string.format("error: updating deployment %s/%s: %s\n", ns, name, tostring(err.message or err)))
  os.exit(1)
end

local container = current.spec.template.spec.containers[1].name
if old == image then
  print(string.format("deployment.apps/%s: container %q already runs %s", name, container, image))
else
  print(string.format("deployment.apps/%s: container %q image %s -> %s (generation %d, %d attempt%s)", name, container,
    old, image, current.metadata.generation, attempts, attempts == 1 and "" or "s"))
end

local objs, werr = k8s.wait.For(cs, "deployments.apps", ns, name, { For = "condition=Progressing", Timeout = timeout })
if not objs then
  io.stderr:write(string.format("error: deployment %s/%s did not progress within %ds: %s\n", ns, name, timeout,
    tostring(werr.message or werr)))
  os.exit(1)
end

local d = objs[1]
local st = d.status or {}
print(string.format("observed generation %d of %d; replicas: %d desired, %d updated, %d ready, %d available",
  st.observedGeneration or 0, d.metadata.generation, d.spec.replicas or 1, st.updatedReplicas or 0,
  st.readyReplicas or 0, st.availableReplicas or 0))
for _, c in ipairs(st.conditions or {}) do
  print(string.format("  %s=%s %s: %s", c.type, c.status, c.reason or "", c.message or ""))
end
local want = d.spec.replicas or 1
if (st.updatedReplicas or 0) == want and (st.availableReplicas or 0) == want and (st.replicas or 0) == want then
  print("rollout complete")
else
  print("rollout in progress: the new pods are not available yet")
end

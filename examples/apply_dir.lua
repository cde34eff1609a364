-- `kubectl apply --server-side -f DIR` in Lua: apply every manifest of a
-- folder in one k8s.apply.Apply call, then wait for the Deployments to be
-- Available and print a summary.
--   lua5.4 examples/apply_dir.lua DIR [NAMESPACE] [--timeout SECONDS] [--force-conflicts]
--   lua5.4 examples/apply_dir.lua examples/manifests k8s-lua-demo
--
-- * Files: every *.yaml, *.yml and *.json directly in DIR, sorted by name (as
--   kubectl reads a folder); a file may hold several documents (---).
-- * One Apply call for all of them: every document is mapped before anything
--   is written, so a CustomResourceDefinition and resources of it may sit in
--   the same folder (the resources are applied once the CRD is Established).
-- * NAMESPACE is kubectl's -n: namespaced objects without a namespace go
--   there, and an object naming another namespace is refused. Without it,
--   they go to the kubeconfig context's namespace, else "default".
-- * The configuration comes from the default loading rules: $KUBECONFIG
--   (a colon-separated list is merged) or ~/.kube/config.
-- * The field manager is "kubectl" (as kubectl apply --server-side): a field
--   another manager has changed since (e.g. the image, by examples/deploy.lua)
--   is a conflict that names it; --force-conflicts takes the field over.
-- * Each Deployment is waited for (condition Available) for --timeout seconds
--   (60). One that is not Available in time is reported with the reason the
--   wait gives (e.g. MinimumReplicasUnavailable) and the script still exits 0:
--   the apply itself succeeded. (On the test suite's control plane, which has
--   no scheduler and no kubelet, pods never run and this is what happens.)
-- Exit status: 0 when every object was applied, 1 otherwise, 2 on bad usage.
local k8s = require "k8s"

local function usage(msg)
  io.stderr:write((msg and (msg .. "\n") or "")
    .. "usage: lua5.4 examples/apply_dir.lua DIR [NAMESPACE] [--timeout SECONDS] [--force-conflicts]\n")
  os.exit(2)
end

local dir, namespace, timeout, force = nil, nil, 60, false
do
  local i = 1
  while i <= #arg do
    local a = arg[i]
    if a == "--timeout" then
      i = i + 1
      timeout = tonumber(arg[i]) or usage("--timeout needs a number of seconds")
    elseif a == "--force-conflicts" then force = true
    elseif a:sub(1, 1) == "-" then usage("unknown option " .. a)
    elseif not dir then dir = a
    elseif not namespace then namespace = a
    else usage("unexpected argument " .. a) end
    i = i + 1
  end
end
if not dir then usage() end

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- the manifest files of dir, sorted by name (byte order, as Go sorts)
local function manifest_files(d)
  local p = assert(io.popen("find " .. q(d) .. " -mindepth 1 -maxdepth 1 -type f 2>/dev/null"))
  local files = {}
  for path in p:lines() do
    if path:match("%.ya?ml$") or path:match("%.json$") then files[#files + 1] = path end
  end
  p:close()
  table.sort(files)
  return files
end

local files = manifest_files(dir)
if #files == 0 then
  io.stderr:write("error: no .yaml, .yml or .json files in " .. dir .. "\n")
  os.exit(1)
end

-- every document of every file, in order; origin[i] names the file of docs[i]
local docs, origin = {}, {}
for _, path in ipairs(files) do
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  local list, err = k8s.yaml.decode(text) -- YAML or JSON, any number of documents
  if not list then
    io.stderr:write(string.format("error: %s: %s\n", path, tostring(err)))
    os.exit(1)
  end
  for _, d in ipairs(list) do
    if d ~= k8s.null then -- empty documents are skipped (as kubectl)
      docs[#docs + 1] = d
      origin[#docs] = path
    end
  end
end

local config = assert(k8s.clientcmd.BuildConfigFromFlags("", ""))
local cs = assert(k8s.NewForConfig(config))

-- on failure: nil, the error, and the results of the objects that were applied
local results, err, partial = k8s.apply.Apply(cs, docs, { Namespace = namespace, Force = force })
results = results or partial

local function ref(r) -- kubectl's "deployment.apps/web"
  return r.Kind:lower() .. ((r.Group or "") ~= "" and "." .. r.Group or "") .. "/" .. r.Name
end

for _, r in ipairs(results or {}) do print(ref(r) .. " " .. r.Action) end
if err then
  -- "document N" in the messages is the N-th document of the folder
  local msg = tostring(err.message or err)
  io.stderr:write("error: " .. msg .. "\n")
  local named = {}
  for n in msg:gmatch("document (%d+)") do
    n = tonumber(n)
    if origin[n] and not named[n] then
      named[n] = true
      io.stderr:write(string.format("  document %d is in %s\n", n, origin[n]))
    end
  end
  os.exit(1)
end

-- wait for every Deployment to be Available
local ready, reasons = {}, {}
for i, r in ipairs(results) do
  if r.Kind == "Deployment" and r.Group == "apps" then
    local _, werr = k8s.wait.For(cs, "deployments.apps", r.Namespace, r.Name,
      { For = "condition=Available", Timeout = timeout })
    if werr then
      ready[i] = "no"
      reasons[#reasons + 1] = string.format("%s in %s is not Available after %ds: %s", ref(r), r.Namespace, timeout,
        tostring(werr.message or werr))
    else
      ready[i] = "yes"
    end
  end
end

-- the summary table
local rows = { { "KIND", "NAMESPACE", "NAME", "ACTION", "READY" } }
for i, r in ipairs(results) do
  rows[#rows + 1] = { r.Kind, r.Namespace or "-", r.Name, r.Action, ready[i] or "-" }
end
local widths = {}
for _, row in ipairs(rows) do
  for c, cell in ipairs(row) do widths[c] = math.max(widths[c] or 0, #cell) end
end
print()
for _, row in ipairs(rows) do
  local cells = {}
  for c, cell in ipairs(row) do cells[c] = c < #row and cell .. string.rep(" ", widths[c] - #cell) or cell end
  print(table.concat(cells, "   "))
end
if #reasons > 0 then
  print()
  for _, line in ipairs(reasons) do print(line) end
end

-- Every example runs as written (as the README shows), on this interpreter,
-- against the control plane's kubeconfig: exit status 0 and the output it
-- promises.
local H = require "spec.helper"
local k8s = require "k8s"

local interp = H.INTERP

local function run(example, args, kubeconfig)
  local cmd = string.format(
    "cd %q && KUBECONFIG=%q %s %s examples/%s %s 2>&1",
    H.ROOT, kubeconfig or H.env.KUBECONFIG or (H.env.K8S_LUA_STATE .. "/kubeconfig"),
    H.lua_env(), interp, example, args or "")
  local p = assert(io.popen(cmd .. "; echo EXIT:$?"))
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("EXIT:(%d+)%s*$"))
  return code, out
end

describe("examples (" .. H.interpreter .. ")", function()
  local expect = {
    ["quickstart.lua"] = { "server version: " .. H.env.K8S_LUA_K8S_VERSION, "kube%-system" },
    ["crud_configmap.lua"] = {},
    ["watch.lua"] = { "ADDED", "MODIFIED", "DELETED" },
    ["apply.lua"] = {},
    ["dynamic_crd.lua"] = {},
    ["raw_rest.lua"] = { H.env.K8S_LUA_K8S_VERSION },
  }
  it("runs quickstart.lua with a KUBECONFIG list of two files that only work merged", function()
    -- the control plane's kubeconfig split in two: clusters and users in
    -- one file, contexts and current-context in the other
    local path = H.env.KUBECONFIG or (H.env.K8S_LUA_STATE .. "/kubeconfig")
    local kc = assert(k8s.yaml.decode(assert(H.read(path))))[1]
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("env -u LD_PRELOAD mkdir -p " .. H.shq(dir)))
    finally(function() os.execute("env -u LD_PRELOAD rm -rf " .. H.shq(dir)) end)
    local a = { apiVersion = "v1", kind = "Config", clusters = kc.clusters, users = kc.users }
    local b = { apiVersion = "v1", kind = "Config", contexts = kc.contexts, ["current-context"] = kc["current-context"] }
    H.write(dir .. "/a.yaml", assert(k8s.yaml.encode(a)))
    H.write(dir .. "/b.yaml", assert(k8s.yaml.encode(b)))
    for _, one in ipairs({ "a.yaml", "b.yaml" }) do -- neither works alone
      local code = run("quickstart.lua", nil, dir .. "/" .. one)
      assert.is_not.equal(0, code)
    end
    local code, out = run("quickstart.lua", nil, dir .. "/a.yaml:" .. dir .. "/b.yaml")
    assert.equal(0, code, out)
    assert.matches("server version: " .. H.env.K8S_LUA_K8S_VERSION, out)
  end)

  for example, patterns in pairs(expect) do
    it("runs " .. example, function()
      local code, out = run(example)
      assert.equal(0, code, out)
      for _, pat in ipairs(patterns) do
        assert.matches(pat, out)
      end
    end)
  end

  it("runs controller.lua: an inventory ConfigMap of a namespace's pods, under leader election", function()
    local k8s = require "k8s"
    local cs = assert(k8s.NewForConfig(H.config("admin-token")))
    local ns = H.namespace(cs)
    -- the namespace's default ServiceAccount, made here rather than waited for
    -- from the controller-manager (pods need it)
    local _, serr = cs:CoreV1():ServiceAccounts(ns):Create({ metadata = { name = "default" } })
    assert(serr == nil or k8s.errors.IsAlreadyExists(serr), tostring(serr))
    for _, n in ipairs { "web-1", "web-2" } do
      assert(cs:CoreV1():Pods(ns):Create({ metadata = { name = n },
        spec = { containers = { { name = "c", image = "example/none" } } } }))
    end
    -- "once": it exits when the namespace is reconciled (60 s: only a failing run's bound)
    local code, out = run("controller.lua", "60 " .. ns .. " once")
    assert.equal(0, code, out)
    assert.matches("is leading", out)
    assert.matches("reconciled " .. ns:gsub("%-", "%%-") .. ": 2 pods", out)
    local cm = assert(cs:CoreV1():ConfigMaps(ns):Get("pod-inventory"))
    assert.equal("2", cm.data.count)
    assert.equal("web-1\nweb-2", cm.data.pods)
    H.cleanup_namespaces()
  end)

  it("runs apply_dir.lua on examples/manifests (CRD + CR in one folder), then deploy.lua on its Deployment", function()
    local k8s = require "k8s"
    local cs = assert(k8s.NewForConfig(H.config("admin-cert")))
    local dc = assert(k8s.dynamic.NewForConfig(H.config("admin-cert")))
    -- the sample folder, its Namespace renamed to a fresh one
    local ns = H.name("ns")
    H.namespaces[#H.namespaces + 1] = { cs = cs, name = ns } -- deleted by H.cleanup_namespaces()
    local tmp = H.sh("mktemp -d /tmp/k8s-lua-apply-dir.XXXXXX"):gsub("%s+$", "")
    assert(os.execute("env -u LD_PRELOAD cp examples/manifests/* " .. H.shq(tmp) .. "/"))
    local nsfile = tmp .. "/00-namespace.yaml"
    local text, n = H.read(nsfile):gsub("name: k8s%-lua%-demo\n", "name: " .. ns .. "\n")
    assert.equal(1, n)
    H.write(nsfile, text)
    local qns = ns:gsub("%-", "%%-")

    -- a KUBECONFIG list whose first file is missing (skipped, as client-go's loading rules)
    local kubeconfig = "/nonexistent/kubeconfig:" .. (H.env.KUBECONFIG or (H.env.K8S_LUA_STATE .. "/kubeconfig"))
    -- no kubelet here: the Deployment is never Available, the wait ends after 2 s
    local code, out = run("apply_dir.lua", H.shq(tmp) .. " " .. ns .. " --timeout 2", kubeconfig)
    os.execute("env -u LD_PRELOAD rm -rf " .. H.shq(tmp))
    assert.equal(0, code, out)
    assert.matches("namespace/" .. qns .. " created\n", out)
    -- the CRD is shared by the runs on both interpreters
    assert.matches("customresourcedefinition%.apiextensions%.k8s%.io/greetings%.demo%.k8s%-lua%.io %a+\n", out)
    assert.matches("configmap/web%-config created\n", out)
    assert.matches("deployment%.apps/web created\n", out)
    assert.matches("greeting%.demo%.k8s%-lua%.io/hello created\n", out)
    assert.matches("KIND%s+NAMESPACE%s+NAME%s+ACTION%s+READY\n", out)
    assert.matches("Deployment%s+" .. qns .. "%s+web%s+created%s+no\n", out)
    assert.matches("ConfigMap%s+" .. qns .. "%s+web%-config%s+created%s+%-\n", out)
    assert.matches("deployment%.apps/web in " .. qns .. " is not Available after 2s", out)

    -- what the server has
    local nso = assert(cs:CoreV1():Namespaces():Get(ns))
    assert.equal("k8s-lua-demo", nso.metadata.labels["app.kubernetes.io/part-of"])
    local cm = assert(cs:CoreV1():ConfigMaps(ns):Get("web-config"))
    assert.equal("Hello from k8s for Lua", cm.data.greeting)
    assert.equal("kubectl", cm.metadata.managedFields[1].manager)
    assert.equal("Apply", cm.metadata.managedFields[1].operation)
    local deployments = cs:AppsV1():Deployments(ns)
    local d = assert(deployments:Get("web"))
    assert.equal(2, d.spec.replicas)
    assert.equal("registry.k8s.io/pause:3.10", d.spec.template.spec.containers[1].image)
    assert.equal("web-config", d.spec.template.spec.containers[1].envFrom[1].configMapRef.name)
    local greeting = assert(dc:Resource({ Group = "demo.k8s-lua.io", Version = "v1", Resource = "greetings" }):Namespace(ns):Get("hello"))
    assert.equal("Hello from a custom resource", greeting.spec.message)
    assert.equal(2, greeting.spec.replicas)

    -- the rolling update
    code, out = run("deploy.lua", ns .. " web registry.k8s.io/pause:3.9")
    assert.equal(0, code, out)
    assert.matches('container "web" image registry%.k8s%.io/pause:3%.10 %-> registry%.k8s%.io/pause:3%.9 %(generation 2', out)
    assert.matches("observed generation 2 of 2", out)
    assert.matches("Progressing=True", out)
    d = assert(deployments:Get("web"))
    assert.equal("registry.k8s.io/pause:3.9", d.spec.template.spec.containers[1].image)
    assert.equal(2, d.metadata.generation)
    assert.equal(2, d.status.observedGeneration)
    -- the controller has started the rollout: a ReplicaSet of the new template
    local rss = assert(cs:AppsV1():ReplicaSets(ns):List({ labelSelector = "app.kubernetes.io/name=web" }))
    local images = {}
    for _, rs in ipairs(rss.items) do images[#images + 1] = rs.spec.template.spec.containers[1].image end
    table.sort(images)
    assert.same({ "registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.9" }, images)
    -- again: nothing to change
    code, out = run("deploy.lua", ns .. " web registry.k8s.io/pause:3.9")
    assert.equal(0, code, out)
    assert.matches('container "web" already runs registry%.k8s%.io/pause:3%.9', out)
    assert.equal(2, assert(deployments:Get("web")).metadata.generation)
    H.cleanup_namespaces()
  end)

  it("runs kubeconfig_context.lua with a chosen context", function()
    local code, out = run("kubeconfig_context.lua", "admin-token")
    assert.equal(0, code, out)
    assert.matches("admin%-token", out)
  end)
end)

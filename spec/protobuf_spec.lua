-- Protobuf responses (ContentConfig.ContentType =
-- "application/vnd.kubernetes.protobuf") decode to exactly the tables the
-- server's JSON decodes to: two clientsets of one identity, one asking for
-- JSON and one for protobuf, read the same objects (LIST at one exact
-- resourceVersion for every listable resource of the clientset, GET of a
-- fixture that covers the field types of the protobuf table, WATCH replays
-- of the same history) and the results are compared deeply: types (on Lua
-- 5.4 integer against float), the array metatable, null (NULL) against
-- absent, and strings byte for byte.
local H = require "spec.helper"
local k8s = require "k8s"

local errors = k8s.errors
local NULL, ARR = k8s.null, k8s.array_mt
local mtype = math.type -- nil on LuaJIT: numbers are doubles there
local PB = "application/vnd.kubernetes.protobuf"

---------------------------------------------------------------------------
-- deep comparison

local function show(v)
  if v == nil then return "<absent>" end
  if v == NULL then return "null (lightuserdata NULL)" end
  local t = type(v)
  if t == "number" then
    local kind = mtype and mtype(v) or "number"
    local text = kind == "integer" and ("%d"):format(v) or ("%.17g"):format(v)
    return ("%s (%s)"):format(text, kind)
  elseif t == "string" then
    local s = #v > 160 and (v:sub(1, 160) .. "...") or v
    return ("%q (string, %d bytes)"):format(s, #v)
  elseif t == "table" then
    local n = 0
    for _ in pairs(v) do n = n + 1 end
    local mt = getmetatable(v)
    return ("%s with %d entries%s"):format(mt == ARR and "array" or "object", n,
      (mt and mt ~= ARR) and " (foreign metatable)" or "")
  end
  return ("%s (%s)"):format(tostring(v), t)
end

local function child_path(path, k)
  if type(k) == "number" then return path .. "[" .. k .. "]" end
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return path .. "." .. k end
  return path .. "[" .. ("%q"):format(tostring(k)) .. "]"
end

local function key_less(x, y)
  if type(x) == type(y) then return x < y end
  return type(x) == "number"
end

-- The differences between a (JSON) and b (protobuf), at most `limit`.
local function diff(a, b, path, out, limit)
  out, limit = out or {}, limit or 10
  if #out >= limit then return out end
  local ta, tb = type(a), type(b)
  local bad
  if ta ~= tb then
    bad = true
  elseif ta == "number" then
    bad = a ~= b or (mtype ~= nil and mtype(a) ~= mtype(b))
  elseif ta == "table" then
    if getmetatable(a) ~= getmetatable(b) then
      out[#out + 1] = ("%s: json %s, protobuf %s (metatables differ)"):format(path, show(a), show(b))
    end
    local keys = {}
    for k in pairs(a) do keys[#keys + 1] = k end
    for k in pairs(b) do if a[k] == nil then keys[#keys + 1] = k end end
    table.sort(keys, key_less)
    for _, k in ipairs(keys) do diff(a[k], b[k], child_path(path, k), out, limit) end
    return out
  else
    bad = a ~= b -- strings (bytes), booleans, NULL
  end
  if bad then out[#out + 1] = ("%s: json %s, protobuf %s"):format(path, show(a), show(b)) end
  return out
end

local function assert_same(json, pb, what)
  local d = diff(json, pb, "$")
  if #d > 0 then
    error(("%s: the protobuf tables differ from the JSON tables:\n  %s"):format(what, table.concat(d, "\n  ")), 2)
  end
end

---------------------------------------------------------------------------
-- helpers

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local x, y, z = s:byte(i, i + 2)
    local n = x * 65536 + (y or 0) * 256 + (z or 0)
    local c1, c2 = math.floor(n / 262144) % 64, math.floor(n / 4096) % 64
    local c3, c4 = math.floor(n / 64) % 64, n % 64
    out[#out + 1] = B64:sub(c1 + 1, c1 + 1) .. B64:sub(c2 + 1, c2 + 1)
      .. (y and B64:sub(c3 + 1, c3 + 1) or "=") .. (z and B64:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

local ALL_BYTES
do
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char(i) end
  ALL_BYTES = table.concat(t)
end

local function new_clientset(ct, imp)
  local cfg = H.config("admin-token")
  cfg.QPS, cfg.Burst = 500, 1000
  cfg.ContentConfig = { ContentType = ct }
  cfg.Impersonate = imp
  return assert(k8s.NewForConfig(cfg))
end

-- A resource client of a clientset: namespaced ones with ns ("" is all
-- namespaces), cluster-scoped ones without.
local function client(cs, gvm, method, ns)
  local gv = cs[gvm](cs)
  if ns ~= nil then return gv[method](gv, ns) end
  return gv[method](gv)
end

-- client-go's retry.RetryOnConflict around Get -> mutate -> Update (or UpdateStatus)
local function update_retry(c, name, mutate, method)
  local last
  for _ = 1, 20 do
    local obj = assert(c:Get(name))
    mutate(obj)
    local out, err = c[method or "Update"](c, obj)
    if out then return out end
    if not errors.IsConflict(err) then error(tostring(err), 2) end
    last = err
  end
  error("still conflicting after 20 tries: " .. tostring(last), 2)
end

local function has_bit(v, bit) return v % (bit * 2) >= bit end
local LIST = 2

---------------------------------------------------------------------------

describe("protobuf responses decode to the JSON tables (" .. H.interpreter .. ")", function()
  local cs_json = new_clientset("application/json")
  local cs_pb = new_clientset(PB)
  local ns -- the fixture namespace (setup)

  -- names of the fixture, unique to this run and interpreter
  local N = {}
  for _, k in ipairs({ "pod", "cm", "sec", "svc", "svclb", "svchl", "svcext", "ep", "eps", "dep", "sts", "ds",
    "rs", "rc", "job", "cj", "hpa", "pdb", "pdb2", "np", "ing", "ic", "rq", "lr", "sa", "role", "rb", "cr",
    "cragg", "crb", "pc", "lease", "ev", "ev2", "crv", "crv2", "csr", "mwh", "vwh", "vap", "vapb", "rtc", "sc",
    "csidrv", "va", "pv", "pvc", "pt", "fs", "plc", "plcx", "dc", "claim", "claimtpl", "slice", "csinode", "csc",
    "vac", "node", "crdgroup", "never", "pod2", "ev3", "held" }) do
    N[k] = H.name(k)
  end
  N.crd = "widgets." .. N.crdgroup .. ".example.com"
  local T1, T2 = "2024-01-02T03:04:05Z", "2024-02-03T04:05:06Z"
  local MT1, MT2 = "2024-01-02T03:04:05.123456Z", "2024-02-03T04:05:06.000001Z"
  local CA_PEM = H.read(H.env.K8S_LUA_CA)
  -- a selector nothing in the cluster matches (webhooks and policies)
  local NEVER = { matchExpressions = { { key = "example.com/" .. N.never, operator = "Exists" } } }
  local NOTHING_RULE = { operations = { "CREATE" }, apiGroups = { "none.example.com" }, apiVersions = { "v1" },
    resources = { "nothings" }, scope = "Namespaced" }

  local function container(name, extra)
    local c = { name = name, image = "registry.k8s.io/pause:3.10" }
    for k, v in pairs(extra or {}) do c[k] = v end
    return c
  end

  local function template_spec()
    return {
      containers = { container("c", {
        ports = { { name = "http", containerPort = 8080 } },
        readinessProbe = { httpGet = { path = "/", port = "http" }, periodSeconds = 5 },
        resources = { requests = { cpu = "100m", memory = "32Mi" }, limits = { memory = "64Mi" } },
      }) },
      terminationGracePeriodSeconds = 1,
    }
  end

  local function the_pod()
    return {
      metadata = {
        name = N.pod,
        labels = { app = N.pod, empty = "" },
        annotations = { ["example.com/json"] = '{"a":[1,2.5,null]}', ["example.com/empty"] = "" },
      },
      spec = {
        runtimeClassName = N.rtc, -- the RuntimeClass admission adds overhead
        priorityClassName = N.pc, -- the Priority admission adds priority and preemptionPolicy
        serviceAccountName = "default",
        automountServiceAccountToken = true, -- a projected token volume
        schedulingGates = { { name = "example.com/gate" } },
        restartPolicy = "Always",
        terminationGracePeriodSeconds = 5,
        activeDeadlineSeconds = 3600,
        dnsPolicy = "None",
        dnsConfig = { nameservers = { "10.0.0.10" }, searches = { "svc.cluster.local" },
          options = { { name = "ndots", value = "2" }, { name = "edns0" } } },
        hostAliases = { { ip = "10.1.2.3", hostnames = { "a.example", "b.example" } } },
        hostname = "h", subdomain = N.svchl,
        nodeSelector = { ["kubernetes.io/os"] = "linux" },
        enableServiceLinks = false,
        shareProcessNamespace = true,
        readinessGates = { { conditionType = "example.com/ready" } },
        os = { name = "linux" },
        securityContext = {
          runAsUser = 1000, runAsGroup = 3000, fsGroup = 2000, runAsNonRoot = true,
          supplementalGroups = { 4000, 5000 }, fsGroupChangePolicy = "OnRootMismatch",
          sysctls = { { name = "net.ipv4.ip_local_port_range", value = "1024 65535" } },
          seccompProfile = { type = "RuntimeDefault" },
          seLinuxOptions = { level = "s0:c123,c456" },
        },
        tolerations = {
          { key = "k", operator = "Equal", value = "v", effect = "NoExecute", tolerationSeconds = 3600 },
          { operator = "Exists" },
        },
        affinity = {
          nodeAffinity = {
            requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms = { {
              matchExpressions = { { key = "zone", operator = "In", values = { "a", "b" } } },
              matchFields = { { key = "metadata.name", operator = "In", values = { "n1" } } },
            } } },
            preferredDuringSchedulingIgnoredDuringExecution = { {
              weight = 10, preference = { matchExpressions = { { key = "disk", operator = "Exists" } } } } },
          },
          podAffinity = { requiredDuringSchedulingIgnoredDuringExecution = { {
            labelSelector = { matchLabels = { app = "x" } }, topologyKey = "zone",
            namespaces = { "default" }, namespaceSelector = {} } } },
          podAntiAffinity = { preferredDuringSchedulingIgnoredDuringExecution = { {
            weight = 50, podAffinityTerm = {
              labelSelector = { matchExpressions = { { key = "app", operator = "NotIn", values = { "y" } } } },
              topologyKey = "kubernetes.io/hostname" } } } },
        },
        topologySpreadConstraints = { {
          maxSkew = 1, topologyKey = "zone", whenUnsatisfiable = "DoNotSchedule",
          labelSelector = { matchLabels = { app = N.pod } }, minDomains = 2,
          nodeAffinityPolicy = "Honor", nodeTaintsPolicy = "Ignore", matchLabelKeys = { "pod-template-hash" },
        } },
        resourceClaims = { { name = "rc", resourceClaimName = N.claim } },
        initContainers = {
          container("init", { command = { "sh", "-c", "true" } }),
          container("sidecar", { restartPolicy = "Always",
            startupProbe = { exec = { command = { "true" } }, failureThreshold = 30 } }),
        },
        containers = {
          container("c", {
            imagePullPolicy = "IfNotPresent",
            command = { "/pause" }, args = { "--x", "" }, workingDir = "/",
            ports = { { name = "http", containerPort = 8080, protocol = "TCP" },
              { containerPort = 9090, hostPort = 19090, protocol = "UDP" } },
            env = {
              { name = "A", value = "1" },
              { name = "EMPTY", value = "" },
              { name = "POD", valueFrom = { fieldRef = { apiVersion = "v1", fieldPath = "metadata.name" } } },
              { name = "CPU", valueFrom = { resourceFieldRef = { containerName = "c", resource = "limits.cpu",
                divisor = "1m" } } },
              { name = "MEM", valueFrom = { resourceFieldRef = { resource = "requests.memory", divisor = "1Mi" } } },
              { name = "CM", valueFrom = { configMapKeyRef = { name = N.cm, key = "a", optional = true } } },
              { name = "S", valueFrom = { secretKeyRef = { name = N.sec, key = "s", optional = false } } },
            },
            envFrom = { { prefix = "P_", configMapRef = { name = N.cm, optional = true } }, { secretRef = { name = N.sec } } },
            resources = {
              limits = { cpu = "500m", memory = "64Mi", ["hugepages-2Mi"] = "4Mi", ["ephemeral-storage"] = "1.5Gi" },
              requests = { cpu = "250m", memory = "64Mi", ["hugepages-2Mi"] = "4Mi", ["ephemeral-storage"] = "1Gi" },
              claims = { { name = "rc" } },
            },
            resizePolicy = { { resourceName = "cpu", restartPolicy = "NotRequired" },
              { resourceName = "memory", restartPolicy = "RestartContainer" } },
            volumeMounts = {
              { name = "empty", mountPath = "/e", subPath = "x", mountPropagation = "None" },
              { name = "cm", mountPath = "/cm", readOnly = true },
              { name = "dapi", mountPath = "/d", subPathExpr = "$(POD)" },
            },
            livenessProbe = {
              httpGet = { path = "/healthz", port = 8080, scheme = "HTTP", httpHeaders = { { name = "X-A", value = "b" } } },
              initialDelaySeconds = 1, timeoutSeconds = 2, periodSeconds = 3, successThreshold = 1,
              failureThreshold = 4, terminationGracePeriodSeconds = 10,
            },
            readinessProbe = { httpGet = { path = "/ready", port = "http" }, periodSeconds = 5 },
            startupProbe = { tcpSocket = { port = "http" }, failureThreshold = 30 },
            lifecycle = {
              postStart = { exec = { command = { "sh", "-c", "echo" } } },
              preStop = { httpGet = { path = "/stop", port = 8080 } },
            },
            terminationMessagePath = "/dev/termination-log", terminationMessagePolicy = "FallbackToLogsOnError",
            securityContext = { privileged = false, allowPrivilegeEscalation = false, readOnlyRootFilesystem = true,
              runAsUser = 1001, capabilities = { add = { "NET_ADMIN" }, drop = { "ALL" } }, procMount = "Default" },
            stdin = false, tty = false,
          }),
          container("g", {
            livenessProbe = { grpc = { port = 9090, service = "health" } },
            readinessProbe = { exec = { command = { "true" } } },
            lifecycle = { preStop = { sleep = { seconds = 3 } } },
          }),
        },
        volumes = {
          { name = "empty", emptyDir = { sizeLimit = "1.5Gi" } },
          { name = "mem", emptyDir = { medium = "Memory", sizeLimit = "64Mi" } },
          { name = "cm", configMap = { name = N.cm, items = { { key = "a", path = "a.txt", mode = 256 } },
            defaultMode = 420, optional = true } },
          { name = "sec", secret = { secretName = N.sec, items = { { key = "s", path = "s" } },
            defaultMode = 256, optional = false } },
          { name = "proj", projected = { defaultMode = 420, sources = {
            { serviceAccountToken = { audience = "api", expirationSeconds = 3600, path = "token" } },
            { downwardAPI = { items = {
              { path = "labels", fieldRef = { fieldPath = "metadata.labels" } },
              { path = "cpu", resourceFieldRef = { containerName = "c", resource = "limits.cpu", divisor = "1m" } },
            } } },
            { configMap = { name = N.cm, items = { { key = "a", path = "pa" } } } },
            { secret = { name = N.sec, items = { { key = "s", path = "ps" } } } },
            { clusterTrustBundle = { signerName = "example.com/signer", labelSelector = { matchLabels = { a = "b" } },
              path = "ctb", optional = true } },
          } } },
          { name = "dapi", downwardAPI = { defaultMode = 292,
            items = { { path = "name", fieldRef = { fieldPath = "metadata.name" }, mode = 256 } } } },
          { name = "hp", hostPath = { path = "/tmp", type = "DirectoryOrCreate" } },
          { name = "pvc", persistentVolumeClaim = { claimName = N.pvc, readOnly = true } },
          { name = "csi", csi = { driver = N.csidrv, readOnly = true, fsType = "ext4",
            volumeAttributes = { a = "b", size = "1" }, nodePublishSecretRef = { name = N.sec } } },
          { name = "eph", ephemeral = { volumeClaimTemplate = { metadata = { labels = { x = "y" } }, spec = {
            accessModes = { "ReadWriteOnce" }, storageClassName = N.sc, resources = { requests = { storage = "1Gi" } } } } } },
          { name = "nfs", nfs = { server = "nfs.example", path = "/export", readOnly = true } },
          { name = "iscsi", iscsi = { targetPortal = "10.0.0.1:3260", iqn = "iqn.2001-04.com.example:storage", lun = 0,
            iscsiInterface = "default", fsType = "ext4", readOnly = true, portals = { "10.0.0.2:3260" },
            chapAuthDiscovery = false, chapAuthSession = false } },
          { name = "img", image = { reference = "registry.k8s.io/pause:3.10", pullPolicy = "IfNotPresent" } },
          { name = "fc", fc = { targetWWNs = { "500a0982991b8dc5" }, lun = 2, fsType = "ext4", readOnly = true } },
          { name = "rbd", rbd = { monitors = { "10.0.0.1:6789" }, image = "foo", pool = "kube", user = "admin",
            keyring = "/etc/ceph/keyring", fsType = "ext4" } },
          { name = "cephfs", cephfs = { monitors = { "10.0.0.1:6789" }, path = "/", user = "admin",
            secretRef = { name = N.sec }, readOnly = true } },
          { name = "gce", gcePersistentDisk = { pdName = "disk", fsType = "ext4", partition = 1, readOnly = true } },
          { name = "aws", awsElasticBlockStore = { volumeID = "vol-1", fsType = "ext4", partition = 1 } },
          { name = "git", gitRepo = { repository = "https://example.com/r.git", revision = "main", directory = "." } },
          { name = "azf", azureFile = { secretName = N.sec, shareName = "s", readOnly = true } },
          { name = "azd", azureDisk = { diskName = "d", diskURI = "https://example.com/d.vhd", cachingMode = "ReadOnly",
            fsType = "ext4", readOnly = true } },
          { name = "flex", flexVolume = { driver = "example.com/flex", fsType = "ext4", options = { a = "b" },
            secretRef = { name = N.sec } } },
          { name = "cinder", cinder = { volumeID = "v", fsType = "ext4" } },
          { name = "vsphere", vsphereVolume = { volumePath = "[ds] v.vmdk", fsType = "ext4" } },
          { name = "quobyte", quobyte = { registry = "r:7861", volume = "v" } },
          { name = "portworx", portworxVolume = { volumeID = "v", fsType = "ext4" } },
          { name = "scaleio", scaleIO = { gateway = "https://g", system = "s", secretRef = { name = N.sec }, volumeName = "v" } },
          { name = "storageos", storageos = { volumeName = "v", volumeNamespace = "x" } },
          { name = "flocker", flocker = { datasetName = "d" } },
          { name = "photon", photonPersistentDisk = { pdID = "p", fsType = "ext4" } },
          { name = "gluster", glusterfs = { endpoints = "ep", path = "vol", readOnly = true } },
        },
      },
    }
  end

  -- The pod's status, as a kubelet would write it.
  local function pod_status(st)
    st.phase = "Running"
    st.message, st.reason = "m", "r"
    st.hostIP, st.hostIPs = "192.0.2.1", { { ip = "192.0.2.1" } }
    st.podIP, st.podIPs = "10.244.1.5", { { ip = "10.244.1.5" } }
    st.startTime = T1
    st.conditions = st.conditions or {}
    table.insert(st.conditions, { type = "Ready", status = "True", lastTransitionTime = T1 })
    table.insert(st.conditions, { type = "example.com/ready", status = "True", lastTransitionTime = T2 })
    st.containerStatuses = { {
      name = "c", ready = true, restartCount = 2, started = true,
      image = "registry.k8s.io/pause:3.10", imageID = "registry.k8s.io/pause@sha256:" .. ("ab"):rep(32),
      containerID = "containerd://abc",
      state = { running = { startedAt = T2 } },
      lastState = { terminated = { exitCode = 137, signal = 9, reason = "OOMKilled", message = "m",
        startedAt = T1, finishedAt = T2, containerID = "containerd://old" } },
      allocatedResources = { cpu = "250m", memory = "64Mi" },
      resources = { limits = { cpu = "500m" }, requests = { cpu = "250m" } },
      volumeMounts = { { name = "empty", mountPath = "/e" } },
      user = { linux = { uid = 1001, gid = 3000, supplementalGroups = { 4000, 5000 } } },
    }, {
      name = "g", ready = false, restartCount = 0, image = "registry.k8s.io/pause:3.10", imageID = "",
      state = { waiting = { reason = "CrashLoopBackOff", message = "back-off" } },
    } }
    st.initContainerStatuses = { {
      name = "init", ready = false, restartCount = 0, image = "registry.k8s.io/pause:3.10", imageID = "",
      state = { terminated = { exitCode = 0, reason = "Completed", startedAt = T1, finishedAt = T1 } },
    } }
    st.resourceClaimStatuses = { { name = "rc", resourceClaimName = N.claim } }
    st.observedGeneration = 1
  end

  local rich_schema = {
    type = "object", description = "A widget", title = "Widget",
    properties = {
      spec = {
        type = "object", required = { "size" },
        ["x-kubernetes-validations"] = { { rule = "self.size <= self.max", message = "size too big",
          messageExpression = "'size is too big'", reason = "FieldValueInvalid", fieldPath = ".size" } },
        properties = {
          size = { type = "integer", format = "int32", minimum = 0, maximum = 10, multipleOf = 2, default = 4 },
          max = { type = "integer", default = 10 },
          ratio = { type = "number", minimum = 0.5, maximum = 1.5, exclusiveMaximum = true, multipleOf = 0.25,
            default = 0.75 },
          big = { type = "number", maximum = 1e300, minimum = -1.5e-7 },
          color = { type = "string", enum = { "red", "green", "blue" }, default = "red", pattern = "^[a-z]+$",
            minLength = 3, maxLength = 10, example = "green" },
          host = { type = "string", format = "hostname", nullable = true,
            externalDocs = { description = "d", url = "https://example.com" } },
          tags = { type = "array", items = { type = "string", maxLength = 5 }, minItems = 0, maxItems = 5,
            default = { "a", "b" }, ["x-kubernetes-list-type"] = "set" },
          ports = { type = "array", maxItems = 3, ["x-kubernetes-list-type"] = "map",
            ["x-kubernetes-list-map-keys"] = { "port" },
            items = { type = "object", required = { "port" },
              properties = { port = { type = "integer" }, name = { type = "string" } } } },
          labels = { type = "object", additionalProperties = { type = "string" }, maxProperties = 5,
            default = { a = "1" } },
          free = { type = "object", additionalProperties = true },
          anything = { type = "object", ["x-kubernetes-preserve-unknown-fields"] = true,
            default = { x = 1.5, y = false, z = k8s.empty_array(), w = { 1, "two" }, o = {} } },
          port = { ["x-kubernetes-int-or-string"] = true, default = 3,
            anyOf = { { type = "integer" }, { type = "string" } } },
          embedded = { type = "object", ["x-kubernetes-embedded-resource"] = true,
            ["x-kubernetes-preserve-unknown-fields"] = true },
          flag = { type = "boolean", default = true },
          atomic = { type = "object", ["x-kubernetes-map-type"] = "atomic", properties = { a = { type = "string" } } },
          choice = { type = "string", oneOf = { { pattern = "^a" }, { pattern = "^b" } }, ["not"] = { pattern = "^c" } },
          replicas = { type = "integer" },
        },
      },
      status = { type = "object", properties = { replicas = { type = "integer" }, selector = { type = "string" } } },
    },
  }

  -- The fixture: every entry is one object created through the JSON
  -- clientset, then read back by GET. build() runs in setup (ns is known);
  -- after(created) may write more (status, subresources).
  local F = {}
  local function add(gvm, method, namespaced, name, build, after)
    F[#F + 1] = { gvm = gvm, method = method, namespaced = namespaced, name = name, build = build, after = after }
  end

  add("SchedulingV1", "PriorityClasses", false, N.pc, function()
    return { metadata = { name = N.pc }, value = -1000, globalDefault = false, description = "spec",
      preemptionPolicy = "Never" }
  end)
  add("NodeV1", "RuntimeClasses", false, N.rtc, function()
    return { metadata = { name = N.rtc }, handler = "runc",
      overhead = { podFixed = { cpu = "10m", memory = "1.5Mi" } },
      scheduling = { nodeSelector = { ["example.com/rt"] = "yes" },
        tolerations = { { key = "rt", operator = "Exists", effect = "NoSchedule" } } } }
  end)
  add("CoreV1", "ServiceAccounts", true, N.sa, function()
    return { metadata = { name = N.sa }, secrets = { { name = N.sec } }, imagePullSecrets = { { name = N.sec } },
      automountServiceAccountToken = false }
  end)
  add("CoreV1", "ConfigMaps", true, N.cm, function()
    return { metadata = { name = N.cm }, immutable = true,
      data = { a = "1", empty = "", ["x.json"] = '{"k":1}', utf8 = "h\195\169llo \226\130\172" },
      binaryData = { bin = b64(ALL_BYTES), nothing = "" } }
  end)
  add("CoreV1", "Secrets", true, N.sec, function()
    return { metadata = { name = N.sec }, type = "Opaque", immutable = false,
      data = { bytes = b64(ALL_BYTES), zero = b64("\0"), empty = "" }, stringData = { s = "text" } }
  end)
  add("StorageV1", "StorageClasses", false, N.sc, function()
    return { metadata = { name = N.sc }, provisioner = "example.com/none", parameters = { a = "b", n = "1" },
      reclaimPolicy = "Retain", allowVolumeExpansion = true, mountOptions = { "ro", "noatime" },
      volumeBindingMode = "WaitForFirstConsumer",
      allowedTopologies = { { matchLabelExpressions = { { key = "zone", values = { "a", "b" } } } } } }
  end)
  add("StorageV1", "CSIDrivers", false, N.csidrv, function()
    return { metadata = { name = N.csidrv }, spec = { attachRequired = true, podInfoOnMount = true,
      volumeLifecycleModes = { "Persistent", "Ephemeral" }, fsGroupPolicy = "File",
      tokenRequests = { { audience = "a", expirationSeconds = 3600 }, { audience = "b" } },
      requiresRepublish = true, storageCapacity = true, seLinuxMount = true } }
  end)
  add("StorageV1", "VolumeAttributesClasses", false, N.vac, function()
    return { metadata = { name = N.vac }, driverName = "example.com/csi", parameters = { iops = "3000" } }
  end)
  add("CoreV1", "PersistentVolumes", false, N.pv, function()
    return { metadata = { name = N.pv }, spec = {
      capacity = { storage = "5Gi" }, accessModes = { "ReadWriteOnce", "ReadOnlyMany" },
      persistentVolumeReclaimPolicy = "Retain", storageClassName = "", mountOptions = { "ro" },
      volumeMode = "Filesystem",
      csi = { driver = N.csidrv, volumeHandle = "h-1", readOnly = true, fsType = "ext4",
        volumeAttributes = { a = "b" }, nodeStageSecretRef = { name = N.sec, namespace = ns } },
      nodeAffinity = { required = { nodeSelectorTerms = { { matchExpressions = {
        { key = "zone", operator = "In", values = { "a" } } } } } } } } }
  end)
  add("CoreV1", "PersistentVolumeClaims", true, N.pvc, function()
    return { metadata = { name = N.pvc }, spec = { accessModes = { "ReadWriteOnce" }, storageClassName = N.sc,
      volumeMode = "Filesystem", resources = { requests = { storage = "1Gi" }, limits = { storage = "2Gi" } },
      selector = { matchLabels = { tier = "x" } } } }
  end)
  add("StorageV1", "VolumeAttachments", false, N.va, function()
    return { metadata = { name = N.va }, spec = { attacher = N.csidrv, nodeName = N.node,
      source = { persistentVolumeName = N.pv } } }
  end, function(c)
    update_retry(c, N.va, function(o)
      o.status = { attached = true, attachmentMetadata = { dev = "/dev/x", empty = "" },
        attachError = { time = T1, message = "m", errorCode = 5 },
        detachError = { time = T2, message = "d" } }
    end, "UpdateStatus")
  end)
  add("StorageV1", "CSINodes", false, N.csinode, function()
    return { metadata = { name = N.csinode }, spec = { drivers = { { name = N.csidrv, nodeID = "n-1",
      topologyKeys = { "zone" }, allocatable = { count = 10 } } } } }
  end)
  add("StorageV1", "CSIStorageCapacities", true, N.csc, function()
    return { metadata = { name = N.csc }, storageClassName = N.sc, capacity = "10Gi", maximumVolumeSize = "1.5Gi",
      nodeTopology = { matchLabels = { zone = "a" } } }
  end)
  add("ResourceV1", "DeviceClasses", false, N.dc, function()
    return { metadata = { name = N.dc }, spec = {
      selectors = { { cel = { expression = 'device.driver == "example.com"' } } },
      config = { { opaque = { driver = "example.com", parameters = { a = 1, b = { 1.5, "x", true }, c = {} } } } } } }
  end)
  local function claim_spec()
    return { devices = {
      requests = {
        { name = "r", exactly = { deviceClassName = N.dc, allocationMode = "ExactCount", count = 2,
          selectors = { { cel = { expression = "true" } } } } },
        { name = "fa", firstAvailable = { { name = "s1", deviceClassName = N.dc, count = 1 },
          { name = "s2", deviceClassName = N.dc, allocationMode = "All" } } },
      },
      constraints = { { requests = { "r" }, matchAttribute = "example.com/model" } },
      config = { { requests = { "r" }, opaque = { driver = "example.com", parameters = { k = "v", n = 2.25 } } } },
    } }
  end
  add("ResourceV1", "ResourceClaims", true, N.claim, function()
    return { metadata = { name = N.claim }, spec = claim_spec() }
  end, function(c)
    update_retry(c, N.claim, function(o)
      o.status = {
        allocation = {
          devices = {
            results = { { request = "r", driver = "example.com", pool = N.slice, device = "d0" } },
            config = { { source = "FromClaim", requests = { "r" },
              opaque = { driver = "example.com", parameters = { k = "v", n = 2.25 } } } },
          },
          nodeSelector = { nodeSelectorTerms = { { matchFields = {
            { key = "metadata.name", operator = "In", values = { N.node } } } } } },
        },
        devices = { {
          driver = "example.com", pool = N.slice, device = "d0",
          conditions = { { type = "Ready", status = "True", lastTransitionTime = T1, reason = "R", message = "m",
            observedGeneration = 1 } },
          data = { any = { 1, 2.5, "x", NULL, true }, o = {} },
          networkData = { interfaceName = "eth1", ips = { "10.9.0.1/24" }, hardwareAddress = "ea:9f:cb:40:b1:7b" },
        } },
      }
    end, "UpdateStatus")
  end)
  add("ResourceV1", "ResourceClaimTemplates", true, N.claimtpl, function()
    return { metadata = { name = N.claimtpl }, spec = { metadata = { labels = { a = "b" } }, spec = claim_spec() } }
  end)
  add("ResourceV1", "ResourceSlices", false, N.slice, function()
    return { metadata = { name = N.slice }, spec = {
      driver = "example.com", pool = { name = N.slice, generation = 1, resourceSliceCount = 1 }, allNodes = true,
      devices = { {
        name = "d0",
        attributes = {
          ["example.com/model"] = { string = "a" }, ["example.com/int"] = { int = 42 },
          ["example.com/neg"] = { int = -7 }, ["example.com/bool"] = { bool = false },
          ["example.com/ver"] = { version = "1.2.3" },
        },
        capacity = { ["example.com/mem"] = { value = "1.5Gi" } },
      } } } }
  end)
  add("CoreV1", "Services", true, N.svc, function()
    return { metadata = { name = N.svc }, spec = {
      type = "NodePort", selector = { app = N.pod },
      ports = { { name = "http", port = 80, targetPort = 8080, protocol = "TCP", appProtocol = "http" },
        { name = "named", port = 81, targetPort = "http", protocol = "TCP" },
        { name = "dns", port = 53, targetPort = 53, protocol = "UDP" } },
      sessionAffinity = "ClientIP", sessionAffinityConfig = { clientIP = { timeoutSeconds = 600 } },
      externalTrafficPolicy = "Local", internalTrafficPolicy = "Cluster", ipFamilyPolicy = "SingleStack",
      publishNotReadyAddresses = true, externalIPs = { "192.0.2.10" }, trafficDistribution = "PreferClose" } }
  end)
  add("CoreV1", "Services", true, N.svclb, function()
    return { metadata = { name = N.svclb }, spec = {
      type = "LoadBalancer", selector = { app = N.pod }, allocateLoadBalancerNodePorts = false,
      loadBalancerClass = "example.com/lb", loadBalancerSourceRanges = { "10.0.0.0/8" },
      externalTrafficPolicy = "Local", ports = { { name = "http", port = 80, targetPort = "http" } } } }
  end, function(c)
    update_retry(c, N.svclb, function(o)
      o.status.loadBalancer = { ingress = {
        { ip = "192.0.2.50", ipMode = "VIP", ports = { { port = 80, protocol = "TCP" },
          { port = 81, protocol = "TCP", error = "Pending" } } },
        { hostname = "lb.example.com" } } }
      o.status.conditions = { { type = "example.com/Ready", status = "True", observedGeneration = 1,
        lastTransitionTime = T1, reason = "Ok", message = "" } }
    end, "UpdateStatus")
  end)
  add("CoreV1", "Services", true, N.svchl, function()
    return { metadata = { name = N.svchl }, spec = { clusterIP = "None", selector = { app = N.pod },
      ports = { { port = 80 } } } }
  end)
  add("CoreV1", "Services", true, N.svcext, function()
    return { metadata = { name = N.svcext }, spec = { type = "ExternalName", externalName = "example.com" } }
  end)
  add("CoreV1", "Endpoints", true, N.ep, function()
    return { metadata = { name = N.ep }, subsets = { {
      addresses = { { ip = "10.1.0.1", hostname = "a", nodeName = N.node,
        targetRef = { kind = "Pod", name = N.pod, namespace = ns } } },
      notReadyAddresses = { { ip = "10.1.0.2" } },
      ports = { { name = "http", port = 8080, protocol = "TCP", appProtocol = "http" } } } } }
  end)
  add("DiscoveryV1", "EndpointSlices", true, N.eps, function()
    return { metadata = { name = N.eps, labels = { ["kubernetes.io/service-name"] = N.ep,
      ["endpointslice.kubernetes.io/managed-by"] = "spec.example.com" } },
      addressType = "IPv4",
      endpoints = { {
        addresses = { "10.1.0.1" }, conditions = { ready = true, serving = true, terminating = false },
        hostname = "a", nodeName = N.node, zone = "z",
        targetRef = { kind = "Pod", name = N.pod, namespace = ns },
        hints = { forZones = { { name = "z" } }, forNodes = { { name = N.node } } },
      }, { addresses = { "10.1.0.2" }, conditions = {} } },
      ports = { { name = "http", port = 8080, protocol = "TCP", appProtocol = "http" }, { name = "", port = 9 } } }
  end)
  add("CoreV1", "Pods", true, N.pod, the_pod, function(c)
    update_retry(c, N.pod, function(o) pod_status(o.status) end, "UpdateStatus")
  end)
  add("CoreV1", "Pods", true, N.pod2, function()
    -- pod-level resources, a sidecar and no volumes at all
    local spec = template_spec()
    spec.resources = { requests = { cpu = "1", memory = "100Mi" }, limits = { cpu = "2", memory = "200Mi" } }
    spec.initContainers = { container("side", { restartPolicy = "Always" }) }
    spec.automountServiceAccountToken = false
    spec.hostNetwork, spec.hostPID, spec.hostIPC = true, true, false
    return { metadata = { name = N.pod2, generateName = "ignored-" }, spec = spec }
  end)
  add("CoreV1", "ConfigMaps", true, N.held, function()
    -- owned by the pod, and held by a finalizer while being deleted:
    -- deletionTimestamp and deletionGracePeriodSeconds (teardown releases it)
    local pod = assert(client(cs_json, "CoreV1", "Pods", ns):Get(N.pod))
    return { metadata = { name = N.held, finalizers = { "example.com/hold" },
      ownerReferences = { { apiVersion = "v1", kind = "Pod", name = N.pod, uid = pod.metadata.uid,
        controller = true, blockOwnerDeletion = false } } }, data = { a = "b" } }
  end, function(c)
    assert(c:Delete(N.held))
  end)
  add("CoreV1", "PodTemplates", true, N.pt, function()
    return { metadata = { name = N.pt }, template = { metadata = { labels = { a = "b" } }, spec = template_spec() } }
  end)
  add("CoreV1", "ReplicationControllers", true, N.rc, function()
    return { metadata = { name = N.rc }, spec = { replicas = 0, minReadySeconds = 3, selector = { app = N.rc },
      template = { metadata = { labels = { app = N.rc } }, spec = template_spec() } } }
  end)
  add("AppsV1", "Deployments", true, N.dep, function()
    return { metadata = { name = N.dep }, spec = {
      replicas = 0, paused = true, minReadySeconds = 5, revisionHistoryLimit = 3, progressDeadlineSeconds = 600,
      selector = { matchLabels = { app = N.dep } },
      strategy = { type = "RollingUpdate", rollingUpdate = { maxSurge = "25%", maxUnavailable = 1 } },
      template = { metadata = { labels = { app = N.dep } }, spec = template_spec() } } }
  end)
  add("AppsV1", "StatefulSets", true, N.sts, function()
    return { metadata = { name = N.sts }, spec = {
      replicas = 0, serviceName = N.svchl, podManagementPolicy = "Parallel", minReadySeconds = 1,
      revisionHistoryLimit = 2,
      selector = { matchLabels = { app = N.sts } },
      updateStrategy = { type = "RollingUpdate", rollingUpdate = { partition = 0 } },
      template = { metadata = { labels = { app = N.sts } }, spec = template_spec() },
      volumeClaimTemplates = { { metadata = { name = "data" }, spec = { accessModes = { "ReadWriteOnce" },
        resources = { requests = { storage = "1Gi" } } } } },
      persistentVolumeClaimRetentionPolicy = { whenDeleted = "Delete", whenScaled = "Retain" },
      ordinals = { start = 5 } } }
  end)
  add("AppsV1", "DaemonSets", true, N.ds, function()
    return { metadata = { name = N.ds }, spec = {
      selector = { matchLabels = { app = N.ds } },
      updateStrategy = { type = "RollingUpdate", rollingUpdate = { maxUnavailable = "10%", maxSurge = 0 } },
      template = { metadata = { labels = { app = N.ds } }, spec = (function()
        local s = template_spec()
        s.nodeSelector = { ["example.com/" .. N.never] = "yes" } -- no node has it
        return s
      end)() } } }
  end)
  add("AppsV1", "ReplicaSets", true, N.rs, function()
    return { metadata = { name = N.rs }, spec = { replicas = 0, selector = { matchExpressions = {
      { key = "app", operator = "In", values = { N.rs } } } },
      template = { metadata = { labels = { app = N.rs } }, spec = template_spec() } } }
  end)
  add("AppsV1", "ControllerRevisions", true, N.crv, function()
    return { metadata = { name = N.crv }, revision = 3,
      data = { f = 1.5, i = 10, big = 1e300, neg = -0.25, tiny = 1.5e-7, n = NULL, b = true, s = "x\0y",
        a = { 1, "two", { 3 }, {}, k8s.empty_array() }, o = {}, e = k8s.empty_array(),
        int64 = 9007199254740993 } }
  end)
  add("AppsV1", "ControllerRevisions", true, N.crv2, function()
    return { metadata = { name = N.crv2 }, revision = 9007199254740993, data = {} }
  end)
  local function job_spec()
    local s = template_spec()
    s.restartPolicy = "Never"
    return {
      suspend = true, parallelism = 2, completions = 4, completionMode = "Indexed",
      backoffLimitPerIndex = 1, maxFailedIndexes = 1, activeDeadlineSeconds = 600, ttlSecondsAfterFinished = 60,
      podReplacementPolicy = "Failed",
      podFailurePolicy = { rules = {
        { action = "FailIndex", onExitCodes = { containerName = "c", operator = "In", values = { 42, 43 } } },
        { action = "Ignore", onPodConditions = { { type = "DisruptionTarget", status = "True" } } },
      } },
      successPolicy = { rules = { { succeededIndexes = "0-1", succeededCount = 1 } } },
      template = { spec = s },
    }
  end
  add("BatchV1", "Jobs", true, N.job, function()
    return { metadata = { name = N.job }, spec = job_spec() }
  end)
  add("BatchV1", "CronJobs", true, N.cj, function()
    local js = job_spec()
    js.suspend = nil
    return { metadata = { name = N.cj }, spec = { schedule = "*/5 * * * *", timeZone = "Etc/UTC", suspend = true,
      concurrencyPolicy = "Forbid", startingDeadlineSeconds = 100, successfulJobsHistoryLimit = 2,
      failedJobsHistoryLimit = 0, jobTemplate = { metadata = { labels = { j = "1" } }, spec = js } } }
  end)
  add("AutoscalingV2", "HorizontalPodAutoscalers", true, N.hpa, function()
    local sel = { matchLabels = { a = "b" } }
    return { metadata = { name = N.hpa }, spec = {
      scaleTargetRef = { apiVersion = "apps/v1", kind = "Deployment", name = N.dep },
      minReplicas = 1, maxReplicas = 5,
      metrics = {
        { type = "Resource", resource = { name = "cpu", target = { type = "Utilization", averageUtilization = 80 } } },
        { type = "Resource", resource = { name = "memory", target = { type = "AverageValue", averageValue = "100Mi" } } },
        { type = "Pods", pods = { metric = { name = "qps", selector = sel },
          target = { type = "AverageValue", averageValue = "1k" } } },
        { type = "Object", object = { describedObject = { apiVersion = "v1", kind = "Service", name = N.svc },
          metric = { name = "rps" }, target = { type = "Value", value = "10" } } },
        { type = "External", external = { metric = { name = "queue", selector = sel },
          target = { type = "Value", value = "1.5" } } },
        { type = "ContainerResource", containerResource = { name = "cpu", container = "c",
          target = { type = "Utilization", averageUtilization = 60 } } },
      },
      behavior = {
        scaleUp = { stabilizationWindowSeconds = 0, selectPolicy = "Max",
          policies = { { type = "Percent", value = 100, periodSeconds = 15 },
            { type = "Pods", value = 4, periodSeconds = 15 } } },
        scaleDown = { stabilizationWindowSeconds = 300, selectPolicy = "Disabled",
          policies = { { type = "Percent", value = 10, periodSeconds = 60 } } },
      } } }
  end)
  add("PolicyV1", "PodDisruptionBudgets", true, N.pdb, function()
    return { metadata = { name = N.pdb }, spec = { minAvailable = "50%", selector = { matchLabels = { app = N.pod } } } }
  end)
  add("PolicyV1", "PodDisruptionBudgets", true, N.pdb2, function()
    return { metadata = { name = N.pdb2 }, spec = { maxUnavailable = 1, selector = { matchLabels = { app = N.dep } },
      unhealthyPodEvictionPolicy = "AlwaysAllow" } }
  end)
  add("NetworkingV1", "NetworkPolicies", true, N.np, function()
    return { metadata = { name = N.np }, spec = {
      podSelector = { matchLabels = { app = N.pod } }, policyTypes = { "Ingress", "Egress" },
      ingress = { {
        from = { { ipBlock = { cidr = "10.0.0.0/8", except = { "10.1.0.0/16" } } },
          { namespaceSelector = { matchLabels = { team = "a" } },
            podSelector = { matchExpressions = { { key = "role", operator = "DoesNotExist" } } } } },
        ports = { { protocol = "TCP", port = 80 }, { protocol = "TCP", port = "http" }, { port = 32000, endPort = 32768 } },
      }, {} },
      egress = { { to = { { podSelector = {} } }, ports = { { protocol = "UDP", port = 53 } } } } } }
  end)
  add("NetworkingV1", "IngressClasses", false, N.ic, function()
    return { metadata = { name = N.ic }, spec = { controller = "example.com/ingress",
      parameters = { apiGroup = "example.com", kind = "P", name = "p", scope = "Namespace", namespace = ns } } }
  end)
  add("NetworkingV1", "Ingresses", true, N.ing, function()
    return { metadata = { name = N.ing }, spec = {
      ingressClassName = N.ic,
      defaultBackend = { service = { name = N.svc, port = { number = 80 } } },
      tls = { { hosts = { "a.example.com" }, secretName = N.sec } },
      rules = { { host = "a.example.com", http = { paths = {
        { path = "/", pathType = "Prefix", backend = { service = { name = N.svc, port = { name = "http" } } } },
        { path = "/r", pathType = "Exact", backend = { resource = { apiGroup = "example.com", kind = "Bucket", name = "b" } } },
        { pathType = "ImplementationSpecific", backend = { service = { name = N.svc, port = { number = 81 } } } },
      } } } } } }
  end)
  add("CoreV1", "ResourceQuotas", true, N.rq, function()
    -- scoped to a priority class no pod has: it constrains nothing
    return { metadata = { name = N.rq }, spec = {
      hard = { pods = "1e2", ["requests.cpu"] = "4", ["limits.memory"] = "1.5Gi", ["requests.memory"] = "512Mi" },
      scopeSelector = { matchExpressions = { { scopeName = "PriorityClass", operator = "In", values = { N.never } } } } } }
  end)
  add("RbacV1", "Roles", true, N.role, function()
    return { metadata = { name = N.role }, rules = {
      { apiGroups = { "" }, resources = { "pods", "pods/log" }, resourceNames = { "x" }, verbs = { "get", "list" } },
      { apiGroups = { "apps" }, resources = { "*" }, verbs = { "*" } } } }
  end)
  add("RbacV1", "RoleBindings", true, N.rb, function()
    return { metadata = { name = N.rb }, roleRef = { apiGroup = "rbac.authorization.k8s.io", kind = "Role", name = N.role },
      subjects = { { kind = "ServiceAccount", name = "default", namespace = ns },
        { kind = "User", apiGroup = "rbac.authorization.k8s.io", name = "u" },
        { kind = "Group", apiGroup = "rbac.authorization.k8s.io", name = "g" } } }
  end)
  add("RbacV1", "ClusterRoles", false, N.cragg, function()
    return { metadata = { name = N.cragg }, aggregationRule = { clusterRoleSelectors = {
      { matchLabels = { ["example.com/agg"] = N.cragg } } } }, rules = k8s.empty_array() }
  end)
  add("RbacV1", "ClusterRoles", false, N.cr, function()
    return { metadata = { name = N.cr, labels = { ["example.com/agg"] = N.cragg } }, rules = {
      { nonResourceURLs = { "/healthz", "/metrics/*" }, verbs = { "get" } },
      { apiGroups = { "" }, resources = { "nodes" }, verbs = { "watch" } } } }
  end)
  add("RbacV1", "ClusterRoleBindings", false, N.crb, function()
    return { metadata = { name = N.crb }, roleRef = { apiGroup = "rbac.authorization.k8s.io", kind = "ClusterRole", name = N.cr },
      subjects = { { kind = "ServiceAccount", name = "default", namespace = ns } } }
  end)
  add("CoordinationV1", "Leases", true, N.lease, function()
    return { metadata = { name = N.lease }, spec = { holderIdentity = "a", leaseDurationSeconds = 15,
      acquireTime = MT1, renewTime = MT2, leaseTransitions = 0 } }
  end)
  add("CoreV1", "Events", true, N.ev, function()
    return { metadata = { name = N.ev },
      involvedObject = { kind = "Pod", namespace = ns, name = N.pod, apiVersion = "v1", fieldPath = "spec.containers{c}",
        resourceVersion = "1" },
      reason = "Tested", message = "a message", source = { component = "spec", host = "h" },
      firstTimestamp = T1, lastTimestamp = T2, count = 3, type = "Warning" }
  end)
  add("CoreV1", "Events", true, N.ev3, function()
    return { metadata = { name = N.ev3 },
      involvedObject = { kind = "Pod", namespace = ns, name = N.pod, apiVersion = "v1" },
      reason = "Tested", message = "new style", type = "Normal", eventTime = MT1,
      series = { count = 4, lastObservedTime = MT2 }, action = "Test", reportingComponent = "example.com/spec",
      reportingInstance = "i-2", related = { kind = "Node", name = N.node, apiVersion = "v1" },
      source = { component = "spec" } }
  end)
  add("EventsV1", "Events", true, N.ev2, function()
    return { metadata = { name = N.ev2 }, eventTime = MT1,
      series = { count = 2, lastObservedTime = MT2 },
      reportingController = "example.com/spec", reportingInstance = "i-1", action = "Test", reason = "Tested",
      regarding = { kind = "Pod", name = N.pod, namespace = ns, apiVersion = "v1" },
      related = { kind = "Node", name = N.node, apiVersion = "v1" }, note = "a note", type = "Normal" }
  end)
  add("AdmissionregistrationV1", "MutatingWebhookConfigurations", false, N.mwh, function()
    return { metadata = { name = N.mwh }, webhooks = { {
      name = "w1.example.com",
      clientConfig = { url = "https://127.0.0.1:1/mutate", caBundle = b64(CA_PEM) },
      rules = { NOTHING_RULE }, failurePolicy = "Ignore", matchPolicy = "Exact",
      namespaceSelector = NEVER, objectSelector = NEVER, sideEffects = "None", timeoutSeconds = 5,
      admissionReviewVersions = { "v1" }, reinvocationPolicy = "IfNeeded",
      matchConditions = { { name = "never", expression = "false" } },
    }, {
      name = "w2.example.com",
      clientConfig = { service = { namespace = ns, name = N.svc, path = "/m", port = 8443 } },
      rules = { NOTHING_RULE }, failurePolicy = "Ignore", objectSelector = NEVER, sideEffects = "NoneOnDryRun",
      admissionReviewVersions = { "v1", "v1beta1" },
    } } }
  end)
  add("AdmissionregistrationV1", "ValidatingWebhookConfigurations", false, N.vwh, function()
    return { metadata = { name = N.vwh }, webhooks = { {
      name = "v1.example.com",
      clientConfig = { url = "https://127.0.0.1:1/validate", caBundle = b64(CA_PEM) },
      rules = { NOTHING_RULE }, failurePolicy = "Ignore", matchPolicy = "Equivalent",
      namespaceSelector = NEVER, objectSelector = NEVER, sideEffects = "None", timeoutSeconds = 1,
      admissionReviewVersions = { "v1" },
      matchConditions = { { name = "never", expression = "false" } },
    } } }
  end)
  add("AdmissionregistrationV1", "ValidatingAdmissionPolicies", false, N.vap, function()
    return { metadata = { name = N.vap }, spec = {
      failurePolicy = "Ignore",
      matchConstraints = { resourceRules = { { apiGroups = { "none.example.com" }, apiVersions = { "v1" },
        operations = { "CREATE" }, resources = { "nothings" } } },
        namespaceSelector = NEVER, objectSelector = NEVER, matchPolicy = "Equivalent" },
      validations = { { expression = "object.metadata.name != ''", message = "m", reason = "Invalid" },
        { expression = "variables.v == 1", messageExpression = "'x'" } },
      auditAnnotations = { { key = "k", valueExpression = "'v'" } },
      matchConditions = { { name = "c", expression = "true" } },
      variables = { { name = "v", expression = "1" } } } }
  end)
  add("AdmissionregistrationV1", "ValidatingAdmissionPolicyBindings", false, N.vapb, function()
    return { metadata = { name = N.vapb }, spec = { policyName = N.vap, validationActions = { "Warn", "Audit" },
      matchResources = { namespaceSelector = NEVER, objectSelector = {},
        excludeResourceRules = { { apiGroups = { "none.example.com" }, apiVersions = { "*" }, operations = { "*" },
          resources = { "x" }, resourceNames = { "n" } } }, matchPolicy = "Exact" } } }
  end)
  add("ApiextensionsV1", "CustomResourceDefinitions", false, N.crd, function()
    return { metadata = { name = N.crd }, spec = {
      group = N.crdgroup .. ".example.com", scope = "Namespaced",
      names = { plural = "widgets", singular = "widget", kind = "Widget", listKind = "WidgetList",
        shortNames = { "wdg" }, categories = { "all-widgets" } },
      versions = {
        { name = "v1", served = true, storage = true, schema = { openAPIV3Schema = rich_schema },
          subresources = { status = {}, scale = { specReplicasPath = ".spec.replicas",
            statusReplicasPath = ".status.replicas", labelSelectorPath = ".status.selector" } },
          additionalPrinterColumns = { { name = "Size", type = "integer", jsonPath = ".spec.size", priority = 0,
            format = "int32", description = "d" } },
          selectableFields = { { jsonPath = ".spec.color" } } },
        { name = "v2beta1", served = true, storage = false, deprecated = true, deprecationWarning = "use v1",
          schema = { openAPIV3Schema = { type = "object", ["x-kubernetes-preserve-unknown-fields"] = true } } },
      },
      -- a webhook nothing calls: v1 is the storage and preferred version
      conversion = { strategy = "Webhook", webhook = { conversionReviewVersions = { "v1" },
        clientConfig = { url = "https://127.0.0.1:1/convert", caBundle = b64(CA_PEM) } } } } }
  end)
  add("CertificatesV1", "CertificateSigningRequests", false, N.csr, function()
    local pem = H.sh("env -u LD_PRELOAD openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
      .. " -subj /CN=" .. N.csr .. " -keyout /dev/null 2>/dev/null")
    assert(pem:find("BEGIN CERTIFICATE REQUEST", 1, true), "openssl: " .. pem)
    return { metadata = { name = N.csr }, spec = { request = b64(pem), signerName = "example.com/signer",
      expirationSeconds = 3600, usages = { "digital signature", "key encipherment", "client auth" } } }
  end, function()
    -- approve it, then write a certificate as a signer would
    local rc = cs_json:CertificatesV1():RESTClient()
    local obj = assert(client(cs_json, "CertificatesV1", "CertificateSigningRequests"):Get(N.csr))
    obj.status.conditions = { { type = "Approved", status = "True", reason = "SpecApproved", message = "ok",
      lastUpdateTime = T1 } }
    local res = rc:Put():Resource("certificatesigningrequests"):Name(N.csr):SubResource("approval"):Body(obj):Do()
    assert(res:Error() == nil, tostring(res:Error()))
    update_retry(client(cs_json, "CertificatesV1", "CertificateSigningRequests"), N.csr, function(o)
      o.status.certificate = b64(CA_PEM)
    end, "UpdateStatus")
  end)
  add("FlowcontrolV1", "PriorityLevelConfigurations", false, N.plcx, function()
    -- (type Exempt is for the name "exempt" only)
    return { metadata = { name = N.plcx }, spec = { type = "Limited", limited = {
      nominalConcurrencyShares = 0, lendablePercent = 0, limitResponse = { type = "Reject" } } } }
  end)
  add("FlowcontrolV1", "PriorityLevelConfigurations", false, N.plc, function()
    return { metadata = { name = N.plc }, spec = { type = "Limited", limited = {
      nominalConcurrencyShares = 1, lendablePercent = 50, borrowingLimitPercent = 0,
      limitResponse = { type = "Queue", queuing = { queues = 2, handSize = 1, queueLengthLimit = 5 } } } } }
  end)
  add("FlowcontrolV1", "FlowSchemas", false, N.fs, function()
    return { metadata = { name = N.fs }, spec = {
      priorityLevelConfiguration = { name = N.plc }, matchingPrecedence = 9000,
      distinguisherMethod = { type = "ByUser" },
      rules = { {
        subjects = { { kind = "User", user = { name = "nobody-" .. N.never } },
          { kind = "ServiceAccount", serviceAccount = { namespace = ns, name = N.never } } },
        resourceRules = { { verbs = { "get" }, apiGroups = { "*" }, resources = { "*" }, clusterScope = true,
          namespaces = { "*" } } },
        nonResourceRules = { { verbs = { "get" }, nonResourceURLs = { "/nothing" } } },
      } } } }
  end)
  add("CoreV1", "Nodes", false, N.node, function()
    -- tainted and unschedulable: nothing runs on it
    return { metadata = { name = N.node, labels = { ["example.com/node"] = N.node } },
      spec = { podCIDR = "10.244.1.0/24", podCIDRs = { "10.244.1.0/24" }, providerID = "example://" .. N.node,
        unschedulable = true,
        taints = { { key = "example.com/never", value = "x", effect = "NoSchedule" },
          { key = "example.com/never", effect = "NoExecute", timeAdded = T1 } } },
      status = {
        capacity = { cpu = "4", memory = "8Gi", pods = "110", ["hugepages-2Mi"] = "0", ["ephemeral-storage"] = "100Gi" },
        allocatable = { cpu = "3900m", memory = "7.5Gi", pods = "110" },
        conditions = { { type = "Ready", status = "False", lastHeartbeatTime = T1, lastTransitionTime = T1,
          reason = "KubeletNotReady", message = "no kubelet" } },
        addresses = { { type = "InternalIP", address = "192.0.2.1" }, { type = "Hostname", address = N.node } },
        daemonEndpoints = { kubeletEndpoint = { Port = 10250 } },
        nodeInfo = { machineID = "m", systemUUID = "u", bootID = "b", kernelVersion = "6.1", osImage = "x",
          containerRuntimeVersion = "containerd://2.0", kubeletVersion = "v1.35.0", kubeProxyVersion = "",
          operatingSystem = "linux", architecture = "amd64", swap = { capacity = 1073741824 } },
        images = { { names = { "registry.k8s.io/pause:3.10" }, sizeBytes = 123456789012 } },
        volumesInUse = { "kubernetes.io/csi/x^y" },
        volumesAttached = { { name = "kubernetes.io/csi/x^y", devicePath = "/dev/x" } },
        runtimeHandlers = { { name = "runc", features = { recursiveReadOnlyMounts = true, userNamespaces = false } } },
        features = { supplementalGroupsPolicy = true },
      } }
  end)
  -- last: it sets defaults on pods created after it
  add("CoreV1", "LimitRanges", true, N.lr, function()
    return { metadata = { name = N.lr }, spec = { limits = {
      { type = "Container", max = { cpu = "2", memory = "1Gi" }, min = { cpu = "10m" },
        default = { cpu = "500m", memory = "64Mi" }, defaultRequest = { cpu = "250m" },
        maxLimitRequestRatio = { cpu = "10" } },
      { type = "PersistentVolumeClaim", max = { storage = "10Gi" }, min = { storage = "1Mi" } },
    } } }
  end)

  -- objects by resource, for the LIST checks: "CoreV1/Pods" -> names
  local expect = {}
  for _, e in ipairs(F) do
    local k = e.gvm .. "/" .. e.method
    expect[k] = expect[k] or {}
    table.insert(expect[k], e.name)
  end

  local created = {} -- entry -> true, or the error of its creation
  local exists = {}  -- entry -> true when Create succeeded (teardown deletes it)

  setup(function()
    ns = H.namespace(cs_json)
    -- the namespace's default ServiceAccount, rather than waiting for the controller-manager's
    local _, serr = cs_json:CoreV1():ServiceAccounts(ns):Create({ metadata = { name = "default" } })
    assert(serr == nil or errors.IsAlreadyExists(serr), tostring(serr))
    for _, e in ipairs(F) do
      local cj
      if e.gvm == "CertificatesV1" then
        -- as another user, with extra: the server writes spec.username, groups, uid and extra
        cj = client(new_clientset("application/json", { UserName = "csr-" .. N.csr,
          Groups = { "system:masters", "example:group" },
          Extra = { scopes = { "a", "b" }, ["example.com/team"] = { "x y" } } }), e.gvm, e.method)
      else
        cj = client(cs_json, e.gvm, e.method, e.namespaced and ns or nil)
      end
      local obj, err = cj:Create(e.build())
      exists[e] = obj ~= nil
      if obj and e.after then
        local ok, aerr = pcall(e.after, client(cs_json, e.gvm, e.method, e.namespaced and ns or nil))
        if not ok then obj, err = nil, "after create: " .. tostring(aerr) end
      end
      created[e] = obj and true or tostring(err)
    end
  end)

  teardown(function()
    if ns then
      client(cs_json, "CoreV1", "ConfigMaps", ns):Patch(N.held, k8s.types.MergePatchType,
        { metadata = { finalizers = NULL } })
    end
    for i = #F, 1, -1 do
      local e = F[i]
      if not e.namespaced and exists[e] then
        client(cs_json, e.gvm, e.method):Delete(e.name)
      end
    end
    H.cleanup_namespaces()
  end)

  it("the comparison tells integer from float, array from object, null from absent, and bytes apart", function()
    local function sample() return { a = { 1, "x", NULL, 2.5 }, b = setmetatable({}, ARR), c = {} } end
    assert.same({}, diff(sample(), sample(), "$"))
    if mtype then
      assert.equal(1, #diff({ n = 1 }, { n = 1.0 }, "$"))
      assert.matches("$.n: json 1 (integer), protobuf 1 (float)", diff({ n = 1 }, { n = 1.0 }, "$")[1], 1, true)
    end
    assert.equal(1, #diff({ a = setmetatable({}, ARR) }, { a = {} }, "$"))
    assert.equal(1, #diff({ a = NULL }, {}, "$"))
    assert.equal(1, #diff({ s = "a\0b" }, { s = "a\0c" }, "$"))
    assert.equal(1, #diff({ s = "1" }, { s = 1 }, "$"))
    assert.equal(1, #diff({ 1, 2 }, { 1, 2, 3 }, "$"))
    assert.is_true(pcall(assert_same, { x = 1 }, { x = 1 }, "same"))
    assert.is_false(pcall(assert_same, { x = 1 }, { x = 2 }, "different"))
  end)

  it("the protobuf clientset asks for protobuf, and the server answers it (k8s\\0 envelope)", function()
    assert.is_string(ns)
    local s = assert(cs_pb:CoreV1():RESTClient():Get():Namespace(ns):Resource("configmaps"):Stream())
    local head = assert(s:read())
    s:close()
    assert.equal("k8s\0", head:sub(1, 4))
    s = assert(cs_json:CoreV1():RESTClient():Get():Namespace(ns):Resource("configmaps"):Stream())
    head = assert(s:read())
    s:close()
    assert.equal("{", head:sub(1, 1))
    -- and a watch is the length-prefixed stream of WatchEvent messages (rv 0:
    -- the namespace's ConfigMaps come at once as ADDED events)
    local function watch_head(cs)
      local st = assert(cs:CoreV1():RESTClient():Get():Namespace(ns):Resource("configmaps")
        :Param("watch", "true"):Param("resourceVersion", "0"):Param("timeoutSeconds", "10"):Stream())
      local h = assert(st:read())
      st:close()
      return h
    end
    head = watch_head(cs_pb)
    assert.equal("\0", head:sub(1, 1))      -- a 4-byte big-endian length under 16 MiB
    assert.equal("\10\5ADDED", head:sub(5, 11)) -- WatchEvent field 1 (type), "ADDED"
    assert.matches('^{"type":"ADDED"', watch_head(cs_json))
  end)

  it("creates the whole fixture", function()
    local failed = {}
    for _, e in ipairs(F) do
      if created[e] ~= true then failed[#failed + 1] = e.method .. " " .. e.name .. ": " .. tostring(created[e]) end
    end
    assert.equal("", table.concat(failed, "\n"))
  end)

  -- LIST: every listable resource of the clientset, at one exact resourceVersion
  for _, gvm in ipairs(cs_json:GroupVersions()) do
    for _, r in ipairs(cs_json[gvm](cs_json):Resources()) do
      if has_bit(r.verbs, LIST) and not r.name:find("/", 1, true) then
        local key = gvm .. "/" .. r.method
        it("LIST " .. key .. (r.namespaced and " (all namespaces)" or ""), function()
          local nsarg = r.namespaced and "" or nil
          local cj, cp = client(cs_json, gvm, r.method, nsarg), client(cs_pb, gvm, r.method, nsarg)
          local a, b
          if r.name == "componentstatuses" then
            -- computed live at each request (no resourceVersion, no order):
            -- compared sorted by name, each condition's message (the text of
            -- a live health probe) replaced by its type
            a, b = assert(cj:List()), assert(cp:List())
            for _, l in ipairs({ a, b }) do
              table.sort(l.items, function(x, y) return x.metadata.name < y.metadata.name end)
              for _, item in ipairs(l.items) do
                for _, c in ipairs(item.conditions or {}) do
                  if c.message ~= nil then c.message = "<" .. type(c.message) .. ">" end
                  if c.error ~= nil then c.error = "<" .. type(c.error) .. ">" end
                end
              end
            end
            assert.is_true(#a.items > 0)
          else
            local first, err = cj:List({ limit = 1 })
            if not first and errors.IsNotFound(err) then
              pending(key .. " is not served: " .. tostring(err))
              return
            end
            assert(first, tostring(err))
            local rv = first.metadata.resourceVersion
            assert.is_string(rv)
            local opts = { resourceVersion = rv, resourceVersionMatch = "Exact" }
            a = assert(cj:List(opts))
            b = assert(cp:List(opts))
            assert.equal(rv, a.metadata.resourceVersion)
          end
          assert_same(a, b, "LIST " .. key)
          local names = {}
          for _, item in ipairs(a.items) do names[item.metadata.name] = true end
          for _, want in ipairs(expect[key] or {}) do
            assert.is_true(names[want] ~= nil, key .. " lists the fixture's " .. want)
          end
        end)
      end
    end
  end

  -- Reads both until they see the same resourceVersion (a controller may
  -- write in between), then compares.
  local function get_both(gvm, method, namespaced, name)
    local nsarg = namespaced and ns or nil
    local cj, cp = client(cs_json, gvm, method, nsarg), client(cs_pb, gvm, method, nsarg)
    local a, b
    for _ = 1, 20 do
      local err
      a, err = cj:Get(name)
      assert(a, "JSON GET: " .. tostring(err))
      b, err = cp:Get(name)
      assert(b, "protobuf GET: " .. tostring(err))
      if a.metadata.resourceVersion == b.metadata.resourceVersion then return a, b end
    end
    error("the resourceVersions of " .. name .. " kept changing between the two GETs")
  end

  for _, e in ipairs(F) do
    it("GET " .. e.gvm .. "/" .. e.method .. " " .. e.name, function()
      assert(created[e] == true, "creating it failed: " .. tostring(created[e]))
      local a, b = get_both(e.gvm, e.method, e.namespaced, e.name)
      assert_same(a, b, "GET " .. e.method .. " " .. e.name)
    end)
  end

  it("GET of what the server and controllers wrote: the namespace, an IPAddress, a core Event, the CSR's requester",
    function()
    local a, b = get_both("CoreV1", "Namespaces", false, ns)
    assert_same(a, b, "GET namespace")
    local svc = assert(client(cs_json, "CoreV1", "Services", ns):Get(N.svc))
    a, b = get_both("NetworkingV1", "IPAddresses", false, svc.spec.clusterIP)
    assert_same(a, b, "GET IPAddress " .. svc.spec.clusterIP)
    assert.equal(N.svc, a.spec.parentRef.name)
    -- a core Event written through events.k8s.io
    a, b = get_both("CoreV1", "Events", true, N.ev2)
    assert_same(a, b, "GET core Event " .. N.ev2)
    assert.equal("2024-01-02T03:04:05.123456Z", a.eventTime)
    a = assert(client(cs_pb, "CertificatesV1", "CertificateSigningRequests"):Get(N.csr))
    assert.same({ "a", "b" }, a.spec.extra.scopes)
    assert.equal(getmetatable(a.spec.extra.scopes), ARR)
    a = assert(client(cs_pb, "CoreV1", "ConfigMaps", ns):Get(N.held))
    assert.is_string(a.metadata.deletionTimestamp)
    assert.equal(0, a.metadata.deletionGracePeriodSeconds)
    -- the admission plugins' additions came through too
    a = assert(client(cs_pb, "CoreV1", "Pods", ns):Get(N.pod))
    assert.equal(-1000, a.spec.priority)
    assert.equal("1536Ki", a.spec.overhead.memory)
    assert.equal("Running", a.status.phase)
  end)

  it("errors: the same Status from a protobuf and a JSON answer (404, 409, 422 with causes)", function()
    local missing = H.name("missing")
    local function outcome(cs)
      local c = client(cs, "CoreV1", "ConfigMaps", ns)
      local out = {}
      local _, err = c:Get(missing)
      out[1] = err
      _, err = c:Create({ metadata = { name = N.cm } })
      out[2] = err
      _, err = client(cs, "CoreV1", "Services", ns):Create({ metadata = { name = "Bad_Name" },
        spec = { ports = { { port = 0 }, { port = 70000, targetPort = "no_such_port!" } } } })
      out[3] = err
      for i, e in ipairs(out) do
        assert.is_table(e, "call " .. i .. " failed")
        out[i] = { code = e.code, reason = e.reason, message = e.message, status = e.status }
      end
      return out
    end
    local a, b = outcome(cs_json), outcome(cs_pb)
    assert_same(a, b, "errors")
    assert.same({ 404, 409, 422 }, { a[1].code, a[2].code, a[3].code })
    assert.is_true(#a[3].status.details.causes >= 3)
  end)

  -- WATCH: mutations after rv0, then both clientsets replay them from rv0
  -- (the same history, so the same events in the same order) until the
  -- DELETED event of the mutated object; the sequences are compared whole,
  -- other objects' events included. No bookmarks are asked for.
  local function events_until(w, done, what)
    local evs = {}
    while true do
      local ev, err = w:Next(30)
      assert(ev, what .. ": watch: " .. tostring(err or "ended"))
      evs[#evs + 1] = ev
      if ev.type == "ERROR" then
        error(what .. ": watch ERROR event: " .. k8s.json.encode(ev.object))
      end
      if done(ev) then return evs end
    end
  end

  local function md_labels(name, step)
    return { name = name, labels = { ["example.com/pbwatch"] = name, step = step } }
  end

  local watch_cases = {
    { gvm = "CoreV1", method = "ConfigMaps", namespaced = true, mutate = function(c, name)
      assert(c:Create({ metadata = md_labels(name, "1"), data = { v = "1", e = "" }, binaryData = { b = b64("\0\1\2\255") } }))
      update_retry(c, name, function(o) o.data.v = "2"; o.data.new = "x"; o.metadata.labels.step = "2" end)
      assert(c:Patch(name, k8s.types.MergePatchType, { data = { e = NULL } }))
    end },
    { gvm = "CoreV1", method = "Secrets", namespaced = true, mutate = function(c, name)
      assert(c:Create({ metadata = md_labels(name, "1"), stringData = { s = "1" }, data = { bin = b64(ALL_BYTES) } }))
      update_retry(c, name, function(o) o.data.s = b64("two"); o.metadata.labels.step = "2" end)
    end },
    { gvm = "CoreV1", method = "Pods", namespaced = true, mutate = function(c, name)
      assert(c:Create({ metadata = md_labels(name, "1"), spec = {
        schedulingGates = { { name = "example.com/gate" } }, restartPolicy = "Never",
        terminationGracePeriodSeconds = 0,
        containers = { container("c", { resources = { requests = { cpu = "10m" }, limits = { cpu = "20m" } } }) } } }))
      update_retry(c, name, function(o) o.metadata.labels.step = "2"; o.metadata.annotations = { a = "" } end)
      update_retry(c, name, function(o)
        o.status.phase = "Pending"
        table.insert(o.status.conditions, { type = "example.com/c", status = "False", lastProbeTime = T1,
          lastTransitionTime = T2, reason = "R", message = "M" })
      end, "UpdateStatus")
      update_retry(c, name, function(o) o.spec.schedulingGates = k8s.empty_array() end)
    end },
    { gvm = "CoordinationV1", method = "Leases", namespaced = true, mutate = function(c, name)
      assert(c:Create({ metadata = md_labels(name, "1"), spec = { holderIdentity = "a", leaseDurationSeconds = 10,
        acquireTime = MT1, renewTime = MT1 } }))
      update_retry(c, name, function(o)
        o.spec.holderIdentity = "b"; o.spec.renewTime = MT2; o.spec.leaseTransitions = 1
      end)
    end },
    { gvm = "EventsV1", method = "Events", namespaced = true, mutate = function(c, name)
      assert(c:Create({ metadata = md_labels(name, "1"), eventTime = MT1, reportingController = "example.com/spec",
        reportingInstance = "i", action = "A", reason = "R", type = "Warning", note = "n",
        regarding = { kind = "ConfigMap", name = "x", namespace = ns, apiVersion = "v1" } }))
      update_retry(c, name, function(o) o.series = { count = 2, lastObservedTime = MT2 } end)
    end },
    { gvm = "AppsV1", method = "ControllerRevisions", namespaced = true, mutate = function(c, name)
      assert(c:Create({ metadata = md_labels(name, "1"), revision = 7,
        data = { spec = { replicas = 1, ratio = 0.5, list = { 1, 2.5, "x" }, none = NULL, empty = {} } } }))
      -- (a patch: an Update would send data re-encoded from a Lua table, whose
      -- key order may differ, and the server compares data's bytes)
      assert(c:Patch(name, k8s.types.MergePatchType, { metadata = { labels = { step = "2" } } }))
    end },
    { gvm = "RbacV1", method = "ClusterRoles", namespaced = false, selector = true, mutate = function(c, name)
      assert(c:Create({ metadata = md_labels(name, "1"),
        rules = { { apiGroups = { "" }, resources = { "pods" }, verbs = { "get" } } } }))
      update_retry(c, name, function(o)
        o.rules[1].verbs = { "get", "list" }
        o.rules[2] = { nonResourceURLs = { "/x" }, verbs = { "get" } }
      end)
    end },
  }

  for _, wc in ipairs(watch_cases) do
    it("WATCH " .. wc.gvm .. "/" .. wc.method .. ": the same events from a resourceVersion", function()
      local nsarg = wc.namespaced and ns or nil
      local cj, cp = client(cs_json, wc.gvm, wc.method, nsarg), client(cs_pb, wc.gvm, wc.method, nsarg)
      local name = H.name("w")
      local rv0 = assert(cj:List({ limit = 1 })).metadata.resourceVersion
      local ok, err = pcall(wc.mutate, cj, name)
      assert(cj:Delete(name))
      assert(ok, err)
      local opts = { resourceVersion = rv0 }
      -- cluster-scoped: only this object's events (others' are not ours to wait for)
      if wc.selector then opts.labelSelector = "example.com/pbwatch=" .. name end
      local function done(ev) return ev.type == "DELETED" and ev.object.metadata.name == name end
      local wj = assert(cj:Watch(opts))
      local a = events_until(wj, done, "JSON")
      wj:Stop()
      local wp = assert(cp:Watch(opts))
      local b = events_until(wp, done, "protobuf")
      wp:Stop()
      local mine = {}
      for _, ev in ipairs(a) do
        if ev.object.metadata.name == name then mine[#mine + 1] = ev.type end
      end
      assert.is_true(#mine >= 3 and mine[1] == "ADDED" and mine[2] == "MODIFIED",
        "events of " .. name .. ": " .. table.concat(mine, " "))
      assert_same(a, b, "WATCH " .. wc.method)
    end)
  end

  it("a 406 to a protobuf-only Accept (a custom resource) is asked again for JSON", function()
    local cfg = H.config("admin-token")
    cfg.APIPath = "/apis"
    cfg.ContentConfig = { GroupVersion = N.crdgroup .. ".example.com/v1", ContentType = PB, AcceptContentTypes = PB }
    local rc = assert(k8s.rest.RESTClientFor(cfg))
    -- the server refuses protobuf for a custom resource (the header set on the
    -- request itself is never replaced)
    local s, err = rc:Get():Namespace(ns):Resource("widgets"):SetHeader("Accept", PB):Stream()
    assert.is_nil(s)
    assert.is_true(errors.IsNotAcceptable(err), tostring(err))
    -- with the config's Accept, the 406 is asked again for JSON
    local l = assert(rc:Get():Namespace(ns):Resource("widgets"):Do():Get())
    assert.equal("WidgetList", l.kind)
    assert.equal(ARR, getmetatable(l.items))
  end)

  it("WATCH from a compacted or too old resourceVersion: the same outcome", function()
    local function outcome(cs)
      local w, err = client(cs, "CoreV1", "ConfigMaps", ns):Watch({ resourceVersion = "1" })
      if not w then return { err = { code = err.code, reason = err.reason, message = err.message } } end
      local ev, nerr = w:Next(30)
      w:Stop()
      if not ev then return { next_err = { code = nerr.code, reason = nerr.reason, message = nerr.message } } end
      return ev
    end
    local a, b = outcome(cs_json), outcome(cs_pb)
    -- the message names the oldest resourceVersion the server still has,
    -- which moves with other writes between the two requests
    for _, x in ipairs({ a, b }) do
      local o = x.object or x.err or x.next_err
      if type(o.message) == "string" then o.message = o.message:gsub("%(%d+%)", "(N)") end
    end
    assert_same(a, b, "WATCH from resourceVersion 1")
    local status = a.object or a.err or a.next_err
    assert.equal(410, status.code)
  end)

  it("WATCH with sendInitialEvents: the same ADDED events and initial-events-end BOOKMARK", function()
    local cj = client(cs_json, "CoreV1", "ConfigMaps", ns)
    local label = H.name("ie")
    for i = 1, 3 do
      assert(cj:Create({ metadata = { name = label .. "-" .. i, labels = { ie = label } },
        data = { i = tostring(i) }, immutable = i == 2 }))
    end
    local function initial(cs)
      local w = assert(client(cs, "CoreV1", "ConfigMaps", ns):Watch({ labelSelector = "ie=" .. label,
        allowWatchBookmarks = true, sendInitialEvents = true, resourceVersionMatch = "NotOlderThan" }))
      local evs = {}
      while true do
        local ev, err = w:Next(30)
        assert(ev, "watch: " .. tostring(err or "ended"))
        assert.is_not_equal("ERROR", ev.type)
        evs[#evs + 1] = ev
        if ev.type == "BOOKMARK" then break end
      end
      w:Stop()
      return evs
    end
    local a, b = initial(cs_json), initial(cs_pb)
    assert.equal(4, #a)
    -- the bookmark's resourceVersion is the server's current one, which
    -- other writes may move between the two watches: checked, then aligned
    local ba, bb = a[#a].object, b[#b].object
    assert.is_string(ba.metadata.resourceVersion)
    assert.is_string(bb and bb.metadata and bb.metadata.resourceVersion)
    assert.equal("true", ba.metadata.annotations["k8s.io/initial-events-end"])
    bb.metadata.resourceVersion = ba.metadata.resourceVersion
    local by_name = function(x, y)
      if x.type ~= y.type then return x.type < y.type end
      return x.object.metadata.name < y.object.metadata.name
    end
    table.sort(a, by_name)
    table.sort(b, by_name)
    assert_same(a, b, "initial events")
  end)
end)

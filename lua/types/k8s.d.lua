---@meta k8s
-- lua-language-server definitions for `require "k8s"`. Add this directory to
-- your workspace.library (e.g. .luarc.json: {"workspace.library": ["lua/types"]}).

---@class k8s.Error
---@field code integer HTTP status, 0 below HTTP
---@field reason string StatusReason ("NotFound", ...) or a transport class ("ConnectionRefused", "TLSVerifyFailed", "Timeout")
---@field message string
---@field status table|nil the decoded metav1.Status
---@field retryAfterSeconds integer

---@class k8s.Config rest.Config as a table
---@field Host string|nil
---@field APIPath string|nil
---@field ContentConfig {GroupVersion: string|{Group:string,Version:string}, AcceptContentTypes: string, ContentType: string}|nil
---@field Username string|nil
---@field Password string|nil
---@field BearerToken string|nil
---@field BearerTokenFile string|nil
---@field Impersonate {UserName: string, UID: string, Groups: string[], Extra: table<string, string[]>}|nil
---@field AuthProvider {Name: string, Config: table<string,string>}|nil
---@field ExecProvider {Command: string, Args: string[], Env: {Name:string,Value:string}[], APIVersion: string, InteractiveMode: string, InstallHint: string, ProvideClusterInfo: boolean}|nil
---@field TLSClientConfig {Insecure: boolean, ServerName: string, CAFile: string, CAData: string, CertFile: string, KeyFile: string, CertData: string, KeyData: string}|nil
---@field UserAgent string|nil
---@field DisableCompression boolean|nil
---@field QPS number|nil 0 = 5; negative = no limit
---@field Burst number|nil 0 = 10
---@field RateLimiter k8s.RateLimiter|nil
---@field Timeout number|nil seconds
---@field Proxy string|nil
---@field Namespace string|nil the namespace a kubeconfig context or pod names

---@class k8s.RateLimiter
local RateLimiter = {}
---@return boolean
function RateLimiter:TryAccept() end
---@return number seconds waited
function RateLimiter:Accept() end
---@return number
function RateLimiter:QPS() end

---@class k8s.Event
---@field type "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR"
---@field object table

---@class k8s.Watcher
local Watcher = {}
--- Iterator over the events (`for ev in w:ResultChan() do`). The loop ends when the
--- server closes the watch, after Stop(), or when the connection fails, as client-go's
--- channel closes; an event that cannot be decoded arrives as a last ERROR event whose
--- object is client-go's ClientWatchDecoding Status (code 500, InternalError).
---@return fun(): k8s.Event|nil
function Watcher:ResultChan() end
--- The next event; nil at the end of the watch; nil, err on a timeout (the watch stays
--- usable), a transport error, an event that cannot be decoded (DecodeError) or a
--- stream cut inside an event (UnexpectedEOF). A watch opened with `timeoutSeconds`
--- that has neither data nor its end by `timeoutSeconds` plus a grace (as long again,
--- 5 to 30 s) is presumed dead and ends with a transport error, reason WatchStalled
--- (ResultChan's loop just ends).
---@param timeout number|nil seconds
---@return k8s.Event|nil, k8s.Error|nil
function Watcher:Next(timeout) end
--- Close the connection (also done on garbage collection and by `<close>`).
function Watcher:Stop() end

---@class k8s.Stream
local Stream = {}
---@param timeout number|nil
---@return string|nil chunk, k8s.Error|nil
function Stream:read(timeout) end
function Stream:close() end

---@class k8s.Result
local Result = {}
---@return table|nil, k8s.Error|nil
function Result:Get() end
---@return string
function Result:Raw() end
---@return integer
function Result:StatusCode() end
---@return k8s.Error|nil
function Result:Error() end
---@return string|nil
function Result:ContentType() end
---@return string[]
function Result:Warnings() end

---@class k8s.Request
local Request = {}
---@return k8s.Request
function Request:Namespace(ns) end
---@return k8s.Request
function Request:Resource(resource) end
---@return k8s.Request
function Request:Name(name) end
---@return k8s.Request
function Request:SubResource(...) end
---@return k8s.Request
function Request:Prefix(...) end
---@return k8s.Request
function Request:Suffix(...) end
---@return k8s.Request
function Request:AbsPath(path) end
---@return k8s.Request
function Request:Param(key, value) end
---@return k8s.Request
function Request:VersionedParams(opts) end
---@return k8s.Request
function Request:SetHeader(key, value) end
---@param body table|string
---@return k8s.Request
function Request:Body(body) end
---@return k8s.Request
function Request:Timeout(seconds) end
---@return k8s.Request
function Request:MaxRetries(n) end
---@return string the URL the request would be sent to
function Request:URL() end
---@return k8s.Result|nil, k8s.Error|nil
function Request:Do() end
---@return string|nil, k8s.Error|nil
function Request:DoRaw() end
---@return k8s.Stream|nil, k8s.Error|nil
function Request:Stream() end
---@return k8s.Watcher|nil, k8s.Error|nil
function Request:Watch() end

---@class k8s.RESTClient
local RESTClient = {}
---@return k8s.Request
function RESTClient:Get() end
---@return k8s.Request
function RESTClient:Post() end
---@return k8s.Request
function RESTClient:Put() end
---@return k8s.Request
function RESTClient:Patch(pt) end
---@return k8s.Request
function RESTClient:Delete() end
---@return k8s.Request
function RESTClient:Verb(verb) end
---@return {Group: string, Version: string}
function RESTClient:APIVersion() end
---@return k8s.RateLimiter|nil
function RESTClient:GetRateLimiter() end
---@return string scheme://host:port after defaulting
function RESTClient:BaseURL() end

---@class k8s.ResourceClient
local ResourceClient = {}
---@return table|nil, k8s.Error|nil
function ResourceClient:Get(name, opts) end
---@return table|nil, k8s.Error|nil
function ResourceClient:List(opts) end
---@return table|nil, k8s.Error|nil
function ResourceClient:Create(obj, opts) end
---@return table|nil, k8s.Error|nil
function ResourceClient:Update(obj, opts) end
---@return table|nil, k8s.Error|nil
function ResourceClient:UpdateStatus(obj, opts) end
---@return true|nil, k8s.Error|nil
function ResourceClient:Delete(name, opts) end
---@return true|nil, k8s.Error|nil
function ResourceClient:DeleteCollection(opts, listOpts) end
---@param pt string a k8s.types.*PatchType
---@param data table|string
---@return table|nil, k8s.Error|nil
function ResourceClient:Patch(name, pt, data, opts, ...) end
---@param opts {fieldManager: string, force: boolean|nil, dryRun: string[]|nil}
---@return table|nil, k8s.Error|nil
function ResourceClient:Apply(obj, opts) end
---@return table|nil, k8s.Error|nil
function ResourceClient:ApplyStatus(obj, opts) end
---@return k8s.Watcher|nil, k8s.Error|nil
function ResourceClient:Watch(opts) end
---@return table|nil, k8s.Error|nil
function ResourceClient:GetScale(name, opts) end
---@return table|nil, k8s.Error|nil
function ResourceClient:UpdateScale(name, scale, opts) end
---@return table|nil, k8s.Error|nil
function ResourceClient:EvictV1(eviction) end
---@return table|nil, k8s.Error|nil
function ResourceClient:CreateToken(name, tokenRequest, opts) end
---@return k8s.Request call :Stream() or :DoRaw()
function ResourceClient:GetLogs(name, opts) end
---The resource this client addresses: Group, Version, Resource, Kind, Namespaced, Namespace.
---@return table
function ResourceClient:Info() end
---Dynamic clients only: the same resource in a namespace.
---@return k8s.ResourceClient
function ResourceClient:Namespace(ns) end

---@class k8s.GroupVersionClient
---@field Pods fun(self, namespace: string): k8s.ResourceClient
---@field ConfigMaps fun(self, namespace: string): k8s.ResourceClient
---@field Secrets fun(self, namespace: string): k8s.ResourceClient
---@field Services fun(self, namespace: string): k8s.ResourceClient
---@field ServiceAccounts fun(self, namespace: string): k8s.ResourceClient
---@field Endpoints fun(self, namespace: string): k8s.ResourceClient
---@field Events fun(self, namespace: string): k8s.ResourceClient
---@field Namespaces fun(self): k8s.ResourceClient
---@field Nodes fun(self): k8s.ResourceClient
---@field PersistentVolumes fun(self): k8s.ResourceClient
---@field PersistentVolumeClaims fun(self, namespace: string): k8s.ResourceClient
---@field Deployments fun(self, namespace: string): k8s.ResourceClient
---@field StatefulSets fun(self, namespace: string): k8s.ResourceClient
---@field DaemonSets fun(self, namespace: string): k8s.ResourceClient
---@field ReplicaSets fun(self, namespace: string): k8s.ResourceClient
---@field Jobs fun(self, namespace: string): k8s.ResourceClient
---@field CronJobs fun(self, namespace: string): k8s.ResourceClient
---@field Ingresses fun(self, namespace: string): k8s.ResourceClient
---@field NetworkPolicies fun(self, namespace: string): k8s.ResourceClient
---@field Roles fun(self, namespace: string): k8s.ResourceClient
---@field RoleBindings fun(self, namespace: string): k8s.ResourceClient
---@field ClusterRoles fun(self): k8s.ResourceClient
---@field ClusterRoleBindings fun(self): k8s.ResourceClient
---@field Leases fun(self, namespace: string): k8s.ResourceClient
---@field CustomResourceDefinitions fun(self): k8s.ResourceClient
local GroupVersionClient = {}
---@return k8s.RESTClient
function GroupVersionClient:RESTClient() end
---@return table[] the resource table rows of this group-version
function GroupVersionClient:Resources() end

--- client-go's DiscoveryClient. /api and /apis are asked for aggregated discovery
--- (every group-version's resources in two responses), with the legacy format as
--- the fallback, as client-go does.
---@class k8s.DiscoveryClient
---@field UseLegacyDiscovery boolean ask for the legacy format only (default false)
local DiscoveryClient = {}
--- The decoded /version.
---@return table|nil, k8s.Error|nil
function DiscoveryClient:ServerVersion() end
--- An APIGroupList; the legacy core group "" first.
---@return table|nil, k8s.Error|nil
function DiscoveryClient:ServerGroups() end
--- The APIResourceList of one group-version ("v1", "apps/v1").
---@return table|nil, k8s.Error|nil
function DiscoveryClient:ServerResourcesForGroupVersion(gv) end
--- One APIResourceList per group-version, each resource once at its group's preferred
--- version (or the first version serving it); a partial failure returns the lists and
--- a GroupDiscoveryFailed error.
---@return table[]|nil, k8s.Error|nil
function DiscoveryClient:ServerPreferredResources() end
--- The APIGroupList, the APIResourceLists by group-version when the server answered
--- in the aggregated format (else nil), and the stale group-versions ({ gv, message }).
---@return table|nil, table|k8s.Error|nil, table|nil
function DiscoveryClient:GroupsAndMaybeResources() end

---@class k8s.Clientset
local Clientset = {}
---@return k8s.DiscoveryClient
function Clientset:Discovery() end
---@return string[] the group-version method names
function Clientset:GroupVersions() end
---The clientset's RESTClient for any group and version (shares its connections).
---@return k8s.RESTClient
function Clientset:RESTClientForGroupVersion(group, version) end
---@return k8s.GroupVersionClient
function Clientset:CoreV1() end
---@return k8s.GroupVersionClient
function Clientset:AppsV1() end
---@return k8s.GroupVersionClient
function Clientset:BatchV1() end
---@return k8s.GroupVersionClient
function Clientset:AutoscalingV1() end
---@return k8s.GroupVersionClient
function Clientset:AutoscalingV2() end
---@return k8s.GroupVersionClient
function Clientset:NetworkingV1() end
---@return k8s.GroupVersionClient
function Clientset:RbacV1() end
---@return k8s.GroupVersionClient
function Clientset:PolicyV1() end
---@return k8s.GroupVersionClient
function Clientset:StorageV1() end
---@return k8s.GroupVersionClient
function Clientset:CoordinationV1() end
---@return k8s.GroupVersionClient
function Clientset:DiscoveryV1() end
---@return k8s.GroupVersionClient
function Clientset:EventsV1() end
---@return k8s.GroupVersionClient
function Clientset:AdmissionregistrationV1() end
---@return k8s.GroupVersionClient
function Clientset:CertificatesV1() end
---@return k8s.GroupVersionClient
function Clientset:SchedulingV1() end
---@return k8s.GroupVersionClient
function Clientset:NodeV1() end
---@return k8s.GroupVersionClient
function Clientset:FlowcontrolV1() end
---@return k8s.GroupVersionClient
function Clientset:ApiextensionsV1() end
---@return k8s.GroupVersionClient
function Clientset:ApiregistrationV1() end
---@return k8s.GroupVersionClient
function Clientset:AuthenticationV1() end
---@return k8s.GroupVersionClient
function Clientset:AuthorizationV1() end
---@return k8s.GroupVersionClient
function Clientset:ResourceV1() end

---@class k8s.DynamicClient
local DynamicClient = {}
---@return k8s.DiscoveryClient
function DynamicClient:Discovery() end
---@param gvr {Group: string, Version: string, Resource: string}
---@return k8s.ResourceClient
function DynamicClient:Resource(gvr) end
---@return k8s.RESTClient
function DynamicClient:RESTClientForGroupVersion(group, version) end

---@class k8s.RESTMapping
---@field Resource {Group: string, Version: string, Resource: string}
---@field GroupVersionKind {Group: string, Version: string, Kind: string}
---@field Scope "Namespaced"|"Cluster"

---@class k8s.RESTMapper DeferredDiscoveryRESTMapper with kubectl's shortcut and category expansion
local RESTMapper = {}
---@param gk {Group: string, Kind: string}
---@return k8s.RESTMapping|nil, k8s.Error|nil
function RESTMapper:RESTMapping(gk, ...) end
---@return k8s.RESTMapping[]|nil, k8s.Error|nil
function RESTMapper:RESTMappings(gk, ...) end
---@param gvr {Group: string?, Version: string?, Resource: string}
---@return {Group: string, Version: string, Resource: string}|nil, k8s.Error|nil
function RESTMapper:ResourceFor(gvr) end
---@return {Group: string, Version: string, Resource: string}[]|nil, k8s.Error|nil
function RESTMapper:ResourcesFor(gvr) end
---@return {Group: string, Version: string, Kind: string}|nil, k8s.Error|nil
function RESTMapper:KindFor(gvr) end
---@return string|nil, k8s.Error|nil
function RESTMapper:ResourceSingularizer(resource) end
---kubectl's resource argument: "deploy", "deployments.apps", "deployment.v1.apps", "Deployment"
---@return k8s.RESTMapping|nil, k8s.Error|nil
function RESTMapper:MappingFor(arg) end
---@return k8s.RESTMapping[]
function RESTMapper:ExpandCategory(category) end
function RESTMapper:Reset() end
---@return integer
function RESTMapper:Loads() end

---@class k8s.ApplyResult
---@field Kind string
---@field Group string
---@field Namespace string|nil
---@field Name string
---@field Action "created"|"configured"|"unchanged"|"pruned"|"deleted"
---@field Object table|nil
---@field Resource {Group: string, Version: string, Resource: string}
---@field Document string "document N" or "document N item M"

---@class k8s
---@field null lightuserdata JSON null (== cjson.null)
---@field array_mt table metatable marking a table as a JSON array
local k8s = {}
---@param config k8s.Config
---@return k8s.Clientset|nil, k8s.Error|nil
function k8s.NewForConfig(config) end
k8s.rest = {}
---@return k8s.RESTClient|nil, k8s.Error|nil
function k8s.rest.RESTClientFor(config) end
---@return k8s.RESTClient|nil, k8s.Error|nil
function k8s.rest.UnversionedRESTClientFor(config) end
---@return k8s.Config|nil, k8s.Error|nil
function k8s.rest.InClusterConfig() end
---@param factory fun(clusterAddress: string, config: table, persister: {Persist: fun(self, tbl: table)}): {Token: fun(self): string, number}
function k8s.rest.RegisterAuthProviderPlugin(name, factory) end
---@return k8s.RateLimiter
function k8s.rest.NewTokenBucketRateLimiter(qps, burst) end
---Deep copy of a config table (rest.CopyConfig).
function k8s.rest.CopyConfig(config) end
k8s.flowcontrol = {}
---@return k8s.RateLimiter
function k8s.flowcontrol.NewTokenBucketRateLimiter(qps, burst) end
k8s.json = {}
---@return any
function k8s.json.decode(s) end
---@return string
function k8s.json.encode(v) end
k8s.yaml = {}
---Every document of a YAML stream, read as Kubernetes does (sigs.k8s.io/yaml:
---YAML 1.1 scalars, then JSON): one value per document, an empty or null
---document being k8s.null at its index; the same tables as k8s.json.decode.
---Malformed YAML returns nil and "yaml: document N, line L: ...".
---@param text string
---@return any[]|nil docs, string|nil err
function k8s.yaml.decode(text) end
---One YAML document (no "---"), as go-yaml writes it: sorted keys, block
---style, quoted where a plain scalar would read back as something else.
---@return string|nil yaml, string|nil err
function k8s.yaml.encode(v) end
---Each of list[1..#list] as a document, joined by "---\n".
---@param list any[]
---@return string|nil yaml, string|nil err
function k8s.yaml.encode_all(list) end
---@return table an empty JSON array
function k8s.empty_array() end
---@return k8s.Clientset
function k8s.NewForConfigOrDie(config) end
k8s.clientcmd = {}
---@return k8s.Config|nil, k8s.Error|nil
function k8s.clientcmd.BuildConfigFromFlags(masterUrl, kubeconfigPath) end
---@param overrides {CurrentContext: string, ClusterName: string, AuthInfoName: string, Namespace: string, Server: string, ExplicitPath: string}|nil
---@return k8s.Config|nil, table|k8s.Error
function k8s.clientcmd.LoadConfig(overrides) end
---@return k8s.Config|nil, table|k8s.Error
function k8s.clientcmd.ConfigForContext(context, kubeconfigPath) end
k8s.dynamic = {}
---@return k8s.DynamicClient|nil, k8s.Error|nil
function k8s.dynamic.NewForConfig(config) end
k8s.pager = {}
---Iterator over pages: each call returns a list object, nil at the end, or false, err.
---@return fun(): table|false|nil, k8s.Error|nil
function k8s.pager.Pages(client, opts) end
---Iterator over items across all pages; raises on errors.
---@return fun(): table|nil
function k8s.pager.Items(client, opts) end
---All pages in one list object (falls back to a full list on 410 Expired).
---@return table|nil, k8s.Error|nil
function k8s.pager.List(client, opts) end
k8s.types = {
  JSONPatchType = "application/json-patch+json",
  MergePatchType = "application/merge-patch+json",
  StrategicMergePatchType = "application/strategic-merge-patch+json",
  ApplyPatchType = "application/apply-patch+yaml",
}
---The OpenResty driver (present only inside nginx's lua module): every call
---yields on cosockets in rewrite/access/content/timer/ssl phases, blocks in
---init_by_lua, and returns nil, err (reason "NotYieldable") elsewhere.
k8s.ngx = {}
---Change the driver's options: PoolSize (8), IdleTimeout (60 s), ConnectTimeout (10 s),
---ReadTimeout (300 s), WatchReadSlice (5 s), Blocking (false: true uses libcurl and stalls the worker).
---@param options table
function k8s.ngx.configure(options) end
---Always true (the module is loaded only inside nginx).
---@return boolean
function k8s.ngx.in_nginx() end
---Idle keep-alive connections this worker holds, per pool key (cluster + TLS identity).
---@return table<string, integer>
function k8s.ngx.idle_connections() end

---Drive every task of this process (informers, electors, k8s.loop.spawn) for
---`seconds`, until `fn()` returns true, or (nil) until no task is left.
---@param arg number|fun():boolean|nil
---@return boolean
function k8s.Run(arg) end

---The plain-Lua event loop (outside nginx).
k8s.loop = {}
---Run fn(...) as a task of the loop; API calls inside it yield instead of blocking.
---@return table task with :cancel() and :finished()
function k8s.loop.spawn(fn, ...) end
---Wait until every task of the list has finished (in a task: yields; elsewhere: drives the loop).
---@param tasks table[]
function k8s.loop.join(tasks) end
---Yield for `seconds` inside a task (blocks outside one).
function k8s.loop.sleep(seconds) end
---Monotonic seconds.
---@return number
function k8s.loop.now() end
---Whether the caller is a task's own coroutine.
---@return boolean
function k8s.loop.in_task() end
---Connection counters of the loop's driver.
---@return table
function k8s.loop.stats() end
---Driver options inside k8s.Run (PoolSize, IdleTimeout, ConnectTimeout, ReadTimeout, WatchReadSlice).
function k8s.loop.configure(options) end

---@class k8s.SharedIndexInformer
local SharedIndexInformer = {}
---@return table registration with :HasSynced()
function SharedIndexInformer:AddEventHandler(handler) end
---@return table registration
function SharedIndexInformer:AddEventHandlerWithResyncPeriod(handler, seconds) end
function SharedIndexInformer:RemoveEventHandler(registration) end
---@return boolean|nil, string|nil
function SharedIndexInformer:AddIndexers(indexers) end
---@return table indexer (GetByKey, List, ListKeys, ByIndex, IndexKeys, ListIndexFuncValues, AddIndexers)
function SharedIndexInformer:GetIndexer() end
---@return boolean
function SharedIndexInformer:HasSynced() end
---@return string
function SharedIndexInformer:LastSyncResourceVersion() end
function SharedIndexInformer:Run() end
function SharedIndexInformer:Stop() end
---@return boolean
function SharedIndexInformer:IsStopped() end

---@class k8s.SharedInformerFactory
local SharedInformerFactory = {}
---Start every informer requested so far (returns at once).
function SharedInformerFactory:Start() end
---@return table<string, boolean>
function SharedInformerFactory:WaitForCacheSync(timeoutSeconds) end
function SharedInformerFactory:Shutdown() end

k8s.informers = {}
---@return k8s.SharedInformerFactory
function k8s.informers.NewSharedInformerFactory(clientset, resyncSeconds) end
---options: Namespace, TweakListOptions(opts), UseWatchList, WatchListTimeout, OnHandlerError(err, ...)
---@return k8s.SharedInformerFactory
function k8s.informers.NewSharedInformerFactoryWithOptions(clientset, resyncSeconds, options) end
---@return k8s.SharedIndexInformer
function k8s.informers.NewSharedIndexInformer(listWatch, groupResource, resyncSeconds, options) end
---@return boolean
function k8s.informers.WaitForCacheSync(timeoutSeconds, ...) end
k8s.dynamicinformer = {}
---@return table factory with :ForResource(gvr) -> { Informer(), Lister() }, :Start(), :WaitForCacheSync(), :Shutdown()
function k8s.dynamicinformer.NewDynamicSharedInformerFactory(dynamicClient, resyncSeconds) end
---@return table factory
function k8s.dynamicinformer.NewFilteredDynamicSharedInformerFactory(dynamicClient, resyncSeconds, namespace, tweak) end

k8s.labels = {}
---@return table|nil selector with :Matches(labels), :Empty(), :String()
---@return k8s.Error|nil
function k8s.labels.Parse(selector) end

---@class k8s.LeaderElector
local LeaderElector = {}
---Start the elector as a task (returns at once).
function LeaderElector:Run() end
function LeaderElector:Stop() end
---@return boolean
function LeaderElector:IsLeader() end
---@return string
function LeaderElector:GetLeader() end
---@return boolean
function LeaderElector:Stopped() end
---@return boolean|nil, k8s.Error|nil
function LeaderElector:Check(maxTolerableExpiredLeaseSeconds) end
k8s.leaderelection = {}
---@return k8s.LeaderElector|nil, k8s.Error|nil
function k8s.leaderelection.NewLeaderElector(config) end
---Run and drive the loop until the elector stops (in nginx: le:Run()).
---@return k8s.LeaderElector
function k8s.leaderelection.RunOrDie(config, stop) end
k8s.resourcelock = {}
---Only "leases"; options { Identity =, Labels = }.
---@return table|nil, k8s.Error|nil
function k8s.resourcelock.New(lockType, namespace, name, coordinationV1, options) end

---An informer cache in a lua_shared_dict, run by one worker, read by all
---(opts: dict, name, resource, config, namespace, TweakListOptions, LeaseTTL, LRUSize); or the one named so.
---@return table shared informer with :Start(), :Lister(), :HasSynced(), :Leader()
function k8s.ngx.SharedInformer(optsOrName) end

k8s.restmapper = {}
---@param client k8s.Clientset|k8s.DynamicClient|k8s.DiscoveryClient
---@return k8s.RESTMapper
function k8s.restmapper.NewDeferredDiscoveryRESTMapper(client) end
---@return string group, string version
function k8s.restmapper.ParseGroupVersion(apiVersion) end

k8s.apply = {}
---kubectl apply --server-side -f. opts: FieldManager, Force, DryRun, Namespace, FieldValidation, Timeout, Mapper, ApplySet, Prune, ApplySetTooling, Concurrency
---@param client k8s.Clientset|k8s.DynamicClient|k8s.Config
---@param manifests string|table
---@return k8s.ApplyResult[]|nil, k8s.Error|nil, k8s.ApplyResult[]|nil
function k8s.apply.Apply(client, manifests, opts) end
---kubectl delete -f. opts: Namespace, IgnoreNotFound, PropagationPolicy, GracePeriodSeconds, DryRun, Wait, Timeout, Mapper
---@return k8s.ApplyResult[]|nil, k8s.Error|nil, k8s.ApplyResult[]|nil
function k8s.apply.Delete(client, manifests, opts) end
---kubectl diff --server-side: a unified diff, "" when nothing would change
---@return string|nil, k8s.Error|nil
function k8s.apply.Diff(client, manifests, opts) end
---@return string
function k8s.apply.UnifiedDiff(a, b, nameA, nameB, context) end
---@return string applyset.kubernetes.io/id of a parent
function k8s.apply.ApplySetID(name, namespace, kind, group) end
---The namespace of the config a client was made from, or nil.
---@return string|nil
function k8s.rest.ClientNamespace(client) end

k8s.errors = {}
function k8s.errors.IsNotFound(err) end
function k8s.errors.IsAlreadyExists(err) end
function k8s.errors.IsConflict(err) end
function k8s.errors.IsInvalid(err) end
function k8s.errors.IsBadRequest(err) end
function k8s.errors.IsUnauthorized(err) end
function k8s.errors.IsForbidden(err) end
function k8s.errors.IsGone(err) end
function k8s.errors.IsResourceExpired(err) end
function k8s.errors.IsTooManyRequests(err) end
function k8s.errors.IsTimeout(err) end
function k8s.errors.IsServerTimeout(err) end
function k8s.errors.IsInternalError(err) end
function k8s.errors.IsServiceUnavailable(err) end
function k8s.errors.IsMethodNotSupported(err) end


---@class k8s.Backoff wait.Backoff, durations in seconds
---@field Duration number the initial duration
---@field Factor number|nil Duration is multiplied by it at each step (0: unchanged)
---@field Jitter number|nil each sleep is Duration plus up to Jitter*Duration at random
---@field Steps integer tries left (at most Steps calls)
---@field Cap number|nil a limit on Duration; reaching it sets Steps to 0
---@field Sleep fun(seconds: number)|nil an extension: sleeps through this function instead

---client-go's util/retry.
k8s.retry = {}
---@type k8s.Backoff Steps 5, Duration 0.010, Factor 1.0, Jitter 0.1
k8s.retry.DefaultRetry = {}
---@type k8s.Backoff Steps 4, Duration 0.010, Factor 5.0, Jitter 0.1
k8s.retry.DefaultBackoff = {}
---Run fn while retriable(err) is true (at most backoff.Steps tries); nil on success,
---fn's error when not retriable, the last error when the tries run out.
---fn returns nil on success or the error (`nil, err` also counts as err).
---@param backoff k8s.Backoff
---@param retriable fun(err: any): boolean
---@param fn fun(): any
---@return any|nil err
function k8s.retry.OnError(backoff, retriable, fn) end
---OnError(backoff, k8s.errors.IsConflict, fn).
---@param backoff k8s.Backoff
---@param fn fun(): any
---@return any|nil err
function k8s.retry.RetryOnConflict(backoff, fn) end
---wait.ExponentialBackoff: condition() -> done, err; ErrWaitTimeout (reason "Timeout") when the steps run out.
---@param backoff k8s.Backoff
---@param condition fun(): boolean, any
---@return any|nil err
function k8s.retry.ExponentialBackoff(backoff, condition) end
---wait.Backoff.Step: the sleep now; updates backoff's Duration and Steps in place.
---@param backoff k8s.Backoff
---@return number seconds
function k8s.retry.Step(backoff) end
---wait.Jitter: duration plus up to maxFactor*duration at random (maxFactor <= 0: 1).
---@return number seconds
function k8s.retry.Jitter(duration, maxFactor) end

---@class k8s.WaitOptions
---@field For string "condition=Available[=False]", "delete", "create", "jsonpath={.status.phase}[=Running]"
---@field Timeout number|nil seconds (30); 0 checks once; negative waits a week
---@field Mapper k8s.RESTMapper|nil resolves resource (default: a new DeferredDiscoveryRESTMapper)
---@field OnWatch fun(obj: table|nil, name: string|nil)|nil called before each watch the wait opens

---kubectl wait.
k8s.wait = {}
---Wait until objects meet opts.For: the objects in their final state, or nil, err
---(reason "Timeout" naming what is unmet, "NotFound", "NoMatchingResources", ...).
---@param client k8s.Clientset|k8s.DynamicClient|k8s.Config
---@param resource string|{Group: string, Version: string, Resource: string, Namespaced: boolean|nil}
---@param namespace string|nil nil: the config's namespace or "default"; "": every namespace (selectors)
---@param nameOrSelector string|{LabelSelector: string|nil, FieldSelector: string|nil, All: boolean|nil}
---@param opts k8s.WaitOptions
---@return table[]|nil, k8s.Error|nil
function k8s.wait.For(client, resource, namespace, nameOrSelector, opts) end

return k8s

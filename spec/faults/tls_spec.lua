-- Fault matrix row 20 (reliability.md 3.9): the faults API server's
-- serving certificate is replaced by one from another CA. kube-apiserver
-- hot-reloads --tls-cert-file/--tls-private-key-file (dynamic serving
-- content: fsnotify, and a resync every minute); the spec waits until a new
-- connection is served the new certificate (openssl s_client's
-- fingerprint). Then, on the blocking libcurl driver and the k8s.loop
-- driver:
--  * a new client that trusts only the kubeconfig's CA fails with a
--    certificate error (TLSVerifyFailed, no HTTP status) and nothing reaches
--    the server (its audit log shows no such request): no insecure fallback;
--  * a new client given the new CA succeeds: the same request now shows in
--    the audit log (and is answered 404), and a GET of an object works.
-- The original files are put back afterwards (also when a test fails), and
-- the spec waits until they are served again. This file runs last of
-- spec/faults/ (alphabetical order).
local H = require "spec.helper"
local F = require "spec.faults.helper"
local k8s = require "k8s"

local errors = k8s.errors

describe("serving certificate from another CA (fault matrix row 20, " .. H.interpreter .. ")", function()
  local tmp, ns, admin, orig_fp, new_fp, swapped
  local CRT, KEY = F.STATE .. "/apiserver.crt", F.STATE .. "/apiserver.key"

  local function file_fp(path)
    return F.sh("openssl x509 -noout -fingerprint -sha256 -in " .. H.shq(path)):match("=(%S+)")
  end

  -- the fingerprint of the certificate a new connection is served
  local function served_fp()
    return F.sh("openssl s_client -connect 127.0.0.1:" .. F.PORT .. " </dev/null 2>/dev/null"
      .. " | openssl x509 -noout -fingerprint -sha256"):match("=(%S+)")
  end

  -- put crt and key in place (a rename each: the server never reads half a file)
  local function install(crt, key)
    F.sh("cp " .. H.shq(key) .. " " .. H.shq(KEY .. ".new") .. " && cp " .. H.shq(crt) .. " " .. H.shq(CRT .. ".new")
      .. " && mv -f " .. H.shq(KEY .. ".new") .. " " .. H.shq(KEY) .. " && mv -f " .. H.shq(CRT .. ".new") .. " " .. H.shq(CRT))
  end

  setup(function()
    tmp = F.tmpdir()
    admin = assert(k8s.NewForConfig(H.config("admin-token")))
    ns = H.namespace(admin)
    assert(admin:CoreV1():ConfigMaps(ns):Create({ metadata = { name = "target" }, data = { v = "1" } }))
    F.sh("cp " .. H.shq(CRT) .. " " .. tmp .. "/orig.crt && cp " .. H.shq(KEY) .. " " .. tmp .. "/orig.key")
    orig_fp = file_fp(tmp .. "/orig.crt")
    assert.are.equal(orig_fp, served_fp())
    -- another CA, and a serving certificate from it with the same names
    local san = "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
      .. "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    F.sh("cd " .. tmp .. " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout newca.key"
      .. " -out newca.crt -days 1 -subj /CN=k8s-lua-faults-other-ca"
      .. " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout new.key -out new.csr"
      .. " -subj /CN=kube-apiserver -addext extendedKeyUsage=serverAuth -addext subjectAltName=" .. san
      .. " && openssl x509 -req -in new.csr -CA newca.crt -CAkey newca.key -CAcreateserial -days 1"
      .. " -copy_extensions copyall -out new.crt")
    assert(H.exists(tmp .. "/new.crt"), "openssl failed")
    new_fp = file_fp(tmp .. "/new.crt")
    swapped = true
    install(tmp .. "/new.crt", tmp .. "/new.key")
    H.eventually(function() return served_fp() == new_fp end, 120, "the API server to serve the new certificate")
  end)

  teardown(function()
    if swapped then
      install(tmp .. "/orig.crt", tmp .. "/orig.key")
      H.eventually(function() return served_fp() == orig_fp end, 120, "the API server to serve the original certificate again")
    end
    H.cleanup_namespaces()
    F.rmdir(tmp)
  end)

  for _, d in ipairs(H.DRIVERS) do
    it("row 20 (" .. d.name .. "): a new client with the old CA fails with TLSVerifyFailed and sends nothing; with the new CA it succeeds", function()
      local name = H.name("row20")
      local uri = "/api/v1/namespaces/" .. ns .. "/configmaps/" .. name
      local old, new = {}, {}
      d.run(function()
        local cs = assert(k8s.NewForConfig(H.config("admin-token"))) -- the kubeconfig's CA
        old.obj, old.err = cs:CoreV1():ConfigMaps(ns):Get(name)
        old.audit = F.audit_count(uri)
        local cfg = H.config("admin-token")
        cfg.TLSClientConfig.CAFile = tmp .. "/newca.crt"
        local cms = assert(k8s.NewForConfig(cfg)):CoreV1():ConfigMaps(ns)
        -- the same request, which the server now sees (and answers 404)
        new.missing, new.err404 = cms:Get(name)
        new.audit = F.audit_count(uri)
        new.obj, new.err = cms:Get("target")
      end)
      assert.is_nil(old.obj)
      assert.is_table(old.err)
      assert.are.equal("TLSVerifyFailed", old.err.reason, tostring(old.err))
      assert.are.equal(0, old.err.code)
      assert.is_true(errors.IsTransportError(old.err))
      -- no request reached the server
      assert.are.equal(0, old.audit)
      F.diag("row 20 (%s, %s): %s", H.interpreter, d.name, tostring(old.err))
      assert.is_nil(new.missing)
      assert.is_true(errors.IsNotFound(new.err404), tostring(new.err404))
      assert.are.equal(1, new.audit)
      assert.is_table(new.obj, tostring(new.err))
      assert.are.equal("1", new.obj.data.v)
    end)
  end
end)

-- A test exec credential plugin. Usage (from an ExecProvider):
--   lua5.4 spec/plugins/exec_plugin.lua MODE COUNTFILE
-- MODE: token | expiring | cert | fail | badjson | leakyjson | wrongversion | echoinfo | flood
-- Reads PLUGIN_TOKEN (and PLUGIN_CERT/PLUGIN_KEY files for cert) from the
-- environment the ExecProvider sets; appends a line to COUNTFILE per run.
-- expiring (PLUGIN_TTL seconds, default 2) writes the expiry it printed, as
-- Unix seconds, to COUNTFILE.exp.
local mode, countfile = arg[1], arg[2]
if countfile then
  local f = assert(io.open(countfile, "a"))
  f:write("run\n")
  f:close()
end

local function jstr(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == "\n" then return "\\n" end
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local info = os.getenv("KUBERNETES_EXEC_INFO") or ""
local version = info:match('"apiVersion":"([^"]+)"') or "client.authentication.k8s.io/v1"

if mode == "fail" then
  io.stderr:write("exec_plugin: refusing on purpose\n")
  os.exit(3)
elseif mode == "badjson" then
  io.write("this is not json")
  os.exit(0)
elseif mode == "leakyjson" then
  -- malformed right at the token: a parser's "near ..." text would quote it
  io.write('{"apiVersion":"' .. version .. '","kind":"ExecCredential","status":{"token":' ..
           (os.getenv("PLUGIN_TOKEN") or "") .. '}}')
  os.exit(0)
elseif mode == "flood" then
  -- a valid ExecCredential, but 2 MiB: over the runner's 1 MiB cap
  io.write('{"apiVersion":"' .. version .. '","kind":"ExecCredential","status":{"token":"' ..
           string.rep("x", 2 * 1024 * 1024) .. '"}}')
  os.exit(0)
elseif mode == "wrongversion" then
  version = "client.authentication.k8s.io/v1alpha1"
end

local status
if mode == "cert" then
  status = '"clientCertificateData":' .. jstr(read(os.getenv("PLUGIN_CERT"))) ..
           ',"clientKeyData":' .. jstr(read(os.getenv("PLUGIN_KEY")))
else
  status = '"token":' .. jstr(os.getenv("PLUGIN_TOKEN") or "")
end
if mode == "expiring" then
  local secs = tonumber(os.getenv("PLUGIN_TTL") or "2")
  local exp = os.time() + secs
  status = status .. ',"expirationTimestamp":"' .. os.date("!%Y-%m-%dT%H:%M:%SZ", exp) .. '"'
  if countfile then -- the expiry, Unix seconds, for the spec to wait for
    local f = assert(io.open(countfile .. ".exp", "w"))
    f:write(exp, "\n")
    f:close()
  end
end
if mode == "echoinfo" then
  local f = assert(io.open(countfile .. ".info", "w"))
  f:write(info)
  f:close()
end
io.write('{"apiVersion":"' .. version .. '","kind":"ExecCredential","status":{' .. status .. '}}')

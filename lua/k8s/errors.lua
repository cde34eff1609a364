--- Error predicates, as apimachinery's `errors` package.
-- Every network or server failure comes back as `nil, err`, where `err` is a
-- table: `code` (HTTP status, 0 below HTTP), `reason` (StatusReason or a
-- transport class such as "ConnectionRefused", "TLSVerifyFailed", "Timeout"),
-- `message`, `status` (the decoded metav1.Status or nil) and
-- `retryAfterSeconds`. `tostring(err)` is one line without secrets.
-- @module k8s.errors
local M = {}

-- The C core's metatable when the binding is there (its __tostring); a
-- module such as k8s.labels also works in plain Lua without it.
local ok_core, core = pcall(require, "k8s.core")
local error_mt = ok_core and type(core) == "table" and core.error_mt or {
  __name = "k8s.Error",
  __tostring = function(e)
    if (e.code or 0) ~= 0 then return ("k8s: %s (%d): %s"):format(tostring(e.reason), e.code, tostring(e.message)) end
    return "k8s: " .. tostring(e.reason) .. ": " .. tostring(e.message)
  end,
}

--- New(reason, message[, code[, fields]]) -> an error of the library's kind:
-- { code = code or 0, reason, message, retryAfterSeconds = 0 } with the
-- members of `fields` added (e.g. status, a metav1.Status table), whose
-- tostring is one line. The library's own modules make their errors with it.
function M.New(reason, message, code, fields)
  local e = { code = code or 0, reason = reason, message = message, retryAfterSeconds = 0 }
  if fields then for k, v in pairs(fields) do e[k] = v end end
  return setmetatable(e, error_mt)
end

--- IsError(v): v is an error made by this library (a request's err or New's).
function M.IsError(v)
  return getmetatable(v) == error_mt
end

-- Reasons apimachinery knows; for any other reason the HTTP code decides.
local known = {
  Unauthorized = true, Forbidden = true, NotFound = true, AlreadyExists = true,
  Conflict = true, Gone = true, Invalid = true, ServerTimeout = true,
  StoreReadError = true, Timeout = true, TooManyRequests = true, BadRequest = true,
  MethodNotAllowed = true, NotAcceptable = true, RequestEntityTooLarge = true,
  UnsupportedMediaType = true, InternalError = true, Expired = true,
  ServiceUnavailable = true,
}

local function reason_and_code(err)
  if type(err) ~= "table" then return nil, nil end
  local reason, code = err.reason, err.code
  if type(err.status) == "table" then
    reason = err.status.reason or reason
    code = err.status.code or code
  end
  return reason, code
end

local function pred(reason, code)
  return function(err)
    local r, c = reason_and_code(err)
    if r == nil and c == nil then return false end
    if r == reason then return true end
    if code and not known[r] and c == code then return true end
    return false
  end
end

--- ReasonForError: the StatusReason of err, or "" when it has none.
function M.ReasonForError(err)
  local r = reason_and_code(err)
  return r or ""
end

M.IsNotFound = pred("NotFound", 404)
M.IsAlreadyExists = pred("AlreadyExists")
M.IsConflict = pred("Conflict", 409)
M.IsInvalid = pred("Invalid", 422)
M.IsBadRequest = pred("BadRequest", 400)
M.IsUnauthorized = pred("Unauthorized", 401)
M.IsForbidden = pred("Forbidden", 403)
M.IsGone = pred("Gone", 410)
M.IsResourceExpired = pred("Expired")
M.IsTooManyRequests = pred("TooManyRequests", 429)
M.IsTimeout = pred("Timeout", 504)
M.IsServerTimeout = pred("ServerTimeout")
M.IsInternalError = pred("InternalError", 500)
M.IsServiceUnavailable = pred("ServiceUnavailable", 503)
M.IsMethodNotSupported = pred("MethodNotAllowed", 405)
M.IsNotAcceptable = pred("NotAcceptable", 406)
M.IsUnsupportedMediaType = pred("UnsupportedMediaType", 415)
M.IsRequestEntityTooLargeError = pred("RequestEntityTooLarge", 413)

--- Whether err is below HTTP (no response was received).
function M.IsTransportError(err)
  return type(err) == "table" and (err.code or 0) == 0
end

return M

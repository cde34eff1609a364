--- kubectl wait (k8s.io/kubectl/pkg/cmd/wait, v1.35): wait until objects
-- reach a condition, are created, or are deleted, driven by a watch.
--   local objs, err = k8s.wait.For(cs, "deployments.apps", "ns", "web",
--                                  { For = "condition=Available", Timeout = 60 })
--   k8s.wait.For(config, "pods", "ns", { LabelSelector = "app=web" }, { For = "jsonpath={.status.phase}=Running" })
--   k8s.wait.For(dc, "namespaces", nil, "old", { For = "delete", Timeout = 120 })
--
-- For(clients, resource, namespace, nameOrSelector, opts) -> list of objects | nil, err
-- * clients: a config table (k8s.clientcmd, k8s.rest), a Clientset
--   (k8s.NewForConfig) or a dynamic client (k8s.dynamic.NewForConfig). Objects
--   are read through the dynamic client; a Clientset lends its connections.
-- * resource: "deployments.apps", "deployment", "deploy", "Deployment",
--   "deployments.v1.apps", "crontabs.stable.example.com", ... (kubectl's
--   resource argument, resolved by k8s.restmapper's MappingFor: plural,
--   singular, kind or short name, with an optional .group or .version.group),
--   or { Group =, Version =, Resource = [, Namespaced =] } (without
--   Namespaced, the resource is taken as namespaced when a namespace is given).
-- * namespace: for namespaced resources; nil means the config's Namespace
--   (a config from a kubeconfig context) or "default"; "" means every
--   namespace (with a selector, as kubectl's -A). Ignored for cluster-scoped ones.
-- * nameOrSelector: a name, or { LabelSelector = "app=web" } (kubectl's -l),
--   { FieldSelector = "..." } (--field-selector) or { All = true } (--all).
-- * opts.For: "condition=Available" (the status must be True),
--   "condition=Available=False" (condition types and values compared without
--   regard to case), "delete", "create", "jsonpath={.status.phase}=Running",
--   "jsonpath={.data.key}" (without a value: the path exists). The JSONPath is
--   kubectl's (client-go's util/jsonpath): .field (\. escapes a dot), ['key'],
--   [n], [-n], [a:b:c], [*], .*, .., [a,b] and filters [?(@.type=="Ready")]
--   with == != < > <= >= or existence; "{...}", ".a.b" and "a.b" are all
--   accepted. A value is compared as the text Go's %v prints of a scalar
--   (3, true, 1.5, <nil> for null), with surrounding spaces trimmed.
-- * opts.Timeout: seconds (kubectl's default 30); 0 checks once without
--   waiting; negative waits for a week.
-- * opts.Mapper: a k8s.restmapper mapper to resolve resource with (its
--   discovery cache is then shared between calls); by default a new one.
-- * opts.OnWatch: an extension, function(obj, name): called each time the
--   wait, having found the condition unmet, is about to watch (obj: the
--   current object, nil when absent). A change made by it is seen.
--
-- The semantics are kubectl's:
-- * condition and jsonpath need the object: a name that does not exist fails
--   at once with NotFound, a selector that matches nothing with
--   "no matching resources found" (reason NoMatchingResources). An object
--   deleted during the wait is waited for again (until the timeout).
-- * A condition is looked up in status.conditions[] by type; the first of that
--   type decides; it is not met while its observedGeneration (or else
--   status.observedGeneration) is below metadata.generation.
-- * delete: an absent object (or a selector matching nothing) succeeds at
--   once; the result lists the objects that were seen and then went away.
-- * create: waits until the name exists, or the selector matches at least
--   one object; the result lists what exists then.
-- * With a selector, the objects matching it at the start are each waited
--   for in turn, within one overall timeout.
-- Each object is read by a LIST (fieldSelector metadata.name=<name>) and then
-- followed by a WATCH from that list's resourceVersion, with timeoutSeconds
-- the time left and each wait for an event bounded by it; a watch that ends
-- is reopened from the last resourceVersion seen, a 410 Gone (or any failed
-- watch) leads to a new LIST. Nothing polls; inside nginx the same code
-- yields on cosockets, and in a task of k8s.Run it yields to the loop.
--
-- A LIST or WATCH that fails for a transient reason (below HTTP, 410, 429,
-- 5xx) is tried again after a short backoff (0.5 s doubling to 5 s, within
-- the timeout), as kubectl's informer would; any other failure (403, 404 of
-- the resource type, ...) is returned at once.
--
-- Errors are the library's error tables. A timeout has reason "Timeout",
-- code 0, and kubectl's message followed by what is still unmet, e.g.
--   timed out waiting for the condition on deployments/web: Available=False
--   (MinimumReplicasUnavailable: Deployment does not have minimum availability.)
-- (Timeout = 0: "condition not met for deployments.apps/web: ..."). A JSONPath
-- that cannot be evaluated on the object (an index out of range, a map or a
-- list to compare with a value, several values) ends the wait with reason
-- "JSONPathError", as kubectl's does. Invalid arguments (an unknown For, a
-- JSONPath that does not parse, a bad Timeout) raise.
--
-- The objects returned carry apiVersion and kind.
-- @module k8s.wait
local core = require "k8s.core"
local errors = require "k8s.errors"
local rt = require "k8s.runtime"

local M = {}

local floor, ceil = math.floor, math.ceil
local null = core.null
local array_mt = core.array_mt

--- DefaultTimeout: seconds, when opts.Timeout is nil (kubectl's --timeout=30s).
M.DefaultTimeout = 30
local WEEK = 168 * 3600 -- a negative Timeout: kubectl waits a week

local function err_t(reason, message, code, status)
  return errors.New(reason, message, code, { status = status })
end

local function array(t) return setmetatable(t or {}, array_mt) end

local function is_array(v)
  return type(v) == "table" and (getmetatable(v) == array_mt or v[1] ~= nil)
end

local function is_object(v)
  return type(v) == "table" and not is_array(v)
end

-- ===================================================================
-- JSONPath: client-go's util/jsonpath, as kubectl wait uses it
-- (AllowMissingKeys(true), one {...} action).
-- ===================================================================

-- parse(expr), find(program, obj) and text(value) (Go's %v)
local jp = {}

local function jp_error(msg) error({ jsonpath = msg }, 0) end

local function is_terminator(c)
  return c == "" or c == " " or c == "\t" or c == "\r" or c == "\n" or c == "." or c == "," or c == "["
    or c == "]" or c == "$" or c == "@" or c == "{" or c == "}"
end

local function is_alnum(c)
  return c ~= "" and (c == "_" or c:match("^[%w\128-\255]$") ~= nil)
end

-- client-go's UnquoteExtend, for the common escapes
local function unquote(s)
  local q = s:sub(1, 1)
  local body = s:sub(2, -2)
  local map = { n = "\n", t = "\t", r = "\r", ["\\"] = "\\", ["'"] = "'", ['"'] = '"', a = "\a", b = "\b", f = "\f", v = "\v" }
  local out = body:gsub("\\(.)", function(ch)
    local r = map[ch]
    if not r then jp_error("unquote string " .. s .. " error invalid syntax") end
    return r
  end)
  if q ~= "'" and q ~= '"' then jp_error("invalid syntax") end
  return out
end

-- Parse the inside of one {...} action into a list of nodes.
local parse_action

local function parse_nodes(text)
  local nodes, pos, n = {}, 1, #text
  local function peek(k) return text:sub(pos, pos + (k or 1) - 1) end
  while pos <= n do
    local c = peek()
    if peek(3) == "[?(" then
      -- a filter: up to the ')' outside quotes, then ']'
      pos = pos + 3
      local start, begin, fin, pair = pos, false, false, nil
      while true do
        local r = text:sub(pos, pos)
        if r == "" or r == "\n" then jp_error("unterminated filter") end
        pos = pos + 1
        if r == '"' or r == "'" then
          if not begin then begin, pair = true, r
          elseif text:sub(pos - 2, pos - 2) ~= "\\" and r == pair then fin = true end
        elseif r == ")" and begin == fin then
          break
        end
      end
      if text:sub(pos, pos) ~= "]" then jp_error("unclosed array expect ]") end
      pos = pos + 1
      local inner = text:sub(start, pos - 3)
      local left, op, right = inner:match("^([^!<>=]+)([!<>=]+)(.-)$")
      if left and right ~= "" then
        nodes[#nodes + 1] = { t = "filter", left = parse_action(left), op = op, right = parse_action(right) }
      else
        nodes[#nodes + 1] = { t = "filter", left = parse_action(inner), op = "exists" }
      end
    elseif peek(2) == ".." then
      if nodes[#nodes] and nodes[#nodes].t == "recursive" then jp_error("invalid multiple recursive descent") end
      pos = pos + 2
      nodes[#nodes + 1] = { t = "recursive" }
      if is_alnum(peek()) then text = text:sub(1, pos - 1) .. "." .. text:sub(pos); n = #text end
    elseif c == " " or c == "@" or c == "$" then
      pos = pos + 1
    elseif c == "[" then
      local close = text:find("]", pos, true)
      local nl = text:find("\n", pos, true)
      if not close or (nl and nl < close) then jp_error("unterminated array") end
      local inner = text:sub(pos + 1, close - 1)
      pos = close + 1
      if inner == "*" then inner = ":" end
      if inner:find(",", 1, true) then
        local union = {}
        for part in (inner .. ","):gmatch("([^,]*),") do
          union[#union + 1] = parse_action("[" .. part:match("^%s*(.-)%s*$") .. "]")
        end
        nodes[#nodes + 1] = { t = "union", lists = union }
      elseif inner:match("^'[^']*'$") then
        for _, nd in ipairs(parse_action("." .. inner:sub(2, -2))) do nodes[#nodes + 1] = nd end
      else
        local a, b, s = inner:match("^(%-?%d*)(:?%-?%d*)(:?%-?%d*)$")
        if not a or (b ~= "" and b:sub(1, 1) ~= ":") or (s ~= "" and s:sub(1, 1) ~= ":")
           or (b == "" and s ~= "") then
          jp_error("invalid array index " .. inner)
        end
        local params = { {}, {}, {} }
        local vals = { a, b, s }
        for i = 1, 3 do
          local v = vals[i]
          if v ~= "" then
            if i > 1 then v = v:sub(2) end
            if i > 1 and v == "" then
              params[i].known = false
            else
              local num = tonumber(v)
              if not num then jp_error("array index " .. v .. " is not a number") end
              params[i].known, params[i].value = true, num
            end
          elseif i == 2 then
            params[i].known, params[i].value, params[i].derived = true, (params[1].value or 0) + 1, true
          else
            params[i].known, params[i].value = false, 0
          end
        end
        nodes[#nodes + 1] = { t = "array", params = params }
      end
    elseif c == '"' or c == "'" then
      local q, i = c, pos + 1
      while true do
        local r = text:sub(i, i)
        if r == "" or r == "\n" then jp_error("unterminated quoted string") end
        if r == q and text:sub(i - 1, i - 1) ~= "\\" then break end
        i = i + 1
      end
      nodes[#nodes + 1] = { t = "text", value = unquote(text:sub(pos, i)) }
      pos = i + 1
    elseif c == "." then
      pos = pos + 1
      local start = pos
      while true do
        local r = text:sub(pos, pos)
        if r == "\\" then pos = pos + 2
        elseif is_terminator(r) then break
        else pos = pos + 1 end
      end
      local value = text:sub(start, pos - 1)
      if value == "*" then nodes[#nodes + 1] = { t = "wildcard" }
      else nodes[#nodes + 1] = { t = "field", value = (value:gsub("\\", "")) } end
    elseif c == "+" or c == "-" or c:match("%d") then
      local start = pos
      if c == "+" or c == "-" then pos = pos + 1 end
      while text:sub(pos, pos):match("^[%d%.]$") do pos = pos + 1 end
      local s = text:sub(start, pos - 1)
      local v = s:match("^[+-]?%d+$") and tonumber(s) or (s:match("^[+-]?%d*%.?%d*$") and tonumber(s))
      if not v then jp_error("cannot parse number " .. s) end
      nodes[#nodes + 1] = { t = "number", value = v }
    elseif is_alnum(c) then
      local start = pos
      while not is_terminator(text:sub(pos, pos)) do pos = pos + 1 end
      local s = text:sub(start, pos - 1)
      if s == "true" or s == "false" then nodes[#nodes + 1] = { t = "bool", value = s == "true" }
      else nodes[#nodes + 1] = { t = "identifier", value = s } end
    elseif c == "\r" or c == "\n" then
      jp_error("unclosed action")
    else
      jp_error(("unrecognized character in action: %q"):format(c))
    end
  end
  return nodes
end
parse_action = parse_nodes

--- jsonpath.parse(expr) -> program | nil, message: expr is one "{...}" action.
function jp.parse(expr)
  local inner = expr:match("^{(.*)}$")
  if not inner then return nil, "a JSONPath expression must be one {...} action" end
  if inner:find("[{}]") then return nil, "unexpected { or } inside the JSONPath action" end
  local ok, nodes = pcall(parse_nodes, inner)
  if not ok then
    if type(nodes) == "table" and nodes.jsonpath then return nil, nodes.jsonpath end
    error(nodes, 0)
  end
  return { expr = expr, nodes = nodes }
end

-- the Go type a value's error messages name
local function go_type(v)
  if v == null then return "<nil>" end
  local t = type(v)
  if t == "string" then return "string" end
  if t == "boolean" then return "bool" end
  if t == "number" then
    if math.type and math.type(v) == "float" then return "float64" end
    return (v == floor(v)) and "int64" or "float64"
  end
  if is_array(v) then return "[]interface {}" end
  return "map[string]interface {}"
end

--- jsonpath.text(v): Go's fmt %v of a decoded JSON scalar.
local function go_text(v)
  if v == null then return "<nil>" end
  local t = type(v)
  if t == "string" then return v end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    if math.type and math.type(v) == "integer" then return tostring(v) end
    if v ~= v then return "NaN" end
    if v == floor(v) and math.abs(v) < 1e21 then return ("%.0f"):format(v) end
    for _, p in ipairs { 15, 16, 17 } do
      local s = ("%." .. p .. "g"):format(v)
      if tonumber(s) == v then return s end
    end
    return ("%.17g"):format(v)
  end
  return tostring(v)
end
jp.text = go_text

local eval_list

-- text/template's eq/ne/lt/... on basic values (numbers form one kind here)
local function compare(op, l, r)
  local tl, tr = type(l), type(r)
  local basic = { string = true, number = true, boolean = true }
  if l == null or r == null or not basic[tl] or not basic[tr] then jp_error("invalid type for comparison") end
  if tl ~= tr then jp_error("incompatible types for comparison") end
  if op == "==" then return l == r end
  if op == "!=" then return l ~= r end
  if tl == "boolean" then jp_error("invalid type for comparison") end
  if op == "<" then return l < r end
  if op == ">" then return l > r end
  if op == "<=" then return l <= r end
  if op == ">=" then return l >= r end
  jp_error("unrecognized filter operator " .. op)
end

local function children(v)
  local out = {}
  if is_array(v) then
    for i = 1, #v do out[#out + 1] = v[i] end
  elseif type(v) == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do out[#out + 1] = v[k] end
  end
  return out
end

local function recursive(input, out)
  for _, v in ipairs(input) do
    if v ~= null then
      local ch = children(v)
      if #ch > 0 then
        out[#out + 1] = v
        recursive(ch, out)
      end
    end
  end
  return out
end

local function eval_node(input, node)
  local t = node.t
  if t == "field" then
    local out = {}
    for _, v in ipairs(input) do
      if is_object(v) then
        local x = v[node.value]
        if x ~= nil then out[#out + 1] = x end
      end
    end
    return out
  elseif t == "array" then
    local out = {}
    for _, v in ipairs(input) do
      if v ~= null then
        if not is_array(v) and not (type(v) == "table" and next(v) == nil) then
          jp_error(go_type(v) .. " is not array or slice")
        end
        local len = #v
        local p1, p2, p3 = node.params[1], node.params[2], node.params[3]
        local a = p1.known and p1.value or 0
        if a < 0 then a = a + len end
        local b = p2.known and p2.value or len
        if b < 0 or (b == 0 and p2.derived) then b = b + len end
        if b ~= a then
          if a >= len or a < 0 then jp_error(("array index out of bounds: index %d, length %d"):format(a, len)) end
          if b > len or b < 0 then jp_error(("array index out of bounds: index %d, length %d"):format(b - 1, len)) end
          if a > b then jp_error(("starting index %d is greater than ending index %d"):format(a, b)) end
          local step = 1
          if p3.known then
            if p3.value <= 0 then jp_error("step must be > 0") end
            step = p3.value
          end
          for i = a, b - 1, step do out[#out + 1] = v[i + 1] end
        end
      end
    end
    return out
  elseif t == "filter" then
    local out = {}
    for _, v in ipairs(input) do
      if not is_array(v) and not (type(v) == "table" and next(v) == nil) then
        jp_error(go_text(v) .. " is not array or slice and cannot be filtered")
      end
      for i = 1, #v do
        local ok, lefts = pcall(eval_list, { v[i] }, node.left)
        if node.op == "exists" then
          if ok and #lefts > 0 then out[#out + 1] = v[i] end
        else
          if not ok then error(lefts, 0) end
          if #lefts > 1 then jp_error("can only compare one element at a time") end
          if #lefts == 1 then
            local rights = eval_list({ v[i] }, node.right)
            if #rights > 1 then jp_error("can only compare one element at a time") end
            if #rights == 1 and compare(node.op, lefts[1], rights[1]) then out[#out + 1] = v[i] end
          end
        end
      end
    end
    return out
  elseif t == "wildcard" then
    local out = {}
    for _, v in ipairs(input) do
      if v ~= null then
        for _, c in ipairs(children(v)) do out[#out + 1] = c end
      end
    end
    return out
  elseif t == "recursive" then
    return recursive(input, {})
  elseif t == "union" then
    local out = {}
    for _, l in ipairs(node.lists) do
      for _, x in ipairs(eval_list(input, l)) do out[#out + 1] = x end
    end
    return out
  elseif t == "text" then
    return { node.value }
  elseif t == "number" or t == "bool" then
    local out = {}
    for i = 1, #input do out[i] = node.value end
    return out
  elseif t == "identifier" then
    jp_error("unrecognized identifier " .. node.value .. " (range/end are not supported here)")
  end
  jp_error("unexpected node " .. tostring(t))
end

eval_list = function(input, nodes)
  local cur = input
  for _, node in ipairs(nodes) do cur = eval_node(cur, node) end
  return cur
end

--- jsonpath.find(program, obj) -> values | nil, message.
function jp.find(prog, obj)
  local ok, res = pcall(eval_list, { obj }, prog.nodes)
  if not ok then
    if type(res) == "table" and res.jsonpath then return nil, res.jsonpath end
    error(res, 0)
  end
  return res
end

-- kubectl's RelaxedJSONPathExpression: {.a.b}, {a.b}, .a.b and a.b all mean {.a.b}
local function relaxed(expr)
  if expr == "" then return expr end
  local spec = expr:match("^{%.?([^{}]+)}$") or expr:match("^%.?([^{}]+)$")
  if not spec then
    return nil, "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'"
  end
  return "{." .. spec .. "}"
end

-- kubectl's splitJSONPathInput: split on single '=', keeping '=='
local function split_jsonpath_input(input)
  local out, cur, i = {}, {}, 1
  while i <= #input do
    local c = input:sub(i, i)
    if c == "=" then
      if input:sub(i + 1, i + 1) == "=" then
        cur[#cur + 1] = "=="
        i = i + 1
      else
        out[#out + 1] = table.concat(cur)
        cur = {}
      end
    else
      cur[#cur + 1] = c
    end
    i = i + 1
  end
  out[#out + 1] = table.concat(cur)
  return out
end

-- ===================================================================
-- --for: the condition functions
-- ===================================================================

local function lower(s) return (tostring(s):lower()) end

local function get_int(v)
  if type(v) == "number" then return v end
  return nil
end

local function nested(obj, ...)
  local v = obj
  for i = 1, select("#", ...) do
    if type(v) ~= "table" then return nil end
    v = v[select(i, ...)]
  end
  return v
end

-- The condition of type name (the first one), and whether it is met.
local function check_condition(spec, obj)
  local conds = nested(obj, "status", "conditions")
  if type(conds) ~= "table" then
    return false, nil, "no " .. spec.name .. " condition (status.conditions is empty)"
  end
  for _, c in ipairs(conds) do
    if type(c) == "table" and type(c.type) == "string" and lower(c.type) == lower(spec.name)
       and type(c.status) == "string" then
      local detail = c.type .. "=" .. c.status
      local reason = type(c.reason) == "string" and c.reason or ""
      local message = type(c.message) == "string" and c.message or ""
      if reason ~= "" and message ~= "" then detail = detail .. " (" .. reason .. ": " .. message .. ")"
      elseif reason ~= "" or message ~= "" then detail = detail .. " (" .. reason .. message .. ")" end
      local generation = get_int(nested(obj, "metadata", "generation"))
      if generation then
        local og = get_int(c.observedGeneration)
        if og == nil then og = get_int(nested(obj, "status", "observedGeneration")) end
        if og and og < generation then
          return false, nil, detail .. ", observed at generation " .. go_text(og) .. " < metadata.generation " .. go_text(generation)
        end
      end
      return lower(c.status) == lower(spec.value), nil, detail
    end
  end
  return false, nil, "no " .. spec.name .. " condition"
end

local function check_jsonpath(spec, obj)
  local res, perr = jp.find(spec.prog, obj)
  if not res then return false, perr end
  if #res == 0 then return false, nil, spec.expr .. " has no value" end
  if #res > 1 then return false, "given jsonpath expression matches more than one value" end
  local v = res[1]
  if spec.any then return true, nil, spec.expr .. " exists" end
  local got
  if type(v) == "table" then
    return false, "jsonpath leads to a nested object or list which is not supported"
  end
  got = go_text(v)
  local trim = function(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
  local met = trim(got) == trim(spec.value)
  return met, nil, spec.expr .. "=" .. ("%q"):format(got):gsub("\\\n", "\\n") .. ", waiting for " .. ("%q"):format(spec.value)
end

--- parse_for(s) -> spec: kubectl's conditionFuncFor. Raises on an unknown or malformed condition.
local function parse_for(s, level)
  if type(s) ~= "string" then error("k8s.wait.For: opts.For must be a string, got " .. type(s), level + 1) end
  local l = s:lower()
  if l == "delete" then return { kind = "delete" } end
  if l == "create" then return { kind = "create" } end
  if s:sub(1, 10) == "condition=" then
    local name = s:sub(11)
    local value = "true"
    local eq = name:find("=", 1, true)
    if eq then name, value = name:sub(1, eq - 1), name:sub(eq + 1) end
    return { kind = "condition", name = name, value = value, check = check_condition }
  end
  if s:sub(1, 9) == "jsonpath=" then
    local parts = split_jsonpath_input(s:sub(10))
    if #parts < 1 or #parts > 2 then
      error("jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or --for=jsonpath='{.status.readyReplicas}'", level + 1)
    end
    local expr, rerr = relaxed(parts[1])
    if not expr then error(rerr, level + 1) end
    local value = ""
    if #parts == 2 then
      value = parts[2]:gsub("^['\"]+", ""):gsub("['\"]+$", "")
      if value == "" then
        error("jsonpath wait has to have a value after equal sign, like --for=jsonpath='{.status.readyReplicas}'=3", level + 1)
      end
    end
    if expr == "" then error("jsonpath expression cannot be empty", level + 1) end
    local prog, perr = jp.parse(expr)
    if not prog then error(perr, level + 1) end
    return { kind = "jsonpath", expr = expr, prog = prog, value = value, any = value == "", check = check_jsonpath }
  end
  error(("unrecognized condition: %q"):format(s), level + 1)
end

-- ===================================================================
-- clients and resource resolution
-- ===================================================================

-- { dyn = object with :Resource(gvr), client = for the restmapper, namespace = the config's }
local function clients_of(x, level)
  local tx = type(x)
  if tx == "userdata" then
    local kind = core.client_kind(x)
    local ns = require("k8s.rest").ClientNamespace(x) -- the config's Namespace
    if kind == "DynamicClient" then
      return { dyn = x, client = x, namespace = ns }
    end
    if kind == "Clientset" then
      -- a Clientset makes dynamic resource clients too: the same C type
      return { dyn = { Resource = function(_, gvr) return core.dynamic_resource(x, gvr) end }, client = x, namespace = ns }
    end
  elseif tx == "table" then
    local dc, err = require("k8s.dynamic").NewForConfig(x)
    if not dc then return nil, err end
    return { dyn = dc, client = dc,
             namespace = type(x.Namespace) == "string" and x.Namespace ~= "" and x.Namespace or nil }
  end
  error("k8s.wait.For: expects a config table, a Clientset or a dynamic client, got " .. tx, level + 1)
end

--- resolve_resource(mapper, arg) -> { Group, Version, Resource, Kind, Namespaced } | nil, err:
-- kubectl's reading of a resource argument, through k8s.restmapper's
-- MappingFor ("deploy", "deployments.apps", "deployments.v1.apps",
-- "Deployment", "crontabs.stable.example.com", short names, ...).
local function resolve_resource(mapper, arg)
  local m, err = mapper:MappingFor(arg)
  if not m then return nil, err end
  return { Group = m.Resource.Group, Version = m.Resource.Version, Resource = m.Resource.Resource,
           Kind = m.GroupVersionKind and m.GroupVersionKind.Kind, Namespaced = m.Scope == "Namespaced" }
end

-- "deployments.apps" (GroupResource.String)
local function group_resource(gvr)
  if gvr.Group == "" then return gvr.Resource end
  return gvr.Resource .. "." .. gvr.Group
end

local function not_found(gvr, name)
  local msg = ("%s %q not found"):format(group_resource(gvr), name)
  return err_t("NotFound", msg, 404, { kind = "Status", apiVersion = "v1", status = "Failure", message = msg,
    reason = "NotFound", code = 404, details = { name = name, group = gvr.Group, kind = gvr.Resource } })
end

-- ===================================================================
-- the wait itself
-- ===================================================================

local Waiter = {}
Waiter.__index = Waiter

local function transient(err)
  if type(err) ~= "table" then return true end
  local code = err.code or 0
  return code == 0 or code == 410 or code == 429 or code >= 500
      or errors.IsGone(err) or errors.IsResourceExpired(err) or errors.IsTooManyRequests(err)
end

function Waiter:left() return self.deadline - rt.now() end

function Waiter:client(ns)
  local rc = self.dyn:Resource({ Group = self.gvr.Group, Version = self.gvr.Version, Resource = self.gvr.Resource })
  if self.gvr.Namespaced and ns and ns ~= "" then rc = rc:Namespace(ns) end
  return rc
end

-- "deployments/web": kubectl's errWaitTimeoutWithName
function Waiter:timeout_error(name, detail)
  local msg = "timed out waiting for the condition"
  if name then msg = msg .. " on " .. self.gvr.Resource .. "/" .. name end
  if detail and detail ~= "" then msg = msg .. ": " .. detail end
  return err_t("Timeout", msg)
end

-- Sleep before trying again after a transient failure (bounded by the deadline).
function Waiter:backoff()
  local d = self.delay or 0.5
  self.delay = math.min(d * 2, 5)
  local left = self:left()
  if left <= 0 then return false end
  rt.sleep(math.min(d, left))
  return self:left() > 0
end

-- LIST with retries on transient failures: list | nil, err (nil, nil: out of time)
function Waiter:list(rc, o)
  while true do
    local list, err = rc:List(o)
    if list then
      self.delay = nil
      -- items carry their apiVersion and kind, as the dynamic client's UnstructuredList
      local kind = type(list.kind) == "string" and list.kind:match("^(.*)List$")
      for _, it in ipairs(list.items or {}) do
        if type(it) == "table" then
          if it.kind == nil and kind then it.kind = kind end
          if it.apiVersion == nil then it.apiVersion = list.apiVersion end
        end
      end
      return list
    end
    if not transient(err) then return nil, err end
    self.last_err = err
    if not self:backoff() then return nil, nil end
  end
end

local function rv_of(obj)
  local md = type(obj) == "table" and obj.metadata
  return type(md) == "table" and md.resourceVersion or nil
end

-- Follow one object (namespace, name): LIST it by name, then WATCH it from
-- that list's resourceVersion, until check(obj) is done. check(obj or nil
-- when absent) returns done, err (ends the wait), detail (what is unmet, for
-- the timeout's message). Returns obj (true when done on an absent object) |
-- nil, err; at the deadline nil and the timeout error with the last detail.
function Waiter:follow(ns, name, check)
  local rc = self:client(ns)
  local sel = "metadata.name=" .. name
  local obj, rv, detail
  local function consider(o)
    obj = o
    local done, err, d = check(o)
    detail = d
    if err then return true, nil, err end
    if done then return true, o or true end
    return false
  end
  local need_list = true
  while true do
    if need_list then
      local list, err = self:list(rc, { fieldSelector = sel })
      if not list then
        if err then return nil, err end
        return nil, self:timeout_error(name, detail or (self.last_err and tostring(self.last_err.message)))
      end
      rv = list.metadata and list.metadata.resourceVersion
      local item = list.items and list.items[1]
      local stop, res, err2 = consider(item)
      if stop then return res, err2 end
      need_list = false
    end
    if self.timeout == 0 or self:left() <= 0 then return nil, self:timeout_error(name, detail) end
    if self.on_watch then self.on_watch(obj, name) end
    local left = self:left()
    if left <= 0 then return nil, self:timeout_error(name, detail) end
    local w, werr = rc:Watch({ fieldSelector = sel, resourceVersion = rv, allowWatchBookmarks = true,
      timeoutSeconds = math.max(1, ceil(left)) })
    if not w then
      if not transient(werr) then return nil, werr end
      self.last_err = werr
      if errors.IsGone(werr) or errors.IsResourceExpired(werr) then
        need_list = true
      elseif not self:backoff() then
        return nil, self:timeout_error(name, detail)
      else
        need_list = true
      end
    else
      local started, events = rt.now(), 0
      while true do
        left = self:left()
        if left <= 0 then w:Stop(); return nil, self:timeout_error(name, detail) end
        local ev, err = w:Next(left)
        if ev == nil and err == nil then -- the server ended the watch: again from rv
          if events == 0 and rt.now() - started < 1 then
            -- closed at once without an event: take it for a failure
            if not self:backoff() then return nil, self:timeout_error(name, detail) end
            need_list = true
          end
          break
        end
        if ev == nil then
          if not (err.reason == "Timeout" and err.code == 0) then
            w:Stop()
            self.last_err = err
            if not self:backoff() then return nil, self:timeout_error(name, detail) end
            need_list = true
            break
          end
          -- a timeout of Next: the loop sees the deadline
        else
          events = events + 1
          self.delay = nil
          local o = ev.object
          if ev.type == "ERROR" then
            w:Stop()
            local code = type(o) == "table" and o.code
            local reason = type(o) == "table" and o.reason
            if not (code == 410 or reason == "Expired" or reason == "Gone") then
              self.last_err = err_t(reason or "InternalError", type(o) == "table" and o.message or "watch ERROR event", code)
              if not self:backoff() then return nil, self:timeout_error(name, detail) end
            end
            need_list = true
            break
          end
          rv = rv_of(o) or rv
          if ev.type == "ADDED" or ev.type == "MODIFIED" then
            local stop, res, err2 = consider(o)
            if stop then w:Stop(); return res, err2 end
          elseif ev.type == "DELETED" then
            local stop, res, err2 = consider(nil)
            if stop then w:Stop(); return res, err2 end
          end
        end
      end
    end
  end
end

local function describe_existing(obj)
  local md = type(obj) == "table" and obj.metadata or {}
  local d = "the object still exists"
  if type(md.deletionTimestamp) == "string" then
    d = d .. ", being deleted since " .. md.deletionTimestamp
  end
  if type(md.finalizers) == "table" and #md.finalizers > 0 then
    d = d .. ", finalizers: " .. table.concat(md.finalizers, " ")
  end
  if type(obj) == "table" and type(obj.spec) == "table" and type(obj.spec.finalizers) == "table" and #obj.spec.finalizers > 0 then
    d = d .. ", spec.finalizers: " .. table.concat(obj.spec.finalizers, " ")
  end
  return d
end

-- IsDeleted: the object was seen (gotten); done when it is gone
function Waiter:wait_deleted(ns, name)
  local last
  local res, err = self:follow(ns, name, function(obj)
    if obj == nil then return true, nil, nil end
    last = obj
    return false, nil, describe_existing(obj)
  end)
  -- a 404 on the resource itself (a custom resource whose CRD was deleted
  -- too): nothing of it exists any more
  if res == nil and errors.IsNotFound(err) then return last or true end
  if res == nil then return nil, err end
  return last or true
end

-- the objects to wait for: a list of { ns =, name =, obj = } | nil, err
function Waiter:targets(ns, sel)
  local rc = self:client(ns)
  local o = {}
  if sel.LabelSelector and sel.LabelSelector ~= "" then o.labelSelector = sel.LabelSelector end
  if sel.FieldSelector and sel.FieldSelector ~= "" then o.fieldSelector = sel.FieldSelector end
  local list, err = self:list(rc, o)
  if not list then
    if err then return nil, err end
    return nil, self:timeout_error(nil, self.last_err and tostring(self.last_err.message))
  end
  local out = {}
  for _, it in ipairs(list.items or {}) do
    local md = it.metadata or {}
    out[#out + 1] = { ns = md.namespace or ns, name = md.name, obj = it }
  end
  return out, nil, list
end

-- --for=create with a selector: until the selector matches something
function Waiter:wait_created_selector(ns, sel)
  local rc = self:client(ns)
  local o = {}
  if sel.LabelSelector and sel.LabelSelector ~= "" then o.labelSelector = sel.LabelSelector end
  if sel.FieldSelector and sel.FieldSelector ~= "" then o.fieldSelector = sel.FieldSelector end
  local what = (o.labelSelector and ("-l " .. o.labelSelector) or "") ..
    (o.fieldSelector and ((o.labelSelector and " " or "") .. "--field-selector " .. o.fieldSelector) or "")
  local function timeout()
    return err_t("Timeout", "timed out waiting for the condition: no " .. group_resource(self.gvr) ..
      (what ~= "" and (" matching " .. what) or "") .. " exists")
  end
  while true do
    local list, err = self:list(rc, o)
    if not list then return nil, err or timeout() end
    if list.items and #list.items > 0 then return list.items end
    if self.timeout == 0 or self:left() <= 0 then return nil, timeout() end
    if self.on_watch then self.on_watch(nil, nil) end
    local left = self:left()
    local wo = { resourceVersion = list.metadata and list.metadata.resourceVersion, allowWatchBookmarks = true,
      timeoutSeconds = math.max(1, ceil(left)), labelSelector = o.labelSelector, fieldSelector = o.fieldSelector }
    local w, werr = rc:Watch(wo)
    if not w then
      if not transient(werr) then return nil, werr end
      if not (errors.IsGone(werr) or errors.IsResourceExpired(werr)) and not self:backoff() then return nil, timeout() end
    else
      local started, events = rt.now(), 0
      while true do
        left = self:left()
        if left <= 0 then w:Stop(); return nil, timeout() end
        local ev, nerr = w:Next(left)
        if ev == nil and nerr == nil then
          if events == 0 and rt.now() - started < 1 and not self:backoff() then return nil, timeout() end
          break
        end
        if ev == nil and not (nerr.reason == "Timeout" and nerr.code == 0) then
          w:Stop()
          if not self:backoff() then return nil, timeout() end
          break
        end
        if ev then
          events = events + 1
          if ev.type == "ADDED" or ev.type == "ERROR" then w:Stop(); break end -- list again
          if ev.type == "MODIFIED" then w:Stop(); break end
        end
      end
    end
  end
end

local function timeout_of(opts)
  local t = opts.Timeout
  if t == nil then return M.DefaultTimeout end
  if type(t) ~= "number" then error("k8s.wait.For: opts.Timeout must be a number (seconds), got " .. type(t), 3) end
  if t < 0 then return WEEK end
  return t
end

--- For(clients, resource, namespace, nameOrSelector, opts) -> objects | nil, err.
-- kubectl wait; see the module comment for every argument and the semantics.
function M.For(clients, resource, namespace, target, opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error("k8s.wait.For: opts must be a table, got " .. type(opts), 2) end
  if opts.For == nil then error("k8s.wait.For: opts.For is required (condition=..., delete, create, jsonpath=...)", 2) end
  local spec = parse_for(opts.For, 2)
  local timeout = timeout_of(opts)
  if opts.OnWatch ~= nil and type(opts.OnWatch) ~= "function" then
    error("k8s.wait.For: opts.OnWatch must be a function, got " .. type(opts.OnWatch), 2)
  end
  if opts.Mapper ~= nil and (type(opts.Mapper) ~= "table" or type(opts.Mapper.MappingFor) ~= "function") then
    error("k8s.wait.For: opts.Mapper must be a k8s.restmapper mapper", 2)
  end
  if namespace ~= nil and type(namespace) ~= "string" then
    error("k8s.wait.For: namespace must be a string or nil, got " .. type(namespace), 2)
  end
  local name, sel
  if type(target) == "string" then
    if target == "" then error("k8s.wait.For: the name must not be empty", 2) end
    name = target
  elseif type(target) == "table" then
    if not (target.All or target.LabelSelector or target.FieldSelector) then
      error("k8s.wait.For: nameOrSelector must be a name, { LabelSelector = }, { FieldSelector = } or { All = true }", 2)
    end
    for _, k in ipairs { "LabelSelector", "FieldSelector" } do
      if target[k] ~= nil and type(target[k]) ~= "string" then
        error("k8s.wait.For: " .. k .. " must be a string, got " .. type(target[k]), 2)
      end
    end
    sel = target
  else
    error("k8s.wait.For: nameOrSelector must be a name or a selector table, got " .. type(target), 2)
  end

  local c, cerr = clients_of(clients, 2)
  if not c then return nil, cerr end
  local gvr
  if type(resource) == "string" then
    if resource == "" then error("k8s.wait.For: resource must not be empty", 2) end
    local mapper = opts.Mapper or require("k8s.restmapper").NewDeferredDiscoveryRESTMapper(c.client)
    local rerr
    gvr, rerr = resolve_resource(mapper, resource)
    if not gvr then return nil, rerr end
  elseif type(resource) == "table" then
    if type(resource.Version) ~= "string" or resource.Version == "" or type(resource.Resource) ~= "string"
       or resource.Resource == "" then
      error("k8s.wait.For: resource table needs Version and Resource (and Group)", 2)
    end
    local namespaced = resource.Namespaced
    if namespaced == nil then namespaced = namespace ~= nil end
    gvr = { Group = resource.Group or "", Version = resource.Version, Resource = resource.Resource,
            Namespaced = namespaced and true or false }
  else
    error("k8s.wait.For: resource must be a string or { Group =, Version =, Resource = }, got " .. type(resource), 2)
  end
  if gvr.Namespaced then
    if namespace == nil then namespace = c.namespace or "default" end
    if namespace == "" and name then
      error("k8s.wait.For: a name needs a namespace (\"\" means every namespace, for selectors)", 2)
    end
  else
    namespace = nil
  end

  local w = setmetatable({ dyn = c.dyn, gvr = gvr, timeout = timeout, deadline = rt.now() + timeout,
    on_watch = opts.OnWatch }, Waiter)
  local out = array()

  if spec.kind == "create" then
    if name then
      local res, err = w:follow(namespace, name, function(obj)
        if obj ~= nil then return true end
        return false, nil, "the object does not exist"
      end)
      if res == nil then return nil, err end
      out[1] = res
      return out
    end
    local items, err = w:wait_created_selector(namespace, sel)
    if not items then return nil, err end
    for i, it in ipairs(items) do out[i] = it end
    return out
  end

  local targets
  if name then
    targets = { { ns = namespace, name = name } }
  else
    local terr
    targets, terr = w:targets(namespace, sel)
    if not targets then return nil, terr end
    if #targets == 0 and spec.kind ~= "delete" then
      return nil, err_t("NoMatchingResources", "no matching resources found")
    end
  end

  for _, t in ipairs(targets) do
    local res, err
    if spec.kind == "delete" then
      res, err = w:wait_deleted(t.ns, t.name)
    else
      local seen = false
      res, err = w:follow(t.ns, t.name, function(obj)
        if not seen then
          seen = true
          -- kubectl: the object must exist when the wait starts
          if obj == nil then return false, not_found(gvr, t.name) end
        end
        if obj == nil then return false, nil, "the object does not exist" end
        local met, perr, detail = spec.check(spec, obj)
        if perr then return false, err_t("JSONPathError", perr) end
        return met, nil, detail
      end)
    end
    if res == nil then
      if w.timeout == 0 and err and err.reason == "Timeout" and err.code == 0 then
        -- kubectl's --timeout=0: "condition not met for deployments.apps/web"
        err.message = "condition not met for " .. group_resource(gvr) .. "/" .. t.name ..
          (err.message:match("^timed out waiting for the condition on [^:]*(:.*)$") or "")
      end
      return nil, err
    end
    if res ~= true then out[#out + 1] = res end
  end
  return out
end

return M

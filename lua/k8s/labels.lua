--- Label selectors, as apimachinery's `labels` package (pure Lua, no I/O).
--   local labels = require "k8s.labels"
--   local sel = assert(labels.Parse("app=web,tier!=db,env in (prod,staging),!canary"))
--   sel:Matches(pod.metadata.labels)   --> true | false
--   sel:String()                       --> "!canary,app=web,env in (prod,staging),tier!=db"
-- Syntax (labels.Parse): requirements separated by commas, whitespace
-- anywhere between tokens; `k=v`, `k==v`, `k!=v`, `k in (v1,v2)`,
-- `k notin (v1,v2)`, `k` (exists), `!k` (does not exist), `k>n`, `k<n`
-- (integers). Keys are qualified names (`[prefix/]name`), values are empty
-- or at most 63 characters of [A-Za-z0-9-_.] starting and ending with an
-- alphanumeric character, exactly as Kubernetes validates them.
-- A selector that does not parse gives `nil, err`, a k8s error object
-- (code 0, reason "InvalidSelector") whose message names the selector, the
-- position (1-based byte offset) and the problem.
-- @module k8s.labels
local M = {}

local new_error = require("k8s.errors").New

-- ---------------------------------------------------------------------------
-- Validation (apimachinery util/validation)

local function is_alnum_run(s)
  if #s == 1 then return s:match("^[A-Za-z0-9]$") ~= nil end
  return s:match("^[A-Za-z0-9][A-Za-z0-9_.%-]*[A-Za-z0-9]$") ~= nil
end

local function is_dns1123_subdomain(s)
  if #s == 0 or #s > 253 then return false end
  for label in (s .. "."):gmatch("([^.]*)%.") do
    if label == "" then return false end
    if #label == 1 then
      if not label:match("^[a-z0-9]$") then return false end
    elseif not label:match("^[a-z0-9][a-z0-9%-]*[a-z0-9]$") then
      return false
    end
  end
  return true
end

--- Validation message for a label key (a qualified name), or nil when valid.
function M.ValidateKey(key)
  if type(key) ~= "string" then return "key must be a string" end
  local prefix, name = key:match("^([^/]*)/(.*)$")
  if prefix == nil then
    name = key
  else
    if name:find("/", 1, true) then
      return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'"
    end
    if prefix == "" then return "prefix part must be non-empty" end
    if #prefix > 253 then return "prefix part must be no more than 253 characters" end
    if not is_dns1123_subdomain(prefix) then
      return "prefix part must be a lowercase RFC 1123 subdomain: lowercase alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character"
    end
  end
  if name == "" then return "name part must be non-empty" end
  if #name > 63 then return "name part must be no more than 63 characters" end
  if not is_alnum_run(name) then
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
  end
  return nil
end

--- Validation message for a label value, or nil when valid ("" is valid).
function M.ValidateValue(value)
  if type(value) ~= "string" then return "value must be a string" end
  if value == "" then return nil end
  if #value > 63 then return "must be no more than 63 characters" end
  if not is_alnum_run(value) then
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
  end
  return nil
end

-- strconv.ParseInt(s, 10, 64): a number, or nil.
local function parse_int64(s)
  local sign, digits = s:match("^([+-]?)(%d+)$")
  if not digits then return nil end
  local d = digits:gsub("^0+", "")
  local limit = sign == "-" and "9223372036854775808" or "9223372036854775807"
  if #d > 19 or (#d == 19 and d > limit) then return nil end
  return tonumber(sign == "-" and "-" .. digits or digits)
end

-- ---------------------------------------------------------------------------
-- Selector objects

local Selector = {}
local selector_mt = {
  __name = "k8s.labels.Selector",
  __index = Selector,
  __tostring = function(s) return s:String() end,
}

-- Canonical spelling of each operator after the key.
local op_text = {
  ["="] = "=", ["=="] = "==", ["!="] = "!=", ["in"] = " in ", ["notin"] = " notin ",
  [">"] = ">", ["<"] = "<",
}

-- A requirement: { key, op, values (sorted, distinct), set, num }.
local function new_requirement(key, op, values)
  local set, list = {}, {}
  for _, v in ipairs(values) do
    if not set[v] then set[v] = true; list[#list + 1] = v end
  end
  table.sort(list)
  local r = { key = key, op = op, values = list, set = set }
  if op == ">" or op == "<" then r.num = parse_int64(list[1]) end
  return r
end

local function requirement_string(r)
  if r.op == "!" then return "!" .. r.key end
  if r.op == "exists" then return r.key end
  local vals = table.concat(r.values, ",")
  if r.op == "in" or r.op == "notin" then vals = "(" .. vals .. ")" end
  return r.key .. op_text[r.op] .. vals
end

local function label_value(ls, key)
  if type(ls) ~= "table" then return nil end
  local v = ls[key]
  if v == nil then return nil end
  if type(v) ~= "string" then v = tostring(v) end
  return v
end

local function requirement_matches(r, ls)
  local v = label_value(ls, r.key)
  local op = r.op
  if op == "=" or op == "==" or op == "in" then
    return v ~= nil and r.set[v] == true
  elseif op == "!=" or op == "notin" then
    return v == nil or r.set[v] ~= true
  elseif op == "exists" then
    return v ~= nil
  elseif op == "!" then
    return v == nil
  elseif op == ">" or op == "<" then
    if v == nil or r.num == nil then return false end
    local n = parse_int64(v)
    if n == nil then return false end
    if op == ">" then return n > r.num end
    return n < r.num
  end
  return false
end

local function sort_by_key(reqs)
  -- stable: ties keep their order in the selector string
  for i, r in ipairs(reqs) do r.idx = i end
  table.sort(reqs, function(a, b)
    if a.key ~= b.key then return a.key < b.key end
    return a.idx < b.idx
  end)
  for _, r in ipairs(reqs) do r.idx = nil end
  return reqs
end

local function new_selector(reqs, nothing)
  return setmetatable({ reqs = reqs, nothing = nothing or false }, selector_mt)
end

--- sel:Matches(labels) -> bool: whether a label map (e.g. obj.metadata.labels;
-- nil counts as no labels) satisfies every requirement.
function Selector:Matches(ls)
  if self.nothing then return false end
  local reqs = self.reqs
  for i = 1, #reqs do
    if not requirement_matches(reqs[i], ls) then return false end
  end
  return true
end

--- sel:Empty() -> bool: true when the selector has no requirements (it
-- matches everything). labels.Nothing() is not empty.
function Selector:Empty()
  return not self.nothing and #self.reqs == 0
end

--- sel:String() -> the canonical form: requirements sorted by key, values
-- of `in`/`notin` sorted, e.g. "app=web,env in (a,b),!x". "" for
-- Everything() and Nothing().
function Selector:String()
  local parts = {}
  for i, r in ipairs(self.reqs) do parts[i] = requirement_string(r) end
  return table.concat(parts, ",")
end

--- sel:Requirements() -> a list of { Key =, Operator =, Values = { ... } }
-- (Operator is one of "=", "==", "!=", "in", "notin", "exists", "!", ">", "<").
function Selector:Requirements()
  local out = {}
  for i, r in ipairs(self.reqs) do
    local vals = {}
    for j, v in ipairs(r.values) do vals[j] = v end
    out[i] = { Key = r.key, Operator = r.op, Values = vals }
  end
  return out
end

--- labels.IsSelector(x) -> bool: whether x is a selector object of this module.
function M.IsSelector(x)
  return getmetatable(x) == selector_mt
end

local everything = new_selector({})
local nothing = new_selector({}, true)

--- labels.Everything() -> a selector that matches every label set.
function M.Everything()
  return everything
end

--- labels.Nothing() -> a selector that matches no label set.
function M.Nothing()
  return nothing
end

local function check_set(set, what)
  if set ~= nil and type(set) ~= "table" then
    error("labels." .. what .. ": set must be a table of label key -> value, got " .. type(set), 3)
  end
  local keys = {}
  for k, v in pairs(set or {}) do
    if type(k) ~= "string" or type(v) ~= "string" then
      error("labels." .. what .. ": set must map string keys to string values, got " ..
        type(k) .. " -> " .. type(v), 3)
    end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  return keys
end

--- labels.SelectorFromSet(set) -> a selector requiring key=value for each
-- entry of the table `set` (no validation, as apimachinery's); an empty
-- or nil set gives Everything().
function M.SelectorFromSet(set)
  local keys = check_set(set, "SelectorFromSet")
  if #keys == 0 then return everything end
  local reqs = {}
  for i, k in ipairs(keys) do reqs[i] = new_requirement(k, "=", { set[k] }) end
  return new_selector(reqs)
end

--- labels.ValidatedSelectorFromSet(set) -> selector | nil, err: as
-- SelectorFromSet, but every key and value is validated.
function M.ValidatedSelectorFromSet(set)
  local keys = check_set(set, "ValidatedSelectorFromSet")
  for _, k in ipairs(keys) do
    local problem = M.ValidateKey(k)
    if problem then
      return nil, new_error("InvalidSelector", string.format("invalid label key %q: %s", k, problem))
    end
    problem = M.ValidateValue(set[k])
    if problem then
      return nil, new_error("InvalidSelector",
        string.format("invalid label value %q for key %q: %s", set[k], k, problem))
    end
  end
  return M.SelectorFromSet(set)
end

-- ---------------------------------------------------------------------------
-- Lexer and parser (apimachinery labels/selector.go)

local IDENT, EOS, COMMA, OPEN, CLOSE, NOT = "identifier", "end of string", ",", "(", ")", "!"
local special = { ["="] = true, ["!"] = true, ["("] = true, [")"] = true, [","] = true, [">"] = true, ["<"] = true }
local space = { [" "] = true, ["\t"] = true, ["\r"] = true, ["\n"] = true }
local two = { ["!="] = true, ["=="] = true }

-- The token list: { tok =, lit =, pos = } ...; keywords "in"/"notin" are
-- marked so that the parser can read them as identifiers where a value is due.
local function lex(s)
  local toks, i, n = {}, 1, #s
  while true do
    while i <= n and space[s:sub(i, i)] do i = i + 1 end
    if i > n then
      toks[#toks + 1] = { tok = EOS, lit = "", pos = n + 1 }
      return toks
    end
    local c = s:sub(i, i)
    if special[c] then
      local pair = s:sub(i, i + 1)
      if two[pair] then
        toks[#toks + 1] = { tok = pair, lit = pair, pos = i }
        i = i + 2
      else
        toks[#toks + 1] = { tok = c, lit = c, pos = i }
        i = i + 1
      end
    else
      local j = i
      while j <= n do
        local d = s:sub(j, j)
        if space[d] or special[d] then break end
        j = j + 1
      end
      local lit = s:sub(i, j - 1)
      local t = { tok = IDENT, lit = lit, pos = i }
      if lit == "in" or lit == "notin" then t.keyword = lit end
      toks[#toks + 1] = t
      i = j
    end
  end
end

-- Raised inside the parser with a position; caught by Parse.
local function fail(tok, problem)
  error({ selector_problem = problem, pos = tok.pos }, 0)
end

local function found(tok, expected)
  return string.format("found '%s', expected: %s", tok.lit, expected)
end

local function parse(s)
  local toks, p = lex(s), 1
  local function peek() return toks[p] end
  local function take()
    local t = toks[p]
    if p < #toks then p = p + 1 end
    return t
  end

  -- apimachinery's parseIdentifiersList: "(,", ",," and ",)" stand for
  -- empty values.
  local function parse_identifiers_list()
    local values = {}
    while true do
      local t = take()
      if t.tok == IDENT then
        values[#values + 1] = t.lit
        local t2 = peek()
        if t2.tok == CLOSE then return values end
        if t2.tok ~= COMMA then fail(t2, found(t2, "',' or ')'")) end
      elseif t.tok == COMMA then
        if #values == 0 then values[1] = "" end
        local t2 = peek()
        if t2.tok == CLOSE then
          values[#values + 1] = ""
          return values
        elseif t2.tok == COMMA then
          take()
          values[#values + 1] = ""
        end
      else
        fail(t, found(t, "',', or identifier"))
      end
    end
  end

  local function parse_values()
    local t = take()
    if t.tok ~= OPEN then fail(t, found(t, "'('")) end
    local t2 = peek()
    if t2.tok == IDENT or t2.tok == COMMA then
      local values = parse_identifiers_list()
      local c = take()
      if c.tok ~= CLOSE then fail(c, found(c, "')'")) end
      return values
    elseif t2.tok == CLOSE then
      take()
      return { "" }
    end
    fail(t2, found(t2, "',', ')' or identifier"))
  end

  local function parse_requirement()
    local t, op = take(), nil
    if t.tok == NOT then
      op = "!"
      t = take()
    end
    if t.tok ~= IDENT then fail(t, found(t, "identifier")) end
    local key = t.lit
    local problem = M.ValidateKey(key)
    if problem then fail(t, string.format("invalid label key %q: %s", key, problem)) end
    local nx = peek()
    if nx.tok == EOS or nx.tok == COMMA then
      return new_requirement(key, op or "exists", {})
    elseif op == "!" then
      fail(nx, found(nx, "',' or 'end of string'"))
    end
    local o = take()
    local values, at
    if o.keyword then
      op = o.keyword
      at = peek()
      values = parse_values()
    elseif o.tok == "=" or o.tok == "==" or o.tok == "!=" or o.tok == ">" or o.tok == "<" then
      op = o.tok
      local v = peek()
      at = v
      if v.tok == EOS or v.tok == COMMA then
        values = { "" }
      else
        v = take()
        if v.tok ~= IDENT then fail(v, found(v, "identifier")) end
        values = { v.lit }
      end
      if (op == ">" or op == "<") and parse_int64(values[1]) == nil then
        fail(v, string.format("for '%s' operator, the value must be an integer, got %q", op, values[1]))
      end
    else
      fail(o, found(o, "=, ==, !=, in, notin, >, <"))
    end
    for _, v in ipairs(values) do
      local vp = M.ValidateValue(v)
      if vp then fail(at, string.format("invalid label value %q for key %q: %s", v, key, vp)) end
    end
    return new_requirement(key, op, values)
  end

  local reqs = {}
  while true do
    local t = peek()
    if t.tok == IDENT or t.tok == NOT then
      reqs[#reqs + 1] = parse_requirement()
      local sep = take()
      if sep.tok == EOS then
        return sort_by_key(reqs)
      elseif sep.tok == COMMA then
        local nx = peek()
        if nx.tok ~= IDENT and nx.tok ~= NOT then
          fail(nx, found(nx, "identifier after ','"))
        end
      else
        fail(sep, found(sep, "',' or 'end of string'"))
      end
    elseif t.tok == EOS then
      return sort_by_key(reqs)
    else
      fail(t, found(t, "!, identifier, or 'end of string'"))
    end
  end
end

--- labels.Parse(selector) -> selector | nil, err.
-- `selector` is a string in the syntax of apimachinery's labels.Parse ("" or
-- only whitespace gives a selector that matches everything). err is a k8s
-- error object (reason "InvalidSelector") whose message reads
-- `unable to parse label selector "<s>": at position <n>: <problem>`.
function M.Parse(selector)
  if type(selector) ~= "string" then
    error("labels.Parse: selector must be a string, got " .. type(selector), 2)
  end
  local ok, res = pcall(parse, selector)
  if ok then return new_selector(res) end
  if type(res) == "table" and res.selector_problem then
    return nil, new_error("InvalidSelector", string.format(
      "unable to parse label selector %q: at position %d: %s", selector, res.pos, res.selector_problem))
  end
  error(res, 0)
end

return M

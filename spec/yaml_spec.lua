-- The YAML codec of the binding (src/lua/yaml.c), k8s.yaml: multi-document
-- decode with Kubernetes' scalar rules (sigs.k8s.io/yaml = go-yaml v2, then
-- JSON), encode as go-yaml writes, and a stream created on the real control
-- plane. Runs on Lua 5.4 and on LuaJIT.
local k8s = require "k8s"
local core = require "k8s.core"

local yaml, json = k8s.yaml, k8s.json
local null, array_mt = k8s.null, k8s.array_mt
local HAS_INTEGERS = math.type ~= nil -- Lua 5.3+; LuaJIT numbers are doubles

local function arr(t) return setmetatable(t or {}, array_mt) end

-- Deep equality: the same types (and number subtypes on 5.4), the array
-- metatable on exactly the same tables, the same keys.
local function deep_equal(a, b, path)
  path = path or "$"
  if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) == "number" then
    if HAS_INTEGERS and math.type(a) ~= math.type(b) then
      return false, path .. ": " .. math.type(a) .. " vs " .. math.type(b)
    end
    if a ~= b then return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    return true
  end
  if type(a) ~= "table" then
    if a ~= b then return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    return true
  end
  if (getmetatable(a) == array_mt) ~= (getmetatable(b) == array_mt) then
    return false, path .. ": array metatable differs"
  end
  for k, v in pairs(a) do
    local ok, why = deep_equal(v, b[k], path .. "." .. tostring(k))
    if not ok then return false, why end
  end
  for k in pairs(b) do
    if a[k] == nil then return false, path .. "." .. tostring(k) .. ": missing" end
  end
  return true
end

local function assert_same(expected, got)
  local ok, why = deep_equal(expected, got)
  assert(ok, why)
end

-- decode that must succeed
local function D(text)
  local docs, err = yaml.decode(text)
  assert(docs, err)
  return docs
end

-- the one document of text
local function D1(text)
  local docs = D(text)
  assert.equal(1, #docs)
  return docs[1]
end

local function decode_err(text)
  local docs, err = yaml.decode(text)
  assert.is_nil(docs, "expected a decode error for: " .. text)
  assert.is_string(err)
  assert.equal("yaml: ", err:sub(1, 6))
  return err
end

local function E(v)
  local s, err = yaml.encode(v)
  assert(s, err)
  return s
end

local function encode_err(v)
  local s, err = yaml.encode(v)
  assert.is_nil(s)
  assert.is_string(err)
  return err
end

describe("k8s.yaml (" .. ((jit and "luajit") or _VERSION) .. ")", function()
  describe("exports", function()
    it("k8s.yaml is the binding's codec", function()
      assert.equal(core.yaml_decode, yaml.decode)
      assert.equal(core.yaml_encode, yaml.encode)
      assert.equal(core.yaml_encode_all, yaml.encode_all)
    end)

    it("raises on a wrong argument type, returns nil, err on bad YAML", function()
      assert.has_error(function() yaml.decode(12) end)
      assert.has_error(function() yaml.decode(nil) end)
      assert.has_error(function() yaml.decode({}) end)
      assert.has_error(function() yaml.encode() end)
      assert.has_error(function() yaml.encode_all("x") end)
      local docs, err = yaml.decode("a: [")
      assert.is_nil(docs)
      assert.is_string(err)
    end)
  end)

  describe("decode: documents", function()
    it("gives one value per document, empty and null ones as k8s.null at their index", function()
      local docs = D(table.concat({
        "a: 1",
        "---",             -- 2: empty
        "---",
        "# only a comment", -- 3: a comment only
        "---",
        "null",            -- 4
        "---",
        "~",               -- 5
        "---",
        "b: 2",            -- 6
        "",
      }, "\n"))
      assert.equal(array_mt, getmetatable(docs))
      assert.equal(6, #docs)
      assert_same({ a = 1 }, docs[1])
      for i = 2, 5 do assert.equal(null, docs[i], "document " .. i) end
      assert_same({ b = 2 }, docs[6])
    end)

    it("an empty text, blanks or comments only give no document", function()
      for _, text in ipairs({ "", "\n\n", "   ", "# nothing\n# at all\n" }) do
        local docs = D(text)
        assert.equal(array_mt, getmetatable(docs))
        assert.equal(0, #docs)
        assert.equal("[]", json.encode(docs))
      end
    end)

    it("a leading --- starts the first document; a trailing one adds a null one", function()
      assert_same(arr({ { a = 1 } }), D("---\na: 1\n"))
      assert_same(arr({ { a = 1 }, null }), D("a: 1\n---\n"))
      assert_same(arr({ { a = 1 }, { b = 1 } }), D("a: 1\n...\n---\nb: 1\n"))
      assert_same(arr({ "text", 5 }), D("--- text\n--- 5\n"))
    end)

    it("keeps [] and {} so that they round-trip through k8s.json exactly", function()
      local doc = D1("x:\n- []\n- {}\n- d: []\n- [[], [{}]]\n")
      local x = doc.x
      assert.equal(array_mt, getmetatable(x))
      assert.equal(array_mt, getmetatable(x[1]))
      assert.is_nil(getmetatable(x[2]))
      assert.equal('{"x":[[],{},{"d":[]},[[],[{}]]]}', json.encode(doc))
      assert_same(doc, json.decode(json.encode(doc)))
      -- flow and block forms, and JSON, give the same
      assert_same(doc, D1('{"x": [[], {}, {"d": []}, [[], [{}]]]}'))
      assert_same(doc, D1("--- {x: [[], {}, {d: []}, [[], [{}]]]}"))
      -- and back to YAML
      assert.equal("x:\n- []\n- {}\n- d: []\n- - []\n  - - {}\n", E(doc))
    end)
  end)

  describe("decode: scalars as Kubernetes reads them", function()
    -- plain (unquoted) forms and what go-yaml v2 makes of them
    local plain = {
      { "y", true }, { "Y", true }, { "yes", true }, { "Yes", true }, { "YES", true },
      { "on", true }, { "On", true }, { "ON", true },
      { "true", true }, { "True", true }, { "TRUE", true },
      { "n", false }, { "N", false }, { "no", false }, { "No", false }, { "NO", false },
      { "off", false }, { "Off", false }, { "OFF", false },
      { "false", false }, { "False", false }, { "FALSE", false },
      { "~", null }, { "null", null }, { "Null", null }, { "NULL", null }, { "", null },
      { "0x10", 16 }, { "0X1f", 31 }, { "010", 8 }, { "0o10", 8 }, { "0b101", 5 }, { "-0b11", -3 },
      { "1_000", 1000 }, { "+12", 12 }, { "-0x10", -16 }, { "0", 0 }, { "-0", 0 },
      { "1e3", 1000.0 }, { "1.5", 1.5 }, { ".5", 0.5 }, { "-.5", -0.5 }, { "1.", 1.0 },
      { "6.02e+23", 6.02e+23 }, { "09", 9.0 }, { ".1_5", 0.15 },
      -- not numbers, bools or nulls: strings
      { "yEs", "yEs" }, { "nO", "nO" }, { "tRue", "tRue" }, { "0x", "0x" }, { "1e", "1e" },
      { "1e400", "1e400" }, { "0x1p3", "0x1p3" }, { "1:20", "1:20" }, { "=", "=" },
      { "2001-12-14", "2001-12-14" }, { "2001-12-14T21:59:43.10Z", "2001-12-14T21:59:43.10Z" },
      { "Infinity", "Infinity" }, { "NaN", "NaN" }, { "<<", "<<" },
    }

    it("resolves plain scalars as go-yaml v2 (YAML 1.1)", function()
      for _, c in ipairs(plain) do
        local got = D1("v: " .. c[1]).v
        assert(deep_equal(c[2], got), ("%q -> %s (%s expected)"):format(c[1], tostring(got), tostring(c[2])))
        if HAS_INTEGERS and type(c[2]) == "number" then
          assert.equal(math.type(c[2]), math.type(got), c[1])
        end
      end
    end)

    it("keeps quoted scalars as strings", function()
      for _, c in ipairs(plain) do
        assert.equal(c[1], D1('v: "' .. c[1] .. '"').v)
        assert.equal(c[1], D1("v: '" .. c[1] .. "'").v)
      end
      assert.equal("on", D1("- 'on'")[1])
    end)

    it("gives integers exactly (beyond 2^53 on Lua 5.4), larger ones as floats", function()
      local doc = D1(table.concat({
        "a: 9007199254740993",
        "b: 9223372036854775807",
        "c: -9223372036854775808",
        "d: 18446744073709551615",
        "e: 0x7fffffffffffffff",
        "",
      }, "\n"))
      if HAS_INTEGERS then
        assert.equal("integer", math.type(doc.a))
        assert.equal(9007199254740993, doc.a)
        assert.equal(math.maxinteger, doc.b)
        assert.equal(math.mininteger, doc.c)
        assert.equal(math.maxinteger, doc.e)
        assert.equal("float", math.type(doc.d))
      else
        assert.equal(9007199254740992, doc.a) -- the nearest double
      end
      assert.equal(18446744073709551615, doc.d)
      -- the same as the JSON codec for the same number
      assert_same(json.decode('{"a":9007199254740993,"d":18446744073709551615}'),
        { a = doc.a, d = doc.d })
    end)

    it("rejects .inf and .nan: JSON cannot carry them", function()
      for _, v in ipairs({ ".inf", "-.inf", "+.Inf", ".NaN", "!!float .inf" }) do
        local err = decode_err("a: 1\nb: " .. v .. "\n")
        assert.matches("document 1, line 2: ", err, 1, true)
        assert.matches("JSON", err, 1, true)
      end
    end)

    it("honours explicit tags as go-yaml v2", function()
      local doc = D1(table.concat({
        "a: !!str 123",
        "b: !!int \"0x10\"",
        "c: !!float 1",
        "d: !!bool \"yes\"",
        "e: !!null ''",
        "f: !!binary aGVsbG8=",
        "g: !!timestamp 2001-12-14",
        "h: ! 12",
        "i: !Custom on",
        "j: !!map {k: v}",
        "k: !!seq [1]",
        "l: !!str",
        "",
      }, "\n"))
      assert.equal("123", doc.a)
      assert.equal(16, doc.b)
      assert.equal(1.0, doc.c)
      if HAS_INTEGERS then assert.equal("float", math.type(doc.c)) end
      assert.equal(true, doc.d)
      assert.equal(null, doc.e)
      assert.equal("hello", doc.f)
      assert.equal("2001-12-14", doc.g)
      assert.equal("12", doc.h)   -- the non-specific tag: a string
      assert.equal("on", doc.i)   -- unknown tags keep the text (go-yaml v2)
      assert_same({ k = "v" }, doc.j)
      assert_same(arr({ 1 }), doc.k)
      assert.equal("", doc.l)
      for _, bad in ipairs({ "!!int abc", "!!bool 1", "!!null x", "!!float 0x", "!!binary ***",
                             "!!timestamp 2001-13-01" }) do
        local err = decode_err("v: " .. bad)
        assert.matches("document 1, line 1: ", err, 1, true)
      end
      assert.matches("cannot decode !!str `abc` as a !!int", decode_err("v: !!int abc"), 1, true)
    end)

    it("reads block scalars, escapes and multi-line plain scalars", function()
      local doc = D1(table.concat({
        "lit: |",
        "  line 1",
        "  line 2",
        "fold: >-",
        "  folded",
        "  text",
        'esc: "tab\\there \\u00e9 \\x41 nul\\0"',
        "plain: a",
        "  b",
        "",
      }, "\n"))
      assert.equal("line 1\nline 2\n", doc.lit)
      assert.equal("folded text", doc.fold)
      assert.equal("tab\there \195\169 A nul\0", doc.esc)
      assert.equal("a b", doc.plain)
    end)
  end)

  describe("decode: keys", function()
    it("turns bool, int and float keys into strings as sigs.k8s.io/yaml", function()
      local doc = D1("on: a\nno: b\n1: c\n0x10: d\n1.5: e\n1e6: f\n.inf: g\n\"on\": h\n")
      assert_same({ ["true"] = "a", ["false"] = "b", ["1"] = "c", ["16"] = "d", ["1.5"] = "e",
                    ["1e+06"] = "f", [".inf"] = "g", on = "h" }, doc)
    end)

    it("rejects null, complex and out-of-range keys", function()
      assert.matches("null", decode_err("~: x"), 1, true)
      assert.matches("mapping key", decode_err("? [1, 2]\n: x"), 1, true)
      assert.matches("mapping key", decode_err("? {a: 1}\n: x"), 1, true)
      assert.matches("beyond int64", decode_err("18446744073709551615: x"), 1, true)
    end)

    it("lets the last of duplicate keys win (non-strict Unmarshal)", function()
      assert_same({ a = 3, b = 2 }, D1("a: 1\nb: 2\na: 3\n"))
      -- also in large mappings, and across a merge
      local lines, want = {}, {}
      for i = 1, 200 do
        lines[#lines + 1] = ("k%d: %d"):format(i % 150, i)
        want["k" .. (i % 150)] = i
      end
      assert_same(want, D1(table.concat(lines, "\n")))
      lines[#lines + 1] = "<<: {k1: merged, extra: 1}"
      want.k1, want.extra = "merged", 1
      assert_same(want, D1("base: &b {k1: merged, extra: 1}\nm:\n  " .. table.concat(lines, "\n  "):gsub("<<: {k1: merged, extra: 1}", "<<: *b")).m)
      local seq = {}
      for i = 1, 300 do seq[i] = i end
      assert_same(arr(seq), D1("[" .. table.concat(seq, ", ") .. "]"))
      assert_same(arr(seq), D1("- " .. table.concat(seq, "\n- ")))
      -- keys that become the same string: the later one too
      assert_same({ ["1"] = "second" }, D1("1: first\n\"1\": second\n"))
    end)
  end)

  describe("decode: anchors, aliases and merge keys", function()
    it("expands aliases into independent copies", function()
      local doc = D1("base: &b {x: 1, l: [1, {z: 2}]}\none: *b\ntwo: *b\nscalar: &s hello\nagain: *s\n")
      assert_same({ x = 1, l = arr({ 1, { z = 2 } }) }, doc.one)
      assert_same(doc.base, doc.two)
      assert.are_not.equal(doc.one, doc.two)
      doc.one.l[2].z = 99
      assert.equal(2, doc.two.l[2].z)
      assert.equal(2, doc.base.l[2].z)
      -- y is a bool in YAML 1.1, also as a key
      assert_same({ ["true"] = 1 }, D1("y: 1"))
      assert.equal("hello", doc.again)
      -- an anchored key, aliased as a value keeps its type
      assert_same({ ["1"] = "x", v = 1 }, D1("&k 1: x\nv: *k\n"))
    end)

    it("merges << as go-yaml v2 (a single map or a sequence of maps)", function()
      local doc = D1(table.concat({
        "base: &base {a: 1, b: 1, c: {d: 1}}",
        "other: &other {b: 2, e: 2}",
        "m1:",
        "  <<: *base",
        "  a: 10",           -- after the merge: overrides it
        "m2:",
        "  a: 10",           -- before it: go-yaml v2 lets the merge override
        "  <<: *base",
        "m3:",
        "  <<: [*other, *base]", -- the first map wins
        "m4:",
        "  <<: {x: 1}",
        "  '<<': literal",     -- quoted: a plain key
        "",
      }, "\n"))
      assert_same({ a = 10, b = 1, c = { d = 1 } }, doc.m1)
      assert_same({ a = 1, b = 1, c = { d = 1 } }, doc.m2)
      assert_same({ a = 1, b = 2, c = { d = 1 }, e = 2 }, doc.m3)
      assert_same({ x = 1, ["<<"] = "literal" }, doc.m4)
      doc.m1.c.d = 5
      assert.equal(1, doc.base.c.d)
    end)

    it("rejects merging what is no map", function()
      for _, v in ipairs({ "1", "~", "[1]", "[{a: 1}, 2]" }) do
        assert.matches("map merge requires", decode_err("a:\n  <<: " .. v .. "\n"), 1, true)
      end
      assert.matches("map merge requires", decode_err("l: &l [{a: 1}]\nm:\n  <<: *l\n"), 1, true)
    end)

    it("rejects unknown and recursive aliases", function()
      assert.matches("document 2, line 3: unknown anchor 'nope' referenced",
        decode_err("a: 1\n---\nb: *nope\n"), 1, true)
      assert.matches("anchor 'a' value contains itself", decode_err("a: &a [1, *a]"), 1, true)
      assert.matches("anchor 'm' value contains itself", decode_err("&m {x: {y: *m}}"), 1, true)
      -- anchors are per document
      assert.matches("unknown anchor 'a'", decode_err("x: &a 1\n---\ny: *a\n"), 1, true)
    end)

    it("stops an alias bomb quickly (go-yaml v2's excessive aliasing rule)", function()
      local lines = { 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]' }
      local prev = "a"
      for c in ("bcdefghi"):gmatch(".") do
        lines[#lines + 1] = ("%s: &%s [%s]"):format(c, c, ("*" .. prev .. ","):rep(8) .. "*" .. prev)
        prev = c
      end
      local text = table.concat(lines, "\n")
      -- (a billion nodes expanded; the error is the bound, no time is asserted)
      local err = decode_err(text)
      assert.matches("document contains excessive aliasing", err, 1, true)
      -- many documents do not multiply the budget
      local docs = {}
      for i = 1, 50 do docs[i] = "x: &x [1,2,3,4,5,6,7,8,9,10]\ny: [*x,*x,*x,*x,*x,*x,*x,*x,*x,*x]" end
      local ok = yaml.decode(table.concat(docs, "\n---\n"))
      assert.is_table(ok) -- 50 x 110 alias nodes: fine
      docs = {}
      for i = 1, 200 do
        docs[i] = "x: &x [" .. ("1,"):rep(99) .. "1]\ny: [" .. ("*x,"):rep(99) .. "*x]"
      end
      assert.matches("excessive aliasing", decode_err(table.concat(docs, "\n---\n")), 1, true)
      -- ordinary reuse is fine
      local parts = { "tmpl: &t {image: nginx, ports: [80, 443], env: {A: 1}}" }
      for i = 1, 300 do parts[#parts + 1] = ("c%d: {name: n%d, spec: *t}"):format(i, i) end
      assert.equal("nginx", D1(table.concat(parts, "\n")).c300.spec.image)
    end)
  end)

  describe("decode: errors and limits", function()
    it("names the document and the line", function()
      local text = table.concat({
        "apiVersion: v1",        -- 1
        "kind: ConfigMap",       -- 2
        "---",                   -- 3
        "apiVersion: v1",        -- 4
        "kind: ConfigMap",       -- 5
        "data:",                 -- 6
        "  k: v: w",             -- 7
        "",
      }, "\n")
      assert.equal("yaml: document 2, line 7: mapping values are not allowed in this context",
        decode_err(text))
      assert.equal("yaml: document 3, line 5: found character that cannot start any token",
        decode_err("a: 1\n---\nb: 2\n---\n@c\n"))
      assert.matches("document 1, line 2: ", decode_err("a: [1, 2\nb: 3\n"), 1, true)
      assert.equal("yaml: document 1, line 2: found unexpected end of stream",
        decode_err("a: 'unterminated\n"))
      -- bytes that are not UTF-8
      assert.equal("yaml: document 2, line 4: invalid leading UTF-8 octet",
        decode_err("a: 1\n---\n\nb: \255\254\n"))
    end)

    it("bounds nesting (k8s.json's limit) without overflowing the C stack", function()
      assert.is_table(D1(("- "):rep(999) .. "x"))
      assert.matches("nesting deeper than 1000", decode_err(("- "):rep(1001) .. "x"), 1, true)
      assert.matches("nesting deeper than 1000", decode_err("a: " .. ("{b: "):rep(1001) .. "1" .. ("}"):rep(1001)), 1, true)
      assert.matches("nesting deeper than 1000", decode_err(("["):rep(200000)), 1, true)
      -- an alias that would nest too deep
      assert.matches("nesting deeper than 1000",
        decode_err("a: &a " .. ("["):rep(600) .. ("]"):rep(600) .. "\nb: " .. ("["):rep(500) .. "*a" .. ("]"):rep(500)),
        1, true)
    end)
  end)

  describe("decode: JSON is YAML", function()
    it("decodes JSON text as k8s.json does", function()
      local text = '{"kind":"List","items":[{"a":[],"b":{},"c":null,"d":1.5,"e":"\\ud83d\\ude00",' ..
                   '"f":9007199254740993,"g":"on","h":true}],"n":-1e-5}'
      assert_same(arr({ json.decode(text) }), D(text))
      assert.equal("\240\159\152\128", D1(text).items[1].e)
      -- JSON read by the YAML parser (after "---") gives the same
      local j = '{"a": [], "b": {}, "c": null, "d": 1.5, "f": 9007199254740993, "g": "on", "h": [true, false]}'
      assert_same(json.decode(j), D1("--- " .. j))
      -- a number beyond the double range: a string, as go-yaml reads it
      -- (k8s.json.decode would give an infinity, which JSON cannot send)
      assert_same({ a = "1e999", b = arr({ "-1e999" }) }, D1('{"a": 1e999, "b": [-1e999]}'))
      -- several JSON documents in a YAML stream
      assert_same(arr({ { a = 1 }, arr({ 1, 2 }) }), D('{"a": 1}\n---\n[1, 2]\n'))
    end)
  end)

  describe("encode", function()
    it("writes block style with sorted keys, [] and {}, sequences at their mapping's indent", function()
      local doc = {
        apiVersion = "v1", kind = "ConfigMap",
        metadata = { name = "x", labels = { b = "on", a = "1" } },
        data = { ["key.10"] = "v", ["key.9"] = "w" },
        list = { 1, "two", { a = arr(), b = {} }, { { 1 } } },
      }
      assert.equal(table.concat({
        "apiVersion: v1",
        "data:",
        "  key.9: w",
        "  key.10: v",
        "kind: ConfigMap",
        "list:",
        "- 1",
        "- two",
        "- a: []",
        "  b: {}",
        "- - - 1",
        "metadata:",
        "  labels:",
        '    a: "1"',
        '    b: "on"',
        "  name: x",
        "",
      }, "\n"), E(doc))
      assert.equal("[]\n", E(arr()))
      assert.equal("{}\n", E({}))
      assert.equal("{}\n", E(setmetatable({}, { __jsontype = "object" })))
      assert.equal("null\n", E(null))
      assert.equal("text\n", E("text"))
      assert.equal("3\n", E(3.0))
      assert.equal("1.5\n", E(1.5))
      assert.equal("a: null\n", E({ a = null }))
      assert.equal("- 1\n- null\n- 3\n", E(arr({ 1, null, 3 })))
      local holes = arr({ 1, 2, 3 })
      holes[2] = nil -- a hole inside #t is null (which border # picks varies)
      local h = E(holes)
      assert.is_true(h == "- 1\n- null\n- 3\n" or h == "- 1\n", h)
    end)

    it("orders keys as go-yaml: digit runs by value, whatever the table's order", function()
      local keys = { "a10", "a9", "a", "B", "_x", "1", "2", "a01", "a1", "-", "16", "1e+06", "2.5" }
      local want = table.concat({ "'-': 0", "_x: 0", '"1": 0', '"1e+06": 0', '"2": 0', '"2.5": 0',
        '"16": 0', "B: 0", "a: 0", "a1: 0", "a01: 0", "a9: 0", "a10: 0", "" }, "\n")
      for round = 1, 20 do
        local t = {}
        -- a different insertion order (and table layout) each round
        for i = 1, #keys do
          local k = keys[(i * 7 + round) % #keys + 1]
          t[k] = 0
        end
        for i = 1, round do t["tmp" .. i] = true end
        for i = 1, round do t["tmp" .. i] = nil end
        assert.equal(want, E(t))
      end
    end)

    it("quotes exactly the strings whose plain form would read back as something else", function()
      local cases = {
        { "true", '"true"' }, { "on", '"on"' }, { "yes", '"yes"' }, { "y", '"y"' }, { "NO", '"NO"' },
        { "123", '"123"' }, { "1.5", '"1.5"' }, { "0x10", '"0x10"' }, { "010", '"010"' },
        { "0o10", '"0o10"' }, { "1_000", '"1_000"' }, { "1e3", '"1e3"' }, { ".inf", '".inf"' },
        { "null", '"null"' }, { "~", '"~"' }, { "", '""' }, { "2001-12-14", '"2001-12-14"' },
        { "1:20", '"1:20"' },
        { " lead", "' lead'" }, { "trail ", "'trail '" }, { "a: b", "'a: b'" }, { "#c", "'#c'" },
        { "- x", "'- x'" }, { "@x", "'@x'" }, { "*a", "'*a'" },
        { "plain", "plain" }, { "nginx:1.25", "nginx:1.25" }, { "a b", "a b" }, { "x#y", "x#y" },
        { "yEs", "yEs" }, { "1e400", "1e400" }, { "<<", "<<" }, { "é", "é" },
        { "tab\there", '"tab\\there"' },
      }
      for _, c in ipairs(cases) do
        assert.equal("v: " .. c[2] .. "\n", E({ v = c[1] }), c[1])
      end
      -- a key "<<" must not read back as a merge
      assert.equal('"<<": x\n', E({ ["<<"] = "x" }))
      assert.equal('"1": x\n"true": z\n', E({ [1] = "x", ["true"] = "z" }))
    end)

    it("writes multi-line strings as literal blocks where libyaml allows", function()
      assert.equal("v: |-\n  a\n  b\n", E({ v = "a\nb" }))
      assert.equal("v: |\n  a\n  b\n", E({ v = "a\nb\n" }))
      assert.equal("v: |2-\n    lead\n  x\n", E({ v = "  lead\nx" }))
      assert.equal('v: "trail \\nx"\n', E({ v = "trail \nx" }))
    end)

    it("round-trips tricky values exactly (types and number subtypes too)", function()
      local values = {
        "true", "on", "yes", "y", "Y", "n", "NO", "off", "123", "-1", "+1", "1.5", ".5", "1e3",
        "0x10", "010", "0o10", "0b1", "1_000", "null", "Null", "~", "", " lead", "trail ", "a: b",
        "#c", "x #y", "- x", "-", "?", "2001-12-14", "2001-12-14 21:59:43", "1:20", "<<", "=",
        "@x", "'q'", '"d"', "multi\nline", "multi\nline\n", "trail \nx", "  lead\nx", "tab\there",
        "nul\0byte", "\255\254 not UTF-8", "\195\169", "\226\128\168", "\239\187\191bom", "\127",
        ".inf", ".nan", "1e400", "%x", "!t", "&a", "|", ">", "[x]", "{x}", "a,b", "key: ",
        ("long "):rep(100), "x\r\ny", " ", "\n", "\n\n", "a\n\nb",
        0, -1, 1, 1.5, -0.25, 1e300, -1e-300, 5e-324, 0.1, 1e21, 2 ^ 53 + 2, 123456789.125,
        true, false, null, arr(), {}, arr({ arr(), {} }),
      }
      if HAS_INTEGERS then
        values[#values + 1] = math.maxinteger
        values[#values + 1] = math.mininteger
        values[#values + 1] = 9007199254740993
      end
      local doc, list = {}, arr()
      for i, v in ipairs(values) do
        assert_same(arr({ v }), D(E(v)))
        assert_same(arr({ { k = v } }), D(E({ k = v })))
        if type(v) == "string" then
          assert_same(arr({ { [v] = 1 } }), D(E({ [v] = 1 })))
        end
        doc["k" .. i] = v
        list[i] = v
      end
      assert_same(doc, D1(E(doc)))
      assert_same(list, D1(E(list)))
      assert.equal(E(doc), E(D1(E(doc))))
      -- through k8s.json and back: the same YAML (but for a float beyond
      -- 2^53 that JSON writes as digits: it comes back an integer there)
      for k, v in pairs(doc) do
        if v == 2 ^ 53 + 2 then doc[k] = nil end
      end
      assert.equal(E(doc), E(json.decode(json.encode(doc))))
    end)

    it("writes integral floats as integers and integers exactly", function()
      assert.equal("a: 3\n", E({ a = 3.0 }))
      assert.equal("a: -0.5\n", E({ a = -0.5 }))
      assert.equal("a: 1e+21\n", E({ a = 1e21 }))
      assert.equal("a: 9007199254740994.0\n", E({ a = 2 ^ 53 + 2 })) -- still a float
      if HAS_INTEGERS then
        assert.equal("a: 9223372036854775807\n", E({ a = math.maxinteger }))
        assert.equal("integer", math.type(D1(E({ a = 3.0 })).a))
      end
    end)

    it("reports what cannot be encoded, with its path", function()
      assert.equal("yaml: cannot encode function at .spec.containers[1].name",
        encode_err({ spec = { containers = { { name = print } } } }))
      assert.equal("yaml: cannot encode NaN at .a", encode_err({ a = 0 / 0 }))
      assert.equal("yaml: cannot encode inf at [2]", encode_err(arr({ 1, math.huge })))
      assert.matches("cannot encode table key of type boolean", encode_err({ [true] = 1 }), 1, true)
      assert.matches("non%-integer number as object key", encode_err({ [1.5] = 1 }))
      local cyc = {}
      cyc.self = cyc
      assert.matches("nesting deeper than 1000", encode_err(cyc), 1, true)
      assert.equal("yaml: cannot encode userdata at .a", encode_err({ a = io.stdout }))
    end)

    it("encode_all joins documents with ---", function()
      assert.equal("a: 1\n---\nx\n---\nnull\n---\nb:\n- 1\n- c: 3\n",
        yaml.encode_all({ { a = 1 }, "x", null, { b = { 1, { c = 3 } } } }))
      assert.equal("", yaml.encode_all({}))
      local s, err = yaml.encode_all({ { a = 1 }, { b = { c = 0 / 0 } } })
      assert.is_nil(s)
      assert.equal("yaml: document 2: cannot encode NaN at .b.c", err)
      -- and decodes back to the same documents
      local docs = arr({ { a = arr({}) }, null, { b = {} }, "s" })
      assert_same(docs, D(yaml.encode_all(docs)))
    end)
  end)

  describe("against the control plane", function()
    local okH, H = pcall(require, "spec.helper")
    if not okH then
      it("needs the control plane (K8S_LUA_STATE)", function() error(H) end)
      return
    end
    local GROUP = "k8slua.example.com"
    local cs, dc, ns, crds, crd, plural, kind, gvr

    setup(function()
      local cfg = H.config("admin-cert")
      cs = assert(k8s.NewForConfig(cfg))
      dc = assert(k8s.dynamic.NewForConfig(cfg))
      ns = H.namespace(cs)
      local suffix = H.name("y"):gsub("-", "")
      plural, kind = "gadgets" .. suffix, "Gadget" .. suffix
      crds = cs:ApiextensionsV1():CustomResourceDefinitions()
      local open = { type = "object", ["x-kubernetes-preserve-unknown-fields"] = true }
      crd = assert(crds:Create({
        metadata = { name = plural .. "." .. GROUP },
        spec = {
          group = GROUP, scope = "Namespaced",
          names = { plural = plural, singular = "gadget" .. suffix, kind = kind, listKind = kind .. "List" },
          versions = { { name = "v1", served = true, storage = true,
                         schema = { openAPIV3Schema = { type = "object", properties = { spec = open } } } } },
        },
      }))
      gvr = { Group = GROUP, Version = "v1", Resource = plural }
      H.eventually(function() return dc:Resource(gvr):Namespace(ns):List() ~= nil end, 60,
        "the custom resource to be served")
    end)

    teardown(function()
      if crd then crds:Delete(crd.metadata.name) end
      H.cleanup_namespaces()
    end)

    it("creates the objects of a YAML stream; [] {} and quoted scalars survive the server", function()
      local cm_name, cr_name = H.name("cm"), H.name("gadget")
      local text = table.concat({
        "# applied as kubectl would: empty documents are skipped",
        "---",
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: " .. cm_name,
        "  labels: {enabled: \"true\"}",
        "data:",
        "  on: \"on\"        # the key is a bool: it becomes \"true\"",
        "  count: \"010\"",
        "  plain: yes-really",
        "  multi: |",
        "    line 1",
        "    line 2",
        "---",
        "# nothing here",
        "---",
        "defaults: &d {replicas: 3, tags: []}",
        "apiVersion: " .. GROUP .. "/v1",
        "kind: " .. kind,
        "metadata:",
        "  name: " .. cr_name,
        "spec:",
        "  <<: *d",
        "  emptyList: []",
        "  emptyMap: {}",
        "  nested: {a: [], b: [{}], c: {d: {}}}",
        "  big: 9007199254740993",
        "  octal: 010",
        "  flags: [yes, \"yes\", no, on, ~]",
        "  version: \"1.10\"",
        "",
      }, "\n")
      local docs = D(text)
      assert.equal(3, #docs)
      assert.equal(null, docs[2])
      docs[3].defaults = nil -- only there for its anchor

      local created = {}
      for i, doc in ipairs(docs) do
        if doc ~= null then
          local obj, err
          if doc.kind == "ConfigMap" then
            obj, err = cs:CoreV1():ConfigMaps(ns):Create(doc)
          else
            obj, err = dc:Resource(gvr):Namespace(ns):Create(doc)
          end
          assert(obj, ("document %d: %s"):format(i, tostring(err)))
          created[#created + 1] = obj.metadata.name
        end
      end
      assert.same({ cm_name, cr_name }, created)

      local cm = assert(cs:CoreV1():ConfigMaps(ns):Get(cm_name))
      assert.same({ ["true"] = "on", count = "010", plain = "yes-really", multi = "line 1\nline 2\n" }, cm.data)
      assert.equal("true", cm.metadata.labels.enabled)

      local cr = assert(dc:Resource(gvr):Namespace(ns):Get(cr_name))
      local spec = cr.spec
      assert.equal("[]", json.encode(spec.emptyList))
      assert.equal("{}", json.encode(spec.emptyMap))
      assert.equal(array_mt, getmetatable(spec.emptyList))
      assert.equal("[]", json.encode(spec.tags))
      assert.equal(3, spec.replicas)
      assert.equal("[]", json.encode(spec.nested.a))
      assert.equal("[{}]", json.encode(spec.nested.b))
      assert.equal('{"d":{}}', json.encode(spec.nested.c))
      assert.equal(8, spec.octal)
      assert.equal("1.10", spec.version)
      assert_same(arr({ true, "yes", false, true, null }), spec.flags)
      if HAS_INTEGERS then
        assert.equal(9007199254740993, spec.big)
        assert.equal("integer", math.type(spec.big))
      end

      -- what the server sent back, as YAML, reads back the same
      assert_same(spec, D1(E(spec)))
      assert_same(cm.data, D1(E(cm)).data)
    end)
  end)
end)

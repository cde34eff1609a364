-- JSON codec of the binding (src/lua/json.c), exposed by k8s.core as
-- core.json_decode / core.json_encode / core.array_mt / core.null.
-- Runs on Lua 5.4 and on LuaJIT.
local core = require "k8s.core"

local decode, encode = core.json_decode, core.json_encode
local null, array_mt = core.null, core.array_mt
local HAS_INTEGERS = math.type ~= nil   -- Lua 5.3+; LuaJIT numbers are doubles

local function decode_err(s)
  local ok, err = pcall(decode, s)
  assert.is_false(ok, "expected a decode error for: " .. s)
  assert.is_string(err)
  assert.matches("k8s.json.decode: ", err, 1, true)
  return err
end

local function encode_err(v)
  local ok, err = pcall(encode, v)
  assert.is_false(ok, "expected an encode error")
  assert.is_string(err)
  assert.matches("k8s.json.encode: ", err, 1, true)
  return err
end

local function roundtrip(s)
  return encode(decode(s))
end

describe("k8s.core JSON", function()
  describe("exports", function()
    it("has the codec, the array metatable and null", function()
      assert.is_function(decode)
      assert.is_function(encode)
      assert.is_table(array_mt)
      assert.equals("k8s.array", rawget(array_mt, "__name"))
      assert.equals("array", rawget(array_mt, "__jsontype"))
      assert.equals("userdata", type(null))
    end)

    it("uses the same null as cjson", function()
      local cjson = require "cjson" -- lua-cjson is a dependency (make deps): no silent pass without it
      assert.equals(cjson.null, null)
      assert.equals(null, decode("null"))
      assert.equals(cjson.null, decode('[null]')[1])
    end)
  end)

  describe("decode", function()
    it("decodes scalars at the top level", function()
      assert.equals(1, decode("1"))
      assert.equals(-2.5, decode(" -2.5 "))
      assert.equals("x", decode('"x"'))
      assert.equals(true, decode("true"))
      assert.equals(false, decode("\t\r\nfalse\n"))
      assert.equals(null, decode("null"))
    end)

    it("gives arrays the array metatable, even when empty", function()
      local t = decode('{"a":[],"b":[1,2],"c":{}}')
      assert.equals(array_mt, getmetatable(t.a))
      assert.equals(array_mt, getmetatable(t.b))
      assert.is_nil(getmetatable(t.c))
      assert.is_nil(getmetatable(t))
      assert.equals(0, #t.a)
      assert.same({1, 2}, t.b)
      assert.is_nil(next(t.c))
    end)

    it("maps null to core.null in objects and arrays", function()
      local t = decode('{"a":null,"b":[null,1,null]}')
      assert.equals(null, t.a)
      assert.equals(null, t.b[1])
      assert.equals(1, t.b[2])
      assert.equals(null, t.b[3])
      assert.equals(3, #t.b)
    end)

    it("accepts whitespace everywhere", function()
      local t = decode(' { "a" : [ 1 , 2 ] ,\n\t"b" : { } , "c":[ ] } ')
      assert.same({1, 2}, t.a)
      assert.same({}, t.b)
      assert.same({}, t.c)
    end)

    it("lets the last duplicate key win", function()
      assert.equals(3, decode('{"a":1,"a":2,"a":3}').a)
      local keys = {}
      for i = 1, 100 do keys[#keys + 1] = ('"k%d":%d'):format(i % 7, i) end
      local t = decode("{" .. table.concat(keys, ",") .. "}")
      assert.equals(98, t.k0)
      assert.equals(99, t.k1)
      assert.equals(100, t.k2)
    end)

    it("decodes large arrays and objects", function()
      local parts, kv = {}, {}
      for i = 1, 5000 do
        parts[i] = tostring(i)
        kv[i] = ('"key%d":%d'):format(i, i)
      end
      local a = decode("[" .. table.concat(parts, ",") .. "]")
      assert.equals(5000, #a)
      for i = 1, 5000 do assert.equals(i, a[i]) end
      local o = decode("{" .. table.concat(kv, ",") .. "}")
      local n = 0
      for k, v in pairs(o) do
        n = n + 1
        assert.equals("key" .. v, k)
      end
      assert.equals(5000, n)
    end)

    it("handles string escapes", function()
      assert.equals('a"b\\c/d\b\f\n\r\t', decode([["a\"b\\c\/d\b\f\n\r\t"]]))
      assert.equals("\0", decode([["\u0000"]]))
      assert.equals("A\127", decode([["\u0041\u007f"]]))
      assert.equals("\195\169", decode([["\u00e9"]]))           -- é
      assert.equals("\195\169", decode([["\u00E9"]]))
      assert.equals("\226\130\172", decode([["\u20ac"]]))       -- €
      assert.equals("\239\191\191", decode([["\uffff"]]))
      assert.equals("\240\159\152\128", decode([["\ud83d\ude00"]])) -- 😀
      assert.equals("\244\143\191\191", decode([["\udbff\udfff"]])) -- U+10FFFF
      assert.equals("héllo wörld €", decode('"héllo wörld €"'))  -- raw UTF-8
    end)

    it("handles long strings with escapes", function()
      local raw = ("line with \"quotes\" and \\ backslash\n"):rep(500)
      local json = encode(raw)
      assert.equals(raw, decode(json))
      local t = decode('{"data":' .. json .. ',"x":' .. json .. '}')
      assert.equals(raw, t.data)
      assert.equals(raw, t.x)
    end)

    it("keeps big integers exact on Lua 5.3+", function()
      local v = decode("9007199254740993")
      if HAS_INTEGERS then
        assert.equals("integer", math.type(v))
        assert.equals(9007199254740993, v)
        assert.equals(math.maxinteger, decode("9223372036854775807"))
        assert.equals(math.mininteger, decode("-9223372036854775808"))
        assert.equals("integer", math.type(decode("-9223372036854775808")))
        -- beyond int64: float
        assert.equals("float", math.type(decode("9223372036854775808")))
        assert.equals(2^63, decode("9223372036854775808"))
        assert.equals("float", math.type(decode("123456789012345678901234567890")))
      else
        -- LuaJIT: all numbers are doubles; precision beyond 2^53 is lost
        assert.is_number(v)
        assert.equals(9007199254740992, v)
        assert.is_number(decode("123456789012345678901234567890"))
      end
    end)

    it("decodes floats exactly", function()
      assert.equals(0.1, decode("0.1"))
      assert.equals(1500, decode("1.5e3"))
      assert.equals(-0.00125, decode("-1.25E-3"))
      assert.equals(1e300, decode("1e300"))
      assert.equals(1e-300, decode("1e-300"))
      assert.equals(1/3, decode("0.3333333333333333"))
      assert.equals(0.30000000000000004, decode("0.30000000000000004"))
      assert.equals(123456789.123456789, decode("123456789.123456789"))
      assert.equals(2.2250738585072014e-308, decode("2.2250738585072014e-308"))
      assert.equals(1, decode("1.0"))
      assert.equals(100, decode("1E+2"))
      if HAS_INTEGERS then
        assert.equals("float", math.type(decode("1.0")))
        assert.equals("float", math.type(decode("1e2")))
        assert.equals("integer", math.type(decode("100")))
      end
    end)

    it("returns exactly one value", function()
      assert.equals(1, select("#", decode("[1,2,3]")))
      assert.equals(1, select("#", decode("null")))
    end)

    it("rejects malformed input with the offset", function()
      local bad = {
        "", " ", "{", "[", "[1", "[1,", '{"a"', '{"a":', '{"a":1', '{"a":1,',
        '"abc', '"abc\\', '"\\u12', "tru", "nul", "fals", "-", "1.", "1e",
        "1e+", ".5", "+1", "01", "-01", "0x10", "NaN", "Infinity", "-Infinity",
        "[1,]", "[,1]", '{"a":1,}', "{a:1}", "{'a':1}", "{1:2}", '{"a" 1}',
        '{"a":1 "b":2}', "[1 2]", "'x'", "undefined", "\239\187\191{}",
        "{} x", "[1] ]", "1 2", '"a" "b"', "nullx", "truex", "[true false]",
      }
      for _, s in ipairs(bad) do
        local err = decode_err(s)
        assert.matches("offset %d+", err)
      end
      assert.matches("trailing garbage at offset 3", decode_err("{} x"))
      assert.matches("end of input at offset 4", decode_err('[1, '))
    end)

    it("rejects bad escapes and raw control characters", function()
      for _, s in ipairs {
        [["\x41"]], [["\a"]], [["\U0041"]], [["\u12g4"]], [["\u 123"]],
        [["\ud83d"]], [["\ud83dx"]], [["\ud83d\u0041"]], [["\ude00"]],
        [["\ud83d\ud83d"]], '"a\nb"', '"a\tb"', '"\0"', '"\31"',
        '{"a\nb":1}',
      } do
        decode_err(s)
      end
      assert.matches("invalid escape", decode_err([["\q"]]))
      assert.matches("control character", decode_err('"x\ny"'))
      assert.matches("surrogate", decode_err([["\udc00"]]))
    end)

    it("limits nesting depth to 1000 without crashing", function()
      local ok1000 = decode(("["):rep(1000) .. ("]"):rep(1000))
      assert.is_table(ok1000)
      assert.matches("too deep", decode_err(("["):rep(1001) .. ("]"):rep(1001)))
      assert.matches("too deep", decode_err(('{"a":'):rep(1001) .. "1" .. ("}"):rep(1001)))
      decode_err(("["):rep(200000))
      decode_err(('{"a":['):rep(100000))
      local deep = decode(('{"a":['):rep(499) .. ("]}"):rep(499))
      assert.is_table(deep)
    end)

    it("requires a string argument", function()
      assert.has_error(function() decode({}) end)
      assert.has_error(function() decode() end)
    end)
  end)

  describe("encode", function()
    it("encodes scalars", function()
      assert.equals("null", encode(null))
      assert.equals("null", encode(nil))
      assert.equals("true", encode(true))
      assert.equals("false", encode(false))
      assert.equals("42", encode(42))
      assert.equals("-7", encode(-7))
      assert.equals('"x"', encode("x"))
    end)

    it("encodes integers exactly", function()
      if HAS_INTEGERS then
        assert.equals("9007199254740993", encode(9007199254740993))
        assert.equals("9223372036854775807", encode(math.maxinteger))
        assert.equals("-9223372036854775808", encode(math.mininteger))
      end
      assert.equals("9007199254740992", encode(2^53))
      assert.equals("-9007199254740992", encode(-2^53))
    end)

    it("encodes integral floats as integers", function()
      assert.equals("3", encode(3.0))
      assert.equals("-3", encode(-3.0))
      assert.equals("0", encode(0.0))
      assert.equals("1000000000000000", encode(1e15))
      assert.equals('{"replicas":3}', encode({replicas = 6 / 2}))
      assert.equals("[1,2,3]", encode({1.0, 2.0, 3.0}))
    end)

    it("encodes other floats so they read back exactly", function()
      assert.equals("0.1", encode(0.1))
      assert.equals("1.5", encode(1.5))
      assert.equals("-0.25", encode(-0.25))
      assert.equals("0.30000000000000004", encode(0.1 + 0.2))
      for _, v in ipairs {1/3, 2/3, 1e-300, 1e300, 2^60, 2^53 + 2, 123.456,
                          5e-324, 1.7976931348623157e308} do
        assert.equals(v, decode(encode(v)))
      end
    end)

    it("escapes strings per JSON and leaves '/' alone", function()
      assert.equals([["a\"b\\c"]], encode('a"b\\c'))
      assert.equals([["\b\f\n\r\t"]], encode("\b\f\n\r\t"))
      assert.equals([["\u0000\u0001\u001f"]], encode("\0\1\31"))
      assert.equals([["a/b"]], encode("a/b"))
      assert.equals('"\127"', encode("\127"))
      assert.equals('"héllo €"', encode("héllo €"))
      local s = ""
      for i = 0, 255 do s = s .. string.char(i) end
      assert.equals(s, decode(encode(s)))
      assert.equals(s:rep(100), decode(encode(s:rep(100))))
    end)

    it("chooses array or object for tables", function()
      assert.equals("{}", encode({}))
      assert.equals("[]", encode(setmetatable({}, array_mt)))
      assert.equals("[1,2,3]", encode({1, 2, 3}))
      assert.equals('["a",["b",[]]]', encode({"a", {"b", setmetatable({}, array_mt)}}))
      -- elements are 1..#t; holes inside #t become null.  Which border #
      -- picks for a table with holes differs (LuaJIT gives 1 here), so
      -- portable code should store core.null instead of leaving holes.
      local holes = {1, 2, 3}
      holes[2] = nil
      local h = encode(setmetatable(holes, array_mt))
      assert.is_true(h == "[1,null,3]" or h == "[1]")
      assert.equals("[1,null,3]", encode(setmetatable({1, null, 3}, array_mt)))
      assert.equals("[1,2]", encode(setmetatable({1, 2, x = "ignored"}, array_mt)))
      -- keys that are not exactly 1..n: an object with string keys
      assert.same({["1"] = 1, ["3"] = 3}, decode(encode({[1] = 1, [3] = 3})))
      assert.same({["1"] = "a", ["2"] = "b", x = 1}, decode(encode({"a", "b", x = 1})))
      assert.same({["0"] = 0, ["1"] = 1}, decode(encode({[0] = 0, [1] = 1})))
      assert.same({["-1"] = true}, decode(encode({[-1] = true})))
      -- __jsontype in a foreign metatable
      assert.equals("[]", encode(setmetatable({}, {__jsontype = "array"})))
      assert.equals("{}", encode(setmetatable({}, {__jsontype = "object"})))
      assert.equals('{"1":2}', encode(setmetatable({2}, {__jsontype = "object"})))
    end)

    it("does not call metamethods", function()
      local t = setmetatable({a = 1}, {
        __index = function() error("no") end,
        __pairs = function() error("no") end,
        __len = function() error("no") end,
      })
      assert.equals('{"a":1}', encode(t))
    end)

    it("fails on values JSON cannot represent, naming the path", function()
      local err = encode_err({metadata = {labels = {app = function() end}}})
      assert.matches("cannot encode function at .metadata.labels.app", err, 1, true)
      err = encode_err({spec = {containers = {{name = "a"}, {name = print}}}})
      assert.matches("cannot encode function at .spec.containers[2].name", err, 1, true)
      assert.matches("cannot encode function", encode_err(print), 1, true)
      assert.matches("NaN", encode_err(0/0))
      assert.matches("NaN", encode_err({x = {0/0}}))
      assert.matches("inf", encode_err(math.huge))
      assert.matches("inf", encode_err(-math.huge))
      assert.matches("userdata", encode_err(io.stdout))
      assert.matches("thread", encode_err(coroutine.create(print)))
      assert.matches("key of type boolean", encode_err({[true] = 1}))
      assert.matches("key of type table", encode_err({[{}] = 1}))
      encode_err({[1.5] = 1})
    end)

    it("fails on cycles and excessive nesting", function()
      local t = {}
      t.self = t
      assert.matches("nesting", encode_err(t))
      local a = setmetatable({}, array_mt)
      a[1] = a
      assert.matches("nesting", encode_err(a))
      local deep = {}
      local cur = deep
      for _ = 1, 999 do
        cur[1] = {}
        cur = cur[1]
      end
      assert.is_string(encode(deep))     -- 1000 levels
      cur[1] = {}
      assert.matches("nesting", encode_err(deep))  -- 1001 levels
    end)

    it("requires an argument", function()
      assert.has_error(function() encode() end)
    end)
  end)

  describe("round trip", function()
    local pod = [[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0","namespace":"default","uid":"0b5a7cb3-7c5e-4d1b-9d0b-2a4c4b0e9a11","resourceVersion":"12345","creationTimestamp":"2024-01-02T03:04:05Z","labels":{"app":"web","tier":"frontend"},"annotations":{},"finalizers":[],"ownerReferences":[{"apiVersion":"apps/v1","kind":"StatefulSet","name":"web","uid":"1c","controller":true,"blockOwnerDeletion":true}],"deletionGracePeriodSeconds":null},"spec":{"containers":[{"name":"nginx","image":"nginx:1.25","args":[],"command":["/bin/sh","-c","echo \"hi\"\nsleep 1"],"ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{}},"env":[{"name":"EMPTY","value":""}]}],"tolerations":[],"nodeSelector":{},"terminationGracePeriodSeconds":30,"priority":0},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastProbeTime":null}],"podIP":"10.0.0.7","ratio":0.75}}]]

    it("keeps a Kubernetes object intact, including empty arrays", function()
      local obj = decode(pod)
      local again = decode(encode(obj))
      assert.same(obj, again)
      local out = encode(obj)
      assert.matches('"finalizers":[]', out, 1, true)
      assert.matches('"tolerations":[]', out, 1, true)
      assert.matches('"args":[]', out, 1, true)
      assert.matches('"annotations":{}', out, 1, true)
      assert.matches('"nodeSelector":{}', out, 1, true)
      assert.matches('"deletionGracePeriodSeconds":null', out, 1, true)
      assert.matches('"lastProbeTime":null', out, 1, true)
      assert.matches('"terminationGracePeriodSeconds":30', out, 1, true)
      assert.matches('"ratio":0.75', out, 1, true)
      assert.matches('"command":["/bin/sh","-c","echo \\"hi\\"\\nsleep 1"]', out, 1, true)
      assert.equals(array_mt, getmetatable(again.metadata.finalizers))
      -- (key order of the output is unspecified: compare decoded values)
      assert.same(obj, decode(encode(again)))
    end)

    it("keeps nested and empty arrays and empty objects", function()
      assert.equals("[]", roundtrip("[]"))
      assert.equals("{}", roundtrip("{}"))
      assert.equals("[[]]", roundtrip("[[]]"))
      assert.equals("[[],[[]],{},[{}]]", roundtrip("[ [], [[]], {}, [{}] ]"))
      assert.equals("[1,[2,[3,[]]]]", roundtrip("[1,[2,[3,[]]]]"))
      assert.equals('{"a":{"b":{"c":[]}}}', roundtrip('{"a":{"b":{"c":[]}}}'))
      assert.equals("[null,null]", roundtrip("[null,null]"))
      assert.equals('{"a":null}', roundtrip('{"a":null}'))
    end)

    it("keeps strings and numbers", function()
      assert.equals('"\240\159\152\128"', roundtrip([["\ud83d\ude00"]]))
      assert.equals('"a/b"', roundtrip([["a\/b"]]))
      assert.equals("[0,-1,1.5,100,1e+300]", roundtrip("[0,-1,1.5,1e2,1e300]"))
      if HAS_INTEGERS then
        assert.equals("[9007199254740993,-9223372036854775808]",
                      roundtrip("[9007199254740993,-9223372036854775808]"))
      end
    end)

    it("survives random values", function()
      math.randomseed(1234)
      local function rnd_string()
        local t = {}
        for i = 1, math.random(0, 12) do
          t[i] = string.char(math.random(0, 255))
        end
        return table.concat(t)
      end
      local function gen(depth)
        local r = math.random(1, depth > 4 and 5 or 8)
        if r == 1 then return math.random(-1000000, 1000000)
        elseif r == 2 then return math.random() * 1e6
        elseif r == 3 then return rnd_string()
        elseif r == 4 then return math.random(0, 1) == 1
        elseif r == 5 then return null
        elseif r == 6 then
          local a = setmetatable({}, array_mt)
          for i = 1, math.random(0, 5) do a[i] = gen(depth + 1) end
          return a
        else
          local o = {}
          for _ = 1, math.random(0, 5) do o["k" .. rnd_string()] = gen(depth + 1) end
          return o
        end
      end
      for _ = 1, 300 do
        local v = gen(0)
        local s = encode(v)
        assert.same(v, decode(s))
        assert.same(v, decode(encode(decode(s))))
      end
    end)
  end)
  describe("incremental decode (a large response decoded while it arrives)", function()
    local pieces = core.json_decode_pieces

    -- deep equality with metatables (the array metatable must be the same)
    local function same(a, b, path)
      path = path or "$"
      assert.equal(type(a), type(b), "type at " .. path)
      if type(a) ~= "table" then
        if a ~= a and b ~= b then return end
        assert.equal(a, b, "value at " .. path)
        if HAS_INTEGERS and type(a) == "number" then assert.equal(math.type(a), math.type(b), "number type at " .. path) end
        return
      end
      assert.equal(getmetatable(a), getmetatable(b), "metatable at " .. path)
      for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
      for k in pairs(b) do assert.is_not_nil(a[k], "missing " .. path .. "." .. tostring(k)) end
    end

    local docs = {
      '{}',
      ' { } ',
      '{"items":[]}',
      '{"kind":"List","items":[{"a":1},{"b":[1,2,{"c":null}]},[],"s",12345,-0.5e3,true,false,null]}',
      '{"apiVersion":"v1","kind":"ConfigMapList","metadata":{"resourceVersion":"12","continue":""},"items":[{"metadata":{"name":"a\\u00e9\\"q\\\\"},"data":{"k":"v\\n"}}],"trailer":{"x":[1,[2,[3]]]}}',
      '{"n":12345678901234567890,"f":1.5,"i":-42,"e":1e400,"z":0}',
      '{"items":[1,2],"items":[3]}',                        -- the last duplicate wins
      '{"a":[{"b":[]}],"items":[{}],"c":{"d":[[],[[]]]}}',  -- several array members
      '{"k\\u0041y":"v","":1,"items" : [ 1 , 2 ] }',
    }
    local big = {}
    for i = 1, 300 do
      big[i] = ('{"metadata":{"name":"cm-%d","labels":{"i":"%d"}},"data":{"x":"%s","esc":"tab\\there \\u2603"}}'):format(i, i, ("y"):rep(i % 50))
    end
    docs[#docs + 1] = '{"kind":"ConfigMapList","metadata":{"resourceVersion":"9"},"items":[' .. table.concat(big, ",") .. ']}\n'

    it("gives what decoding the whole text gives, wherever the pieces are cut", function()
      for _, doc in ipairs(docs) do
        local want = decode(doc)
        for _, step in ipairs({ 1, 2, 3, 7, 16, 61, 1000, #doc }) do
          local got, why = pieces(doc, step)
          assert.is_nil(why, "incremental decode gave up on " .. doc:sub(1, 60) .. " step " .. step)
          same(got, want)
        end
      end
    end)

    it("scans a value larger than 64 KiB to its end before decoding it, member or element", function()
      local huge = ("0123456789abcdef"):rep(16 * 1024) -- 256 KiB
      local doc = '{"kind":"List","big":{"s":"' .. huge .. '","n":[1,2.5,{"x":null}]},"items":[{"a":1},'
        .. '{"blob":"' .. huge .. '\\n","k":[true,false]},{"b":"\\u00e9"},12345]}'
      local want = decode(doc)
      for _, step in ipairs({ 997, 4096, 65539, #doc }) do
        local got, why = pieces(doc, step)
        assert.is_nil(why, "step " .. step)
        same(got, want)
      end
      assert.equal(#huge, #want.big.s)
      -- and a malformed large value still gives up
      local bad = '{"items":[{"blob":"' .. huge .. '",]}]}'
      assert.is_nil(pieces(bad, 4096))
    end)

    it("gives up, so that the whole text is decoded and reports the error, on what is not a well-formed object", function()
      for _, doc in ipairs({ '[1,2]', '"s"', '12', '{"a":1', '{"a":1}x', '{"a":[1,}', '{"a" 1}', '{1:2}',
                             '{"a":[{"b":1}],}', '{"items":[1 2]}', '{"a":tru}' }) do
        for _, step in ipairs({ 1, 4, #doc }) do
          local got, why = pieces(doc, step)
          assert.is_nil(got, doc)
          assert.equal("fallback", why)
        end
      end
    end)

    it("counts nesting from the whole document", function()
      -- 999 nested arrays decode alone (the limit is 1000 levels), but not as
      -- an element of the list, two levels down
      local inner = ("["):rep(999) .. ("]"):rep(999)
      assert.is_table(decode(inner))
      local doc = '{"items":[' .. inner .. ']}'
      assert.has_error(function() decode(doc) end)
      assert.is_nil(pieces(doc, 64))
    end)
  end)
end)

-- Over HTTP/2 the API server answers a write with bad credentials before it
-- has read the body and resets the stream; libcurl 7.88 reports that as a
-- failed transfer (curl#13151). The client must still see the 401 (so that
-- credential plugins refresh), never a connection error.
local H = require "spec.helper"
local k8s = require "k8s"

describe("HTTP/2 early answers (" .. H.interpreter .. ")", function()
  it("reports 401 for every POST with a bad token, not a reset", function()
    local cs = assert(k8s.NewForConfig({
      Host = H.env.K8S_LUA_SERVER, BearerToken = "not-a-token",
      TLSClientConfig = { CAFile = H.env.K8S_LUA_CA }, QPS = -1,
    }))
    local body = { metadata = { name = "early" }, data = { a = string.rep("x", 20000) } }
    local reasons = {}
    for _ = 1, 150 do
      local obj, err = cs:CoreV1():ConfigMaps("default"):Create(body)
      assert.is_nil(obj)
      reasons[err.reason] = (reasons[err.reason] or 0) + 1
    end
    assert.same({ Unauthorized = 150 }, reasons)
  end)
end)

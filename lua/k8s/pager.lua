--- client-go's pager (tools/pager): List in pages of `limit` (default 500)
-- following `continue` tokens; later pages drop resourceVersion and
-- resourceVersionMatch, as client-go does.
--   for item in k8s.pager.Items(cs:CoreV1():ConfigMaps("ns"), { limit = 500 }) do ... end
--   local list = assert(k8s.pager.List(client, opts))   -- all items in one list
--   for page, err in k8s.pager.Pages(client, opts) do
--     if not page then error(err) end
--     ...
--   end
-- `client` is anything with a List(opts) method (typed or dynamic resource client).
-- @module k8s.pager
local errors = require "k8s.errors"

local M = { DefaultPageSize = 500 }

local function copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

local function check(client, opts, what)
  local ok = (type(client) == "userdata" or type(client) == "table")
  if ok then
    local okl, list = pcall(function() return client.List end)
    ok = okl and list ~= nil
  end
  if not ok then
    error("pager." .. what .. ": client must be a resource client (with a List method), got " .. type(client), 3)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("pager." .. what .. ": opts must be a table, got " .. type(opts), 3)
  end
end

local function first_opts(opts)
  local o = copy(opts)
  if o.limit == nil or o.limit == 0 then o.limit = M.DefaultPageSize end
  return o
end

local function continue_of(page)
  local md = type(page) == "table" and page.metadata
  local c = type(md) == "table" and md["continue"]
  if type(c) == "string" and c ~= "" then return c end
  return nil
end

--- Pages(client, opts): an iterator over the pages (list objects).
-- Each call returns the next page, nil after the last one, or `false, err`
-- when a List fails (so that a generic `for` sees the error). An expired
-- continue token (410 Expired) is such an error, as in client-go's
-- EachListItem; pager.List falls back to a full list instead.
function M.Pages(client, opts)
  check(client, opts, "Pages")
  local o = first_opts(opts)
  local done = false
  return function()
    if done then return nil end
    local page, err = client:List(o)
    if not page then
      done = true
      return false, err
    end
    local c = continue_of(page)
    if c then
      o["continue"] = c
      -- later pages must not carry a resourceVersion (client-go clears both)
      o.resourceVersion, o.resourceVersionMatch = nil, nil
    else
      done = true
    end
    return page
  end
end

--- Items(client, opts): iterate the items of all pages, each exactly once.
-- A failing List raises its error (use Pages or List for `nil, err`).
function M.Items(client, opts)
  check(client, opts, "Items")
  local next_page = M.Pages(client, opts)
  local page, i = nil, 0
  return function()
    while true do
      if page and type(page.items) == "table" and i < #page.items then
        i = i + 1
        return page.items[i]
      end
      local err
      page, err = next_page()
      if page == nil then return nil end
      if page == false then error(err, 2) end
      i = 0
    end
  end
end

--- List(client, opts) -> one list object with the items of all pages | nil, err.
-- As client-go's ListPager.List: when the continue token of a later page
-- has expired (410 Expired), the pages read so far are dropped and one full
-- list (no limit, the caller's resourceVersion) is returned instead.
function M.List(client, opts)
  check(client, opts, "List")
  local next_page = M.Pages(client, opts)
  local out, paginated = nil, false
  while true do
    local page, err = next_page()
    if page == nil then break end
    if page == false then
      if paginated and errors.IsResourceExpired(err) then
        local full = copy(opts)
        full.limit, full["continue"] = nil, nil
        return client:List(full)
      end
      return nil, err
    end
    if not out then
      out = page
      if type(out.items) ~= "table" then out.items = setmetatable({}, require("k8s.core").array_mt) end
    else
      for _, it in ipairs(type(page.items) == "table" and page.items or {}) do out.items[#out.items + 1] = it end
      out.metadata = page.metadata
    end
    paginated = continue_of(page) ~= nil or paginated
  end
  if out and type(out.metadata) == "table" then out.metadata["continue"] = nil end
  return out
end

return M

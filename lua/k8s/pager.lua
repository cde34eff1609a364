--- client-go's pager: iterate all pages of a List with limit + continue,
-- falling back to one full list when a continue token expires (410).
--   for item in k8s.pager.Items(cs:CoreV1():ConfigMaps("ns"), { limit = 500 }) do ... end
--   local list = assert(k8s.pager.List(client, opts))   -- all items in one list
-- @module k8s.pager
local errors = require "k8s.errors"

local M = { DefaultPageSize = 500 }

local function copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

--- EachListItem-style page iterator: returns a function yielding one page
-- (list object) per call, nil at the end, or nil, err.
function M.Pages(client, opts)
  if type(client) ~= "userdata" and type(client) ~= "table" then
    error("pager: client must be a resource client", 2)
  end
  local o = copy(opts)
  if o.limit == nil then o.limit = M.DefaultPageSize end
  local done, fellback = false, false
  return function()
    if done then return nil end
    local page, err = client:List(o)
    if not page then
      if errors.IsResourceExpired(err) and o["continue"] and not fellback then
        -- the continue token expired: list everything in one request
        local full = copy(opts)
        full.limit, full["continue"] = nil, nil
        fellback = true
        done = true
        return client:List(full)
      end
      done = true
      return nil, err
    end
    local c = page.metadata and page.metadata["continue"]
    if c == nil or c == "" then
      done = true
    else
      o["continue"] = c
      -- later pages must not carry a resourceVersion (client-go drops it)
      o.resourceVersion, o.resourceVersionMatch = nil, nil
    end
    return page
  end
end

--- Iterate items across all pages. Errors raise (use Pages for nil, err).
function M.Items(client, opts)
  local next_page = M.Pages(client, opts)
  local page, i = nil, 0
  return function()
    while true do
      if page and page.items and i < #page.items then
        i = i + 1
        return page.items[i]
      end
      local err
      page, err = next_page()
      if not page then
        if err then error(err, 2) end
        return nil
      end
      i = 0
    end
  end
end

--- List all pages into one list object (items concatenated).
function M.List(client, opts)
  local out
  for page, err in M.Pages(client, opts) do
    if err then return nil, err end
    if not out then
      out = page
    else
      for _, it in ipairs(page.items or {}) do out.items[#out.items + 1] = it end
      out.metadata = page.metadata
    end
  end
  if out and out.metadata then out.metadata["continue"] = nil end
  return out
end

return M

--- client-go's Reflector (tools/cache/reflector.go, v0.35): keeps a
-- processor (k8s.cache) in step with the server by list+watch.
-- * WatchList first (sendInitialEvents, resourceVersionMatch=NotOlderThan,
--   the k8s.io/initial-events-end bookmark), falling back to LIST+WATCH on
--   any other error, and when the end bookmark does not come in time.
-- * LIST at RV "0" first, then at the last RV (unpaginated) after a watch
--   410, and at "" only when that fails with 410/TooLarge.
-- * Watches carry allowWatchBookmarks and timeoutSeconds in [300, 600);
--   a normal close re-watches at once from the last RV (bookmarks count).
-- * 429 and connection failures back off (0.8 s doubling to 30 s, jitter
--   up to +100 %, reset after 2 min) and re-watch without a relist.
-- * A watch silent past its deadline is dead: the reflector starts again.
-- Runs as a task of k8s.runtime (k8s.Run outside nginx, a timer inside).
-- @module k8s.reflector
local rt = require "k8s.runtime"
local errors = require "k8s.errors"
local pager = require "k8s.pager"

local M = {}

local Reflector = { __name = "k8s.Reflector" }
Reflector.__index = Reflector

local function is_expired(err)
  return err and (errors.IsResourceExpired(err) or errors.IsGone(err)) or false
end

local function is_too_large(err)
  if not err then return false end
  local st = err.status
  local causes = st and st.details and st.details.causes
  if causes then
    for _, c in ipairs(causes) do
      if c.reason == "ResourceVersionTooLarge" then return true end
    end
  end
  return err.code == 504 and tostring(err.message):find("Too large resource version", 1, true) ~= nil
end

local function is_backoff_error(err)
  if not err then return false end
  return errors.IsTooManyRequests(err) or err.reason == "ConnectionRefused"
end

--- new(lw, processor, opts) -> reflector.
-- lw: a resource client (List(opts), Watch(opts)); processor: k8s.cache
-- processor (Replace, OnWatchEvent, SetResourceVersion). opts: Name,
-- UseWatchList (true), WatchListTimeout (30 s for the end bookmark),
-- TweakListOptions (function(opts)), WatchSilence (seconds past a watch's
-- deadline before it is taken for dead, 30), Log (function(level, msg)),
-- ResumeResourceVersion (start with a watch from this RV, as a reflector
-- that had synced at it: a cache kept across restarts).
function M.new(lw, processor, opts)
  opts = opts or {}
  local r = setmetatable({
    lw = lw, p = processor, name = opts.Name or "reflector",
    use_watchlist = opts.UseWatchList ~= false,
    watchlist_timeout = opts.WatchListTimeout or 30,
    tweak = opts.TweakListOptions,
    silence = opts.WatchSilence or 30,
    log = opts.Log,
    rv = opts.ResumeResourceVersion or "", -- lastSyncResourceVersion
    resume = opts.ResumeResourceVersion ~= nil,
    unavailable = false,     -- isLastSyncResourceVersionUnavailable
    paginated = false,
    d = 0.8, last_backoff = nil,
    stats = { lists = 0, watches = 0, watchlists = 0, relists_at_empty = 0, events = 0, expired = 0, outcomes = {} },
  }, Reflector)
  return r
end

function Reflector:_log(level, msg)
  if self.log then self.log(level, self.name .. ": " .. msg) end
end

--- LastSyncResourceVersion(): the RV of the last list or event seen.
function Reflector:LastSyncResourceVersion() return self.rv end

-- client-go's exponential backoff manager (0.8 s, 30 s, reset 2 min, jitter 1.0)
function Reflector:_backoff()
  local now = rt.now()
  if self.last_backoff and now - self.last_backoff > 120 then self.d = 0.8 end
  self.last_backoff = now
  local d = self.d
  self.d = math.min(d * 2, 30)
  local wait = d + math.random() * d
  self:_sleep(wait)
end

function Reflector:_sleep(s)
  local deadline = rt.now() + s
  while not self.stopped do
    local left = deadline - rt.now()
    if left <= 0 then return end
    rt.sleep(math.min(left, 1))
    if rt.exiting() then self.stopped = true end
  end
end

function Reflector:_opts(o)
  if self.tweak then self.tweak(o) end
  return o
end

-- One LIST (with the pager's rules), then Replace.
function Reflector:_list()
  local rv
  if self.unavailable then rv = ""
  elseif self.rv == "" then rv = "0"
  else rv = self.rv end
  while true do
    local o = self:_opts({ resourceVersion = rv })
    local list, err
    if rv == "0" or rv == "" or self.paginated then
      o.limit = 500
      list, err = pager.List(self.lw, o)
    else
      list, err = self.lw:List(o) -- unpaginated: served from the watch cache
    end
    self.stats.lists = self.stats.lists + 1
    if list then
      if rv == "0" and list.metadata and list.metadata["continue"] then self.paginated = true end
      self.unavailable = false
      local lrv = list.metadata and list.metadata.resourceVersion or ""
      self.p:Replace(list.items or {}, lrv)
      self.rv = lrv
      return true
    end
    if (is_expired(err) or is_too_large(err)) and rv ~= "" then
      self:_log("info", "list at resourceVersion " .. rv .. " failed (" .. tostring(err.reason) .. "): relisting at \"\"")
      self.unavailable = true
      self.stats.relists_at_empty = self.stats.relists_at_empty + 1
      rv = ""
    else
      return nil, err
    end
  end
end

local function watch_timeout()
  return math.floor(300 * (1 + math.random()))
end

-- Consume a watch; returns "closed" (normal end), "expired", "backoff", or nil, err.
function Reflector:_consume(w, timeout_seconds, started, initial)
  local deadline = rt.now() + timeout_seconds + self.silence
  local n = 0
  local temp = initial and {} or nil
  local initial_deadline = initial and rt.now() + self.watchlist_timeout
  while not self.stopped do
    local limit = (temp and initial_deadline or deadline) - rt.now()
    if limit <= 0 then
      w:Stop()
      if temp then return "no-bookmark" end
      self:_log("info", "watch silent past its deadline: taken for dead")
      return "dead"
    end
    local ev, err = w:Next(math.min(limit, 5))
    if rt.exiting() then self.stopped = true end
    if self.stopped then w:Stop(); return "stopped" end
    if ev == nil and err == nil then
      if temp then return "closed-initial" end
      if n == 0 and rt.now() - started < 1 then return nil, { reason = "VeryShortWatch", message = "very short watch: the watch closed within 1 s with no events" } end
      return "closed"
    end
    if ev == nil then
      if err.reason ~= "Timeout" then
        w:Stop()
        return nil, err
      end
    else
      n = n + 1
      self.stats.events = self.stats.events + 1
      local obj = ev.object or {}
      local md = obj.metadata or {}
      if ev.type == "ERROR" then
        w:Stop()
        local code, reason = obj.code, obj.reason
        if code == 410 or reason == "Expired" or reason == "Gone" then return "expired", obj end
        if code == 429 then return "backoff", obj end
        return nil, { reason = reason or "InternalError", message = obj.message or "watch ERROR event", code = code }
      elseif ev.type == "BOOKMARK" then
        if temp and md.annotations and md.annotations["k8s.io/initial-events-end"] == "true" then
          self.p:Replace(temp, md.resourceVersion or "")
          temp = nil
        end
      elseif temp then
        temp[#temp + 1] = obj
      else
        self.p:OnWatchEvent(ev.type, obj)
      end
      if md.resourceVersion and md.resourceVersion ~= "" then
        self.rv = md.resourceVersion
        if self.p.SetResourceVersion then self.p:SetResourceVersion(self.rv) end
      end
    end
  end
  w:Stop()
  return "stopped"
end

-- The WatchList attempt: true when the initial events ended at the
-- bookmark and the stream went on as the watch until it ended; "fallback"
-- when a LIST is needed instead.
function Reflector:_watch_list()
  local attempts = 0
  while not self.stopped do
    attempts = attempts + 1
    local t = watch_timeout()
    local w, err = self.lw:Watch(self:_opts({
      resourceVersion = self.unavailable and "" or self.rv,
      sendInitialEvents = true, resourceVersionMatch = "NotOlderThan",
      allowWatchBookmarks = true, timeoutSeconds = t }))
    self.stats.watchlists = self.stats.watchlists + 1
    if not w then
      if is_backoff_error(err) then self:_backoff()
      elseif is_expired(err) or is_too_large(err) then self.unavailable = true
      else
        self:_log("info", "WatchList failed (" .. tostring(err.reason) .. "): falling back to list")
        return "fallback"
      end
    else
      local res, e = self:_consume(w, t, rt.now(), true)
      if res == "no-bookmark" then
        self:_log("info", "no initial-events-end bookmark within " .. self.watchlist_timeout .. " s: falling back to list+watch")
        self.use_watchlist = false
        return "fallback"
      elseif res == "closed-initial" then
        if attempts >= 3 then return "fallback" end
      elseif res == "expired" then
        self.unavailable = true
        if attempts >= 3 then return "fallback" end
      elseif res == "backoff" then
        self:_backoff()
      elseif res == nil then
        self:_log("info", "WatchList ended with " .. tostring(e.reason) .. ": falling back to list")
        return "fallback"
      else
        self.unavailable = false
        return res -- the stream went on as a watch and ended: closed, dead, stopped
      end
    end
  end
  return "stopped"
end

-- Watches from the last RV until an error that needs a relist.
function Reflector:_watch_loop()
  while not self.stopped and not rt.exiting() do
    local t = watch_timeout()
    local started = rt.now()
    local w, err = self.lw:Watch(self:_opts({ resourceVersion = self.rv, allowWatchBookmarks = true, timeoutSeconds = t }))
    self.stats.watches = self.stats.watches + 1
    local outcomes = self.stats.outcomes
    if #outcomes < 20 then outcomes[#outcomes + 1] = w and "watching" or ("open: " .. tostring(err.reason) .. " " .. tostring(err.code)) end
    if not w then
      if is_backoff_error(err) then
        self:_backoff()
      else
        if is_expired(err) then
          self.stats.expired = self.stats.expired + 1 -- a 410 answer: relist at the last RV
          return "expired"
        end
        return nil, err
      end
    else
      local res, e = self:_consume(w, t, started, false)
      if #outcomes < 20 then outcomes[#outcomes + 1] = tostring(res) .. (e and (" " .. tostring(e.reason)) or "") end
      if res == "expired" then
        self.stats.expired = self.stats.expired + 1
        self:_log("info", "watch expired (410): relisting at the last resourceVersion " .. self.rv)
        return "expired"
      elseif res == "backoff" or res == "dead" then
        self:_backoff()
      elseif res == nil then
        if e.reason == "ConnectionReset" or e.reason == "ConnectionRefused" or e.reason == "UnexpectedEOF" then
          self:_backoff() -- the connection failed: re-watch from the last RV
        else
          return nil, e
        end
      end
      -- "closed": a new watch at once from the last RV
    end
  end
end

--- ListAndWatch(): one cycle (WatchList or LIST, then watches) until a relist is needed.
function Reflector:ListAndWatch()
  if self.resume then
    self.resume = false
    return self:_watch_loop()
  end
  if self.use_watchlist then
    local res = self:_watch_list()
    if res == "stopped" then return res end
    if res ~= "fallback" then
      -- synced by WatchList; its stream ended: watch on from the last RV
      if res == "dead" then self:_backoff() end
      return self:_watch_loop()
    end
  end
  local ok, err = self:_list()
  if not ok then return nil, err end
  return self:_watch_loop()
end

--- Run(): the reflector's loop (call it in a task); returns when stopped.
function Reflector:Run()
  while not self.stopped and not rt.exiting() do
    local res, err = self:ListAndWatch()
    if err then self:_log("info", "list/watch failed: " .. tostring(err.reason) .. ": " .. tostring(err.message)) end
    if self.stopped then break end
    self:_backoff()
  end
end

--- Stop(): the loop ends at its next step.
function Reflector:Stop() self.stopped = true end

return M

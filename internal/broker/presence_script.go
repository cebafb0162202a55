package broker

// Presence in Redis is four keys per room, changed together by one
// script so that they never disagree:
//
//   - entries, a sorted set of "node\x00user", all scored 0, so that a
//     node's entries are one range in byte order;
//   - nodes, a sorted set of the nodes with entries in the room, scored by
//     the time (Redis time, so node clocks do not matter) until which each
//     node's heartbeat keeps them: a heartbeat renews one score per room,
//     however many users the node has there;
//   - users, a sorted set of the room's users, all scored 0, so that it
//     is in byte order: a count is ZCARD and a page is ZRANGEBYLEX;
//   - shared, a hash of how many more nodes than one hold a user in the
//     room: a user leaves users when the last node's entry goes. A user on
//     one node, the common case, has no field, so a join writes two keys,
//     not three.
//
// Every call first drops up to 100 entries of a node whose score has
// lapsed (a heartbeat 1,000), and the node itself once it has none left,
// so a dead node's users leave as their rooms are used and renewed. Each
// user who so leaves the room on every node is a numbered presence change
// that the call's reply lists first, for the node that made the call to
// tell the room, as it tells the leaves of its own users. The keys expire
// two TTLs after they were made or last renewed by a heartbeat. A node
// that finds its score lapsed or gone while it still has users in the
// room restores its entries there, a page of users per call.
//
// The calls that change who is in the room (apply, joins and restore),
// and page, which counts too and whose sweep of a dead node's users may
// empty the room, take the room's stream keys as well, as roomKeys lists
// them: KEYS[5], its position, and KEYS[6] to KEYS[8], the kept:* keys of
// appendScript, then KEYS[9], which numbers the presence changes of every
// room so that a count tells which changes it includes; renew, called by
// a node with users in the room, takes KEYS[5] and then that numbering
// key alone, as KEYS[6], for the leaves of its sweep. A change that
// empties a room settles the position: one no message was given in goes,
// one that was counts against rooms.history.maxBytes until a user comes
// back (see keptCosts).
var presenceScript = newScript(keptCosts + `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op, ttl, node = ARGV[1], tonumber(ARGV[2]), ARGV[3]
-- this node's entries are "node\0user" (a page names no node: its
-- ARGV[3] is a user)
local prefix = node and node .. '\0'
-- constants go to Redis as strings ('0', not 0): Redis 7.0 prints every
-- number argument with printf, which would cost two per join
-- a call drops at most this many of a node's stale entries, so that no
-- call's work grows with what a node left behind; the restores that
-- follow drop the rest
local dropsPerCall = 1000
local function userOf(entry)
  return string.sub(entry, string.find(entry, '\0', 1, true) + 1)
end
-- the range of node's entries: "node\0user" sorts by node first
local function rangeOf(node)
  return '[' .. node .. '\0', '(' .. node .. '\1'
end
local function entriesOf(node, ...)
  local from, to = rangeOf(node)
  return redis.call('ZRANGEBYLEX', KEYS[1], from, to, ...)
end
-- drop and counted return how the room's users changed: -1, 0 or 1;
-- left is set once a user leaves the room
local left = false
local function drop(entry)
  if redis.call('ZREM', KEYS[1], entry) == 1 then
    local user = userOf(entry)
    local others = tonumber(redis.call('HGET', KEYS[3], user))
    if not others then
      local gone = redis.call('ZREM', KEYS[2], user)
      left = left or gone == 1
      return -gone
    elseif others > 1 then
      redis.call('HINCRBY', KEYS[3], user, '-1')
    else
      redis.call('HDEL', KEYS[3], user)
    end
  end
  return 0
end
-- a user already in the room is there on one more node; the first such
-- user may make the hash, which then expires with the other keys
local function shared(user)
  if redis.call('HINCRBY', KEYS[3], user, '1') == 1 then
    redis.call('PEXPIRE', KEYS[3], 2 * ttl)
  end
end
-- a new entry's user is in the room on one more node
local function counted(entry)
  local user = userOf(entry)
  if redis.call('ZADD', KEYS[2], '0', user) == 1 then
    return 1
  end
  shared(user)
  return 0
end
local dead = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. now, 'LIMIT', '0', '1')[1]
-- the users the sweep took out of the room on every node, in order
local swept = {}
if dead then
  -- a heartbeat, which no user waits on, drops ten times as many as the
  -- calls users make
  local sweep = op == 'renew' and '1000' or '100'
  local gone = entriesOf(dead, 'LIMIT', '0', sweep)
  for _, entry in ipairs(gone) do
    if drop(entry) == -1 then
      swept[#swept + 1] = userOf(entry)
    end
  end
  if #gone < tonumber(sweep) then
    redis.call('ZREM', KEYS[4], dead)
  end
end
-- numbered gives n presence changes the next numbers and returns the
-- last; with n 0, the number of the last change so far, which a count
-- includes. Numbers go on from the time, 1024 a millisecond, so that they
-- never go back, not even once their key (the last of every call's)
-- expired or Redis lost it, and the key keeps the last number given out,
-- by a change or a count, so that no later change is numbered below a
-- count if Redis's clock goes back.
local function numbered(n)
  local key = KEYS[#KEYS]
  local stored = tonumber(redis.call('GET', key) or '0')
  local last = math.max(stored, now * 1024) + n
  if last > stored then
    redis.call('SET', key, string.format('%d', last), 'PX', string.format('%d', 2 * ttl))
  end
  return last
end
-- the sweep's leaves are presence changes like any other, numbered
-- before the call's own: departed is {} for none, else the version of the
-- first, then each user and the room's users after it
local departed = {}
if #swept > 0 then
  local last = numbered(#swept)
  local users = redis.call('ZCARD', KEYS[2])
  departed[1] = last - #swept + 1
  for i, user in ipairs(swept) do
    departed[#departed + 1] = user
    departed[#departed + 1] = users + #swept - i
  end
end
-- whether node's score is current: false once lapsed or swept away
local function alive(node)
  local score = tonumber(redis.call('ZSCORE', KEYS[4], node))
  return score ~= nil and score >= now
end
local function expire()
  for i = 1, 4 do
    redis.call('PEXPIRE', KEYS[i], 2 * ttl)
  end
end
-- this node's score moves a TTL on, and the keys' expiry with it
local function keep()
  redis.call('ZADD', KEYS[4], now + ttl, node)
  expire()
end
-- A batch of distinct users joining, what a filling room sends: the
-- users not yet in the room cannot have an entry (an entry's user is in
-- users), so they cost three calls in all, not two each. The script's
-- own work per join costs Redis more than the calls' does: its loops
-- make one string and fill tables by index. Given the room's users
-- before the batch, joinAll returns the users after each join.
local function joinAll(count)
  local n = #ARGV - 4
  local present = redis.call('ZMSCORE', KEYS[2], unpack(ARGV, 5))
  local entries, members, held, users = {}, {}, {}, {}
  for j = 1, n do
    local user = ARGV[j + 4]
    if present[j] then
      held[#held + 1] = user
    else
      entries[#entries + 1], entries[#entries + 2] = '0', prefix .. user
      members[#members + 1], members[#members + 2] = '0', user
      count = count + 1
    end
    users[j] = count
  end
  if #members > 0 then
    redis.call('ZADD', KEYS[1], unpack(entries))
    redis.call('ZADD', KEYS[2], unpack(members))
  end
  -- a user in the room already is there on one more node, unless this
  -- node held it
  for _, user in ipairs(held) do
    if redis.call('ZADD', KEYS[1], '0', prefix .. user) == 1 then
      shared(user)
    end
  end
  return users
end
-- the room, from its position's key KEYS[5], <prefix>:stream:<room>: it
-- starts at #prefix + 9, which is #KEYS[6] - 2, KEYS[6] being
-- <prefix>:kept:bytes
local function roomOf()
  return string.sub(KEYS[5], #KEYS[6] - 2)
end
-- keeps KEYS[6] to KEYS[8] as long as the position whose count they hold
local function keepCount()
  local lasts = redis.call('PTTL', KEYS[5])
  if redis.call('PTTL', KEYS[8]) < lasts then
    local renewed = string.format('%d', 2 * lasts)
    for i = 6, 8 do
      redis.call('PEXPIRE', KEYS[i], renewed)
    end
  end
end
-- the room has no users left: a stream no message was given in goes, and
-- the position of one that was counts, as the room's last activity
local function settle()
  if redis.call('EXISTS', KEYS[2]) == 1 then
    return
  end
  local head = redis.call('HMGET', KEYS[5], 'offset', 'idle')
  if head[1] == '0' then
    redis.call('DEL', KEYS[5])
  elseif head[1] and not head[2] then
    local room = roomOf()
    local cost = idleCost(KEYS[5])
    if redis.call('HEXISTS', KEYS[6], room) == 0 then
      cost = cost + bookCost(room)
    end
    cost = string.format('%d', cost)
    redis.call('HSET', KEYS[5], 'idle', cost)
    redis.call('HINCRBY', KEYS[6], room, cost)
    redis.call('INCRBY', KEYS[7], cost)
    redis.call('ZADD', KEYS[8], 'GT', string.format('%d', now), room)
    keepCount()
  end
end
-- a user is back: the position is theirs again, and leaves the count
local function occupied(idle)
  redis.call('HDEL', KEYS[5], 'idle')
  local room = roomOf()
  if redis.call('HEXISTS', KEYS[6], room) == 0 then
    return
  end
  local bytes = redis.call('HINCRBY', KEYS[6], room, '-' .. idle)
  redis.call('DECRBY', KEYS[7], idle)
  if bytes <= 0 then
    redis.call('HDEL', KEYS[6], room)
    redis.call('ZREM', KEYS[8], room)
  end
end
if op == 'apply' or op == 'joins' then
  -- this node's changes in the room, in order, "+user" entering and
  -- "-user" leaving (joins: distinct users, all entering), after
  -- ARGV[4]: "1" when the node had nobody in the room before them, so
  -- that whatever it left here is stale. The answer is the version of
  -- the last change (KEYS[9] numbers every room's changes), the stream's
  -- epoch and offset, whether the node's other entries are current (0
  -- asks it to restore them), the room's users before the changes, then
  -- after each: a change moves the count when the user entered or left
  -- the room on every node.
  local current = 1
  if ARGV[4] == '1' then
    local stale = entriesOf(node, 'LIMIT', '0', dropsPerCall)
    for _, entry in ipairs(stale) do
      drop(entry)
    end
    keep()
    if #stale == dropsPerCall then
      current = 0
    end
  elseif not alive(node) then
    current = 0
  end
  local before = redis.call('ZCARD', KEYS[2])
  local users, entered
  local leaving = false
  if op == 'joins' then
    users, entered = joinAll(before), true
  else
    local count = before
    users, entered = {}, false
    for i = 5, #ARGV do
      local entry = prefix .. string.sub(ARGV[i], 2)
      if string.sub(ARGV[i], 1, 1) == '+' then
        entered = true
        if redis.call('ZADD', KEYS[1], '0', entry) == 1 then
          count = count + counted(entry)
        end
      else
        leaving = true
        count = count + drop(entry)
      end
      users[#users + 1] = count
    end
  end
  -- a node whose last user here left has no score to keep
  if leaving and current == 1 and #entriesOf(node, 'LIMIT', '0', '1') == 0 then
    redis.call('ZREM', KEYS[4], node)
  end
  -- keys this call created have no expiry yet, whether the room had no
  -- users or a leave before a join emptied it; those that were there
  -- keep theirs, which the node's heartbeat moves on
  if entered and (before == 0 or leaving and (redis.call('PTTL', KEYS[1]) == -1 or redis.call('PTTL', KEYS[2]) == -1)) then
    expire()
  end
  -- after a join, the stream position (KEYS[5]) as it is now: the joins
  -- need it too, and reading it here saves a call. A member holds it from
  -- now on, so it outlasts the wait for this node's next heartbeat, which
  -- keeps it while the room has users.
  local head = {false, false}
  if entered then
    head = redis.call('HMGET', KEYS[5], 'epoch', 'offset', 'idle')
    local lasts = redis.call('PTTL', KEYS[5])
    if lasts >= 0 and lasts < 2 * ttl then
      redis.call('PEXPIRE', KEYS[5], string.format('%d', 2 * ttl))
    end
    if head[3] then
      occupied(head[3])
    end
  end
  if left then
    settle()
  end
  table.insert(users, 1, before)
  table.insert(users, 1, current)
  table.insert(users, 1, tonumber(head[2]) or 0)
  table.insert(users, 1, head[1] or '')
  table.insert(users, 1, numbered(#ARGV - 4))
  table.insert(users, 1, departed)
  return users
elseif op == 'renew' then
  -- the room's stream position (KEYS[5]) lives on while the room has
  -- users, for ARGV[5] ms from each heartbeat: restarted under a new
  -- epoch, its offsets would have every member take the next messages
  -- for ones it has had
  redis.call('PEXPIRE', KEYS[5], ARGV[5])
  -- the heartbeat: the node's score moves on while it is current and the
  -- node holds as many entries as it has users here (ARGV[4]); 0 asks it
  -- to restore them
  if not alive(node) or redis.call('ZLEXCOUNT', KEYS[1], rangeOf(node)) ~= tonumber(ARGV[4]) then
    return {departed, 0}
  end
  keep()
  return {departed, 1}
elseif op == 'restore' then
  -- one page of the node's users in byte order, after ARGV[4] ('' on the
  -- first page) up to the page's last user, or to the end of the node's
  -- entries when ARGV[5] is '1': the node's entries in that range become
  -- these users; the missing ones count again, the others leave. A page
  -- drops at most dropsPerCall entries; 0 asks for another restore.
  local from, to = rangeOf(node)
  if ARGV[4] ~= '' then
    from = '(' .. prefix .. ARGV[4]
  end
  if ARGV[5] ~= '1' then
    to = '[' .. prefix .. ARGV[#ARGV]
  end
  local users, wanted = #ARGV - 5, {}
  for i = 6, #ARGV do
    wanted[prefix .. ARGV[i]] = true
  end
  local found = redis.call('ZRANGEBYLEX', KEYS[1], from, to, 'LIMIT', '0', users + dropsPerCall)
  for _, entry in ipairs(found) do
    if wanted[entry] then
      wanted[entry] = false
    else
      drop(entry)
    end
  end
  for i = 6, #ARGV do
    local entry = prefix .. ARGV[i]
    if wanted[entry] and redis.call('ZADD', KEYS[1], '0', entry) == 1 then
      counted(entry)
    end
  end
  if users > 0 then
    keep()
  else
    redis.call('ZREM', KEYS[4], node)
  end
  if left then
    settle()
  end
  if #found == users + dropsPerCall then
    return {departed, 0}
  end
  return {departed, 1}
end
-- a page: the room's users, the number of the last presence change,
-- then up to ARGV[4] users after ARGV[3] ('' from the first), none for a
-- count (ARGV[2] is the TTL, as in every call); the sweep above may have
-- emptied the room
if left then
  settle()
end
local page = {}
if ARGV[4] ~= '0' then
  local from = '-'
  if ARGV[3] ~= '' then
    from = '(' .. ARGV[3]
  end
  page = redis.call('ZRANGEBYLEX', KEYS[2], from, '+', 'LIMIT', '0', ARGV[4])
end
table.insert(page, 1, numbered(0))
table.insert(page, 1, redis.call('ZCARD', KEYS[2]))
table.insert(page, 1, departed)
return page
`)

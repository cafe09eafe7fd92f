-- wrk: POST /api/v1/auth/refresh along rotating chains. Refresh tokens are single-use, so each
-- thread (run with exactly one connection per thread: -t N -c N) keeps its own current token and
-- replaces it with the one in each 200 response. A reused token would revoke the session, so
-- requests of one chain must be strictly sequential, which one connection per thread guarantees.
--
-- Environment: SCHILD_LOAD_REFRESH_TOKENS (one per thread, space-separated, pre-issued by
-- scripts/load), SCHILD_LOAD_USERS and SCHILD_LOAD_PASSWORD (to start a fresh chain by signing
-- in again if a chain breaks; counted as "relogin"), SCHILD_LOAD_LUA_DIR.
dofile(os.getenv("SCHILD_LOAD_LUA_DIR") .. "/common.lua")

local seeds = {}
for token in string.gmatch(os.getenv("SCHILD_LOAD_REFRESH_TOKENS") or "", "%S+") do
  table.insert(seeds, token)
end
local users = {}
for name in string.gmatch(os.getenv("SCHILD_LOAD_USERS") or "", "%S+") do
  table.insert(users, name)
end
local password = os.getenv("SCHILD_LOAD_PASSWORD")
local headers = { ["Content-Type"] = "application/json" }

-- Per thread.
token = nil
local relogin = false

function setup(thread)
  common_setup(thread, function(t, index)
    assert(seeds[index], "one refresh token per thread is needed (got " .. #seeds .. ")")
    t:set("token", seeds[index])
  end)
end

function request()
  mark_start()
  if relogin then
    local user = users[((thread_index - 1) % #users) + 1]
    local body = string.format('{"username":"%s","password":"%s"}', user, password)
    return wrk.format("POST", "/api/v1/auth/login", headers, body)
  end
  return wrk.format("POST", "/api/v1/auth/refresh", headers,
                    string.format('{"refresh_token":"%s"}', token))
end

function response(status, headers, body)
  mark_end()
  if relogin then
    count_extra("relogin_" .. tostring(status))
  else
    count_status(status)
  end
  local fresh = status == 200 and string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
  if fresh then
    if fresh == token then count_extra("same_token_returned") end
    token = fresh
    relogin = false
  else
    if not relogin then count_extra("chain_broken") end
    relogin = true
  end
end

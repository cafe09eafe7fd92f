-- wrk: POST /api/v1/auth/login with the correct password of accounts without TOTP.
-- Environment: SCHILD_LOAD_USERS (space-separated usernames), SCHILD_LOAD_PASSWORD,
-- SCHILD_LOAD_LUA_DIR (where common.lua is). Each thread walks the account list round-robin,
-- starting at its own offset, so concurrent sign-ins spread over several accounts.
dofile(os.getenv("SCHILD_LOAD_LUA_DIR") .. "/common.lua")

local users = {}
for name in string.gmatch(os.getenv("SCHILD_LOAD_USERS") or "", "%S+") do
  table.insert(users, name)
end
local password = os.getenv("SCHILD_LOAD_PASSWORD")
local headers = { ["Content-Type"] = "application/json" }
local next_user

function setup(thread)
  common_setup(thread)
end

function init(args)
  assert(#users > 0 and password, "SCHILD_LOAD_USERS and SCHILD_LOAD_PASSWORD are needed")
  next_user = ((thread_index - 1) % #users) + 1
end

function request()
  mark_start()
  local user = users[next_user]
  next_user = (next_user % #users) + 1
  local body = string.format('{"username":"%s","password":"%s"}', user, password)
  return wrk.format("POST", "/api/v1/auth/login", headers, body)
end

function response(status, headers, body)
  mark_end()
  count_status(status)
  if status == 200 then
    if string.find(body, '"status":"signed_in"', 1, true) then
      count_extra("signed_in")
    else
      count_extra("not_signed_in")
    end
  end
end

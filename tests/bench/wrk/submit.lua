-- Ticket submissions: each request uses one pre-issued credential (session cookie, CSRF token
-- and a single-use search token, obtained through the real search step) exactly once.
-- The ticket IDs of the accepted answers (303 to /ricevuta/<id>) are written to IDS_FILE.
--   wrk ... -- CREDENTIALS_FILE THREADS PATH IDS_FILE   (file lines: cookie TAB urlencoded body)
local script_dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(script_dir .. "report.lua")

local credentials = {}
local used = 0
local path = "/"
ids_file = nil
accepted_ids = {}

function init(args)
  local all = {}
  for line in io.lines(args[1]) do
    if line ~= "" then table.insert(all, line) end
  end
  local threads = tonumber(args[2])
  path = args[3]
  ids_file = args[4]
  for k = id + 1, #all, threads do table.insert(credentials, all[k]) end
end

function request()
  used = used + 1
  if used > #credentials then
    -- Out of credentials: never replay one (it would be refused and counted as an error).
    wrk.thread:stop()
    used = #credentials + 1
    return wrk.format("GET", "/healthz")
  end
  local cookie, body = credentials[used]:match("^([^\t]*)\t(.*)$")
  return wrk.format("POST", path, {
    ["Cookie"] = cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

local count_status = response
function response(status, headers, body)
  count_status(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  local ticket = location:match("/ricevuta/([^/?]+)$")
  if status == 303 and ticket then table.insert(accepted_ids, ticket) end
end

local report = done
function done(summary, latency, requests)
  report(summary, latency, requests)
  local out = io.open(bench_threads[1]:get("ids_file"), "w")
  for _, thread in ipairs(bench_threads) do
    for _, ticket in ipairs(thread:get("accepted_ids")) do out:write(ticket, "\n") end
  end
  out:close()
end

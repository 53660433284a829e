-- GET requests cycling through the paths listed in a file (one per line): wrk ... -- PATHS [COOKIE]
-- With COOKIE, every request carries it (the session a browser has after the search step).
local script_dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(script_dir .. "report.lua")

local paths = {}
local next_path = 0
local headers = {}

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then table.insert(paths, line) end
  end
  next_path = id  -- threads start at different places of the list
  if args[2] then headers["Cookie"] = args[2] end
end

function request()
  next_path = next_path + 1
  return wrk.format("GET", paths[(next_path % #paths) + 1], headers)
end

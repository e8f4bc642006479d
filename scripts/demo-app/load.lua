-- wrk script for netobs's demo: a shopper's mix of front-end URIs at a steady, moderate rate.
-- Each connection waits DELAY_MS (env, default 150) between requests, so the rate is about
-- connections * 1000 / (DELAY_MS + latency) requests per second instead of as fast as possible.
local pages = {
  {"GET", "/"},
  {"GET", "/catalogue"},
  {"GET", "/detail/808a2de1"},
  {"GET", "/detail/510a0d7e"},
  {"GET", "/detail/03fef6ac"},
  {"GET", "/cart"},
  {"POST", "/cart"},
  {"GET", "/cart"},
  {"POST", "/orders"},
  {"GET", "/orders"},
  {"GET", "/customers/c1"},
}
local socks = {"808a2de1", "510a0d7e", "03fef6ac", "d3588630", "819e1fbf"}
local pause = tonumber(os.getenv("DELAY_MS") or "150")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  math.randomseed(os.time() + (id or 0))
end

function request()
  local page = pages[math.random(#pages)]
  local headers = {["Cookie"] = "customer=c" .. math.random(10)}
  if page[1] == "POST" then
    headers["Content-Type"] = "application/json"
    local body = '{"itemId": "' .. socks[math.random(#socks)] .. '"}'
    return wrk.format("POST", page[2], headers, body)
  end
  return wrk.format("GET", page[2], headers)
end

function delay()
  return pause
end

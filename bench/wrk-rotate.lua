-- wrk script: every request a different page of the list (offsets 0..199),
-- so the cache-bypassing backend cannot fold concurrent requests into one
-- store job; bench-mongo-bare rotates the same way.
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/api/products?offset=" .. (counter % 200))
end

-- wrk: PATCH /api/products/{id} rotating over BENCH_IDS (comma-separated),
-- each setting a new stock, with the admin token BENCH_TOKEN. Every request
-- is a MongoDB findAndModify plus the Redis invalidation before the answer.
local ids, i, n = {}, 0, 0
for id in string.gmatch(os.getenv("BENCH_IDS") or "", "[^,]+") do ids[#ids + 1] = id end
local auth = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")

request = function()
  i = i % #ids + 1
  n = n + 1
  return wrk.format("PATCH", "/api/products/" .. ids[i],
    { ["Content-Type"] = "application/json", ["Authorization"] = auth },
    '{"stock":' .. n .. '}')
end

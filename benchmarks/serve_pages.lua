-- wrk cross-check of bench_serve.py (the same pages, round-robin; reader token from $TOKEN):
--   TOKEN=... wrk -t1 -c50 -d60s --latency -s benchmarks/serve_pages.lua http://127.0.0.1:8765/
-- Fetch every page once first (a cold page takes seconds). wrk prints "Non-2xx or 3xx
-- responses" when an answer was neither (a page with a bad token is a 303 to the login:
-- bench_serve.py's own client checks for 200 and the full body).
local paths = {"/", "/batches/week-050", "/api/status", "/api/batches/week-099", "/batches",
               "/annotators", "/annotators/ann7", "/items/item42", "/queue"}
local k = 0
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
request = function()
  k = k + 1
  return wrk.format("GET", paths[(k % #paths) + 1])
end
done = function(summary, latency, requests)
  for _, p in pairs({50, 95, 99}) do
    io.write(string.format("p%d %.1f ms\n", p, latency:percentile(p) / 1000))
  end
end

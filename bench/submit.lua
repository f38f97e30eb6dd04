-- wrk script for bench/submit.py: POSTs realistic citizen reports and tallies every status.
--
--   wrk -t2 -c32 -d10s --latency -s bench/submit.lua http://127.0.0.1:8000/api/v1/reports \
--       -- 9901000002=jyj.dongchuan.example.gov.cn,9902000001=www.xiling.example.gov.cn
--
-- The arguments after "--" are the demo sites as site_code=host pairs (bench/submit.py passes
-- those of app/directory/demo.py). The single argument "invalid" sends reports with a malformed
-- site code instead, which must all be refused: submit.py uses it to check that failures are
-- counted. done() prints one "zc_bench <key> <value>" line per figure for submit.py to parse,
-- then one "zc_bench_created <tracking code>" line per 201.

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_id", thread_count)
   table.insert(threads, thread)
end

local DESCRIPTIONS = {
   "页面中“办事指南”链接无法打开，提示404错误，请尽快修复。第%d号反馈。",
   "该栏目最近一次更新仍是去年的通知，信息长期未更新，希望及时维护。（编号%d）",
   "文中公布的咨询电话已停用，拨打后提示空号，请核实并更正联系方式。记录%d",
   "第二段“按照有关规定”误写为“按照有关规订”，存在错别字，请更正。序号%d",
   "网上办事入口点击后一直加载，无法提交申请材料，影响办事。第%d次尝试仍失败。",
   "政策解读页面引用的文件文号与原文不一致，内容不准确，请核对。反馈%d",
}
local CATEGORIES = { 0, 1, 3, 4, 10, 2 }
local PAGES = { "/col/col1234/index.html", "/art/2026/11/20/art_%d.html", "/zwgk/tzgg/%d.shtml" }

local sites = {}
local invalid = false
local sent = 0
statuses = {}
tracking_codes = {}

local function json_string(value)
   return '"' .. value:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
   end) .. '"'
end

function init(args)
   if args[1] == "invalid" then
      invalid = true
      return
   end
   for pair in (args[1] or ""):gmatch("[^,]+") do
      local code, host = pair:match("^([^=]+)=(.+)$")
      table.insert(sites, { code = code, host = host })
   end
   if #sites == 0 then
      error("pass the demo sites as site_code=host pairs after --")
   end
end

local function report_body(n)
   local site = sites[n % #sites + 1]
   local template = n % #DESCRIPTIONS + 1
   local page = string.format(PAGES[n % #PAGES + 1], 100000 + n)
   local fields = {
      '"page_url":' .. json_string("https://" .. site.host .. page),
      '"category":' .. CATEGORIES[template],
      '"description":' .. json_string(string.format(DESCRIPTIONS[template], n)),
   }
   -- Three in four come from the badge with the site code; the rest are routed by host.
   if n % 4 ~= 3 then
      table.insert(fields, '"site_code":' .. json_string(site.code))
   end
   -- About half leave contact details, as citizens who want an answer by phone do.
   if n % 2 == 0 then
      table.insert(fields, '"name":' .. json_string("王先生"))
      table.insert(fields, '"phone":' .. json_string(string.format("138%08d", n % 100000000)))
   end
   if n % 5 == 0 then
      table.insert(fields, '"email":' .. json_string(string.format("citizen%d@example.com", n)))
   end
   return "{" .. table.concat(fields, ",") .. "}"
end

local function invalid_body(n)
   return string.format(
      '{"site_code":"12345","page_url":"https://www.example.gov.cn/%d","category":0,'
         .. '"description":"site code too short"}',
      n
   )
end

local headers = { ["Content-Type"] = "application/json" }

function request()
   sent = sent + 1
   -- Each thread numbers its reports apart from the others', so every body is distinct.
   local n = thread_id * 10000000 + sent
   local body = invalid and invalid_body(n) or report_body(n)
   return wrk.format("POST", nil, headers, body)
end

function response(status, _headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status == 201 then
      -- The tracking codes let submit.py check that every 201 is a report actually stored.
      table.insert(tracking_codes, body:match('"tracking_code":"([^"]+)"') or "missing")
   end
end

function done(summary, latency, _requests)
   local by_status = {}
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         by_status[status] = (by_status[status] or 0) + count
      end
   end
   local errors = summary.errors
   io.write(string.format("zc_bench duration_us %d\n", summary.duration))
   io.write(string.format("zc_bench requests %d\n", summary.requests))
   io.write(string.format("zc_bench non_2xx_3xx %d\n", errors.status))
   io.write(string.format("zc_bench socket_errors %d\n", errors.connect + errors.read + errors.write))
   io.write(string.format("zc_bench timeouts %d\n", errors.timeout))
   io.write(string.format("zc_bench p50_us %d\n", latency:percentile(50)))
   io.write(string.format("zc_bench p99_us %d\n", latency:percentile(99)))
   io.write(string.format("zc_bench max_us %d\n", latency.max))
   for status, count in pairs(by_status) do
      io.write(string.format("zc_bench status_%d %d\n", status, count))
   end
   for _, thread in ipairs(threads) do
      for _, code in ipairs(thread:get("tracking_codes")) do
         io.write("zc_bench_created ", code, "\n")
      end
   end
end

-- wrk load for the SQS HTTP API (AWS JSON 1.0): each connection cycles SendMessageBatch (10 messages),
-- ReceiveMessage (up to 10) and DeleteMessageBatch (the handles received), over keep-alive.
--
--   QUEUE_URL=http://127.0.0.1:9324/000000000000/bench wrk -t2 -c32 -d10s -s benches/wrk_sqs.lua http://127.0.0.1:9324
--
-- Prints one line `wrk-sqs {json}` with the counts of every thread, for benches/bench_http.py to
-- check (sent = deleted + still in the queue) and turn into rates.

local queue_url = os.getenv("QUEUE_URL")
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local headers = {
   ["Content-Type"] = "application/x-amz-json-1.0",
}

local send_body
local receive_body

function init(args)
   sent, received, deleted, failed, errors, steps = 0, 0, 0, 0, 0, 0
   pending = {}
   local entries = {}
   for i = 1, 10 do
      entries[i] = string.format('{"Id":"m%d","MessageBody":"message body number %d from wrk"}', i, i)
   end
   send_body = string.format('{"QueueUrl":"%s","Entries":[%s]}', queue_url, table.concat(entries, ","))
   receive_body = string.format('{"QueueUrl":"%s","MaxNumberOfMessages":10,"VisibilityTimeout":60}', queue_url)
end

local function call(action, body)
   headers["X-Amz-Target"] = "AmazonSQS." .. action
   return wrk.format("POST", "/", headers, body)
end

function request()
   steps = steps + 1
   local phase = steps % 3
   if phase == 0 and #pending > 0 then
      local entries = {}
      local n = math.min(10, #pending)
      for i = 1, n do
         entries[i] = string.format('{"Id":"d%d","ReceiptHandle":"%s"}', i, table.remove(pending))
      end
      return call("DeleteMessageBatch",
         string.format('{"QueueUrl":"%s","Entries":[%s]}', queue_url, table.concat(entries, ",")))
   elseif phase == 1 then
      return call("SendMessageBatch", send_body)
   else
      return call("ReceiveMessage", receive_body)
   end
end

function response(status, headers, body)
   if status ~= 200 then
      errors = errors + 1
      return
   end
   if body:find('"Failed":%[{') then
      failed = failed + 1
   end
   if body:find('"MD5OfMessageBody"', 1, true) then
      local _, n = body:gsub('"MessageId"', "")
      sent = sent + n
   elseif body:find('"ReceiptHandle"', 1, true) then
      for h in body:gmatch('"ReceiptHandle":"([^"]+)"') do
         table.insert(pending, h)
         received = received + 1
      end
   elseif body:find('"Successful"', 1, true) then
      local _, n = body:gsub('"Id"', "")
      deleted = deleted + n
   end
end

function done(summary, latency, requests)
   local t = { sent = 0, received = 0, deleted = 0, failed = 0, errors = 0 }
   for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do
         t[k] = t[k] + thread:get(k)
      end
   end
   io.write(string.format(
      'wrk-sqs {"sent":%d,"received":%d,"deleted":%d,"failed_batches":%d,"http_errors":%d,' ..
      '"requests":%d,"duration_us":%d,"socket_errors":%d,"latency_p50_us":%d,"latency_p99_us":%d}\n',
      t.sent, t.received, t.deleted, t.failed, t.errors, summary.requests, summary.duration,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      latency:percentile(50), latency:percentile(99)))
end

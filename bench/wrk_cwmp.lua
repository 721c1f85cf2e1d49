-- wrk script for bench/bench_acs.py: periodic TR-069 Inform sessions against POST /acs.
--
-- Run with one connection per thread (wrk -tN -cN): request()/response() are per thread, so
-- with a single connection the cookie of response k belongs to request k+1. Each session:
--   1. POST /acs, an Inform ("2 PERIODIC" + "4 VALUE CHANGE", passive CPU/memory values) of
--      the next device, HTTP Basic auth     -> expect 200 InformResponse + Set-Cookie
--   2. POST /acs, empty body, that cookie    -> expect 204 (the session ends)
-- Thread k of T walks devices START+k, START+k+T, ... (mod DEVICES), so no two threads share
-- a device. Settings come from the environment (bench_acs.py sets them):
--   ACS_AUTH     the Authorization header value ("Basic ...")
--   ACS_DEVICES  how many seeded devices (MAC = ACS_MAC_PREFIX .. %06x of 1..N)
--   ACS_START    first device index (0-based)
--   ACS_THREADS  wrk's -t (the stride)
-- done() prints one line per thread and a total, "CWMP ..." key=value pairs, for the caller.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local auth, devices, stride, prefix
local seq, phase, cookie
local cwmp_id = 0
informs_ok, sessions, inform_bad, end_bad, no_cookie, bad_body = 0, 0, 0, 0, 0, 0
first_error = ""

local HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
   .. '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
   .. 'xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" '
   .. 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
   .. 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
   .. 'xmlns:cwmp="urn:dslforum-org:cwmp-1-2">'
   .. '<soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">%s</cwmp:ID></soap-env:Header>'
   .. '<soap-env:Body><cwmp:Inform>'
   .. '<DeviceId><Manufacturer>Yealink</Manufacturer><OUI>001565</OUI>'
   .. '<ProductClass>SIP-T54W</ProductClass><SerialNumber>%s</SerialNumber></DeviceId>'
   .. '<Event soap-enc:arrayType="cwmp:EventStruct[2]">'
   .. '<EventStruct><EventCode>2 PERIODIC</EventCode><CommandKey></CommandKey></EventStruct>'
   .. '<EventStruct><EventCode>4 VALUE CHANGE</EventCode><CommandKey></CommandKey></EventStruct>'
   .. '</Event><MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-01-01T00:00:00Z</CurrentTime>'
   .. '<RetryCount>0</RetryCount>'
   .. '<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[10]">'

local function pv(name, value, xtype)
   return '<ParameterValueStruct><Name>' .. name .. '</Name><Value xsi:type="'
      .. (xtype or "xsd:string") .. '">' .. value .. '</Value></ParameterValueStruct>'
end

local TAIL = '</ParameterList></cwmp:Inform></soap-env:Body></soap-env:Envelope>'

local function inform_body(n)
   local hex = string.format("%06x", n)
   local mac = prefix .. hex
   local mac_colons = string.format("%s:%s:%s:%s:%s:%s", mac:sub(1, 2), mac:sub(3, 4),
                                    mac:sub(5, 6), mac:sub(7, 8), mac:sub(9, 10), mac:sub(11, 12))
   local ip = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256,
                            math.floor(n / 256) % 256, n % 256)
   cwmp_id = cwmp_id + 1
   return string.format(HEAD, string.format("%d-%d", tid, cwmp_id),
                        string.format("8015%08d", n))
      .. pv("Device.RootDataModelVersion", "2.12")
      .. pv("Device.DeviceInfo.HardwareVersion", "96.0.0.128.0.0.0")
      .. pv("Device.DeviceInfo.SoftwareVersion", "96.86.0.100")
      .. pv("Device.DeviceInfo.ProvisioningCode", "")
      .. pv("Device.ManagementServer.ConnectionRequestURL", "http://" .. ip .. ":7547/cr" .. hex)
      .. pv("Device.ManagementServer.ParameterKey", "")
      .. pv("Device.IP.Interface.1.IPv4Address.1.IPAddress", ip)
      .. pv("Device.Ethernet.Interface.1.MACAddress", mac_colons)
      .. pv("Device.DeviceInfo.ProcessStatus.CPUUsage", tostring(3 + n % 17), "xsd:unsignedInt")
      .. pv("Device.DeviceInfo.MemoryStatus.Free", tostring(90000 + n % 40000),
            "xsd:unsignedInt")
      .. TAIL
end

function init(args)
   auth = os.getenv("ACS_AUTH")
   devices = tonumber(os.getenv("ACS_DEVICES"))
   stride = tonumber(os.getenv("ACS_THREADS"))
   prefix = os.getenv("ACS_MAC_PREFIX") or "001565"
   seq = (tonumber(os.getenv("ACS_START")) or 0) + tid
   phase = "inform"
end

function request()
   if phase == "inform" then
      local n = (seq % devices) + 1
      seq = seq + stride
      return wrk.format("POST", "/acs", {
         ["Authorization"] = auth,
         ["Content-Type"] = 'text/xml; charset="utf-8"',
         ["SOAPAction"] = "",
      }, inform_body(n))
   end
   return wrk.format("POST", "/acs", {["Cookie"] = cookie}, "")
end

local function note(what, status, body)
   if first_error == "" then
      first_error = what .. " " .. status .. " " .. string.sub(body or "", 1, 120)
   end
end

function response(status, headers, body)
   if phase == "inform" then
      local set = headers["Set-Cookie"] or headers["set-cookie"] or ""
      local value = string.match(set, "cwmp_session=([^;]+)")
      if status == 200 and value and string.find(body, "InformResponse", 1, true) then
         informs_ok = informs_ok + 1
         cookie = "cwmp_session=" .. value
         phase = "empty"
      else
         if status ~= 200 then inform_bad = inform_bad + 1
         elseif not value then no_cookie = no_cookie + 1
         else bad_body = bad_body + 1 end
         note("inform", status, body)
      end
   else
      if status == 204 then
         sessions = sessions + 1
      else
         end_bad = end_bad + 1
         note("empty", status, body)
      end
      phase = "inform"
   end
end

function done(summary, latency, requests)
   local keys = {"informs_ok", "sessions", "inform_bad", "end_bad", "no_cookie", "bad_body"}
   local total = {}
   for _, k in ipairs(keys) do total[k] = 0 end
   for _, t in ipairs(threads) do
      local line = "CWMP thread=" .. t:get("tid")
      for _, k in ipairs(keys) do
         local v = t:get(k) or 0
         total[k] = total[k] + v
         line = line .. " " .. k .. "=" .. v
      end
      local err = t:get("first_error") or ""
      if err ~= "" then
         line = line .. " first_error=" .. string.gsub(err, "%s+", " ")
      end
      io.write(line .. "\n")
   end
   local line = "CWMP total"
   for _, k in ipairs(keys) do line = line .. " " .. k .. "=" .. total[k] end
   io.write(line .. "\n")
end

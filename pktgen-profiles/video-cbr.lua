-- braid pktgen profile: several constant-bitrate, video-like UDP flows
-- (MPEG-TS sized datagrams) to ports 5000-5999 with DSCP AF41, the
-- "video" class of braid's embedded default config (doc/config.md).
--
--   pktgen -l 0-2 -n 4 --proc-type auto -- -P -m "[1:2].0" -f video-cbr.lua
--   (or at the pktgen prompt: script video-cbr.lua)
--
-- Each flow is one entry of pktgen's packet sequence; pktgen sends the
-- entries round-robin, so every flow gets the same packet rate: N flows of
-- the configured bitrate. The rate is set as pktgen's percentage of the
-- port's line rate, computed here from the link speed.
--
-- Edit the settings below. Sizes follow pktgen: frame size with CRC.

local port       = "0"                  -- pktgen port facing the gateway's LAN port
local gw_mac     = "02:00:00:00:00:01"  -- the gateway's LAN MAC (embedded default)
local src_mac    = "02:00:00:00:10:02"  -- this LAN host (any unicast MAC)
local src_ip     = "192.168.10.2/24"    -- this LAN host, with its mask
local dst_ip     = "192.168.20.2"       -- a receiver behind the peer gateway
local flows      = 4                    -- 1..16
local mbps       = 8                    -- per flow, Mbit/s of UDP payload (the video bitrate)
local payload    = 1316                 -- bytes per datagram: 7 x 188-byte TS packets (<= 1472)
local dscp       = 34                   -- AF41 (video); 46 = EF
local first_port = 5000                 -- flows use first_port .. first_port + flows - 1
local seconds    = 30                   -- run time; 0 = start and leave running

local frame = 14 + 20 + 8 + payload + 4 -- Ethernet + IPv4 + UDP + payload + CRC

local function link_mbps(p)
	local s = pktgen.linkState(p)[tonumber(p)]
	local m = tonumber(string.match(s or "", "%d+"))
	if m == nil or m == 0 then
		error("port " .. p .. ": link down (" .. tostring(s) .. ")")
	end
	return m
end

-- pktgen <= 25.x: portStats(port, "port") returns flat counters;
-- 26.x: portStats(port) returns {curr = {...}, ...}.
local function port_counts(p)
	local ok, t = pcall(pktgen.portStats, p, "port")
	if not ok then
		t = pktgen.portStats(p)
	end
	local s = t[tonumber(p)]
	if s.curr ~= nil then
		s = s.curr
	end
	return s.ipackets or 0, s.opackets or 0, s.obytes or 0
end

if flows < 1 or flows > 16 then error("flows must be 1..16") end
if payload < 18 or payload > 1472 then error("payload must be 18..1472") end
if first_port + flows - 1 > 5999 then error("flows must stay in 5000-5999") end

pktgen.stop(port)
for i = 0, flows - 1 do
	pktgen.seqTable(i, port, {
		["eth_dst_addr"] = gw_mac,
		["eth_src_addr"] = src_mac,
		["ip_dst_addr"] = dst_ip,
		["ip_src_addr"] = src_ip,
		["sport"] = 40000 + i,
		["dport"] = first_port + i,
		["ethType"] = "ipv4",
		["ipProto"] = "udp",
		["vlanid"] = 1,
		["pktSize"] = frame,
		["cos"] = 0,
		["tos"] = dscp * 4,             -- DSCP in the upper 6 bits of the TOS byte
	})
end
pktgen.set(port, "seq_cnt", flows)
-- one packet per flow per burst: as smooth as pktgen's pacing gets
pktgen.set(port, "burst", flows)

-- pktgen paces on wire bits: frame + 20 bytes of preamble and gap
local pps = mbps * 1e6 / (payload * 8)
local line = link_mbps(port) * 1e6
local pct = flows * pps * (frame + 20) * 8 / line * 100
if pct > 100 then
	error(string.format("%d x %g Mbit/s needs %.1f%% of the port", flows, mbps, pct))
end
pktgen.set(port, "rate", pct)

print(string.format("video-cbr: %d flows x %g Mbit/s (%d B frames, %.0f pps each) " ..
	"to %s:%d-%d DSCP %d = %.4f%% of %d Mbit/s",
	flows, mbps, frame, pps, dst_ip, first_port, first_port + flows - 1, dscp, pct,
	link_mbps(port)))

pktgen.clr()
pktgen.start(port)
if seconds > 0 then
	pktgen.delay(seconds * 1000)
	pktgen.stop(port)
	pktgen.delay(2000)              -- stats settle
	local _, tx, txb = port_counts(port)
	print(string.format("video-cbr: sent %d frames in %d s: %.0f pps, %.2f Mbit/s of frames",
		tx, seconds, tx / seconds, txb * 8 / seconds / 1e6))
end

-- braid pktgen profile: flows that hit each traffic class of braid's
-- embedded default config (doc/config.md, "The embedded default"):
--
--   realtime  DSCP 46 (EF): strict priority, capped at 2 Mbit/s, FEC 4+1
--   video     UDP to 5000-5999: weight 6, FEC 10+2
--   bulk      everything else (default class): weight 2, no FEC
--
--   pktgen -l 0-2 -n 4 --proc-type auto -- -P -m "[1:2].0" -f classes.lua
--
-- One 16-entry pktgen sequence, sent round-robin at a total rate given in
-- Mbit/s: per cycle 2 realtime packets (200 B, RTP-like), 8 video packets
-- (1362 B, AF41) and 6 bulk packets (4 x 1518 B TCP to 443, 2 x 64 B UDP
-- to 9000). Offered bytes: realtime 2.3 %, video 62.3 %, bulk 35.4 %.
-- The default's three 10 Mbit/s links carry ~30 Mbit/s: offer more than
-- that to see DWRR shares and the realtime cap (braidctl classes).

local port    = "0"                  -- pktgen port facing the gateway's LAN port
local gw_mac  = "02:00:00:00:00:01"  -- the gateway's LAN MAC (embedded default)
local src_mac = "02:00:00:00:10:02"  -- this LAN host
local src_ip  = "192.168.10.2/24"
local dst_ip  = "192.168.20.2"       -- a host behind the peer gateway
local mbps    = 40                   -- total offered, Mbit/s of Ethernet frames (with CRC)
local seconds = 30                   -- 0 = start and leave running

-- {class, proto, dport, size, dscp}
local entries = {
	{"realtime", "udp", 16384, 200, 46},
	{"video", "udp", 5000, 1362, 34},
	{"video", "udp", 5001, 1362, 34},
	{"bulk", "tcp", 443, 1518, 0},
	{"video", "udp", 5002, 1362, 34},
	{"video", "udp", 5003, 1362, 34},
	{"bulk", "udp", 9000, 64, 0},
	{"bulk", "tcp", 443, 1518, 0},
	{"realtime", "udp", 16386, 200, 46},
	{"video", "udp", 5000, 1362, 34},
	{"video", "udp", 5001, 1362, 34},
	{"bulk", "tcp", 443, 1518, 0},
	{"video", "udp", 5002, 1362, 34},
	{"video", "udp", 5003, 1362, 34},
	{"bulk", "udp", 9000, 64, 0},
	{"bulk", "tcp", 443, 1518, 0},
}

local function link_mbps(p)
	local s = pktgen.linkState(p)[tonumber(p)]
	local m = tonumber(string.match(s or "", "%d+"))
	if m == nil or m == 0 then
		error("port " .. p .. ": link down (" .. tostring(s) .. ")")
	end
	return m
end

-- pktgen <= 25.x: portStats(port, "port"); 26.x: portStats(port).curr
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

pktgen.stop(port)
local bytes, wire, per_class = 0, 0, {}
for i, e in ipairs(entries) do
	pktgen.seqTable(i - 1, port, {
		["eth_dst_addr"] = gw_mac,
		["eth_src_addr"] = src_mac,
		["ip_dst_addr"] = dst_ip,
		["ip_src_addr"] = src_ip,
		["sport"] = 30000 + i,
		["dport"] = e[3],
		["ethType"] = "ipv4",
		["ipProto"] = e[2],
		["vlanid"] = 1,
		["pktSize"] = e[4],
		["cos"] = 0,
		["tos"] = e[5] * 4,
	})
	bytes = bytes + e[4]
	wire = wire + e[4] + 20
	per_class[e[1]] = (per_class[e[1]] or 0) + e[4]
end
pktgen.set(port, "seq_cnt", #entries)

-- rate: pktgen's percent of line rate, on wire bits (frame + 20 B)
local cycles_per_s = mbps * 1e6 / (bytes * 8)
local pct = cycles_per_s * wire * 8 / (link_mbps(port) * 1e6) * 100
if pct > 100 then error(string.format("%g Mbit/s is more than the port", mbps)) end
pktgen.set(port, "rate", pct)

print(string.format("classes: %g Mbit/s offered (%.4f%% of the port):", mbps, pct))
for _, c in ipairs({"realtime", "video", "bulk"}) do
	print(string.format("  %-8s %6.2f Mbit/s (%4.1f%% of bytes)", c,
		mbps * per_class[c] / bytes, 100 * per_class[c] / bytes))
end

pktgen.clr()
pktgen.start(port)
if seconds > 0 then
	pktgen.delay(seconds * 1000)
	pktgen.stop(port)
	pktgen.delay(2000)
	local _, tx, txb = port_counts(port)
	print(string.format("classes: sent %d frames, %.2f Mbit/s; now read 'braidctl classes' " ..
		"on the gateway", tx, txb * 8 / seconds / 1e6))
end

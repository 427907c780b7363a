-- braid pktgen profile: rate ramp from 10 % to 100 % of line rate in
-- steps, printing what was sent and what came back at each step. The
-- highest step with no loss is the gateway pair's throughput for this
-- frame size (an RFC 2544-style search, in coarse steps).
--
--   pktgen -l 0-4 -n 4 --proc-type auto -- -P -m "[1:2].0, [3:4].1" -f ramp.lua
--
-- pktgen port tx_port feeds gateway A's LAN port; rx_port is on gateway
-- B's LAN (the far end of the tunnel) and answers B's ARP for dst_ip
-- ("enable 1 process"). With rx_port = nil only the TX side is reported
-- (read the gateway's own counters with braidctl).

local tx_port = "0"
local rx_port = "1"                  -- nil: no receiving port
local gw_mac  = "02:00:00:00:00:01"  -- gateway A's LAN MAC
local src_ip  = "192.168.10.2/24"    -- the host on A's LAN
local dst_ip  = "192.168.20.2"       -- rx_port's address on B's LAN
local size    = 64                   -- frame size with CRC, 64..1518
local first, last, step = 10, 100, 10  -- percent of line rate
local step_ms = 5000                 -- time at each rate
local settle_ms = 2000               -- after each step: reorder and ARQ windows drain
local csv = "ramp-results.csv"       -- nil: no file

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
	return s.ipackets or 0, s.opackets or 0
end

pktgen.stop(tx_port)
pktgen.set(tx_port, "seq_cnt", 0)   -- single-packet mode
pktgen.set_range(tx_port, "off")
pktgen.set_type(tx_port, "ipv4")
pktgen.set_proto(tx_port, "udp")
pktgen.set_mac(tx_port, "dst", gw_mac)
pktgen.set_ipaddr(tx_port, "src", src_ip)
pktgen.set_ipaddr(tx_port, "dst", dst_ip)
pktgen.set(tx_port, "sport", 40000)
pktgen.set(tx_port, "dport", 9000)
pktgen.set(tx_port, "size", size)
if rx_port ~= nil then
	pktgen.process(rx_port, "on")   -- answer the gateway's ARP
end

local f = nil
if csv ~= nil then
	f = io.open(csv, "w")
	if f ~= nil then
		f:write("size,rate_pct,tx_pkts,rx_pkts,tx_mpps,rx_mpps,loss_pct\n")
	end
end
print(string.format("ramp: %d B frames, %d..%d %% in steps of %d, %d ms each",
	size, first, last, step, step_ms))
print(string.format("%6s %14s %10s %14s %10s %10s", "rate%", "tx pkts", "tx Mpps",
	"rx pkts", "rx Mpps", "loss %"))
for rate = first, last, step do
	pktgen.clr()
	pktgen.delay(1000)
	local rx0 = 0
	if rx_port ~= nil then rx0 = port_counts(rx_port) end
	local _, tx0 = port_counts(tx_port)
	pktgen.set(tx_port, "rate", rate)
	pktgen.start(tx_port)
	pktgen.delay(step_ms)
	pktgen.stop(tx_port)
	pktgen.delay(settle_ms)
	local _, tx1 = port_counts(tx_port)
	local tx = tx1 - tx0
	local line
	if rx_port ~= nil then
		local rx = port_counts(rx_port) - rx0
		local loss = tx > 0 and 100 * (tx - rx) / tx or 0
		line = string.format("%6d %14d %10.3f %14d %10.3f %10.4f", rate, tx,
			tx / step_ms / 1000, rx, rx / step_ms / 1000, loss)
		if f ~= nil then
			f:write(string.format("%d,%d,%d,%d,%.4f,%.4f,%.4f\n", size, rate, tx, rx,
				tx / step_ms / 1000, rx / step_ms / 1000, loss))
		end
	else
		line = string.format("%6d %14d %10.3f %14s %10s %10s", rate, tx,
			tx / step_ms / 1000, "-", "-", "-")
		if f ~= nil then
			f:write(string.format("%d,%d,%d,,%.4f,,\n", size, rate, tx, tx / step_ms / 1000))
		end
	end
	print(line)
end
if f ~= nil then
	f:close()
	print("ramp: results in " .. csv)
end

#!/bin/bash
# benches/year_measure.sh PORT DAY AGENT QUEUE CUSTOMER [FROM TO]
# Each query 6 times via the HTTP API with an admin token; prints the median of the last five (ms).
P=$1; DAY=$2; AGENT=$3; QUEUE=$4; CUST=$5; FROM=${6:-2025-12-07}; TO=${7:-2026-12-06}
B=http://127.0.0.1:$P/api/v1
T=$(curl -s -X POST $B/auth/login -H 'content-type: application/json' -d '{"username":"admin","password":"admin"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
D30=$(date -d "$DAY -29 days" +%F)
q() { # name url
  local name=$1 url=$2 ts=()
  for i in 1 2 3 4 5 6; do ts+=($(curl -s -o /tmp/ym.out -w '%{time_total}' -H "authorization: Bearer $T" "$url")); done
  med=$(printf '%s\n' "${ts[@]:1}" | sort -n | sed -n 3p)
  printf '%-34s %8.1f ms  %s\n' "$name" "$(python3 -c "print($med*1000)")" "$(head -c 120 /tmp/ym.out | tr '\n' ' ')"
}
q "30-day queue report by hour" "$B/reports/queues?from=$D30&to=$DAY&interval=hour"
q "day agent report, hour" "$B/reports/agents?from=$DAY&interval=hour"
q "day agent report, 15m" "$B/reports/agents?from=$DAY&interval=15m"
q "agent timeline, a day" "$B/reports/agents/$AGENT/timeline?date=$DAY"
q "common word refund" "$B/reports/conversations?from=$FROM&to=$TO&q=refund"
q "common pair damaged warranty" "$B/reports/conversations?from=$FROM&to=$TO&q=damaged%20warranty"
q "word in no message" "$B/reports/conversations?from=$FROM&to=$TO&q=xylophonic"
q "common word page 3" "$B/reports/conversations?from=$FROM&to=$TO&q=refund&offset=100"
q "customer exact" "$B/reports/conversations?from=$FROM&to=$TO&customer=$CUST"
q "customer prefix" "$B/reports/conversations?from=$FROM&to=$TO&customer=${CUST:0:10}"
q "word + queue" "$B/reports/conversations?from=$FROM&to=$TO&q=refund&queue=$QUEUE"
q "pair + queue" "$B/reports/conversations?from=$FROM&to=$TO&q=damaged%20warranty&queue=$QUEUE"
q "word + agent" "$B/reports/conversations?from=$FROM&to=$TO&q=refund&agent=$AGENT"
q "word + customer prefix" "$B/reports/conversations?from=$FROM&to=$TO&q=refund&customer=${CUST:0:9}"

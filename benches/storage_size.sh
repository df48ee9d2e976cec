#!/bin/bash
# benches/storage_size.sh BIN_DIR DATA_DIR PORT [switchboard-load chat options...]
# Issue 15's measurement: a fresh data directory, CONVS (default 1,000) conversations of
# 10 messages at 400 msg/s left open (--keep-chats), then `switchboard db-size`.
# Prints the load tool's exactly-once line, the totals and the biggest tables
# (bytes, index bytes, rows).
B=$1; D=$2; PORT=$3; shift 3
rm -rf "$D"; mkdir -p "$D"
SWITCHBOARD_LOG__LEVEL=warn "$B/switchboard" serve --data-dir "$D" --listen "127.0.0.1:$PORT" > "$D.log" 2>&1 &
P=$!
sleep 3
timeout 600 "$B/switchboard-load" --url "http://127.0.0.1:$PORT" chat --conversations "${CONVS:-1000}" \
    --rate 400 --drain-secs 10 --messages-per-conv 10 --keep-chats --server-pid $P "$@" 2>&1 \
    | grep -E "exactly once|per delivered"
kill $P; wait $P
"$B/switchboard" db-size --data-dir "$D" --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
print({k: v for k, v in d.items() if k != 'tables'})
for t in d['tables'][:16]:
    print('  %-24s %9d %9d %7d' % (t['name'], t['bytes'], t['indexBytes'], t['rows']))"

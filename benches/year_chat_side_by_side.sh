#!/bin/bash
# benches/year_chat_side_by_side.sh BIN_DIR YEAR_DATA_DIR PAIRS RATE AGENTS CONVS MSGS
# Chat p99 on a data directory holding a year of history against an empty one, same
# release build, alternated (year first, then empty, PAIRS times). The year's server
# is started on YEAR_DATA_DIR as it is (the load tool's chats are added to it); the
# empty one on a fresh directory each run. Prints each run's p99, delivery and CPU lines.
B=$1; YEAR=$2; N=$3; RATE=$4; AGENTS=$5; CONVS=$6; MSGS=$7
PORT=18991
for i in $(seq 1 "$N"); do for side in year empty; do
  D=$YEAR
  if [ "$side" = empty ]; then D=/tmp/ycs-empty; rm -rf $D; mkdir -p $D; fi
  SWITCHBOARD_LOG__LEVEL=warn "$B/switchboard" serve --data-dir "$D" --listen 127.0.0.1:$PORT > /tmp/ycs-$side.log 2>&1 &
  P=$!
  for _ in $(seq 1 120); do curl -sf http://127.0.0.1:$PORT/healthz > /dev/null && break; sleep 0.5; done
  OUT=$(timeout 600 "$B/switchboard-load" --url http://127.0.0.1:$PORT chat --agents "$AGENTS" \
      --conversations "$CONVS" --messages-per-conv "$MSGS" --rate "$RATE" --drain-secs 10 \
      --server-pid $P 2>&1)
  kill $P; wait $P 2>/dev/null
  echo "$side $i $(date +%H:%M:%S) load=$(cut -d' ' -f1 /proc/loadavg)"
  echo "$OUT" | grep -E "p99|exactly once|per delivered|delivered|cpu over" | sed 's/^/   /'
done; done

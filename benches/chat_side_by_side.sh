#!/bin/bash
# benches/chat_side_by_side.sh OLD_BIN_DIR NEW_BIN_DIR PAIRS RATE MSGS
# Alternates old and new release builds (fresh server and data directory each) under
# `switchboard-load chat` with 200 desks and 1,000 conversations; prints latency, CPU lines.
OLD=$1; NEW=$2; N=$3; RATE=$4; MSGS=$5
for i in $(seq 1 $N); do for side in old new; do
  B=$OLD; [ $side = new ] && B=$NEW
  D=/tmp/sbs-$side; rm -rf $D; mkdir -p $D
  SWITCHBOARD_LOG__LEVEL=warn $B/switchboard serve --data-dir $D --listen 127.0.0.1:18990 > $D.log 2>&1 &
  P=$!; sleep 2
  OUT=$(timeout 300 $B/switchboard-load --url http://127.0.0.1:18990 chat --agents 200 --conversations 1000 \
      --messages-per-conv $MSGS --rate $RATE --drain-secs 10 --server-pid $P 2>&1)
  kill $P; wait $P 2>/dev/null
  echo "$side $i $(date +%H:%M) load=$(cut -d' ' -f1 /proc/loadavg)"
  echo "$OUT" | grep -E "p99|exactly once|per delivered|delivered|cpu over" | sed 's/^/   /'
done; done

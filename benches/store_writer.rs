//! Store writer throughput: 64 concurrent producers writing CIM-event rows through
//! the group-commit writer with synchronous=FULL, against a plain rusqlite loop
//! inserting the same rows in large transactions, and one commit per event.
//!
//! Run: `cargo bench --bench store_writer`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rusqlite::{params, Connection};
use std::time::{Duration, Instant};
use switchboard::config::StoreConfig;
use switchboard::store::Store;

const PRODUCERS: usize = 64;
const EVENTS_PER_ITER: usize = 6_400;

fn event_json(conversation: usize, seq: usize) -> String {
    serde_json::json!({
        "id": format!("ev-{conversation}-{seq}"),
        "name": "CUSTOMER_MESSAGE",
        "type": "MESSAGE",
        "timestamp": 1_750_073_078_061i64 + seq as i64,
        "conversationId": format!("conv-{conversation}"),
        "data": {
            "id": format!("msg-{conversation}-{seq}"),
            "header": {"sender": {"type": "CUSTOMER", "id": "c1"}, "timestamp": 1_750_073_078_061i64},
            "body": {"type": "PLAIN", "markdownText": "Hello, I need help with my order number 12345."}
        }
    })
    .to_string()
}

/// One CIM-event row, built by the producer (as the drivers do) before it reaches the writer.
struct Row {
    id: String,
    conversation_id: String,
    seq: i64,
    message_id: String,
    event: String,
}

/// The appliance's id shapes: server-made event and conversation ids are
/// time-ordered (v7) UUIDs; message ids come from the client (here `<conv>-m-<seq>`).
/// `STORE_BENCH_IDS=structured` gives the shapes of the first version of this bench
/// (`r<run>-ev-<producer>-<seq>`, ...), whose event ids cluster by producer.
fn structured_ids() -> bool {
    static STRUCTURED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *STRUCTURED.get_or_init(|| std::env::var("STORE_BENCH_IDS").is_ok_and(|v| v == "structured"))
}

/// Each producer stands for one conversation.
fn conversation_id(producer: usize, run: u64) -> String {
    if structured_ids() {
        format!("r{run}-conv-{producer}")
    } else {
        uuid::Uuid::now_v7().to_string()
    }
}

fn row(conversation: &str, producer: usize, seq: usize, run: u64) -> Row {
    let (id, message_id) = if structured_ids() {
        (
            format!("r{run}-ev-{producer}-{seq}"),
            format!("r{run}-msg-{producer}-{seq}"),
        )
    } else {
        (
            uuid::Uuid::now_v7().to_string(),
            format!("{conversation}-m-{seq}"),
        )
    };
    Row {
        id,
        conversation_id: conversation.to_string(),
        seq: seq as i64,
        message_id,
        event: event_json(producer, seq),
    }
}

fn insert(c: &Connection, r: &Row) -> rusqlite::Result<usize> {
    c.prepare_cached(
        "INSERT INTO cim_events(id, conversation_id, seq, name, type, timestamp, message_id, event)
         VALUES (?1, ?2, ?3, 'CUSTOMER_MESSAGE', 'MESSAGE', ?4, ?5, ?6)",
    )?
    .execute(params![
        r.id,
        r.conversation_id,
        r.seq,
        r.seq,
        r.message_id,
        r.event
    ])
}

fn fresh_store(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("bench.db"), &StoreConfig::default()).expect("store opens")
}

fn bench_writer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("store_writer");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(EVENTS_PER_ITER as u64));

    let dir = tempfile::tempdir().expect("tempdir");
    let store = fresh_store(&dir);
    let mut run = 0u64;
    group.bench_function("group_commit_64_producers_full", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                run += 1;
                let r = run;
                let start = Instant::now();
                runtime.block_on(async {
                    let mut handles = Vec::with_capacity(PRODUCERS);
                    for p in 0..PRODUCERS {
                        let store = store.clone();
                        handles.push(tokio::spawn(async move {
                            let conversation = conversation_id(p, r);
                            for seq in 0..EVENTS_PER_ITER / PRODUCERS {
                                let row = row(&conversation, p, seq, r);
                                store
                                    .write(move |c| Ok(insert(c, &row)?))
                                    .await
                                    .expect("write");
                            }
                        }));
                    }
                    for h in handles {
                        h.await.expect("producer");
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });
    // The drivers persist a batch of effects per write; the same 6,400 rows written
    // eight to a write call show what the writer does when callers batch.
    group.bench_function("group_commit_64_producers_8_rows_per_write_full", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                run += 1;
                let r = run;
                let start = Instant::now();
                runtime.block_on(async {
                    let mut handles = Vec::with_capacity(PRODUCERS);
                    for p in 0..PRODUCERS {
                        let store = store.clone();
                        handles.push(tokio::spawn(async move {
                            let conversation = conversation_id(p, r);
                            for chunk in (0..EVENTS_PER_ITER / PRODUCERS)
                                .collect::<Vec<_>>()
                                .chunks(8)
                            {
                                let rows: Vec<Row> = chunk
                                    .iter()
                                    .map(|seq| row(&conversation, p, *seq, r))
                                    .collect();
                                store
                                    .write(move |c| {
                                        for row in &rows {
                                            insert(c, row)?;
                                        }
                                        Ok(())
                                    })
                                    .await
                                    .expect("write");
                            }
                        }));
                    }
                    for h in handles {
                        h.await.expect("producer");
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });
    store.close();

    let dir = tempfile::tempdir().expect("tempdir");
    drop(fresh_store(&dir)); // schema
    let conn = Connection::open(dir.path().join("bench.db")).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("sync");
    let mut run = 0u64;
    group.bench_function("plain_loop_large_transactions_full", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                run += 1;
                let start = Instant::now();
                conn.execute_batch("BEGIN").expect("begin");
                for p in 0..PRODUCERS {
                    let conversation = conversation_id(p, run);
                    for seq in 0..EVENTS_PER_ITER / PRODUCERS {
                        insert(&conn, &row(&conversation, p, seq, run)).expect("insert");
                    }
                }
                conn.execute_batch("COMMIT").expect("commit");
                total += start.elapsed();
            }
            total
        })
    });

    group.throughput(Throughput::Elements(200));
    group.bench_function("one_commit_per_event_full", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                run += 1;
                let start = Instant::now();
                let conversation = conversation_id(0, run);
                for seq in 0..200 {
                    insert(&conn, &row(&conversation, 0, seq, run)).expect("insert");
                }
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench_writer);
criterion_main!(benches);

//! The store on a simulated disk: acknowledged writes survive cuts at any
//! operation, and a store that answers before its fsync is caught.

use super::{Disk, Image, SimDisk};
use crate::config::StoreConfig;
use crate::store::{Store, StoreError};
use std::path::Path;

/// Boots `image` with the power going at operation `cut_at`; the store is `None`
/// when the cut came while it opened.
fn open(
    root: &Path,
    image: &Image,
    cut_at: u64,
    ack_before_sync: bool,
) -> (Option<Store>, std::sync::Arc<SimDisk>) {
    let disk = SimDisk::boot(root, image, cut_at, ack_before_sync).unwrap();
    let cfg = StoreConfig {
        read_connections: 1,
        ..StoreConfig::default()
    };
    let store = Store::open_on(&disk.root().join("t.db"), &cfg, Disk::Sim(disk.clone()));
    assert!(store.is_ok() || disk.is_cut(), "the store did not open");
    (store.ok(), disk)
}

/// Writes rows one by one until the power goes; returns the acknowledged ids.
fn write_until_cut(store: &Store, disk: &SimDisk, from: i64) -> Vec<i64> {
    let mut acked = Vec::new();
    for id in from.. {
        let done = store.write_blocking(move |c| {
            c.execute(
                "INSERT INTO settings(key, value) VALUES (?1, ?2)",
                rusqlite::params![format!("k{id}"), "x".repeat(200)],
            )?;
            Ok(())
        });
        match done {
            Ok(()) => acked.push(id),
            Err(StoreError::NotDurable | StoreError::NotCommitted | StoreError::Corrupt(_)) => {}
            // The write itself may meet the cut (reading the WAL index, spilling a
            // page): SQLite's I/O error is then the honest answer. Before the
            // cut the simulated disk never fails, so any error there is a defect.
            Err(_) if disk.is_cut() => {}
            Err(e) => panic!("{e}"),
        }
        if disk.is_cut() {
            break;
        }
    }
    acked
}

fn present(image: &Image, root: &Path, ids: &[i64]) -> usize {
    let keys = settings_in(image, root, "t.db");
    ids.iter()
        .filter(|id| keys.contains(&format!("k{id}")))
        .count()
}

fn chain(seed: u64, ack_before_sync: bool) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut image = Image::new();
    let mut acked = Vec::new();
    let mut next = 0;
    for cut in 0..6u64 {
        let root = dir.path().join(format!("boot{cut}"));
        let k = (seed * 7919 + cut * 104_729) % 301;
        // Every third boot loses power while it opens; the others k operations in.
        let cut_at = if k.is_multiple_of(3) { 1 + k } else { u64::MAX };
        let (store, disk) = open(&root, &image, cut_at, ack_before_sync);
        if let Some(store) = store {
            disk.set_cut_at(disk.ops() + 1 + k);
            acked.extend(write_until_cut(&store, &disk, next));
            store.close();
        }
        next += 1000;
        image = disk.survivor(seed ^ cut);
    }
    let found = present(&image, &dir.path().join("audit"), &acked);
    (acked.len(), found)
}

#[test]
fn acknowledged_writes_survive_cuts_at_any_operation() {
    let mut total = 0;
    for seed in 0..8 {
        let (acked, found) = chain(seed, false);
        assert_eq!(found, acked, "seed {seed}: acknowledged writes lost");
        total += acked;
    }
    assert!(total > 40, "only {total} writes acknowledged");
}

#[test]
fn a_store_that_answers_before_its_fsync_is_caught() {
    // Only a cut between the early answer and the next sync of the WAL (by the
    // fsync or the checkpoint thread) loses anything, so it may take a few chains.
    let caught = (0..100).any(|seed| {
        let (acked, found) = chain(seed, true);
        found < acked
    });
    assert!(
        caught,
        "the model found no loss in a store that does not wait for fsync"
    );
}

/// Boots `image` without a cut and returns the keys in `settings` of `db`.
fn settings_in(image: &Image, root: &Path, db: &str) -> Vec<String> {
    let disk = SimDisk::boot(root, image, u64::MAX, false).unwrap();
    let store = Store::open_on(
        &disk.root().join(db),
        &StoreConfig::default(),
        Disk::Sim(disk),
    )
    .unwrap();
    let keys = store
        .read_blocking(|c| {
            let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            assert_eq!(ok, "ok");
            let mut s = c.prepare("SELECT key FROM settings ORDER BY key")?;
            let rows = s.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<Vec<String>, _>>()?)
        })
        .unwrap();
    store.close();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_reported_done_survives_a_cut_right_after() {
    for seed in 0..12 {
        let dir = tempfile::tempdir().unwrap();
        let disk = SimDisk::boot(&dir.path().join("live"), &Image::new(), u64::MAX, false).unwrap();
        let store = Store::open_on(
            &disk.root().join("t.db"),
            &StoreConfig::default(),
            Disk::Sim(disk.clone()),
        )
        .unwrap();
        for i in 0..20 {
            store
                .write(move |c| {
                    c.execute(
                        "INSERT INTO settings(key, value) VALUES (?1, 'v')",
                        [format!("k{i:02}")],
                    )?;
                    Ok(())
                })
                .await
                .unwrap();
        }
        store.backup(&disk.root().join("copy.db")).await.unwrap();
        disk.cut_now();
        let image = disk.survivor(seed);
        assert!(
            image.contains_key("copy.db"),
            "seed {seed}: the backup's name was lost"
        );
        let mut copy = Image::new();
        copy.insert("copy.db".into(), image["copy.db"].clone());
        let keys = settings_in(&copy, &dir.path().join("restored"), "copy.db");
        assert_eq!(keys.len(), 20, "seed {seed}: {keys:?}");
        drop(store);
    }
}

#[test]
fn a_store_just_created_survives_a_cut_right_after_it_opened() {
    for seed in 0..12 {
        let dir = tempfile::tempdir().unwrap();
        let (store, disk) = open(&dir.path().join("boot"), &Image::new(), u64::MAX, false);
        disk.cut_now();
        let image = disk.survivor(seed);
        assert!(
            image.contains_key("t.db"),
            "seed {seed}: the database's name was lost"
        );
        // The schema is there: `settings` can be read.
        settings_in(&image, &dir.path().join("again"), "t.db");
        drop(store);
    }
}

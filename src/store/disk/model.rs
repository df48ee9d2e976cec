//! The simulated disk: what of the data directory would survive a power cut.
//!
//! The files themselves live in a scratch directory (on tmpfs in the harness) that
//! plays the page cache: every process sees what was written at once. Beside it,
//! [`SimDisk`] keeps the platter: per file the bytes a sync made durable, the writes
//! and truncations made since (in order), and per name which file the directory
//! entry durably points at. A sync of a file makes durable what was written to it
//! before the sync; a created or deleted name is durable only once its directory is
//! synced. At the cut each unsynced write is, from a seeded generator, lost, kept, or
//! torn (a sector-aligned prefix kept), each unsynced name change kept or lost, and
//! every later I/O of this disk fails so its threads cannot go on writing.
//!
//! Cuts are set by the count of I/O operations (writes, truncations, syncs,
//! creations, deletions) since the disk was booted, not by time.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// The durable contents of a data directory: file name (relative, `/`-separated)
/// to bytes.
pub type Image = BTreeMap<String, Vec<u8>>;

/// Sector size for torn writes: a torn write keeps a prefix ending on a boundary.
pub const SECTOR: u64 = 512;

/// The I/O operation a cut interrupted, for the harness's coverage figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutPoint {
    pub op: OpKind,
    /// The file's name (relative to the data directory).
    pub file: String,
    /// Name of the thread that issued it (`store-writer`, `store-fsync`, ...).
    pub thread: String,
    /// A write at offset 0: for a WAL, its header as the WAL restarts.
    pub at_start: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    Write,
    Truncate,
    Sync,
    Create,
    Delete,
    DirSync,
}

type Inode = usize;

#[derive(Debug, Clone)]
enum Pending {
    Write { offset: u64, bytes: Vec<u8> },
    Truncate(u64),
}

#[derive(Default)]
struct File {
    durable: Vec<u8>,
    pending: Vec<Pending>,
}

#[derive(Default, Clone, Copy)]
struct Entry {
    /// What the directory entry points at on the platter.
    durable: Option<Inode>,
    /// What it points at now.
    live: Option<Inode>,
}

#[derive(Default)]
struct Platter {
    files: Vec<File>,
    names: HashMap<String, Entry>,
    ops: u64,
    cut: Option<CutPoint>,
}

/// One boot's disk. Cheap to share; the VFS and the fsync thread's handle hold it.
pub struct SimDisk {
    root: PathBuf,
    platter: parking_lot::Mutex<Platter>,
    cut_at: AtomicU64,
    dead: AtomicBool,
    ack_before_sync: bool,
}

/// The power is off: the operation was not done.
#[derive(Debug, thiserror::Error)]
#[error("simulated power cut")]
pub struct PowerCut;

/// Every booted disk, found by the VFS from a file's path.
static DISKS: parking_lot::Mutex<Vec<(PathBuf, Weak<SimDisk>)>> =
    parking_lot::Mutex::new(Vec::new());

impl SimDisk {
    /// Boots a disk holding `image` in the (empty or missing) directory `root`,
    /// where the power goes at I/O operation `cut_at` (never if `u64::MAX`). With
    /// `ack_before_sync` the store's fsync thread answers before it syncs (a
    /// deliberately broken store, to prove the harness finds losses).
    pub fn boot(
        root: &Path,
        image: &Image,
        cut_at: u64,
        ack_before_sync: bool,
    ) -> std::io::Result<Arc<SimDisk>> {
        std::fs::create_dir_all(root)?;
        let root = root.canonicalize()?;
        let mut platter = Platter::default();
        for (name, bytes) in image {
            let path = root.join(name);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, bytes)?;
            platter.files.push(File {
                durable: bytes.clone(),
                pending: Vec::new(),
            });
            let inode = Some(platter.files.len() - 1);
            platter.names.insert(
                name.clone(),
                Entry {
                    durable: inode,
                    live: inode,
                },
            );
        }
        let disk = Arc::new(SimDisk {
            root: root.clone(),
            platter: parking_lot::Mutex::new(platter),
            cut_at: AtomicU64::new(cut_at.max(1)),
            dead: AtomicBool::new(false),
            ack_before_sync,
        });
        let mut disks = DISKS.lock();
        disks.retain(|(_, d)| d.strong_count() > 0);
        disks.push((root, Arc::downgrade(&disk)));
        Ok(disk)
    }

    /// The disk whose directory holds `path`, and the file's name in it.
    pub(crate) fn find(path: &Path) -> Option<(Arc<SimDisk>, String)> {
        let disks = DISKS.lock();
        disks.iter().rev().find_map(|(root, disk)| {
            let rel = path.strip_prefix(root).ok()?;
            let disk = disk.upgrade()?;
            Some((disk, rel_name(rel)))
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn ack_before_sync(&self) -> bool {
        self.ack_before_sync
    }

    /// Whether the power has gone.
    pub fn is_cut(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    /// I/O operations counted so far.
    pub fn ops(&self) -> u64 {
        self.platter.lock().ops
    }

    /// Moves the cut to operation `at` (counted from boot); earlier than now cuts
    /// at the next operation.
    pub fn set_cut_at(&self, at: u64) {
        self.cut_at.store(at.max(1), Ordering::SeqCst);
    }

    /// Cuts the power now: every later operation fails.
    pub fn cut_now(&self) {
        let mut p = self.platter.lock();
        if !self.dead.swap(true, Ordering::SeqCst) {
            p.cut = Some(CutPoint {
                op: OpKind::Sync,
                file: String::new(),
                thread: "harness".into(),
                at_start: false,
            });
        }
    }

    /// The operation the cut interrupted, once it happened.
    pub fn cut_point(&self) -> Option<CutPoint> {
        self.platter.lock().cut.clone()
    }

    /// Counts one operation; fails if the power is (or just went) off.
    fn tick(
        &self,
        p: &mut Platter,
        op: OpKind,
        file: &str,
        at_start: bool,
    ) -> Result<(), PowerCut> {
        if self.dead.load(Ordering::SeqCst) {
            return Err(PowerCut);
        }
        p.ops += 1;
        if p.ops >= self.cut_at.load(Ordering::SeqCst) {
            self.dead.store(true, Ordering::SeqCst);
            p.cut = Some(CutPoint {
                op,
                file: file.to_string(),
                thread: std::thread::current().name().unwrap_or("?").to_string(),
                at_start,
            });
            return Err(PowerCut);
        }
        Ok(())
    }

    /// Fails if the power is off (for reads, which are not counted).
    pub(crate) fn alive(&self) -> Result<(), PowerCut> {
        if self.is_cut() {
            Err(PowerCut)
        } else {
            Ok(())
        }
    }

    /// Opens `name`, creating it (a name change not yet durable) when `create` and
    /// it does not exist. Returns the file and whether it was created.
    pub(crate) fn open(&self, name: &str, create: bool) -> Result<(Handle, bool), PowerCut> {
        let mut p = self.platter.lock();
        if let Some(inode) = p.names.get(name).and_then(|e| e.live) {
            self.alive()?;
            return Ok((Handle(inode), false));
        }
        if !create {
            // The real open will fail as well; nothing to model.
            self.alive()?;
            return Ok((Handle(usize::MAX), false));
        }
        self.tick(&mut p, OpKind::Create, name, false)?;
        p.files.push(File::default());
        let inode = p.files.len() - 1;
        p.names.entry(name.to_string()).or_default().live = Some(inode);
        Ok((Handle(inode), true))
    }

    /// Records a write of `bytes` at `offset`.
    pub(crate) fn write(
        &self,
        h: Handle,
        name: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), PowerCut> {
        let mut p = self.platter.lock();
        self.tick(&mut p, OpKind::Write, name, offset == 0)?;
        if let Some(f) = p.files.get_mut(h.0) {
            f.pending.push(Pending::Write {
                offset,
                bytes: bytes.to_vec(),
            });
        }
        Ok(())
    }

    pub(crate) fn truncate(&self, h: Handle, name: &str, len: u64) -> Result<(), PowerCut> {
        let mut p = self.platter.lock();
        self.tick(&mut p, OpKind::Truncate, name, false)?;
        if let Some(f) = p.files.get_mut(h.0) {
            f.pending.push(Pending::Truncate(len));
        }
        Ok(())
    }

    /// Makes durable every write and truncation of the file made before it.
    pub(crate) fn sync(&self, h: Handle, name: &str) -> Result<(), PowerCut> {
        let mut p = self.platter.lock();
        self.tick(&mut p, OpKind::Sync, name, false)?;
        if let Some(f) = p.files.get_mut(h.0) {
            for op in std::mem::take(&mut f.pending) {
                apply(&mut f.durable, &op);
            }
        }
        Ok(())
    }

    /// Removes `name` (durable once its directory is synced).
    pub(crate) fn delete(&self, name: &str) -> Result<(), PowerCut> {
        let mut p = self.platter.lock();
        self.tick(&mut p, OpKind::Delete, name, false)?;
        if let Some(e) = p.names.get_mut(name) {
            e.live = None;
        }
        Ok(())
    }

    /// Makes durable every name change in directory `dir` (relative; "" for the root).
    pub(crate) fn sync_dir(&self, dir: &str) -> Result<(), PowerCut> {
        let mut p = self.platter.lock();
        self.tick(&mut p, OpKind::DirSync, dir, false)?;
        for (name, e) in p.names.iter_mut() {
            if parent_of(name) == dir {
                e.durable = e.live;
            }
        }
        Ok(())
    }

    /// The data directory as it would be found after the cut, each unsynced change
    /// kept, lost or torn as `seed` decides. Call once the power is off.
    pub fn survivor(&self, seed: u64) -> Image {
        let p = self.platter.lock();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut names: Vec<(&String, &Entry)> = p.names.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        let mut image = Image::new();
        let mut fates: HashMap<Inode, Vec<u8>> = HashMap::new();
        for (name, e) in names {
            let inode = if e.durable == e.live || rng.gen_bool(0.5) {
                e.durable
            } else {
                e.live
            };
            let Some(inode) = inode else { continue };
            let bytes = fates
                .entry(inode)
                .or_insert_with(|| settle(&p.files[inode], &mut rng))
                .clone();
            image.insert(name.clone(), bytes);
        }
        image
    }
}

/// A modelled file, as an open handle knows it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Handle(Inode);

/// The bytes of `file` after the cut: its durable bytes and each pending change
/// lost, kept or (writes only) torn.
fn settle(file: &File, rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = file.durable.clone();
    for op in &file.pending {
        match rng.gen_range(0..3) {
            0 => {}
            1 => apply(&mut bytes, op),
            _ => match op {
                Pending::Write {
                    offset,
                    bytes: data,
                } => {
                    let end = offset + data.len() as u64;
                    let first = (offset / SECTOR + 1) * SECTOR;
                    if first < end {
                        let boundaries = (end - 1 - first) / SECTOR + 1;
                        let cut = first + SECTOR * rng.gen_range(0..boundaries);
                        let keep = (cut - offset) as usize;
                        apply(
                            &mut bytes,
                            &Pending::Write {
                                offset: *offset,
                                bytes: data[..keep].to_vec(),
                            },
                        );
                    }
                }
                Pending::Truncate(_) => apply(&mut bytes, op),
            },
        }
    }
    bytes
}

fn apply(bytes: &mut Vec<u8>, op: &Pending) {
    match op {
        Pending::Write {
            offset,
            bytes: data,
        } => {
            let start = *offset as usize;
            let end = start + data.len();
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[start..end].copy_from_slice(data);
        }
        Pending::Truncate(len) => bytes.resize(*len as usize, 0),
    }
}

fn rel_name(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn parent_of(name: &str) -> &str {
    name.rsplit_once('/').map_or("", |(dir, _)| dir)
}

impl SimDisk {
    /// The name of `path` on this disk, if it lies in its directory.
    pub(crate) fn name_of(&self, path: &Path) -> Option<String> {
        path.strip_prefix(&self.root).ok().map(rel_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(cut_at: u64) -> (tempfile::TempDir, Arc<SimDisk>) {
        let dir = tempfile::tempdir().unwrap();
        let disk = SimDisk::boot(&dir.path().join("d"), &Image::new(), cut_at, false).unwrap();
        (dir, disk)
    }

    #[test]
    fn synced_writes_and_synced_names_survive_every_cut() {
        for seed in 0..50 {
            let (_d, disk) = disk(u64::MAX);
            let (h, created) = disk.open("a.db", true).unwrap();
            assert!(created);
            disk.write(h, "a.db", 0, &[1; 1024]).unwrap();
            disk.sync(h, "a.db").unwrap();
            disk.sync_dir("").unwrap();
            disk.write(h, "a.db", 1024, &[2; 1024]).unwrap();
            disk.cut_now();
            let image = disk.survivor(seed);
            let a = &image["a.db"];
            assert_eq!(&a[..1024], &[1; 1024][..]);
            // The unsynced write is lost, kept, or a whole-sector prefix of it kept.
            assert!(
                a.len() == 1024 || a.len() == 1536 || a.len() == 2048,
                "{}",
                a.len()
            );
            assert!(a[1024..].iter().all(|b| *b == 2));
        }
    }

    #[test]
    fn an_unsynced_name_may_vanish_and_a_cut_stops_everything() {
        let mut lost = 0;
        for seed in 0..50 {
            let (_d, disk) = disk(4);
            let (h, _) = disk.open("x", true).unwrap(); // op 1
            disk.write(h, "x", 0, b"hello").unwrap(); // op 2
            disk.sync(h, "x").unwrap(); // op 3: data durable, name not
            assert!(disk.write(h, "x", 5, b"more").is_err(), "op 4 is the cut");
            assert!(disk.is_cut());
            assert!(disk.sync_dir("").is_err(), "nothing after the cut");
            let cut = disk.cut_point().unwrap();
            assert_eq!((cut.op, cut.file.as_str()), (OpKind::Write, "x"));
            match disk.survivor(seed).get("x") {
                None => lost += 1,
                Some(bytes) => assert_eq!(bytes, b"hello"),
            }
        }
        assert!(lost > 0 && lost < 50, "{lost}");
    }

    #[test]
    fn the_same_seed_gives_the_same_image() {
        let (_d, disk) = disk(u64::MAX);
        let (h, _) = disk.open("w", true).unwrap();
        for i in 0..20u64 {
            disk.write(h, "w", i * 700, &[i as u8; 700]).unwrap();
        }
        disk.cut_now();
        assert_eq!(disk.survivor(9), disk.survivor(9));
        assert!((0..20).any(|s| disk.survivor(s) != disk.survivor(9)));
    }
}

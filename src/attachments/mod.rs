//! Attachments: files agents and customers send in a chat. This module owns their
//! settings (`[attachments]`), the checks an upload passes (size, a type sniffed from
//! the content and on the allow-list: [`sniff`]), the content-addressed files under
//! `<data_dir>/attachments` ([`files`]) and the signed, expiring URLs they are fetched
//! by ([`signing`]). The HTTP routes are `crate::http::attachments`; the rows are
//! `crate::store::attachments`.

pub mod files;
pub mod signing;
pub mod sniff;

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// What the routes and the transcript readers share: the settings, the files and
/// the URL signer.
#[derive(Clone)]
pub struct Attachments {
    pub settings: Arc<AttachmentSettings>,
    pub files: files::Files,
    pub signer: signing::Signer,
}

impl Attachments {
    /// Reads (on first start: makes) the URL-signing key.
    pub async fn open(
        store: &crate::store::Store,
        data_dir: &Path,
        settings: AttachmentSettings,
    ) -> crate::store::StoreResult<Attachments> {
        let key = store
            .write(|c| crate::store::attachments::site_key(c, signing::KEY_NAME, signing::new_key))
            .await?;
        Ok(Attachments {
            signer: signing::Signer::new(&key, settings.url_ttl_secs, &settings.public_url),
            files: files::Files::new(data_dir),
            settings: Arc::new(settings),
        })
    }
}

/// Files younger than this are never swept: an upload writes its file before its row.
const SWEEP_MIN_AGE: std::time::Duration = std::time::Duration::from_secs(600);

fn files_of(store: &crate::store::Store) -> files::Files {
    files::Files::new(store.path().parent().unwrap_or_else(|| Path::new(".")))
}

/// Removes the attachment files no row names any more (after a retention purge or an
/// erasure deleted rows); returns how many.
pub async fn sweep(store: &crate::store::Store) -> Result<usize, AttachmentError> {
    let referenced = store.read(crate::store::attachments::all_hashes).await?;
    let files = files_of(store);
    tokio::task::spawn_blocking(move || {
        files.sweep(&referenced.into_iter().collect(), SWEEP_MIN_AGE)
    })
    .await
    .map_err(|e| AttachmentError::Internal(e.to_string()))?
    .map_err(|e| AttachmentError::Internal(format!("removing files: {e}")))
}

/// [`sweep`] from a thread outside the async runtime (`switchboard purge`).
pub fn sweep_blocking(store: &crate::store::Store) -> Result<usize, AttachmentError> {
    let referenced = store.write_blocking(crate::store::attachments::all_hashes)?;
    files_of(store)
        .sweep(&referenced.into_iter().collect(), SWEEP_MIN_AGE)
        .map_err(|e| AttachmentError::Internal(format!("removing files: {e}")))
}

/// `[attachments]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AttachmentSettings {
    /// Largest accepted file, in bytes.
    pub max_bytes: usize,
    /// MIME types accepted, as sniffed from the content (never as the client says).
    pub allowed_types: Vec<String>,
    /// How long a signed URL works, in seconds. URLs in a transcript are signed again
    /// whenever the transcript is read.
    pub url_ttl_secs: u64,
    /// The address clients and connectors reach this server at (e.g.
    /// `https://chat.example.com`); URLs in IMAGE/FILE bodies start with it. Empty:
    /// URLs are paths (`/attachments/...`), enough for the desk and the widget.
    pub public_url: String,
}

/// Images, PDF, plain text and common office documents.
pub const DEFAULT_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

impl Default for AttachmentSettings {
    fn default() -> Self {
        AttachmentSettings {
            max_bytes: 10 * 1024 * 1024,
            allowed_types: DEFAULT_TYPES.iter().map(|t| (*t).to_owned()).collect(),
            url_ttl_secs: 24 * 3600,
            public_url: String::new(),
        }
    }
}

/// "10 MiB", "64 KiB", "900 bytes".
pub fn human_size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    match bytes {
        b if b >= MIB => format!("{} MiB", trim(b as f64 / MIB as f64)),
        b if b >= KIB => format!("{} KiB", trim(b as f64 / KIB as f64)),
        b => format!("{b} bytes"),
    }
}

fn trim(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

/// Why an upload or a download was refused.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error(
        "send the session's secret (X-Channel-Session and X-Session-Secret) or a bearer token"
    )]
    Unauthenticated,
    #[error("{0}")]
    NotParticipant(String),
    #[error("the file is larger than the limit of {}", human_size(*limit))]
    TooLarge { limit: usize },
    #[error("files of type {0} are not accepted")]
    ForbiddenType(String),
    #[error("{0}")]
    BadUpload(String),
    #[error("the link is not valid")]
    BadSignature,
    #[error("the link has expired; open the conversation again for a fresh one")]
    Expired,
    #[error("attachment {0} not found")]
    NotFound(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl AttachmentError {
    /// The stable machine-readable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            AttachmentError::Unauthenticated => "unauthenticated",
            AttachmentError::NotParticipant(_) => "not_participant",
            AttachmentError::TooLarge { .. } => "too_large",
            AttachmentError::ForbiddenType(_) => "forbidden_type",
            AttachmentError::BadUpload(_) => "bad_upload",
            AttachmentError::BadSignature => "bad_signature",
            AttachmentError::Expired => "expired",
            AttachmentError::NotFound(_) => "not_found",
            AttachmentError::Unavailable(_) => "unavailable",
            AttachmentError::Internal(_) => "internal",
        }
    }
}

impl From<crate::store::StoreError> for AttachmentError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Closed
            | crate::store::StoreError::NotDurable
            | crate::store::StoreError::NotCommitted => AttachmentError::Unavailable(e.to_string()),
            other => AttachmentError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(super::human_size(10 * 1024 * 1024), "10 MiB");
        assert_eq!(super::human_size(1536 * 1024), "1.5 MiB");
        assert_eq!(super::human_size(64 * 1024), "64 KiB");
        assert_eq!(super::human_size(900), "900 bytes");
    }
}

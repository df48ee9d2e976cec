//! Signed attachment URLs: `/attachments/{id}?exp={unix seconds}&sig={hex HMAC-SHA256
//! of "{id}.{exp}"}` under the site key (kept in the database, see
//! `store::attachments::site_key`). An `<img>` tag or a connector's provider fetches
//! one without a token; it works until `exp`. A URL this site signed once is signed
//! again, with a new `exp`, whenever a transcript holding it is read
//! ([`Signer::resign_event`]); a URL it never signed is left alone.

use super::AttachmentError;
use crate::clock::Millis;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashSet;

type HmacSha256 = Hmac<Sha256>;

/// The name of the URL-signing key in `site_keys`.
pub const KEY_NAME: &str = "attachment_url";
/// The path every attachment URL has, after the public URL.
pub const PATH: &str = "/attachments/";

/// A new random key, hex.
pub fn new_key() -> String {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    hex::encode(key)
}

#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
    ttl_secs: u64,
    /// `public_url` without a trailing slash ("" for paths).
    base: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// The parts of one of our URLs.
struct Parsed<'a> {
    id: &'a str,
    exp: &'a str,
    sig: &'a str,
}

fn parse(url: &str) -> Option<Parsed<'_>> {
    let at = url.find(PATH)?;
    let rest = &url[at + PATH.len()..];
    let (id, query) = rest.split_once('?')?;
    let (mut exp, mut sig) = (None, None);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("exp", v)) => exp = Some(v),
            Some(("sig", v)) => sig = Some(v),
            _ => {}
        }
    }
    Some(Parsed {
        id,
        exp: exp?,
        sig: sig?,
    })
}

impl Signer {
    pub fn new(key_hex: &str, ttl_secs: u64, public_url: &str) -> Signer {
        Signer {
            key: hex::decode(key_hex).unwrap_or_else(|_| key_hex.as_bytes().to_vec()),
            ttl_secs: ttl_secs.max(1),
            base: public_url.trim_end_matches('/').to_owned(),
        }
    }

    fn mac(&self, id: &str, exp: &str) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.key).expect("HMAC accepts keys of every length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(exp.as_bytes());
        mac
    }

    /// A URL for attachment `id`, valid for the configured time from `now`; with the
    /// time it expires (ms).
    pub fn url(&self, id: &str, now: Millis) -> (String, Millis) {
        let exp = (now / 1000).max(0) as u64 + self.ttl_secs;
        let exp_text = exp.to_string();
        let sig = hex::encode(self.mac(id, &exp_text).finalize().into_bytes());
        (
            format!("{}{PATH}{id}?exp={exp_text}&sig={sig}", self.base),
            exp as Millis * 1000,
        )
    }

    fn signed(&self, id: &str, exp: &str, sig: &str) -> bool {
        hex::decode(sig).is_ok_and(|raw| self.mac(id, exp).verify_slice(&raw).is_ok())
    }

    /// Checks a download's `exp` and `sig` for attachment `id` at `now`.
    pub fn verify(
        &self,
        id: &str,
        exp: &str,
        sig: &str,
        now: Millis,
    ) -> Result<(), AttachmentError> {
        if !self.signed(id, exp, sig) {
            return Err(AttachmentError::BadSignature);
        }
        let exp: i64 = exp.parse().map_err(|_| AttachmentError::BadSignature)?;
        if exp.saturating_mul(1000) < now {
            return Err(AttachmentError::Expired);
        }
        Ok(())
    }

    /// A fresh URL for `url` when this site signed it (expired or not) for one of the
    /// attachments in `owned`; `None` for any other URL.
    pub fn resign(&self, url: &str, now: Millis, owned: &HashSet<String>) -> Option<String> {
        let parsed = parse(url)?;
        (owned.contains(parsed.id) && self.signed(parsed.id, parsed.exp, parsed.sig))
            .then(|| self.url(parsed.id, now).0)
    }

    /// [`Signer::resign_event`] over a transcript.
    pub fn resign_events(&self, events: &mut [Value], now: Millis, owned: &HashSet<String>) {
        for event in events {
            self.resign_event(event, now, owned);
        }
    }

    /// Signs again the attachment URL of a stored event's IMAGE/FILE body
    /// (`data.body.attachment.mediaUrl`), so a transcript read later still shows it;
    /// only for an attachment of that transcript's conversation (`owned`): a URL of
    /// another conversation's, pasted into a message, stays as it was and expires.
    pub fn resign_event(&self, event: &mut Value, now: Millis, owned: &HashSet<String>) {
        let Some(url) = event.pointer_mut("/data/body/attachment/mediaUrl") else {
            return;
        };
        if let Some(fresh) = url.as_str().and_then(|u| self.resign(u, now, owned)) {
            *url = Value::String(fresh);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_url_works_until_it_expires_and_only_as_signed() {
        let signer = Signer::new(&new_key(), 60, "https://chat.example.com/");
        let (url, expires) = signer.url("a1", 1_000_000);
        assert!(
            url.starts_with("https://chat.example.com/attachments/a1?exp=1060&sig="),
            "{url}"
        );
        assert_eq!(expires, 1_060_000);
        let p = parse(&url).unwrap();
        assert!(signer.verify("a1", p.exp, p.sig, 1_059_000).is_ok());
        assert!(matches!(
            signer.verify("a1", p.exp, p.sig, 1_061_000),
            Err(AttachmentError::Expired)
        ));
        assert!(matches!(
            signer.verify("a2", p.exp, p.sig, 1_000_000),
            Err(AttachmentError::BadSignature)
        ));
        assert!(matches!(
            signer.verify("a1", "9999999", p.sig, 1_000_000),
            Err(AttachmentError::BadSignature)
        ));
        assert!(matches!(
            signer.verify("a1", p.exp, "zz", 1_000_000),
            Err(AttachmentError::BadSignature)
        ));
        let other = Signer::new(&new_key(), 60, "");
        assert!(matches!(
            other.verify("a1", p.exp, p.sig, 1_000_000),
            Err(AttachmentError::BadSignature)
        ));
    }

    #[test]
    fn reading_a_transcript_signs_its_own_urls_again_and_leaves_others_alone() {
        let signer = Signer::new(&new_key(), 60, "");
        let owned: HashSet<String> = ["a1".to_string()].into();
        let (old, _) = signer.url("a1", 0);
        let mut event =
            json!({"data": {"body": {"type": "IMAGE", "attachment": {"mediaUrl": old}}}});
        signer.resign_event(&mut event, 500_000, &owned);
        let fresh = event
            .pointer("/data/body/attachment/mediaUrl")
            .unwrap()
            .as_str()
            .unwrap();
        assert!(fresh.starts_with("/attachments/a1?exp=560&sig="), "{fresh}");
        let forged = "/attachments/a1?exp=1&sig=00";
        let mut event = json!({"data": {"body": {"attachment": {"mediaUrl": forged}}}});
        signer.resign_event(&mut event, 500_000, &owned);
        assert_eq!(
            event.pointer("/data/body/attachment/mediaUrl").unwrap(),
            forged
        );
        let mut foreign =
            json!({"data": {"body": {"attachment": {"mediaUrl": "https://x/y.png"}}}});
        signer.resign_event(&mut foreign, 1, &owned);
        assert_eq!(
            foreign.pointer("/data/body/attachment/mediaUrl").unwrap(),
            "https://x/y.png"
        );
        // Signed by this site, but another conversation's attachment: left to expire.
        let (elsewhere, _) = signer.url("a2", 0);
        let mut pasted = json!({"data": {"body": {"attachment": {"mediaUrl": elsewhere.clone()}}}});
        signer.resign_event(&mut pasted, 500_000, &owned);
        assert_eq!(
            pasted.pointer("/data/body/attachment/mediaUrl").unwrap(),
            &json!(elsewhere)
        );
    }
}

//! What a file is, read from its first bytes: never what the client's
//! `Content-Type` or file name claims. Text is UTF-8 without NUL bytes.

/// The MIME type of `bytes`, if it is recognised.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if let Some(kind) = infer::get(bytes) {
        return Some(kind.mime_type());
    }
    let text = !bytes.is_empty() && !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok();
    text.then_some("text/plain")
}

/// True for types a browser may show inline (in an `<img>`); everything else, PDF
/// included, is served as a download (the responses carry a sandboxing CSP, under
/// which a browser's PDF viewer would not run).
pub fn inline(mime: &str) -> bool {
    matches!(
        mime,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

/// A file name safe to show and to put in `Content-Disposition`: the last path
/// segment, printable characters only, at most 120 of them.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "file".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_decides_not_the_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.4\n"), Some("application/pdf"));
        assert_eq!(sniff("héllo\n".as_bytes()), Some("text/plain"));
        let program = sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0");
        assert!(program.is_none_or(|m| !crate::attachments::DEFAULT_TYPES.contains(&m)));
        assert_eq!(sniff(b"\0\x01\x02binary"), None);
        assert_eq!(sniff(b""), None);
        assert!(inline("image/png") && !inline("text/plain") && !inline("application/pdf"));
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\x\\report \"q\".pdf"), "report q.pdf");
        assert_eq!(clean_name("a\nb.txt"), "ab.txt");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name(".."), "file");
    }
}

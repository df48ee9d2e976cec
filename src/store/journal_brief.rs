//! The compact form of a routing-journal row's brief of its effects
//! (`routing_journal.effects`, see `journal`): a BLOB that reads back to exactly the
//! text `routing_core::digest::brief` wrote.
//!
//! A brief is short English over a few words (`enqueued … in Default at 1; task …
//! Active/Reserved; offer … to … (30000 ms to accept)`), 8-hex short ids (a task's
//! repeated in one brief) and numbers. It is stored as a byte code:
//! - `0x80 + k`: the `k`-th phrase of [`PHRASES`];
//! - `0x01` and 4 bytes: 8 lowercase hex digits; `0x02 k`: the `k`-th of those again;
//! - `0x03` and a LEB128 integer: a decimal number without a leading zero;
//! - `0x08..=0x7f`: that ASCII byte; `0x00 b`: any other byte `b` (UTF-8 beyond ASCII).
//!
//! Rows written before (and the empty brief) stay TEXT and read as they are; the
//! column's TEXT affinity keeps a BLOB a BLOB. [`PHRASES`] is part of the stored
//! format: append to it, never change or reorder it.

use super::{StoreError, StoreResult};

/// Phrases coded as one byte each (`0x80 + index`). Append only.
pub const PHRASES: &[&str] = &[
    "enqueued ",
    " in ",
    " at ",
    "; ",
    "task ",
    "offer ",
    " to ",
    " ms to accept)",
    "agent ",
    "assign ",
    "revoke ",
    " from ",
    "interrupted ",
    " of ",
    "no agent for ",
    "rerouted ",
    "transferred ",
    " subscribed ",
    " unsubscribed ",
    "pull request ",
    " added",
    " removed",
    " joined pull request ",
    " refused: ",
    "Active",
    "Reserved",
    "Queued",
    "Closed",
    "WrapUp",
    "Ready",
    "NotReady",
    "Logout",
    "Login",
    "Unknown",
    "Busy",
    "PendingNotReady",
    "Interrupted",
    "Done",
    "AgentLogout",
    "Cancelled",
    "Transferred",
    "NoAgentAvailable",
    "ForceClosed",
    "Rona",
    "Declined",
    "Default",
    " [CHAT ",
    ", VOICE ",
    ", EMAIL ",
    "CHAT",
    "VOICE",
    "EMAIL",
    " [",
    "]",
    ", ",
    " (",
];

const LITERAL: u8 = 0x00;
const HEX: u8 = 0x01;
const HEX_AGAIN: u8 = 0x02;
const NUMBER: u8 = 0x03;
const PLAIN: std::ops::RangeInclusive<u8> = 0x08..=0x7f;
const PHRASE: u8 = 0x80;

/// `brief` in the compact form.
pub fn encode(brief: &str) -> Vec<u8> {
    let bytes = brief.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 2);
    let mut ids: Vec<&[u8]> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if let Some(id) = rest.get(..8).filter(|id| id.iter().all(is_lower_hex)) {
            match ids.iter().position(|seen| *seen == id) {
                Some(k) if k < 256 => out.extend([HEX_AGAIN, k as u8]),
                _ => {
                    out.push(HEX);
                    out.extend(
                        id.chunks(2)
                            .map(|pair| nibble(pair[0]) << 4 | nibble(pair[1])),
                    );
                    ids.push(id);
                }
            }
            i += 8;
            continue;
        }
        if let Some((k, phrase)) = PHRASES
            .iter()
            .enumerate()
            .filter(|(_, p)| rest.starts_with(p.as_bytes()))
            .max_by_key(|(_, p)| p.len())
        {
            out.push(PHRASE + k as u8);
            i += phrase.len();
            continue;
        }
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            // No leading zero (a lone "0" is fine), and small enough for a u64.
            let len = if rest[0] == b'0' { 1 } else { digits.min(18) };
            let n: u64 = brief[i..i + len].parse().unwrap_or_default();
            out.push(NUMBER);
            leb128(n, &mut out);
            i += len;
            continue;
        }
        match rest[0] {
            b if PLAIN.contains(&b) => out.push(b),
            b => out.extend([LITERAL, b]),
        }
        i += 1;
    }
    out
}

/// The brief a compact form stands for.
pub fn decode(code: &[u8]) -> StoreResult<String> {
    let mut out: Vec<u8> = Vec::with_capacity(code.len() * 3);
    let mut ids: Vec<[u8; 8]> = Vec::new();
    let mut i = 0;
    let byte = |at: usize| code.get(at).copied().ok_or_else(|| corrupt("cut short"));
    while i < code.len() {
        let op = code[i];
        i += 1;
        match op {
            LITERAL => {
                out.push(byte(i)?);
                i += 1;
            }
            HEX => {
                let raw = code.get(i..i + 4).ok_or_else(|| corrupt("cut short"))?;
                let mut id = [0u8; 8];
                for (n, b) in raw.iter().enumerate() {
                    id[2 * n] = HEX_DIGITS[(b >> 4) as usize];
                    id[2 * n + 1] = HEX_DIGITS[(b & 15) as usize];
                }
                out.extend(id);
                ids.push(id);
                i += 4;
            }
            HEX_AGAIN => {
                let id = ids
                    .get(byte(i)? as usize)
                    .ok_or_else(|| corrupt("a repeated id before its first"))?;
                out.extend(id);
                i += 1;
            }
            NUMBER => {
                let mut n: u64 = 0;
                let mut shift = 0;
                loop {
                    let b = byte(i)?;
                    i += 1;
                    n |= u64::from(b & 0x7f)
                        .checked_shl(shift)
                        .ok_or_else(|| corrupt("a number too long"))?;
                    if b & 0x80 == 0 {
                        break;
                    }
                    shift += 7;
                    if shift > 63 {
                        return Err(corrupt("a number too long"));
                    }
                }
                out.extend(n.to_string().bytes());
            }
            b if PLAIN.contains(&b) => out.push(b),
            b if b >= PHRASE => {
                let phrase = PHRASES
                    .get((b - PHRASE) as usize)
                    .ok_or_else(|| corrupt("an unknown phrase"))?;
                out.extend(phrase.bytes());
            }
            _ => return Err(corrupt("an unknown code")),
        }
    }
    String::from_utf8(out).map_err(|_| corrupt("not UTF-8"))
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

fn is_lower_hex(b: &u8) -> bool {
    matches!(b, b'0'..=b'9' | b'a'..=b'f')
}

fn nibble(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        _ => b - b'a' + 10,
    }
}

fn leb128(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("routing_journal.effects: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(brief: &str) -> usize {
        let code = encode(brief);
        assert_eq!(decode(&code).unwrap(), brief, "{brief:?} -> {code:?}");
        code.len()
    }

    #[test]
    fn briefs_read_back_exactly_and_shorter() {
        let enqueue = "enqueued 3035150e in Default at 1; task 3035150e Active/Reserved; \
                       offer 3035150e to 27ee0aa9 (30000 ms to accept); agent 27ee0aa9 Ready \
                       [CHAT Active 1/5, VOICE Ready 0/1]";
        let len = round_trip(enqueue);
        assert!(len * 5 < enqueue.len() * 2, "{len} of {}", enqueue.len());
        let agent = "agent 41bcb5e7 NotReady [CHAT NotReady 0/5, VOICE NotReady 0/1]";
        assert!(round_trip(agent) * 2 < agent.len());
        round_trip("task 3035150e Active/Active");
        round_trip("");
        assert!(PHRASES.len() <= 128, "a phrase code is one byte");
    }

    #[test]
    fn any_text_reads_back_exactly() {
        for brief in [
            "Queue \"Ventes\" — file d'attente à 007 ms, 0, 00, 12345678901234567890123",
            "deadbeefdeadbeef0123456789abcdefABCDEF and 18446744073709551615",
            "\u{0}\u{1}\u{2}\u{3}\u{7f}\t\n control bytes, émoji 🙂",
            "EnqueueTask refused: QUEUE_NOT_FOUND",
            "0000000000000000000000000",
        ] {
            round_trip(brief);
        }
        // More distinct ids than a repeat can name.
        let many: String = (0..300u32).map(|n| format!("{n:08x} {n:08x} ")).collect();
        round_trip(&many);
    }

    #[test]
    fn a_broken_code_is_corrupt_not_a_panic() {
        for code in [
            &[HEX, 1, 2][..],
            &[HEX_AGAIN, 0],
            &[NUMBER, 0x80],
            &[
                NUMBER, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
            &[LITERAL],
            &[0x05],
            &[PHRASE + 127],
            &[LITERAL, 0xff],
        ] {
            assert!(decode(code).is_err(), "{code:?}");
        }
    }
}

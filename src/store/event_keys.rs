//! How an event row keeps its id, message id, name and type (migration
//! `V16__event_keys`): a lowercase hyphenated UUID as its 16 bytes (a blob), any other
//! id as text; a known event name or type as its small integer code (`event_names`,
//! the same list as [`CODES`]), any other as text. [`id`] and [`name`] give the value
//! to write or to compare a column with, [`read_id`] and [`read_name`] the text back.
//! Since `V27__event_ids_after_timestamp`, an event's own id that is a UUIDv7 of the
//! event's timestamp keeps only its last 10 bytes ([`event_id`], [`read_event_id`]).

use super::{StoreError, StoreResult};
use rusqlite::types::{Value, ValueRef};

/// The codes of `event_names`: code `i + 1` is `CODES[i]` (event names, then types).
pub const CODES: [&str; 37] = [
    "CUSTOMER_MESSAGE",
    "AGENT_MESSAGE",
    "BOT_MESSAGE",
    "WHISPER_MESSAGE",
    "BOT_SUGGESTION",
    "CHANNEL_SESSION_STARTED",
    "CHANNEL_SESSION_ENDED",
    "CHANNEL_SESSION_EXPIRED",
    "AGENT_RESERVED",
    "AGENT_SUBSCRIBED",
    "AGENT_UNSUBSCRIBED",
    "TASK_ENQUEUED",
    "TASK_STATE_CHANGED",
    "NO_AGENT_AVAILABLE",
    "PARTICIPANT_ROLE_CHANGED",
    "CONVERSATION_DATA_CHANGED",
    "MRD_INTERRUPTED",
    "AGENT_MRD_INTERRUPTED",
    "AGENT_SLA_STARTED",
    "AGENT_SLA_EXPIRED",
    "CUSTOMER_SLA_EXPIRED",
    "MESSAGE_DELIVERY_NOTIFICATION",
    "CONVERSATION_STARTED",
    "CONVERSATION_PAUSED",
    "CONVERSATION_RESUMED",
    "FIND_AGENT",
    "CONSULT_TRANSFER",
    "CONSULT_CONFERENCE",
    "DIRECT_TRANSFER",
    "DIRECT_CONFERENCE",
    "TYPING_STARTED",
    "TYPING_STOPPED",
    "SYSTEM_ERROR",
    "MESSAGE",
    "NOTIFICATION",
    "ACTIVITY",
    "SUGGESTION",
];

/// An event id or message id as it is stored and compared.
pub fn id(text: &str) -> Value {
    match uuid_bytes(text) {
        Some(bytes) => Value::Blob(bytes.to_vec()),
        None => Value::Text(text.to_owned()),
    }
}

/// SQL giving the stored form of the text id in `column`, as [`id`] makes it.
pub fn id_sql(column: &str) -> String {
    format!(
        "CASE WHEN {column} GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' \
         THEN unhex(replace({column}, '-', '')) ELSE {column} END"
    )
}

/// The 16 bytes of a lowercase hyphenated UUID (the only form that reads back as
/// the same text).
fn uuid_bytes(text: &str) -> Option<[u8; 16]> {
    let b = text.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut n = 0;
    let mut i = 0;
    while i < 36 {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b[i] != b'-' {
                return None;
            }
            i += 1;
            continue;
        }
        out[n] = (nibble(b[i])? << 4) | nibble(b[i + 1])?;
        n += 1;
        i += 2;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// An event's id as its row stores it: a UUIDv7 made with the event, whose first 48
/// bits are the event's `timestamp` or up to 255 ms after it, as its last 10 bytes —
/// after one byte of those milliseconds when there are any —, since the `timestamp`
/// column holds the rest; anything else as [`id`] stores it.
pub fn event_id(text: &str, timestamp: i64) -> Value {
    let Some(bytes) = uuid_bytes(text) else {
        return Value::Text(text.to_owned());
    };
    let mut ms = [0u8; 8];
    ms[2..].copy_from_slice(&bytes[..6]);
    let after = i64::from_be_bytes(ms) - timestamp;
    match after {
        0 if timestamp >= 0 => Value::Blob(bytes[6..].to_vec()),
        1..=255 if timestamp >= 0 => {
            let mut short = Vec::with_capacity(11);
            short.push(after as u8);
            short.extend_from_slice(&bytes[6..]);
            Value::Blob(short)
        }
        _ => Value::Blob(bytes.to_vec()),
    }
}

/// A stored event id (see [`event_id`]) as its text, given the row's `timestamp`.
pub fn read_event_id(value: ValueRef<'_>, timestamp: i64) -> StoreResult<String> {
    let (after, rest) = match value {
        ValueRef::Blob(b) if b.len() == 10 => (0, b),
        ValueRef::Blob(b) if b.len() == 11 => (i64::from(b[0]), &b[1..]),
        other => return read_id(other),
    };
    let ms = timestamp + after;
    if !(0..1 << 48).contains(&ms) {
        return Err(StoreError::Corrupt(format!(
            "cim_events: timestamp {timestamp} of a short id"
        )));
    }
    let mut whole = [0u8; 16];
    whole[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    whole[6..].copy_from_slice(rest);
    read_id(ValueRef::Blob(&whole))
}

/// A stored id (or message id) column as its text.
pub fn read_id(value: ValueRef<'_>) -> StoreResult<String> {
    match value {
        ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) if b.len() == 16 => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            Ok(format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            ))
        }
        other => Err(StoreError::Corrupt(format!(
            "cim_events: bad event id {other:?}"
        ))),
    }
}

/// A stored nullable message id column as its text.
pub fn read_optional_id(value: ValueRef<'_>) -> StoreResult<Option<String>> {
    match value {
        ValueRef::Null => Ok(None),
        other => read_id(other).map(Some),
    }
}

/// An event name or type as it is stored and compared.
pub fn name(text: &str) -> Value {
    match CODES.iter().position(|c| *c == text) {
        Some(i) => Value::Integer(i as i64 + 1),
        None => Value::Text(text.to_owned()),
    }
}

/// A stored name or type column as its text.
pub fn read_name(value: ValueRef<'_>) -> StoreResult<&'static str> {
    match value {
        ValueRef::Integer(code) => usize::try_from(code - 1)
            .ok()
            .and_then(|i| CODES.get(i))
            .copied()
            .ok_or_else(|| StoreError::Corrupt(format!("cim_events: unknown name code {code}"))),
        other => Err(StoreError::Corrupt(format!(
            "cim_events: bad name {other:?}"
        ))),
    }
}

/// A stored name or type column as its text, text names included.
pub fn read_name_text(value: ValueRef<'_>) -> StoreResult<String> {
    match value {
        ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
        other => read_name(other).map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stored_as_16_bytes_and_other_ids_as_text() {
        let uuid = "01a24759-9668-765f-aaa2-8c37fbc483c0";
        let stored = id(uuid);
        assert!(matches!(&stored, Value::Blob(b) if b.len() == 16));
        let Value::Blob(bytes) = &stored else {
            unreachable!()
        };
        assert_eq!(read_id(ValueRef::Blob(bytes)).unwrap(), uuid);
        for text in [
            "9bf295b0-e-41-1",
            "01A24759-9668-765F-AAA2-8C37FBC483C0",
            "01a24759-9668-765f-aaa2-8c37fbc483cg",
            "01a247599668-765f-aaa2-8c37fbc483c0-",
            "",
        ] {
            assert_eq!(id(text), Value::Text(text.to_owned()), "{text}");
        }
        assert!(read_id(ValueRef::Blob(&[1, 2])).is_err());
        assert_eq!(read_optional_id(ValueRef::Null).unwrap(), None);
    }

    #[test]
    fn an_event_id_of_its_own_time_keeps_10_or_11_bytes() {
        let uuid = "01a24915-60dd-7554-b039-fc417f91d9b9";
        let at = 0x01a2_4915_60dd_i64;
        for (timestamp, len) in [
            (at, 10),
            (at - 1, 11),
            (at - 255, 11),
            (at - 256, 16),
            (at + 1, 16),
        ] {
            let Value::Blob(stored) = event_id(uuid, timestamp) else {
                panic!("a blob")
            };
            assert_eq!(stored.len(), len, "{timestamp}");
            assert_eq!(
                read_event_id(ValueRef::Blob(&stored), timestamp).unwrap(),
                uuid
            );
        }
        assert_eq!(event_id(uuid, -1), id(uuid));
        assert_eq!(event_id("9bf295b0-e-41-1", at), id("9bf295b0-e-41-1"));
        let Value::Blob(short) = event_id(uuid, at) else {
            panic!("a blob")
        };
        assert!(read_event_id(ValueRef::Blob(&short), -1).is_err());
        assert!(read_event_id(ValueRef::Blob(&short), 1 << 48).is_err());
    }

    #[test]
    fn known_names_are_codes_and_the_migration_holds_the_same_list() {
        assert_eq!(name("CUSTOMER_MESSAGE"), Value::Integer(1));
        assert_eq!(name("NEW_KIND"), Value::Text("NEW_KIND".into()));
        assert_eq!(read_name(ValueRef::Integer(35)).unwrap(), "NOTIFICATION");
        assert!(read_name(ValueRef::Integer(0)).is_err());
        assert!(read_name(ValueRef::Integer(99)).is_err());
        assert_eq!(
            read_name_text(ValueRef::Text(b"NEW_KIND")).unwrap(),
            "NEW_KIND"
        );
        let conn = crate::store::test_connection();
        let stored: Vec<(i64, String)> = conn
            .prepare("SELECT code, name FROM event_names ORDER BY code")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let listed: Vec<(i64, String)> = CODES
            .iter()
            .enumerate()
            .map(|(i, n)| (i as i64 + 1, n.to_string()))
            .collect();
        assert_eq!(stored, listed);
    }
}

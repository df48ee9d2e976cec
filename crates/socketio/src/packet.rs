//! Socket.IO v5 packet codec (the format carried inside Engine.IO `message` packets):
//! `<type>[<namespace>,][<ack id>][<JSON payload>]`.
//!
//! CONNECT (with auth), DISCONNECT, EVENT, ACK and CONNECT_ERROR are supported.
//! BINARY_EVENT and BINARY_ACK are refused with [`PacketError::BinaryUnsupported`].
//! Validation follows the reference parser: CONNECT data is an object, DISCONNECT has none,
//! EVENT data is a non-empty array whose first element is a non-reserved event name,
//! ACK data is an array.

use serde_json::Value;
use std::fmt::Write as _;

/// The main namespace, omitted on the wire.
pub const MAIN_NAMESPACE: &str = "/";

/// Event names the reference implementation reserves; they may not be sent as events.
pub const RESERVED_EVENTS: &[&str] = &[
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// One decoded Socket.IO packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Packet {
    /// Type 0. From the client: optional auth object. From the server: `{"sid": ...}`.
    Connect { nsp: String, data: Option<Value> },
    /// Type 1.
    Disconnect { nsp: String },
    /// Type 2: `[event, ...args]`, with an ack id when the sender wants an answer.
    Event {
        nsp: String,
        id: Option<u64>,
        event: String,
        args: Vec<Value>,
    },
    /// Type 3: the answer to an event that carried `id`.
    Ack {
        nsp: String,
        id: u64,
        args: Vec<Value>,
    },
    /// Type 4: `{message, data?}` when a namespace connection is refused.
    ConnectError { nsp: String, data: Value },
}

/// Why a text is not an acceptable Socket.IO packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("empty Socket.IO packet")]
    Empty,
    #[error("unknown Socket.IO packet type {0:?}")]
    UnknownType(char),
    #[error("binary attachments (BINARY_EVENT / BINARY_ACK) are not supported")]
    BinaryUnsupported,
    #[error("ack id is not a valid integer")]
    InvalidAckId,
    #[error("payload is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("invalid payload for {0}")]
    InvalidPayload(&'static str),
    #[error("{0:?} is a reserved event name")]
    ReservedEvent(String),
}

impl Packet {
    /// The namespace the packet belongs to.
    pub fn namespace(&self) -> &str {
        match self {
            Packet::Connect { nsp, .. }
            | Packet::Disconnect { nsp }
            | Packet::Event { nsp, .. }
            | Packet::Ack { nsp, .. }
            | Packet::ConnectError { nsp, .. } => nsp,
        }
    }

    /// Appends the wire form of this packet to `out`.
    pub fn encode_into(&self, out: &mut String) {
        match self {
            Packet::Connect { nsp, data } => {
                write_header(out, '0', nsp);
                if let Some(data) = data {
                    push_json(out, data);
                }
            }
            Packet::Disconnect { nsp } => write_header(out, '1', nsp),
            Packet::Event {
                nsp,
                id,
                event,
                args,
            } => write_event(out, nsp, *id, event, args),
            Packet::Ack { nsp, id, args } => write_ack(out, nsp, *id, args),
            Packet::ConnectError { nsp, data } => {
                write_header(out, '4', nsp);
                push_json(out, data);
            }
        }
    }

    /// The wire form of this packet (without the Engine.IO `4` prefix).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        self.encode_into(&mut out);
        out
    }
}

fn write_header(out: &mut String, kind: char, nsp: &str) {
    out.push(kind);
    if nsp != MAIN_NAMESPACE {
        out.push_str(nsp);
        out.push(',');
    }
}

fn push_json(out: &mut String, value: &Value) {
    // `Value`'s Display is its compact JSON serialization and cannot fail.
    let _ = write!(out, "{value}");
}

/// Appends an EVENT packet (`2[nsp,][id]["event",...args]`) without building a [`Packet`].
pub fn write_event(out: &mut String, nsp: &str, id: Option<u64>, event: &str, args: &[Value]) {
    write_header(out, '2', nsp);
    if let Some(id) = id {
        let _ = write!(out, "{id}");
    }
    out.push('[');
    // Serializing a &str cannot fail; this writes it as an escaped JSON string literal.
    if let Ok(name) = serde_json::to_string(event) {
        out.push_str(&name);
    }
    for arg in args {
        out.push(',');
        push_json(out, arg);
    }
    out.push(']');
}

/// [`write_event`] with one argument already encoded as JSON text.
pub fn write_event_json(out: &mut String, nsp: &str, event: &str, json: &str) {
    write_header(out, '2', nsp);
    out.push('[');
    if let Ok(name) = serde_json::to_string(event) {
        out.push_str(&name);
    }
    out.push(',');
    out.push_str(json);
    out.push(']');
}

/// Appends an ACK packet (`3[nsp,]id[...args]`) without building a [`Packet`].
pub fn write_ack(out: &mut String, nsp: &str, id: u64, args: &[Value]) {
    write_header(out, '3', nsp);
    let _ = write!(out, "{id}");
    out.push('[');
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json(out, arg);
    }
    out.push(']');
}

/// Decodes one Socket.IO packet.
pub fn decode(text: &str) -> Result<Packet, PacketError> {
    let mut rest = text;
    let kind = take_char(&mut rest).ok_or(PacketError::Empty)?;
    match kind {
        '0'..='4' => {}
        '5' | '6' => return Err(PacketError::BinaryUnsupported),
        other => return Err(PacketError::UnknownType(other)),
    }

    let nsp = if rest.starts_with('/') {
        match rest.find(',') {
            Some(comma) => {
                let nsp = &rest[..comma];
                rest = &rest[comma + 1..];
                nsp.to_owned()
            }
            None => std::mem::take(&mut rest).to_owned(),
        }
    } else {
        MAIN_NAMESPACE.to_owned()
    };

    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = if digits > 0 {
        let id = rest[..digits]
            .parse::<u64>()
            .map_err(|_| PacketError::InvalidAckId)?;
        rest = &rest[digits..];
        Some(id)
    } else {
        None
    };

    let data = if rest.is_empty() {
        None
    } else {
        Some(
            serde_json::from_str::<Value>(rest)
                .map_err(|e| PacketError::InvalidJson(e.to_string()))?,
        )
    };

    match kind {
        '0' => match data {
            None | Some(Value::Object(_)) => Ok(Packet::Connect { nsp, data }),
            Some(_) => Err(PacketError::InvalidPayload("CONNECT")),
        },
        '1' => match data {
            None => Ok(Packet::Disconnect { nsp }),
            Some(_) => Err(PacketError::InvalidPayload("DISCONNECT")),
        },
        '2' => {
            let Some(Value::Array(mut items)) = data else {
                return Err(PacketError::InvalidPayload("EVENT"));
            };
            if items.is_empty() {
                return Err(PacketError::InvalidPayload("EVENT"));
            }
            let Value::String(event) = items.remove(0) else {
                return Err(PacketError::InvalidPayload("EVENT"));
            };
            if RESERVED_EVENTS.contains(&event.as_str()) {
                return Err(PacketError::ReservedEvent(event));
            }
            Ok(Packet::Event {
                nsp,
                id,
                event,
                args: items,
            })
        }
        '3' => {
            let Some(Value::Array(args)) = data else {
                return Err(PacketError::InvalidPayload("ACK"));
            };
            let id = id.ok_or(PacketError::InvalidPayload("ACK"))?;
            Ok(Packet::Ack { nsp, id, args })
        }
        _ => match data {
            Some(data @ (Value::Object(_) | Value::String(_))) => {
                Ok(Packet::ConnectError { nsp, data })
            }
            _ => Err(PacketError::InvalidPayload("CONNECT_ERROR")),
        },
    }
}

fn take_char(rest: &mut &str) -> Option<char> {
    let mut chars = rest.chars();
    let c = chars.next()?;
    *rest = chars.as_str();
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn nsp(s: &str) -> String {
        s.to_owned()
    }

    #[test]
    fn decodes_connect_forms_from_the_spec() {
        assert_eq!(
            decode("0"),
            Ok(Packet::Connect {
                nsp: nsp("/"),
                data: None
            })
        );
        assert_eq!(
            decode(r#"0{"token":"123"}"#),
            Ok(Packet::Connect {
                nsp: nsp("/"),
                data: Some(json!({"token": "123"}))
            })
        );
        assert_eq!(
            decode("0/admin,"),
            Ok(Packet::Connect {
                nsp: nsp("/admin"),
                data: None
            })
        );
        assert_eq!(
            decode("0/random"),
            Ok(Packet::Connect {
                nsp: nsp("/random"),
                data: None
            })
        );
        assert_eq!(
            decode(r#"0/admin,{"token":"abc"}"#),
            Ok(Packet::Connect {
                nsp: nsp("/admin"),
                data: Some(json!({"token": "abc"}))
            })
        );
    }

    #[test]
    fn decodes_events_and_acks_with_ids() {
        assert_eq!(
            decode(r#"2["foo"]"#),
            Ok(Packet::Event {
                nsp: nsp("/"),
                id: None,
                event: "foo".into(),
                args: vec![]
            })
        );
        assert_eq!(
            decode(r#"212["foo",1,{"a":[true]}]"#),
            Ok(Packet::Event {
                nsp: nsp("/"),
                id: Some(12),
                event: "foo".into(),
                args: vec![json!(1), json!({"a": [true]})]
            })
        );
        assert_eq!(
            decode(r#"3/admin,13["bar"]"#),
            Ok(Packet::Ack {
                nsp: nsp("/admin"),
                id: 13,
                args: vec![json!("bar")]
            })
        );
        assert_eq!(
            decode("1/admin,"),
            Ok(Packet::Disconnect { nsp: nsp("/admin") })
        );
        assert_eq!(decode("1"), Ok(Packet::Disconnect { nsp: nsp("/") }));
    }

    #[test]
    fn refuses_malformed_packets() {
        assert_eq!(decode(""), Err(PacketError::Empty));
        assert_eq!(decode("abc"), Err(PacketError::UnknownType('a')));
        assert_eq!(decode("9"), Err(PacketError::UnknownType('9')));
        assert_eq!(
            decode(r#"51-["baz",{"_placeholder":true,"num":0}]"#),
            Err(PacketError::BinaryUnsupported)
        );
        assert_eq!(decode("61-15[]"), Err(PacketError::BinaryUnsupported));
        assert!(matches!(
            decode("2[\"a\""),
            Err(PacketError::InvalidJson(_))
        ));
        assert_eq!(decode("2"), Err(PacketError::InvalidPayload("EVENT")));
        assert_eq!(decode("2[]"), Err(PacketError::InvalidPayload("EVENT")));
        assert_eq!(decode("2[1]"), Err(PacketError::InvalidPayload("EVENT")));
        assert_eq!(decode("2{}"), Err(PacketError::InvalidPayload("EVENT")));
        assert_eq!(
            decode(r#"2["disconnect"]"#),
            Err(PacketError::ReservedEvent("disconnect".into()))
        );
        assert_eq!(decode("3[]"), Err(PacketError::InvalidPayload("ACK")));
        assert_eq!(decode("31{}"), Err(PacketError::InvalidPayload("ACK")));
        assert_eq!(decode("0[1]"), Err(PacketError::InvalidPayload("CONNECT")));
        assert_eq!(
            decode("1{}"),
            Err(PacketError::InvalidPayload("DISCONNECT"))
        );
        assert_eq!(
            decode("299999999999999999999999[\"a\"]"),
            Err(PacketError::InvalidAckId)
        );
    }

    #[test]
    fn encodes_like_the_spec_examples() {
        let sid = json!({"sid": "oSO0OpakMV_3jnilAAAA"});
        assert_eq!(
            Packet::Connect {
                nsp: nsp("/admin"),
                data: Some(sid)
            }
            .encode(),
            r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#
        );
        assert_eq!(
            Packet::ConnectError {
                nsp: nsp("/"),
                data: json!({"message": "Not authorized"})
            }
            .encode(),
            r#"4{"message":"Not authorized"}"#
        );
        assert_eq!(
            Packet::Event {
                nsp: nsp("/admin"),
                id: None,
                event: "bar".into(),
                args: vec![]
            }
            .encode(),
            r#"2/admin,["bar"]"#
        );
        assert_eq!(
            Packet::Event {
                nsp: nsp("/"),
                id: Some(12),
                event: "foo".into(),
                args: vec![]
            }
            .encode(),
            r#"212["foo"]"#
        );
        assert_eq!(
            Packet::Ack {
                nsp: nsp("/admin"),
                id: 13,
                args: vec![json!("bar")]
            }
            .encode(),
            r#"3/admin,13["bar"]"#
        );
        assert_eq!(
            Packet::Disconnect { nsp: nsp("/admin") }.encode(),
            "1/admin,"
        );
        assert_eq!(Packet::Disconnect { nsp: nsp("/") }.encode(), "1");
    }

    #[test]
    fn event_names_are_json_escaped() {
        let packet = Packet::Event {
            nsp: nsp("/"),
            id: None,
            event: "we\"ird\n".into(),
            args: vec![json!("x")],
        };
        assert_eq!(packet.encode(), r#"2["we\"ird\n","x"]"#);
        assert_eq!(decode(&packet.encode()), Ok(packet));
    }

    fn json_leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            ".{0,12}".prop_map(Value::String),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        json_leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z]{0,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn namespace() -> impl Strategy<Value = String> {
        prop_oneof![Just("/".to_owned()), "/[a-z0-9_/.-]{1,12}"]
    }

    fn event_name() -> impl Strategy<Value = String> {
        ".{0,16}".prop_filter("reserved", |e| !RESERVED_EVENTS.contains(&e.as_str()))
    }

    fn object() -> impl Strategy<Value = Value> {
        proptest::collection::btree_map("[a-z]{0,6}", json_value(), 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    }

    fn packet() -> impl Strategy<Value = Packet> {
        prop_oneof![
            (namespace(), proptest::option::of(object()))
                .prop_map(|(nsp, data)| Packet::Connect { nsp, data }),
            namespace().prop_map(|nsp| Packet::Disconnect { nsp }),
            (
                namespace(),
                proptest::option::of(any::<u64>()),
                event_name(),
                proptest::collection::vec(json_value(), 0..4)
            )
                .prop_map(|(nsp, id, event, args)| Packet::Event {
                    nsp,
                    id,
                    event,
                    args
                }),
            (
                namespace(),
                any::<u64>(),
                proptest::collection::vec(json_value(), 0..4)
            )
                .prop_map(|(nsp, id, args)| Packet::Ack { nsp, id, args }),
            (
                namespace(),
                prop_oneof![object(), ".{0,12}".prop_map(Value::String)]
            )
                .prop_map(|(nsp, data)| Packet::ConnectError { nsp, data }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn decode_never_panics_on_arbitrary_text(text in any::<String>()) {
            let _ = decode(&text);
        }

        #[test]
        fn decode_never_panics_on_packet_like_text(
            kind in "[0-7]",
            nsp in proptest::option::of("/[^,]{0,8},?"),
            id in "[0-9]{0,24}",
            body in "[\\[\\]{}\",:0-9a-z ]{0,32}"
        ) {
            let text = format!("{kind}{}{id}{body}", nsp.unwrap_or_default());
            let _ = decode(&text);
        }

        #[test]
        fn encode_then_decode_round_trips(packet in packet()) {
            let wire = packet.encode();
            prop_assert_eq!(decode(&wire), Ok(packet));
        }
    }
}

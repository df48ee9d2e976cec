//! Engine.IO v4 packet codec: one packet to and from text, the `open` handshake payload, and the
//! HTTP long-polling payload (packets joined by the record separator `\x1e`).
//!
//! Only text packets are supported: base64 binary packets (`b` prefix) are refused with
//! [`EngineIoError::BinaryUnsupported`], because no Switchboard event carries binary data.

use serde::Serialize;

/// Separates packets inside one HTTP long-polling payload.
pub const SEPARATOR: char = '\u{1e}';

/// One Engine.IO packet, borrowing its data from the decoded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    /// `0` + JSON handshake (server to client only).
    Open(&'a str),
    /// `1`: the sender closes the session.
    Close,
    /// `2`: heartbeat request (server to client), or `2probe` during an upgrade.
    Ping(&'a str),
    /// `3`: heartbeat answer, or `3probe` during an upgrade.
    Pong(&'a str),
    /// `4` + a Socket.IO packet.
    Message(&'a str),
    /// `5`: the client completes a transport upgrade.
    Upgrade,
    /// `6`: ends a pending long-poll without data.
    Noop,
}

/// Why a text could not be decoded as an Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineIoError {
    #[error("empty Engine.IO packet")]
    Empty,
    #[error("unknown Engine.IO packet type {0:?}")]
    UnknownType(char),
    #[error("binary Engine.IO packets are not supported")]
    BinaryUnsupported,
}

/// The `open` packet payload sent once per session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake<'a> {
    pub sid: &'a str,
    pub upgrades: &'a [&'a str],
    pub ping_interval: u64,
    pub ping_timeout: u64,
    pub max_payload: usize,
}

impl Packet<'_> {
    /// The single-digit type prefix on the wire.
    pub fn type_char(&self) -> char {
        match self {
            Packet::Open(_) => '0',
            Packet::Close => '1',
            Packet::Ping(_) => '2',
            Packet::Pong(_) => '3',
            Packet::Message(_) => '4',
            Packet::Upgrade => '5',
            Packet::Noop => '6',
        }
    }

    fn data(&self) -> &str {
        match self {
            Packet::Open(d) | Packet::Ping(d) | Packet::Pong(d) | Packet::Message(d) => d,
            Packet::Close | Packet::Upgrade | Packet::Noop => "",
        }
    }

    /// Appends the wire form of this packet to `out`.
    pub fn encode_into(&self, out: &mut String) {
        out.push(self.type_char());
        out.push_str(self.data());
    }

    /// The wire form of this packet.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(1 + self.data().len());
        self.encode_into(&mut out);
        out
    }
}

/// Decodes one packet (one WebSocket text frame, or one element of a polling payload).
///
/// Like the reference parser, data after a type that carries none (`1`, `5`, `6`) is ignored.
pub fn decode(text: &str) -> Result<Packet<'_>, EngineIoError> {
    let mut chars = text.chars();
    let kind = chars.next().ok_or(EngineIoError::Empty)?;
    let data = chars.as_str();
    match kind {
        '0' => Ok(Packet::Open(data)),
        '1' => Ok(Packet::Close),
        '2' => Ok(Packet::Ping(data)),
        '3' => Ok(Packet::Pong(data)),
        '4' => Ok(Packet::Message(data)),
        '5' => Ok(Packet::Upgrade),
        '6' => Ok(Packet::Noop),
        'b' => Err(EngineIoError::BinaryUnsupported),
        other => Err(EngineIoError::UnknownType(other)),
    }
}

/// Splits a long-polling payload into its packets, decoding each.
pub fn decode_payload(payload: &str) -> impl Iterator<Item = Result<Packet<'_>, EngineIoError>> {
    payload.split(SEPARATOR).map(decode)
}

/// Appends `packet_text` (an already encoded packet) to a polling payload under construction.
pub fn push_to_payload(payload: &mut String, packet_text: &str) {
    if !payload.is_empty() {
        payload.push(SEPARATOR);
    }
    payload.push_str(packet_text);
}

/// The encoded `open` packet for a handshake.
pub fn encode_open(handshake: &Handshake<'_>) -> String {
    let mut out = String::from("0");
    // Serializing a struct of strings and integers into a String cannot fail.
    if let Ok(json) = serde_json::to_string(handshake) {
        out.push_str(&json);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_every_packet_type() {
        assert_eq!(decode("0{}"), Ok(Packet::Open("{}")));
        assert_eq!(decode("1"), Ok(Packet::Close));
        assert_eq!(decode("2"), Ok(Packet::Ping("")));
        assert_eq!(decode("2probe"), Ok(Packet::Ping("probe")));
        assert_eq!(decode("3probe"), Ok(Packet::Pong("probe")));
        assert_eq!(decode("4hello"), Ok(Packet::Message("hello")));
        assert_eq!(decode("5"), Ok(Packet::Upgrade));
        assert_eq!(decode("6"), Ok(Packet::Noop));
    }

    #[test]
    fn refuses_empty_unknown_and_binary() {
        assert_eq!(decode(""), Err(EngineIoError::Empty));
        assert_eq!(decode("abc"), Err(EngineIoError::UnknownType('a')));
        assert_eq!(decode("7"), Err(EngineIoError::UnknownType('7')));
        assert_eq!(decode("bAQIDBA=="), Err(EngineIoError::BinaryUnsupported));
    }

    #[test]
    fn splits_polling_payload_on_record_separator() {
        let packets: Vec<_> = decode_payload("4hello\u{1e}2\u{1e}4world").collect();
        assert_eq!(
            packets,
            vec![
                Ok(Packet::Message("hello")),
                Ok(Packet::Ping("")),
                Ok(Packet::Message("world"))
            ]
        );
        let with_binary: Vec<_> = decode_payload("4hello\u{1e}bAQIDBA==").collect();
        assert_eq!(with_binary[1], Err(EngineIoError::BinaryUnsupported));
    }

    #[test]
    fn multibyte_text_is_kept_intact() {
        assert_eq!(decode("4€ü"), Ok(Packet::Message("€ü")));
        assert_eq!(decode("€"), Err(EngineIoError::UnknownType('€')));
    }

    #[test]
    fn builds_payload_with_separators() {
        let mut payload = String::new();
        push_to_payload(&mut payload, "4a");
        push_to_payload(&mut payload, "2");
        assert_eq!(payload, "4a\u{1e}2");
    }

    #[test]
    fn encodes_open_handshake_like_the_reference_server() {
        let open = encode_open(&Handshake {
            sid: "abc",
            upgrades: &["websocket"],
            ping_interval: 25000,
            ping_timeout: 20000,
            max_payload: 1_000_000,
        });
        assert_eq!(
            open,
            r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        );
    }

    fn packet_strategy() -> impl Strategy<Value = (u8, String)> {
        (0u8..7, "[^\u{1e}]{0,40}")
    }

    fn build(kind: u8, data: &str) -> Packet<'_> {
        match kind {
            0 => Packet::Open(data),
            1 => Packet::Close,
            2 => Packet::Ping(data),
            3 => Packet::Pong(data),
            4 => Packet::Message(data),
            5 => Packet::Upgrade,
            _ => Packet::Noop,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn decode_never_panics(text in any::<String>()) {
            let _ = decode(&text);
            let _ = decode_payload(&text).count();
        }

        #[test]
        fn encode_then_decode_round_trips((kind, data) in packet_strategy()) {
            let packet = build(kind, &data);
            let wire = packet.encode();
            prop_assert_eq!(decode(&wire), Ok(packet));
        }

        #[test]
        fn payload_round_trips(items in proptest::collection::vec(packet_strategy(), 1..8)) {
            let packets: Vec<Packet<'_>> = items.iter().map(|(k, d)| build(*k, d)).collect();
            let mut payload = String::new();
            for packet in &packets {
                push_to_payload(&mut payload, &packet.encode());
            }
            let decoded: Vec<_> = decode_payload(&payload).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(decoded, packets);
        }
    }
}

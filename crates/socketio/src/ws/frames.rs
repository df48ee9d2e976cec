//! WebSocket framing on a bare stream: [`WebSocket`] sends frames and closes cleanly,
//! [`Reader`] decodes the client's frames into whole messages ([`Incoming`]), holding a
//! buffer only while a partial message is left and refusing oversized, unmasked or
//! non-UTF-8 input ([`ReadError`]).

use super::{CLOSE_FRAME_TIMEOUT, CLOSE_LINGER};
use crate::engine::CloseReason;
use crate::ws_io::{self, WsIo};
use actix_http::ws::{self as proto, CloseCode, Codec, Frame, Item, OpCode, Parser, ProtocolError};
use bytes::{Bytes, BytesMut};
use std::future::poll_fn;
use std::io;

/// One server-side WebSocket on a bare stream.
pub(super) struct WebSocket<S> {
    pub(super) io: S,
    pub(super) reader: Reader,
}

impl<S: WsIo> WebSocket<S> {
    pub(super) fn new(io: S, already_read: &[u8], max_payload: usize) -> Self {
        WebSocket {
            io,
            reader: Reader {
                buf: BytesMut::from(already_read),
                codec: Codec::new().max_size(max_payload),
                max_payload,
                fragments: None,
            },
        }
    }

    pub(super) async fn send(&mut self, op: OpCode, payload: &[u8]) -> io::Result<()> {
        let mut out = BytesMut::new();
        Parser::write_message(&mut out, payload, op, true, false);
        ws_io::write_all(&mut self.io, &out).await
    }

    pub(super) async fn send_text(&mut self, text: &str) -> io::Result<()> {
        self.send(OpCode::Text, text.as_bytes()).await
    }

    /// Sends a close frame, ends the write side, and reads what the client still sends (its
    /// close frame) for a moment, so it gets the close frame before the socket goes away.
    pub(super) async fn close(mut self, code: CloseCode, reason: &str) {
        let mut frame = BytesMut::new();
        let reason: proto::CloseReason = if reason.is_empty() {
            code.into()
        } else {
            (code, truncate(reason, 123)).into()
        };
        Parser::write_close(&mut frame, Some(reason), false);
        let written =
            tokio::time::timeout(CLOSE_FRAME_TIMEOUT, ws_io::write_all(&mut self.io, &frame)).await;
        if !matches!(written, Ok(Ok(()))) {
            return;
        }
        let io = &mut self.io;
        let _ = tokio::time::timeout(CLOSE_FRAME_TIMEOUT, poll_fn(|cx| io.poll_close(cx))).await;
        let mut sink = BytesMut::new();
        let _ = tokio::time::timeout(CLOSE_LINGER, async {
            loop {
                sink.clear();
                match poll_fn(|cx| io.poll_read_some(cx, &mut sink)).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub(super) fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A complete message from the client.
#[derive(Debug)]
pub(super) enum Incoming {
    Text(String),
    Binary,
    Ping(Bytes),
    Pong,
    Close,
}

impl ReadError {
    pub(super) fn close_reason(self) -> CloseReason {
        match self {
            ReadError::Closed => CloseReason::TransportClose,
            ReadError::TooLarge => CloseReason::PayloadTooLarge,
            ReadError::Io(err) => CloseReason::TransportError(err.to_string()),
            ReadError::Protocol(detail) => {
                CloseReason::BadInput(format!("WebSocket protocol error: {detail}"))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(super) enum ReadError {
    #[error("connection closed")]
    Closed,
    #[error("message larger than maxPayload")]
    TooLarge,
    #[error("{0}")]
    Io(io::Error),
    #[error("{0}")]
    Protocol(String),
}

/// The read half: received bytes not decoded yet, and a fragmented message being collected.
pub(super) struct Reader {
    /// Empty and unallocated between messages.
    pub(super) buf: BytesMut,
    codec: Codec,
    max_payload: usize,
    /// The fragments of a message so far: (is text, bytes).
    fragments: Option<(bool, BytesMut)>,
}

impl Reader {
    /// The next complete message. Cancel-safe: bytes read stay in the buffer.
    pub(super) async fn next<S: WsIo>(&mut self, io: &mut S) -> Result<Incoming, ReadError> {
        loop {
            if let Some(message) = self.decode()? {
                return Ok(message);
            }
            match poll_fn(|cx| io.poll_read_some(cx, &mut self.buf)).await {
                Ok(0) => return Err(ReadError::Closed),
                Ok(_) => {}
                Err(err) => return Err(ReadError::Io(err)),
            }
        }
    }

    /// Decodes buffered frames until a message is complete or more bytes are needed.
    pub(super) fn decode(&mut self) -> Result<Option<Incoming>, ReadError> {
        loop {
            if declared_length(&self.buf).is_some_and(|len| len > self.max_payload as u64) {
                return Err(ReadError::TooLarge);
            }
            let frame = match self.codec.decode_frame(&mut self.buf) {
                Ok(Some(frame)) => frame,
                Ok(None) => {
                    if self.buf.is_empty() {
                        // Release the buffer between messages.
                        self.buf = BytesMut::new();
                    }
                    return Ok(None);
                }
                Err(ProtocolError::Overflow) => return Err(ReadError::TooLarge),
                Err(err) => return Err(ReadError::Protocol(err.to_string())),
            };
            if self.buf.is_empty() {
                self.buf = BytesMut::new();
            }
            let message = match frame {
                Frame::Text(bytes) => Incoming::Text(utf8(bytes.to_vec())?),
                Frame::Binary(_) => Incoming::Binary,
                Frame::Ping(payload) => Incoming::Ping(payload),
                Frame::Pong(_) => Incoming::Pong,
                Frame::Close(_) => Incoming::Close,
                Frame::Continuation(item) => match self.fragment(item)? {
                    Some(message) => message,
                    None => continue,
                },
            };
            return Ok(Some(message));
        }
    }

    pub(super) fn fragment(&mut self, item: Item) -> Result<Option<Incoming>, ReadError> {
        let (text, bytes, last) = match item {
            Item::FirstText(bytes) => (Some(true), bytes, false),
            Item::FirstBinary(bytes) => (Some(false), bytes, false),
            Item::Continue(bytes) => (None, bytes, false),
            Item::Last(bytes) => (None, bytes, true),
        };
        let (is_text, collected) = match (text, self.fragments.as_mut()) {
            (Some(is_text), None) => self.fragments.insert((is_text, BytesMut::new())),
            (None, Some(fragments)) => fragments,
            // The codec refuses a continuation without a first frame, and a second first one.
            _ => return Err(ReadError::Protocol("unexpected continuation frame".into())),
        };
        if collected.len() + bytes.len() > self.max_payload {
            return Err(ReadError::TooLarge);
        }
        collected.extend_from_slice(&bytes);
        if !last {
            return Ok(None);
        }
        let is_text = *is_text;
        let (_, collected) = self.fragments.take().unwrap_or_default();
        Ok(Some(if is_text {
            Incoming::Text(utf8(collected.to_vec())?)
        } else {
            Incoming::Binary
        }))
    }
}

pub(super) fn utf8(bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes)
        .map_err(|_| ReadError::Protocol("text message is not valid UTF-8".into()))
}

/// The payload length announced by the frame header at the start of `buf`, once readable.
pub(super) fn declared_length(buf: &[u8]) -> Option<u64> {
    let short = buf.get(1)? & 0x7F;
    match short {
        126 => Some(u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?).into()),
        127 => Some(u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?)),
        len => Some(len.into()),
    }
}

/// `tokio_util::codec::Decoder::decode` on the codec, without importing the trait everywhere.
pub(super) trait DecodeFrame {
    fn decode_frame(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError>;
}

impl DecodeFrame for Codec {
    fn decode_frame(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        actix_codec::Decoder::decode(self, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(op: u8, payload: &[u8], fin: bool) -> Vec<u8> {
        let mut out = vec![if fin { 0x80 | op } else { op }];
        let mask = [1u8, 2, 3, 4];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xFFFF => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    fn reader(bytes: &[u8], max: usize) -> Reader {
        Reader {
            buf: BytesMut::from(bytes),
            codec: Codec::new().max_size(max),
            max_payload: max,
            fragments: None,
        }
    }

    #[test]
    fn decodes_text_and_releases_the_buffer() {
        let mut r = reader(&masked(1, b"42[\"a\"]", true), 1024);
        match r.decode() {
            Ok(Some(Incoming::Text(text))) => assert_eq!(text, "42[\"a\"]"),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.buf.capacity(), 0);
        assert!(matches!(r.decode(), Ok(None)));
    }

    #[test]
    fn collects_fragments_up_to_the_limit() {
        let mut bytes = masked(1, b"ab", false);
        bytes.extend(masked(0, b"cd", false));
        bytes.extend(masked(0, b"e", true));
        let mut r = reader(&bytes, 1024);
        match r.decode() {
            Ok(Some(Incoming::Text(text))) => assert_eq!(text, "abcde"),
            other => panic!("{other:?}"),
        }

        let mut bytes = masked(1, &[b'x'; 600], false);
        bytes.extend(masked(0, &[b'x'; 600], true));
        assert!(matches!(
            reader(&bytes, 1024).decode(),
            Err(ReadError::TooLarge)
        ));
    }

    #[test]
    fn an_oversized_frame_is_refused_from_its_header() {
        let frame = masked(1, &[b'x'; 2000], true);
        assert!(matches!(
            reader(&frame[..8], 1024).decode(),
            Err(ReadError::TooLarge)
        ));
    }

    #[test]
    fn partial_frames_wait_for_more_bytes() {
        let frame = masked(1, b"hello", true);
        let mut r = reader(&frame[..4], 1024);
        assert!(matches!(r.decode(), Ok(None)));
        r.buf.extend_from_slice(&frame[4..]);
        assert!(matches!(r.decode(), Ok(Some(Incoming::Text(t))) if t == "hello"));
    }

    #[test]
    fn unmasked_binary_and_bad_utf8_are_refused() {
        let mut unmasked = vec![0x81, 2];
        unmasked.extend_from_slice(b"hi");
        assert!(matches!(
            reader(&unmasked, 1024).decode(),
            Err(ReadError::Protocol(_))
        ));
        assert!(matches!(
            reader(&masked(2, b"\x01", true), 1024).decode(),
            Ok(Some(Incoming::Binary))
        ));
        assert!(matches!(
            reader(&masked(1, b"\xff\xfe", true), 1024).decode(),
            Err(ReadError::Protocol(_))
        ));
    }
}

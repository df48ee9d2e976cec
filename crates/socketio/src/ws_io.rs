//! The byte streams a WebSocket runs on: a bare TCP stream, or TLS over one (`[http.tls]`).
//! [`WsIo`] is what [`super::ws`] needs of them.
//!
//! On plain TCP a read waits for the socket to be readable before any buffer is allocated,
//! so an idle WebSocket holds none. Over TLS, rustls keeps its own record buffers per
//! connection; reads go through them, and the read buffer is released again when a read
//! finds nothing.

use actix_tls::accept::rustls_0_23::TlsStream;
use bytes::BytesMut;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Bytes asked from the stream per read.
const READ_CHUNK: usize = 4096;

/// A connected byte stream a WebSocket can be served on.
pub(crate) trait WsIo: AsyncRead + AsyncWrite + Unpin + 'static {
    /// Reads what the stream has into `buf`, growing it only now; `Ok(0)` at its end.
    fn poll_read_some(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>>;
    /// Writes some of `bytes`; `Ok(0)` when the stream takes no more.
    fn poll_write_some(&mut self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>>;
    /// Pushes what is buffered below the WebSocket (TLS records) to the socket.
    fn poll_flush_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// Ends the write side (after a TLS close_notify).
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// The TCP peer.
    fn peer_ip(&self) -> Option<IpAddr>;
}

/// Makes room for a read, unless enough is free already.
fn reserve(buf: &mut BytesMut) {
    if buf.capacity() - buf.len() < READ_CHUNK {
        buf.reserve(READ_CHUNK);
    }
}

/// Frees a buffer that holds nothing.
fn release_if_empty(buf: &mut BytesMut) {
    if buf.is_empty() {
        *buf = BytesMut::new();
    }
}

impl WsIo for TcpStream {
    fn poll_read_some(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.poll_read_ready(cx))?;
            reserve(buf);
            let read = self.try_read_buf(buf);
            release_if_empty(buf);
            match read {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }

    fn poll_write_some(&mut self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.poll_write_ready(cx))?;
            match self.try_write(bytes) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }

    fn poll_flush_out(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self).poll_shutdown(cx)
    }

    fn peer_ip(&self) -> Option<IpAddr> {
        self.peer_addr().ok().map(|a| a.ip())
    }
}

impl WsIo for TlsStream<TcpStream> {
    fn poll_read_some(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>> {
        reserve(buf);
        let read = tokio_util::io::poll_read_buf(Pin::new(self), cx, buf);
        release_if_empty(buf);
        read
    }

    fn poll_write_some(&mut self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(self).poll_write(cx, bytes)
    }

    fn poll_flush_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self).poll_flush(cx)
    }

    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self).poll_shutdown(cx)
    }

    fn peer_ip(&self) -> Option<IpAddr> {
        self.get_ref().0.peer_addr().ok().map(|a| a.ip())
    }
}

/// Writes all of `bytes` and flushes them.
pub(crate) async fn write_all<S: WsIo>(io: &mut S, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match std::future::poll_fn(|cx| io.poll_write_some(cx, bytes)).await? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => bytes = &bytes[n..],
        }
    }
    std::future::poll_fn(|cx| io.poll_flush_out(cx)).await
}

//! The handler futures of a connection: the set they run in, starting an `on_event` future
//! (panics caught and logged), and `on_disconnect` calls (panics caught too).

use super::{Completion, Member, PendingEvent};
use crate::namespace::{DisconnectReason, Namespace};
use crate::socket::{AckSender, Socket};
use futures_util::future::{BoxFuture, FutureExt};
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The handler futures running for a connection. The set (an allocation of its own) exists
/// only while one runs, so an idle connection holds none.
#[derive(Default)]
pub(super) struct Running(Option<FuturesUnordered<BoxFuture<'static, Completion>>>);

impl Running {
    pub(super) fn push(&mut self, future: BoxFuture<'static, Completion>) {
        self.0
            .get_or_insert_with(FuturesUnordered::new)
            .push(future);
    }

    /// The next completion; `None` when nothing runs.
    pub(super) fn next(&mut self) -> impl Future<Output = Option<Completion>> + '_ {
        std::future::poll_fn(move |cx| self.poll_next(cx))
    }

    pub(super) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Completion>> {
        let Some(set) = &mut self.0 else {
            return Poll::Ready(None);
        };
        let polled = set.poll_next_unpin(cx);
        if set.is_empty() {
            self.0 = None;
        }
        polled
    }
}

pub(super) fn start_event(running: &mut Running, member: &mut Member, event: PendingEvent) {
    member.busy = true;
    let socket = member.socket.clone();
    let ack = event.ack.map(|id| AckSender::new(socket.clone(), id));
    let name = event.event;
    // The call itself may panic before it returns its future: caught as the future's
    // panics are, so a WebSocket task running its connection (`ws::serve_here`) lives on.
    let handler = &member.handler;
    let args = event.args;
    let handling = std::panic::catch_unwind(AssertUnwindSafe(|| {
        handler.on_event(socket.clone(), name.clone(), args, ack)
    }));
    running.push(
        async move {
            let outcome = match handling {
                Ok(handling) => AssertUnwindSafe(handling).catch_unwind().await,
                Err(panic) => Err(panic),
            };
            if outcome.is_err() {
                tracing::error!(
                    sid = %socket.engine_id(),
                    socket = %socket.id(),
                    namespace = %socket.namespace(),
                    event = %name,
                    "socket.io: on_event panicked"
                );
            }
            Completion::Event {
                nsp: socket.namespace().to_owned(),
                socket_id: socket.id().to_owned(),
            }
        }
        .boxed(),
    );
}

pub(super) fn notify_disconnect(
    handler: &Arc<dyn Namespace>,
    socket: Socket,
    reason: DisconnectReason,
) {
    tracing::debug!(sid = %socket.engine_id(), socket = %socket.id(), namespace = %socket.namespace(), %reason, "socket.io: socket disconnected");
    let outcome =
        std::panic::catch_unwind(AssertUnwindSafe(|| handler.on_disconnect(socket, reason)));
    if outcome.is_err() {
        tracing::error!("socket.io: on_disconnect panicked");
    }
}

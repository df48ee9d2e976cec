//! The HTTP server that carries the Socket.IO endpoint: actix-web's `HttpServer` for the
//! subset the appliance uses, plus an HTTP/1.1 upgrade handler that takes WebSocket
//! connections to the Socket.IO path off actix-http.
//!
//! actix-web keeps a WebSocket inside its HTTP/1 dispatcher for the connection's whole life:
//! a task with the dispatcher state, two 8 KiB buffers, the request payload channel and a
//! response body stream, about 20 KiB per connection that an idle WebSocket never needs. With
//! an upgrade handler, actix-http hands the request and the TCP stream over instead, and the
//! dispatcher ends; [`super::ws`] then speaks WebSocket on the bare stream.

use super::server::SocketIo;
use actix_codec::Framed;
use actix_http::body::MessageBody;
use actix_http::{h1, HttpService, Request, Response};
use actix_service::{
    fn_service, map_config, IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt,
};
use actix_web::dev::{AppConfig, Server};
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;
use tokio::net::TcpStream;

/// Serves an actix-web application with a [`SocketIo`] endpoint mounted in it
/// ([`SocketIo::configure`]). WebSocket requests to the endpoint are answered here, outside
/// the application (its middleware does not see them); every other request goes to the
/// application as with actix-web's `HttpServer`. Signals are not handled: stop the server
/// through its handle.
pub struct HttpServer<F> {
    sio: SocketIo,
    factory: F,
    workers: usize,
    shutdown_timeout: u64,
    listeners: Vec<TcpListener>,
}

impl<F> HttpServer<F> {
    /// `factory` builds the application once per worker, as for actix-web's `HttpServer`.
    pub fn new(sio: SocketIo, factory: F) -> Self {
        HttpServer {
            sio,
            factory,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            shutdown_timeout: 30,
            listeners: Vec::new(),
        }
    }

    /// Worker threads (each runs its own connections).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Seconds a graceful stop waits for requests in flight.
    pub fn shutdown_timeout(mut self, secs: u64) -> Self {
        self.shutdown_timeout = secs;
        self
    }

    /// Listens on `addr` (port 0 picks a free port; see [`HttpServer::addrs`]).
    pub fn bind(mut self, addr: SocketAddr) -> std::io::Result<Self> {
        use socket2::{Domain, Protocol, Socket, Type};
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(1024)?;
        self.listeners.push(socket.into());
        Ok(self)
    }

    /// The addresses listened on.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Starts the workers. Panics when nothing was bound.
    pub fn run<I, S, B>(self) -> std::io::Result<Server>
    where
        F: Fn() -> I + Send + Clone + 'static,
        I: IntoServiceFactory<S, Request>,
        S: ServiceFactory<Request, Config = AppConfig> + 'static,
        S::Error: Into<actix_web::Error> + 'static,
        S::InitError: fmt::Debug,
        S::Response: Into<Response<B>> + 'static,
        <S::Service as Service<Request>>::Future: 'static,
        S::Service: 'static,
        B: MessageBody + 'static,
    {
        let mut builder = Server::build()
            .workers(self.workers)
            .disable_signals()
            .shutdown_timeout(self.shutdown_timeout);
        for listener in self.listeners {
            let addr = listener.local_addr().ok();
            let name = format!(
                "switchboard-http-{}",
                addr.map_or(String::new(), |a| a.to_string())
            );
            let graceful = builder.graceful_shutdown_signal();
            let factory = self.factory.clone();
            let sio = self.sio.clone();
            builder = builder.listen(name, listener, move || {
                let graceful = graceful.clone();
                let sio = sio.clone();
                let app = factory()
                    .into_factory()
                    .map_err(|err| Into::<actix_web::Error>::into(err).error_response());
                let mut service = HttpService::build()
                    .graceful_shutdown_signal(move || {
                        let signal = graceful.clone();
                        async move { signal.notified().await }
                    })
                    // actix-web's HttpServer defaults.
                    .keep_alive(Duration::from_secs(5))
                    .client_request_timeout(Duration::from_secs(5))
                    .client_disconnect_timeout(Duration::from_secs(1))
                    // Socket.IO sends many small frames (events, acks); with Nagle's
                    // algorithm each waits for the peer's delayed ACK (up to 40 ms).
                    .tcp_nodelay(true);
                if let Some(addr) = addr {
                    service = service.local_addr(addr);
                }
                service
                    .upgrade(fn_service(
                        move |(req, framed): (Request, Framed<TcpStream, h1::Codec>)| {
                            let sio = sio.clone();
                            async move {
                                sio.serve_upgrade(req, framed).await;
                                Ok::<_, actix_web::Error>(())
                            }
                        },
                    ))
                    .finish(map_config(app, |_| AppConfig::default()))
                    .tcp()
            })?;
        }
        Ok(builder.run())
    }
}

//! The HTTP server that carries the Socket.IO endpoint: actix-web's `HttpServer` for the
//! subset the appliance uses, plus an HTTP/1.1 upgrade handler that takes WebSocket
//! connections to the Socket.IO path off actix-http.
//!
//! actix-web keeps a WebSocket inside its HTTP/1 dispatcher for the connection's whole life:
//! a task with the dispatcher state, two 8 KiB buffers, the request payload channel and a
//! response body stream, about 20 KiB per connection that an idle WebSocket never needs. With
//! an upgrade handler, actix-http hands the request and the TCP stream over instead, and the
//! dispatcher ends; [`super::ws`] then speaks WebSocket on the bare stream.
//!
//! With a rustls configuration ([`HttpServer::tls`]) every listener speaks HTTPS, and the
//! upgrade hands over the TLS stream instead ([`super::ws_io`]). Optional plain-HTTP listeners
//! ([`HttpServer::bind_redirect`]) answer every request with a redirect to HTTPS.

use super::server::SocketIo;
use super::ws_io::WsIo;
use actix_codec::Framed;
use actix_http::body::{BoxBody, MessageBody};
use actix_http::{h1, HttpService, Request, Response};
use actix_server::GracefulShutdownSignal;
use actix_service::boxed::BoxServiceFactory;
use actix_service::{
    fn_service, map_config, IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt,
};
use actix_tls::accept::rustls_0_23::TlsStream;
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
    client_request_timeout: Duration,
    keep_alive: Duration,
    listeners: Vec<TcpListener>,
    tls: Option<rustls::ServerConfig>,
    /// Plain-HTTP listeners, and the HTTPS port they redirect to.
    redirects: Vec<(TcpListener, u16)>,
}

/// The upgrade handler's type, boxed so that it can be named.
type Upgrade<T> = BoxServiceFactory<(), (Request, Framed<T, h1::Codec>), (), actix_web::Error, ()>;

impl<F> HttpServer<F> {
    /// `factory` builds the application once per worker, as for actix-web's `HttpServer`.
    pub fn new(sio: SocketIo, factory: F) -> Self {
        HttpServer {
            sio,
            factory,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            shutdown_timeout: 30,
            // actix-web's HttpServer defaults.
            client_request_timeout: Duration::from_secs(5),
            keep_alive: Duration::from_secs(5),
            listeners: Vec::new(),
            tls: None,
            redirects: Vec::new(),
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

    /// Serves HTTPS (and WSS) with this rustls configuration on every [`HttpServer::bind`]
    /// address.
    pub fn tls(mut self, config: rustls::ServerConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// How long a new connection has to send its first request head (408 and closed
    /// after; a connection that never sends a byte is closed too). Zero: no limit.
    pub fn client_request_timeout(mut self, timeout: Duration) -> Self {
        self.client_request_timeout = timeout;
        self
    }

    /// How long an idle keep-alive connection stays open between requests.
    pub fn keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Listens on `addr` (port 0 picks a free port; see [`HttpServer::addrs`]).
    pub fn bind(mut self, addr: SocketAddr) -> std::io::Result<Self> {
        self.listeners.push(listen(addr)?);
        Ok(self)
    }

    /// Listens on `addr` for plain HTTP and redirects every request to HTTPS on `https_port`.
    pub fn bind_redirect(mut self, addr: SocketAddr, https_port: u16) -> std::io::Result<Self> {
        self.redirects.push((listen(addr)?, https_port));
        Ok(self)
    }

    /// The addresses listened on.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// The plain-HTTP redirect addresses listened on.
    pub fn redirect_addrs(&self) -> Vec<SocketAddr> {
        self.redirects
            .iter()
            .filter_map(|(l, _)| l.local_addr().ok())
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
            let app = move || {
                let app = factory()
                    .into_factory()
                    .map_err(|err| Into::<actix_web::Error>::into(err).error_response());
                map_config(app, |_| AppConfig::default())
            };
            let timeouts = Timeouts {
                client_request: self.client_request_timeout,
                keep_alive: self.keep_alive,
            };
            builder = match self.tls.clone() {
                None => builder.listen(name, listener, move || {
                    http_service::<TcpStream, _, _>(&sio, &graceful, addr, timeouts, app()).tcp()
                })?,
                Some(tls) => builder.listen(name, listener, move || {
                    http_service::<TlsStream<TcpStream>, _, _>(
                        &sio,
                        &graceful,
                        addr,
                        timeouts,
                        app(),
                    )
                    .rustls_0_23(tls.clone())
                })?,
            };
        }
        for (listener, https_port) in self.redirects {
            let name = format!("switchboard-redirect-{https_port}");
            let (client_request, keep_alive) = (self.client_request_timeout, self.keep_alive);
            builder = builder.listen(name, listener, move || {
                HttpService::build()
                    .keep_alive(keep_alive)
                    .client_request_timeout(client_request)
                    .finish(fn_service(move |req: Request| async move {
                        Ok::<_, actix_http::Error>(crate::redirect::respond(&req, https_port))
                    }))
                    .tcp()
            })?;
        }
        Ok(builder.run())
    }
}

/// How long a connection may take to send its first request head, and stay idle between
/// requests.
#[derive(Clone, Copy)]
struct Timeouts {
    client_request: Duration,
    keep_alive: Duration,
}

/// A bound, listening TCP socket.
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// actix-http's service for one connection over stream `T`: the application, and WebSocket
/// upgrades handed to `sio`.
fn http_service<T, S, B>(
    sio: &SocketIo,
    graceful: &GracefulShutdownSignal,
    addr: Option<SocketAddr>,
    timeouts: Timeouts,
    app: S,
) -> HttpService<T, S, B, h1::ExpectHandler, Upgrade<T>>
where
    T: WsIo,
    S: ServiceFactory<Request, Config = ()>,
    S::Error: Into<Response<BoxBody>> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    B: MessageBody + 'static,
{
    let graceful = graceful.clone();
    let sio = sio.clone();
    let mut service = HttpService::build()
        .graceful_shutdown_signal(move || {
            let signal = graceful.clone();
            async move { signal.notified().await }
        })
        .keep_alive(timeouts.keep_alive)
        .client_request_timeout(timeouts.client_request)
        .client_disconnect_timeout(Duration::from_secs(1))
        // Socket.IO sends many small frames (events, acks); with Nagle's
        // algorithm each waits for the peer's delayed ACK (up to 40 ms).
        .tcp_nodelay(true);
    if let Some(addr) = addr {
        service = service.local_addr(addr);
    }
    let upgrade = fn_service(move |(req, framed): (Request, Framed<T, h1::Codec>)| {
        let sio = sio.clone();
        async move {
            sio.serve_upgrade(req, framed).await;
            Ok::<_, actix_web::Error>(())
        }
    });
    service
        .upgrade(actix_service::boxed::factory(upgrade))
        .finish(app)
}

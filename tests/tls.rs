//! HTTPS as an operator runs it: the binary with `[http.tls]` serves HTTPS and WSS with a
//! certificate made here (rcgen), SIGHUP swaps the certificate for new connections while an
//! open HTTPS connection and an open WebSocket keep working, a bad certificate on reload keeps
//! the old one, and the plain-HTTP redirect port answers 308 to https.

use crate::common;

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

/// A self-signed certificate for localhost and 127.0.0.1, written as PEM over `cert`/`key`.
fn write_cert(cert: &Path, key: &Path) -> CertificateDer<'static> {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("certificate");
    std::fs::write(cert, made.cert.pem()).unwrap();
    std::fs::write(key, made.key_pair.serialize_pem()).unwrap();
    made.cert.der().clone()
}

struct Server {
    child: Child,
    addr: SocketAddr,
    redirect: SocketAddr,
    /// Log lines from the server's stderr.
    log: mpsc::UnboundedReceiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &Path, cert: &Path, key: &Path) -> Server {
        let config = dir.join("switchboard.toml");
        std::fs::write(
            &config,
            format!(
                "[http.tls]\ncert = {:?}\nkey = {:?}\nredirect_listen = \"127.0.0.1:0\"\n",
                cert, key
            ),
        )
        .unwrap();
        let mut child = Command::new(common::binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .env("SWITCHBOARD_LOG__LEVEL", "info")
            .env("SWITCHBOARD_LOG__FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn switchboard");
        let (tx, log) = mpsc::unbounded_channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on https://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        line.clear();
        stdout.read_line(&mut line).unwrap();
        let redirect = line
            .trim()
            .strip_prefix("redirecting http://")
            .and_then(|rest| rest.strip_suffix(" to https"))
            .unwrap_or_else(|| panic!("unexpected second line {line:?}"))
            .parse()
            .unwrap();
        Server {
            child,
            addr,
            redirect,
            log,
        }
    }

    /// Sends SIGHUP and waits for the server to log the outcome of the reload.
    async fn hangup(&mut self) -> String {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success());
        tokio::time::timeout(WAIT, async {
            while let Some(line) = self.log.recv().await {
                if line.contains("SIGHUP") {
                    return line;
                }
            }
            panic!("the server's log ended");
        })
        .await
        .expect("a SIGHUP log line")
    }
}

/// Opens TLS to the server, trusting exactly `roots`.
async fn connect(
    addr: SocketAddr,
    roots: &[CertificateDer<'static>],
) -> std::io::Result<TlsStream<TcpStream>> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

/// The certificate the server presented on `tls`.
fn presented(tls: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    tls.get_ref().1.peer_certificates().expect("a certificate")[0].clone()
}

/// One keep-alive GET; returns the status line and the body.
async fn get(tls: &mut TlsStream<TcpStream>, path: &str) -> (String, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(WAIT, tls.read(&mut chunk))
            .await
            .expect("a response")
            .unwrap();
        assert!(n > 0, "connection closed");
        response.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&response).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                let status = head.lines().next().unwrap().to_string();
                return (status, body.to_string());
            }
        }
    }
}

#[test]
fn https_and_wss_serve_and_sighup_swaps_the_certificate_without_dropping_connections() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("server.crt"), dir.path().join("server.key"));
    let first = write_cert(&cert, &key);
    let mut server = Server::start(dir.path(), &cert, &key);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // HTTPS, kept alive across the reload.
        let mut https = connect(server.addr, std::slice::from_ref(&first))
            .await
            .expect("TLS with the first certificate");
        assert_eq!(presented(&https), first);
        let (status, body) = get(&mut https, "/healthz").await;
        assert!(status.contains(" 200 "), "{status} {body}");

        // WSS: the Engine.IO handshake over TLS.
        let tls = connect(server.addr, std::slice::from_ref(&first))
            .await
            .unwrap();
        let url = format!(
            "wss://localhost:{}/socket.io/?EIO=4&transport=websocket",
            server.addr.port()
        );
        let (mut ws, _) = tokio_tungstenite::client_async(url, tls)
            .await
            .expect("WebSocket over TLS");
        let open = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(&open, Ok(Message::Text(t)) if t.starts_with("0{")),
            "{open:?}"
        );

        // A new certificate in the same files, then SIGHUP.
        let second = write_cert(&cert, &key);
        let line = server.hangup().await;
        assert!(line.contains("TLS certificate reloaded"), "{line}");
        let fresh = connect(server.addr, &[first.clone(), second.clone()])
            .await
            .unwrap();
        assert_eq!(presented(&fresh), second, "new connections get the new one");
        assert!(
            connect(server.addr, std::slice::from_ref(&first))
                .await
                .is_err(),
            "the old certificate is no longer served"
        );

        // The connections opened before the reload still work both ways.
        let (status, _) = get(&mut https, "/healthz").await;
        assert!(status.contains(" 200 "), "{status}");
        ws.send(Message::Ping(b"still there".to_vec()))
            .await
            .unwrap();
        let pong = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(&pong, Ok(Message::Pong(p)) if &p[..] == b"still there"),
            "{pong:?}"
        );
        ws.send(Message::Text("40".into())).await.unwrap();
        let reply = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(&reply, Ok(Message::Text(t)) if t.starts_with("4")),
            "the namespace answers on the old WebSocket: {reply:?}"
        );

        // A broken certificate file on reload: refused, the second certificate stays.
        std::fs::write(&cert, "not a certificate").unwrap();
        let line = server.hangup().await;
        assert!(line.contains("not reloaded"), "{line}");
        assert!(line.contains("tls_certificate"), "{line}");
        let after = connect(server.addr, std::slice::from_ref(&second))
            .await
            .expect("still served");
        assert_eq!(presented(&after), second);

        // The plain-HTTP port redirects to the HTTPS one.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = client
            .get(format!("http://{}/desk/?x=1", server.redirect))
            .header("host", format!("localhost:{}", server.redirect.port()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 308);
        assert_eq!(
            resp.headers()["location"],
            format!("https://localhost:{}/desk/?x=1", server.addr.port()).as_str()
        );
    });
}

#[test]
fn a_bad_certificate_stops_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("server.crt"), dir.path().join("server.key"));
    write_cert(&cert, &key);
    let (other_cert, other_key) = (dir.path().join("b.crt"), dir.path().join("b.key"));
    write_cert(&other_cert, &other_key);
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!("[http.tls]\ncert = {cert:?}\nkey = {other_key:?}\n"),
    )
    .unwrap();
    let out = Command::new(common::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not belong to the certificate"), "{err}");
    assert!(err.contains("b.key"), "{err}");
}

//! The top of the emulator's stack: the listening socket, the accept loop, TLS, and the
//! per-connection limits (connections at once, header and TLS handshake timeouts, head
//! size, the kernel send buffer and the write timeout for a client that does not read its
//! responses, and a total deadline per connection). Each request is handed to `routes`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Semaphore, watch};

use super::routes;
use super::state::{Limits, Shared};
use crate::error::Input;
use crate::{Error, Result, SecretBytes};

/// A TLS server identity: certificate chain (leaf first, DER) and the private key
/// (PKCS#8 DER).
#[derive(Clone, Debug)]
pub struct TlsIdentity {
    /// Certificates, leaf first, DER.
    pub cert_chain: Vec<Vec<u8>>,
    /// The leaf's private key, unencrypted PKCS#8 DER.
    pub key_pkcs8: SecretBytes,
}

pub(crate) fn tls_acceptor(id: &TlsIdentity) -> Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    if id.cert_chain.is_empty() {
        return Err(Error::invalid(
            Input::TlsCertificate,
            "no certificate given",
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = id
        .cert_chain
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_pkcs8.expose().to_vec()));
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::internal)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::invalid(Input::TlsCertificateAndKey, e))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

/// Bind the listening socket: `SO_REUSEADDR` as std sets it, a kernel send buffer of
/// `limits.send_buffer` bytes that every accepted connection inherits, and a backlog as
/// long as `limits.max_connections` (at least 128) so a burst of connections waits there
/// instead of having its SYNs dropped. Must run inside the runtime (the listener registers
/// with its reactor).
///
/// The send buffer bounds what a client that never reads can make the server hold: without
/// it Linux grows a connection's buffer to `tcp_wmem`'s maximum (4 MiB by default), so
/// 1,024 such clients could pin 4 GiB of kernel memory, and a client had to leave about
/// 4 MiB of responses unread before the write stalled and the write timeout applied.
pub(crate) fn listen(
    addr: SocketAddr,
    limits: &Limits,
) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    if limits.send_buffer > 0 {
        socket.set_send_buffer_size(u32::try_from(limits.send_buffer).unwrap_or(u32::MAX))?;
    }
    socket.bind(addr)?;
    let backlog = limits.max_connections.clamp(128, 4096);
    socket.listen(u32::try_from(backlog).unwrap_or(128))
}

/// Accept and serve until `stop` turns true, then give open connections two seconds.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let max = shared.limits.max_connections.clamp(1, 1 << 20);
    let sem = Arc::new(Semaphore::new(max));
    let builder = conn_builder(&shared.limits);
    loop {
        if *stop.borrow() {
            break;
        }
        let permit = tokio::select! {
            _ = stop.changed() => break,
            p = sem.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (tcp, _peer) = tokio::select! {
            _ = stop.changed() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    shared.log(|| format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let builder = builder.clone();
        let tls = tls.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                Some(acceptor) => {
                    let hs = shared.limits.tls_handshake_timeout;
                    match tokio::time::timeout(hs, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let io = WriteTimeout::new(stream, shared.limits.write_timeout);
                            serve_conn(&builder, TokioIo::new(io), shared, stop).await
                        }
                        Ok(Err(e)) => shared.log(|| format!("- - TLS handshake failed: {e}")),
                        Err(_) => shared.log(|| "- - TLS handshake timed out".into()),
                    }
                }
                None => {
                    let io = WriteTimeout::new(tcp, shared.limits.write_timeout);
                    serve_conn(&builder, TokioIo::new(io), shared, stop).await
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(
        Duration::from_secs(3),
        sem.acquire_many(u32::try_from(max).unwrap_or(u32::MAX)),
    )
    .await;
}

/// The HTTP/1.1 connection settings every connection is served with.
pub(crate) fn conn_builder(limits: &Limits) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.max_header.max(1024))
        .max_buf_size(limits.max_header.max(8192))
        .keep_alive(true);
    builder
}

/// A stream whose writes fail with `TimedOut` when the peer has not taken the bytes within
/// `timeout` (a client that never reads its responses), so the connection is closed.
pub(crate) struct WriteTimeout<I> {
    inner: I,
    timeout: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<I> WriteTimeout<I> {
    pub(crate) fn new(inner: I, timeout: Duration) -> Self {
        WriteTimeout {
            inner,
            timeout,
            sleep: None,
        }
    }

    fn stalled(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Error> {
        let timeout = self.timeout;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client did not take the response in time",
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for WriteTimeout<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(r) => {
                self.sleep = None;
                Poll::Ready(r)
            }
            Poll::Pending => self.stalled(cx).map(Err),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Ready(r) => {
                self.sleep = None;
                Poll::Ready(r)
            }
            Poll::Pending => self.stalled(cx).map(Err),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                self.sleep = None;
                Poll::Ready(r)
            }
            Poll::Pending => self.stalled(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Serve one connection until the client closes it, it breaks the protocol or times out
/// (head, body, write, or the connection's total deadline), or `stop` turns true.
pub(crate) async fn serve_conn<I>(
    builder: &http1::Builder,
    io: TokioIo<I>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let sh = shared.clone();
    let deadline = tokio::time::sleep(shared.limits.connection_deadline);
    tokio::pin!(deadline);
    let svc = service_fn(move |req| {
        let sh = sh.clone();
        async move { Ok::<_, Infallible>(routes::handle(&sh, req).await) }
    });
    let conn = builder.serve_connection(io, svc);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = &mut deadline => {
            shared.log(|| "- - connection deadline reached: closed".into());
            return;
        }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            tokio::time::timeout(Duration::from_secs(2), conn.as_mut()).await.unwrap_or(Ok(()))
        }
    };
    if let Err(e) = result {
        // hyper has already answered parse errors (400, 431) and closed the connection.
        let what = if e.is_parse_too_large() {
            "431 request head too large"
        } else if e.is_parse() {
            "400 malformed request"
        } else if e.is_timeout() {
            "408 request head timed out"
        } else if e.is_incomplete_message() {
            "- connection closed mid-request"
        } else {
            "- connection error"
        };
        shared.log(|| format!("- - {what}"));
    }
}

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

/// Which of the emulator's listeners a connection came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listener {
    /// The org (My Domain): everything.
    Org,
    /// The login host (`ServerOptions::login_listen`): the token endpoint only.
    Login,
}

/// Accept and serve until `stop` turns true, then give open connections two seconds.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    which: Listener,
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
        let sem = sem.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                Some(acceptor) => {
                    let hs = shared.limits.tls_handshake_timeout;
                    match tokio::time::timeout(hs, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let io = WriteTimeout::new(stream, shared.limits.write_timeout)
                                .under_pressure(sem, shared.limits.pressure_write_timeout);
                            serve_conn(&builder, TokioIo::new(io), shared, stop, which).await
                        }
                        Ok(Err(e)) => shared.log(|| format!("- - TLS handshake failed: {e}")),
                        Err(_) => shared.log(|| "- - TLS handshake timed out".into()),
                    }
                }
                None => {
                    let io = WriteTimeout::new(tcp, shared.limits.write_timeout)
                        .under_pressure(sem, shared.limits.pressure_write_timeout);
                    serve_conn(&builder, TokioIo::new(io), shared, stop, which).await
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
/// `timeout` (a client that never reads its responses), so the connection is closed; with
/// [`WriteTimeout::under_pressure`], within a shorter time while every connection permit
/// is taken, so that stalled clients give their places to waiting ones.
pub(crate) struct WriteTimeout<I> {
    inner: I,
    timeout: Duration,
    pressure: Option<(Arc<Semaphore>, Duration)>,
    /// When the current stall began (the first write that could not proceed).
    since: Option<tokio::time::Instant>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<I> WriteTimeout<I> {
    pub(crate) fn new(inner: I, timeout: Duration) -> Self {
        WriteTimeout {
            inner,
            timeout,
            pressure: None,
            since: None,
            sleep: None,
        }
    }

    /// Stall for at most `timeout` while `permits` has none left.
    pub(crate) fn under_pressure(mut self, permits: Arc<Semaphore>, timeout: Duration) -> Self {
        self.pressure = Some((permits, timeout.min(self.timeout)));
        self
    }

    fn progressed(&mut self) {
        self.since = None;
        self.sleep = None;
    }

    fn stalled(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Error> {
        let now = tokio::time::Instant::now();
        let since = *self.since.get_or_insert(now);
        let stalled_for = now.saturating_duration_since(since);
        let timed_out = || {
            Poll::Ready(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client did not take the response in time",
            ))
        };
        if stalled_for >= self.timeout {
            return timed_out();
        }
        // The next time to look again: the timeout, and, when a pressure timeout is set,
        // every pressure period (whether permits run out is checked then).
        let mut wake = since + self.timeout;
        if let Some((permits, short)) = &self.pressure {
            if stalled_for >= *short && permits.available_permits() == 0 {
                return timed_out();
            }
            // The next whole pressure period of this stall (not `now + short`: a spurious
            // poll would push the look back each time).
            let periods = stalled_for.as_nanos() / short.as_nanos().max(1) + 1;
            let next = u32::try_from(periods)
                .ok()
                .and_then(|k| short.checked_mul(k))
                .map_or(wake, |d| since + d);
            wake = wake.min(next);
        }
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(wake)));
        if sleep.deadline() != wake {
            sleep.as_mut().reset(wake);
        }
        match sleep.as_mut().poll(cx) {
            // Woken: look again at once (the timeout, or the pressure).
            Poll::Ready(()) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
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
                self.progressed();
                Poll::Ready(r)
            }
            Poll::Pending => self.stalled(cx).map(Err),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Ready(r) => {
                self.progressed();
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
                self.progressed();
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
    which: Listener,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let sh = shared.clone();
    let deadline = tokio::time::sleep(shared.limits.connection_deadline);
    tokio::pin!(deadline);
    let svc = service_fn(move |req| {
        let sh = sh.clone();
        async move { Ok::<_, Infallible>(routes::handle(&sh, req, which).await) }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// What a write to a client that never reads ends with: `TimedOut`, or nothing yet
    /// when `within` (virtual time; the clock is paused and jumps to the next timer) runs
    /// out first.
    async fn stall(permits: usize, within: Duration) -> Option<std::io::ErrorKind> {
        let (_client, server) = tokio::io::duplex(64);
        let sem = Arc::new(Semaphore::new(permits));
        let mut io = WriteTimeout::new(server, Duration::from_secs(2))
            .under_pressure(sem, Duration::from_millis(500));
        let write = async { io.write_all(&[0u8; 4096]).await };
        match tokio::time::timeout(within, write).await {
            Ok(r) => r.err().map(|e| e.kind()),
            Err(_) => None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_write_times_out_after_the_write_timeout() {
        assert_eq!(stall(1, Duration::from_millis(1900)).await, None);
        assert_eq!(
            stall(1, Duration::from_millis(2100)).await,
            Some(std::io::ErrorKind::TimedOut)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn under_pressure_a_stalled_write_gives_up_its_place_sooner() {
        assert_eq!(stall(0, Duration::from_millis(400)).await, None);
        assert_eq!(
            stall(0, Duration::from_millis(600)).await,
            Some(std::io::ErrorKind::TimedOut)
        );
    }

    /// Permits that run out while a write is stalled are noticed at the next look.
    #[tokio::test(start_paused = true)]
    async fn pressure_that_arrives_during_a_stall_is_noticed() {
        let (_client, server) = tokio::io::duplex(64);
        let sem = Arc::new(Semaphore::new(1));
        let mut io = WriteTimeout::new(server, Duration::from_secs(2))
            .under_pressure(sem.clone(), Duration::from_millis(500));
        let taken = async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            sem.acquire().await.unwrap()
        };
        let write = async { io.write_all(&[0u8; 4096]).await };
        let started = tokio::time::Instant::now();
        let (r, _permit) = tokio::join!(write, taken);
        assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
        // Not at the 2 s write timeout: at the first look after the pressure began.
        let after = started.elapsed();
        assert!(after < Duration::from_millis(1100), "{after:?}");
    }

    /// A write that progresses starts its stall clock again.
    #[tokio::test(start_paused = true)]
    async fn progress_resets_the_stall() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut io = WriteTimeout::new(server, Duration::from_secs(2));
        let reader = async {
            let mut buf = [0u8; 64];
            for _ in 0..16 {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                tokio::io::AsyncReadExt::read(&mut client, &mut buf)
                    .await
                    .unwrap();
            }
        };
        let write = async { io.write_all(&[0u8; 1024]).await };
        let (r, ()) = tokio::join!(write, reader);
        r.unwrap();
    }
}

//! HTTP connections served by shards: one OS thread per core, each with its
//! own single-threaded runtime, each connection pinned to one shard for its
//! life.
//!
//! Why not tokio's work-stealing runtime: a query takes microseconds, so
//! what a request costs is mostly wake-ups. With work stealing, a worker
//! that wakes on a readiness event wakes a second worker to share it
//! (a futex call and a cross-core wake-up per request), and the connection
//! wanders between cores. With one connection per shard, the socket, its
//! buffers and the thread stay together on one core, and nothing crosses
//! threads on the request path. Measured with two keep-alive connections on
//! two cores (README, "Query API"): bbox throughput nearly doubled and no
//! longer depends on where the kernel happens to place the threads.
//!
//! The cost: a connection never moves, so one long CPU-bound request (a large
//! `intersects`) delays the other connections of its shard rather than
//! being stolen by an idle core. The acceptor gives each new connection to
//! the shard with the fewest open ones, which keeps that rare.
//!
//! At `--max-connections` open connections the acceptor stops accepting;
//! new ones wait in the kernel's listen backlog until one closes.
//!
//! With `--tls-cert`, a shard does the TLS handshake of its connections
//! too (bounded by [`HANDSHAKE_TIMEOUT`]) and serves HTTP/2 or HTTP/1.1,
//! whichever ALPN chose; plain connections are HTTP/1.1 only.
//!
//! Blocking work (store reads, file reads) still goes through
//! `spawn_blocking`, whose pool each shard runtime has (bounded per shard);
//! the job engine and the acceptor run on the main runtime.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// How long a client gets to complete the TLS handshake: one that stalls
/// must not hold a connection slot for ever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Blocking threads per shard (store calls, file reads of downloads).
const BLOCKING_THREADS_PER_SHARD: usize = 64;

pub struct ShardLimits {
    pub shards: usize,
    /// Connections open at once, across shards.
    pub max_connections: usize,
    /// How long open connections get to finish their requests after the
    /// shutdown signal before the shard stops anyway (`--shutdown-timeout`).
    pub shutdown_timeout: Duration,
    /// Serve HTTPS with this acceptor (its certificate reloads in place).
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

/// An accepted connection and its place under the connection limit, held
/// until the connection ends.
type Accepted = (std::net::TcpStream, OwnedSemaphorePermit);

struct Shard {
    connections: mpsc::UnboundedSender<Accepted>,
    open: Arc<AtomicUsize>,
    thread: std::thread::JoinHandle<()>,
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open
/// requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ShardLimits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_sender, stop) = watch::channel(());
    let shards = (0..limits.shards.max(1))
        .map(|index| start_shard(index, app.clone(), stop.clone(), &limits))
        .collect::<std::io::Result<Vec<_>>>()?;
    let connection_slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        // At the limit, stop accepting: new connections wait in the
        // kernel's backlog, and nothing here grows.
        let slot = tokio::select! {
            slot = Arc::clone(&connection_slots).acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: keep serving the
            // connections we have and try again shortly.
            Err(error) => {
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(stream) = stream.into_std() else { continue };
        let shard = shards.iter().min_by_key(|shard| shard.open.load(Ordering::Relaxed)).expect("at least one shard");
        shard.open.fetch_add(1, Ordering::Relaxed);
        if shard.connections.send((stream, slot)).is_err() {
            shard.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
    drop(listener);
    let _ = stop_sender.send(());
    let threads: Vec<_> = shards
        .into_iter()
        .map(|shard| {
            drop(shard.connections);
            shard.thread
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        for thread in threads {
            let _ = thread.join();
        }
    })
    .await
    .map_err(std::io::Error::other)
}

fn start_shard(index: usize, app: Router, stop: watch::Receiver<()>, limits: &ShardLimits) -> std::io::Result<Shard> {
    let (grace, tls) = (limits.shutdown_timeout, limits.tls.clone());
    let (connections, mut incoming) = mpsc::unbounded_channel::<Accepted>();
    let open = Arc::new(AtomicUsize::new(0));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(BLOCKING_THREADS_PER_SHARD)
        .enable_all()
        .build()?;
    let shard_open = Arc::clone(&open);
    let thread = std::thread::Builder::new().name(format!("sds-http-{index}")).spawn(move || {
        runtime.block_on(async move {
            while let Some((stream, slot)) = incoming.recv().await {
                let open = Arc::clone(&shard_open);
                let app = app.clone();
                let stop = stop.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    if let Err(error) = serve_connection(stream, app, stop, tls).await {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    open.fetch_sub(1, Ordering::Relaxed);
                    drop(slot);
                });
            }
            // The acceptor is gone: wait for open connections to finish.
            let deadline = tokio::time::Instant::now() + grace;
            while shard_open.load(Ordering::Relaxed) > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let left = shard_open.load(Ordering::Relaxed);
            if left > 0 {
                tracing::warn!(connections = left, "shutdown timeout: closing connections with requests in flight");
            }
        });
    })?;
    Ok(Shard { connections, open, thread })
}

type ConnectionError = Box<dyn std::error::Error + Send + Sync>;

async fn serve_connection(
    stream: std::net::TcpStream,
    app: Router,
    mut stop: watch::Receiver<()>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Result<(), ConnectionError> {
    let Ok(stream) = tokio::net::TcpStream::from_std(stream) else { return Ok(()) };
    let service = TowerToHyperService::new(app.map_request(|request: Request<Incoming>| request.map(Body::new)));
    let Some(acceptor) = tls else {
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(stream), service);
        tokio::pin!(connection);
        return Ok(tokio::select! {
            result = connection.as_mut() => result,
            // Stop: the one change ever sent (a dropped sender means it too).
            _ = stop.changed() => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        }?);
    };
    let stream = tokio::select! {
        handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => handshake??,
        _ = stop.changed() => return Ok(()),
    };
    let mut builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => result,
        _ = stop.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    }
}

/// The shard count for `--worker-threads` (0: one per core).
pub fn count(configured: usize) -> usize {
    if configured > 0 {
        configured
    } else {
        std::thread::available_parallelism().map_or(2, usize::from)
    }
}

//! The front of the test server: a byte-for-byte TCP relay between the
//! client and the tiny_http backend that can also cut a connection.
//!
//! tiny_http never closes a kept-alive connection on its own, so a reply
//! that must end the connection (close without answering, truncated body,
//! raw bytes) is written by the relay straight to the client socket, which
//! is then shut down. Connections are found by the relay's local address on
//! the backend side, which is what tiny_http reports as the request's
//! `remote_addr`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

/// The two sockets of one relayed connection.
struct Pair {
    client: TcpStream,
    backend: TcpStream,
}

type Pairs = Arc<Mutex<HashMap<SocketAddr, Pair>>>;

/// A running relay.
pub(super) struct Proxy {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    pairs: Pairs,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Proxy {
    /// Listens on 127.0.0.1 (any free port) and relays to `backend`.
    pub(super) fn start(backend: SocketAddr) -> io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let pairs: Pairs = Arc::default();
        let thread = {
            let (stopping, pairs) = (stopping.clone(), pairs.clone());
            thread::spawn(move || {
                for client in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(client) = client {
                        // A failed relay only fails that connection.
                        let _ = relay(client, backend, &pairs);
                    }
                }
            })
        };
        Ok(Proxy {
            addr,
            stopping,
            pairs,
            thread: Some(thread),
        })
    }

    /// The address clients connect to.
    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Writes `bytes` to the client of the connection whose backend side is
    /// `backend_peer`, then shuts both sockets. False when no such
    /// connection is open.
    pub(super) fn cut(&self, backend_peer: SocketAddr, bytes: &[u8]) -> bool {
        let Some(mut pair) = lock(&self.pairs).remove(&backend_peer) else {
            return false;
        };
        let _ = pair.client.write_all(bytes);
        let _ = pair.client.flush();
        let _ = pair.client.shutdown(Shutdown::Both);
        let _ = pair.backend.shutdown(Shutdown::Both);
        true
    }

    /// Stops accepting and shuts every open connection. Idempotent.
    pub(super) fn stop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let Some(thread) = self.thread.take() else {
            return;
        };
        // Wake the accept loop; it sees the flag and ends.
        let _ = TcpStream::connect(self.addr);
        let _ = thread.join();
        for (_, pair) in lock(&self.pairs).drain() {
            let _ = pair.client.shutdown(Shutdown::Both);
            let _ = pair.backend.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Connects `client` to the backend and copies both ways on two threads.
fn relay(client: TcpStream, backend: SocketAddr, pairs: &Pairs) -> io::Result<()> {
    let upstream = TcpStream::connect(backend)?;
    let key = upstream.local_addr()?;
    lock(pairs).insert(
        key,
        Pair {
            client: client.try_clone()?,
            backend: upstream.try_clone()?,
        },
    );
    let (client_read, upstream_write) = (client.try_clone()?, upstream.try_clone()?);
    let pairs_up = pairs.clone();
    thread::spawn(move || {
        copy(client_read, upstream_write);
        lock(&pairs_up).remove(&key);
    });
    thread::spawn(move || copy(upstream, client));
    Ok(())
}

/// Copies until EOF or error, then shuts the destination for writing.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

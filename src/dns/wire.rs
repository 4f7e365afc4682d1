//! The lean UDP query path: a few long-lived UDP sockets per nameserver, message IDs
//! multiplexed across the questions in flight, and each reply handed to the question it
//! answers by ID *and* question (name, type, class); the socket is connected, so the kernel
//! only lets the nameserver's own address reach it.
//!
//! Why: profiled on a 20,000-domain audit against a local nsd (docs/performance.md),
//! hickory-resolver spends a third of the client's CPU per question on a socket of its own
//! (socket, bind, two epoll registrations, close) and most of another fifth in allocating
//! and copying its buffers. Here a question costs one `send`, one `recv` and one parse.
//!
//! Only the exchange lives here: a reply comes back whole, and [`super::upstream`] judges
//! it with the same checks as every other reply (owner, type, question, CNAME chains,
//! negative answers, response codes); its additional section is only walked
//! (`dns::reply`). A truncated reply is handed back as it is, so the
//! question is asked again over TCP by hickory-resolver; names hickory answers itself, and
//! the system configuration, stay hickory's too.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hickory_resolver::proto::op::{Message, MessageType, Query, ResponseCode};
use tokio::net::UdpSocket;
use tokio::sync::{OnceCell, oneshot};
use tokio::task::JoinHandle;

use super::exchange::{ExchangeError, encode_query};
use super::gate::{Permit, Slot};
use super::reply::read_reply;

/// Sockets per nameserver: enough source ports that a reply cannot be forged by guessing
/// the ID alone, few enough that the kernel's per-socket work stays small.
const SOCKETS_PER_SERVER: usize = 4;
/// Largest UDP payload read (EDNS offers 1232; a server may send more, which is kept whole).
const MAX_DATAGRAM: usize = 65_535;
/// Receive buffer asked for each socket: room for a few thousand replies arriving together
/// (`--concurrency 1024` spread over [`SOCKETS_PER_SERVER`] sockets, at ~1 kB of kernel
/// memory per datagram).
const RECV_BUFFER: usize = 4 << 20;
/// How many fresh IDs are tried before a question gives up on a socket: only reached when
/// nearly all 65,536 IDs of that socket are in flight.
const ID_TRIES: usize = 64;

/// Where and how patiently to ask, as `dns::exchange::Exchange`: the nameservers in
/// order, the per-try timeout, the tries.
pub struct Wire {
    servers: Vec<SocketAddr>,
    timeout: Duration,
    attempts: usize,
    /// Opened on the first question, inside the runtime that serves the questions.
    ports: OnceCell<Vec<Vec<Arc<Port>>>>,
    next: AtomicUsize,
}

/// Who waits for the reply to one message ID: the question asked, where to hand it, and
/// the last reply with this ID that answered another question.
struct Waiter {
    query: Query,
    reply: Handover,
    stray: Option<Message>,
    /// The question's `--concurrency` permit, released the moment its reply is read.
    permit: Option<Permit>,
}

/// Where the reader hands a question its outcome, with the permit when no reply was read.
type Handover = oneshot::Sender<(Result<Message, ExchangeError>, Option<Permit>)>;

/// One connected UDP socket, the questions in flight on it, and the task reading it.
struct Port {
    socket: UdpSocket,
    pending: Mutex<HashMap<u16, Waiter>>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

impl Wire {
    pub fn new(servers: Vec<SocketAddr>, timeout: Duration, attempts: usize) -> Wire {
        Wire {
            servers,
            timeout,
            attempts,
            ports: OnceCell::new(),
            next: AtomicUsize::new(0),
        }
    }

    /// Asks `query`, each server in turn for up to `attempts` rounds; the first reply that
    /// answers it is returned, truncated or not. A reply that never comes (timeout, socket
    /// error), SERVFAIL or REFUSED moves on to the next try, as hickory-resolver does; when
    /// every try ends so, the last SERVFAIL or REFUSED is the reply, else the last error.
    /// Each try holds a permit of `slot` until its reply is read or it ends.
    pub async fn ask(&self, query: &Query, slot: &mut Slot) -> Result<Message, ExchangeError> {
        let ports = self.ports.get_or_try_init(|| self.open()).await?;
        let mut last = Err(ExchangeError::Network(
            "no nameserver configured".to_owned(),
        ));
        for _ in 0..self.attempts.max(1) {
            for server in ports {
                let turn = self.next.fetch_add(1, Ordering::Relaxed);
                slot.hold().await;
                match server[turn % server.len()]
                    .ask(query, self.timeout, slot)
                    .await
                {
                    Ok(reply) if retried(&reply) => last = Ok(reply),
                    Ok(reply) => return Ok(reply),
                    Err(e @ ExchangeError::Unusable(_)) => return Err(e),
                    Err(e) if last.is_err() => last = Err(e),
                    Err(_) => {}
                }
            }
        }
        last
    }

    async fn open(&self) -> Result<Vec<Vec<Arc<Port>>>, ExchangeError> {
        let mut all = Vec::with_capacity(self.servers.len());
        for &server in &self.servers {
            let mut ports = Vec::with_capacity(SOCKETS_PER_SERVER);
            for _ in 0..SOCKETS_PER_SERVER {
                ports.push(Port::open(server).await?);
            }
            all.push(ports);
        }
        Ok(all)
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        for port in self.ports.get().into_iter().flatten().flatten() {
            let reader = port
                .reader
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(task) = reader {
                task.abort();
            }
        }
    }
}

impl Port {
    async fn open(server: SocketAddr) -> Result<Arc<Port>, ExchangeError> {
        let local: SocketAddr = if server.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await.map_err(network)?;
        // Asked for; the kernel caps it at net.core.rmem_max, which is still better than
        // its default (212 kB drops replies when hundreds of them arrive at once).
        let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(RECV_BUFFER);
        socket.connect(server).await.map_err(network)?;
        let port = Arc::new(Port {
            socket,
            pending: Mutex::new(HashMap::new()),
            reader: Mutex::new(None),
        });
        // The reader keeps the port alive until the Wire's Drop aborts it.
        let task = tokio::spawn(read_replies(Arc::clone(&port)));
        *port.reader.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
        Ok(port)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<u16, Waiter>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One try: a fresh ID that no other question on this socket holds, one datagram, and
    /// the wait for the reply the reader hands over. The slot's permit goes with the
    /// question; it comes back to the slot unless a reply was read (a timeout, a socket
    /// error), so a question that gets no answer keeps its place for its next try and its
    /// probe, and a silent server is not sent more questions than `--concurrency` allows.
    async fn ask(
        &self,
        query: &Query,
        timeout: Duration,
        slot: &mut Slot,
    ) -> Result<Message, ExchangeError> {
        let (tx, rx) = oneshot::channel();
        let (id, bytes) = self.register(query, tx, slot.take())?;
        if let Err(e) = self.socket.send(&bytes).await {
            if let Some(waiter) = self.pending().remove(&id) {
                slot.put(waiter.permit);
            }
            return Err(network(e));
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok((reply, permit))) => {
                slot.put(permit);
                reply
            }
            Ok(Err(_)) => Err(ExchangeError::Network("reply reader stopped".to_owned())),
            Err(_) => {
                let waiter = self.pending().remove(&id);
                let stray = waiter.and_then(|w| {
                    slot.put(w.permit);
                    w.stray
                });
                // A reply to another question is what the server said, if it said nothing
                // else: the caller then names the fault instead of a timeout.
                match stray {
                    Some(stray) => Ok(stray),
                    None => Err(ExchangeError::Timeout),
                }
            }
        }
    }

    fn register(
        &self,
        query: &Query,
        reply: Handover,
        permit: Option<Permit>,
    ) -> Result<(u16, Vec<u8>), ExchangeError> {
        // Encoded once, outside the lock; only the ID is chosen under it.
        let mut bytes = encode_query(query, 0);
        let mut pending = self.pending();
        for _ in 0..ID_TRIES {
            let id: u16 = rand::random();
            if pending.contains_key(&id) {
                continue;
            }
            bytes[..2].copy_from_slice(&id.to_be_bytes());
            pending.insert(
                id,
                Waiter {
                    query: query.clone(),
                    reply,
                    stray: None,
                    permit,
                },
            );
            return Ok((id, bytes));
        }
        Err(ExchangeError::Network("no free message ID".to_owned()))
    }

    /// Hands `wire` to the question it answers; anything else (too short, unreadable, a
    /// query, an ID nobody waits for) is dropped, as hickory-resolver drops it over UDP. A
    /// reply with the ID but another question is kept aside: the question goes on waiting.
    fn dispatch(&self, wire: &[u8]) {
        if wire.len() < 2 {
            return;
        }
        let id = u16::from_be_bytes([wire[0], wire[1]]);
        if !self.pending().contains_key(&id) {
            return;
        }
        let Ok(reply) = read_reply(wire) else {
            return;
        };
        if reply.metadata.message_type != MessageType::Response {
            return;
        }
        let mut pending = self.pending();
        let Some(waiter) = pending.get_mut(&id) else {
            return;
        };
        if !answers(&reply, &waiter.query) {
            waiter.stray = Some(reply);
            return;
        }
        if let Some(waiter) = pending.remove(&id) {
            drop(pending);
            // The next question may go before this one's asker runs.
            drop(waiter.permit);
            // The asker may have timed out just now: its reply is then nobody's.
            let _ = waiter.reply.send((Ok(reply), None));
        }
    }

    /// A socket error (an ICMP "port unreachable" shows up as ECONNREFUSED on the next
    /// read) reaches every question in flight here: they all went to the same server.
    fn fail_all(&self, error: &std::io::Error) {
        let waiters: Vec<Waiter> = self.pending().drain().map(|(_, w)| w).collect();
        for waiter in waiters {
            // Its permit goes back to the asker, which may try again or probe.
            let failed = Err(ExchangeError::Network(error.to_string()));
            let _ = waiter.reply.send((failed, waiter.permit));
        }
    }
}

/// Whether `reply` says "ask elsewhere or later" rather than answering.
fn retried(reply: &Message) -> bool {
    matches!(
        reply.metadata.response_code,
        ResponseCode::ServFail | ResponseCode::Refused
    )
}

/// Whether `reply`'s question section is exactly `query` (names compared without case).
fn answers(reply: &Message, query: &Query) -> bool {
    matches!(reply.queries.as_slice(), [q] if q.name() == query.name()
        && q.query_type() == query.query_type()
        && q.query_class() == query.query_class())
}

async fn read_replies(port: Arc<Port>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match port.socket.recv(&mut buf).await {
            Ok(n) => port.dispatch(&buf[..n]),
            Err(e) => port.fail_all(&e),
        }
    }
}

fn network(e: std::io::Error) -> ExchangeError {
    ExchangeError::Network(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::gate::Gate;
    use hickory_resolver::proto::op::OpCode;
    use hickory_resolver::proto::rr::{Name, RecordType};

    fn query(name: &str) -> Query {
        Query::query(Name::from_ascii(name).unwrap(), RecordType::A)
    }

    /// A fake server on loopback that answers each query with `reply(query message)`.
    async fn server(
        reply: impl Fn(&Message) -> Vec<Vec<u8>> + Send + 'static,
    ) -> (SocketAddr, JoinHandle<()>) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let asked = Message::from_vec(&buf[..n]).unwrap();
                for datagram in reply(&asked) {
                    socket.send_to(&datagram, from).await.unwrap();
                }
            }
        });
        (addr, task)
    }

    fn slot() -> Slot {
        Slot::new(Gate::new(1), false)
    }

    #[tokio::test]
    async fn the_permit_is_released_when_the_reply_is_read_before_the_asker_runs() {
        let (addr, task) = server(|_| Vec::new()).await;
        let port = Port::open(addr).await.unwrap();
        let gate = Gate::new(1);
        let mut slot = Slot::new(gate.clone(), false);
        slot.hold().await;
        let (tx, mut rx) = oneshot::channel();
        let q = query("a.test.");
        let (id, _) = port.register(&q, tx, slot.take()).unwrap();
        assert_eq!(gate.in_use(), 1, "held while the question is out");
        port.dispatch(&response(id, &q));
        assert_eq!(gate.in_use(), 0, "released by the reader");
        let (reply, permit) = rx.try_recv().unwrap();
        assert!(
            reply.is_ok() && permit.is_none(),
            "and the reply handed over"
        );
        task.abort();
    }

    fn response(id: u16, q: &Query) -> Vec<u8> {
        let mut m = Message::response(id, OpCode::Query);
        m.add_query(q.clone());
        m.to_vec().unwrap()
    }

    #[tokio::test]
    async fn a_reply_to_another_question_with_our_id_is_not_taken() {
        // The server first sends a reply with the right ID for another name, then the
        // right one: only the second answers the question.
        let (addr, task) = server(|asked| {
            let id = asked.metadata.id;
            let q = asked.queries[0].clone();
            vec![response(id, &query("other.test.")), response(id, &q)]
        })
        .await;
        let wire = Wire::new(vec![addr], Duration::from_secs(2), 1);
        let reply = wire.ask(&query("a.test."), &mut slot()).await.unwrap();
        assert_eq!(reply.queries[0].name(), query("a.test.").name());
        task.abort();
    }

    #[tokio::test]
    async fn a_reply_only_to_another_question_is_handed_over_when_the_try_ends() {
        let (addr, task) =
            server(|asked| vec![response(asked.metadata.id, &query("other.test."))]).await;
        let wire = Wire::new(vec![addr], Duration::from_millis(200), 2);
        let reply = wire.ask(&query("a.test."), &mut slot()).await.unwrap();
        assert_eq!(reply.queries[0].name(), query("other.test.").name());
        task.abort();
    }

    #[tokio::test]
    async fn many_questions_in_flight_each_get_their_own_reply() {
        // 200 askers share 4 sockets: every one must get the reply to its own name.
        let (addr, task) = server(|asked| {
            let q = asked.queries[0].clone();
            vec![response(asked.metadata.id, &q)]
        })
        .await;
        let wire = Arc::new(Wire::new(vec![addr], Duration::from_secs(5), 1));
        let mut asks = Vec::new();
        for i in 0..200 {
            let wire = Arc::clone(&wire);
            asks.push(tokio::spawn(async move {
                let q = query(&format!("n{i}.test."));
                let reply = wire.ask(&q, &mut slot()).await.unwrap();
                reply.queries[0].name() == q.name()
            }));
        }
        for ask in asks {
            assert!(ask.await.unwrap());
        }
        task.abort();
    }

    #[tokio::test]
    async fn silence_is_a_timeout_after_every_try() {
        let (addr, task) = server(|_| Vec::new()).await;
        let wire = Wire::new(vec![addr], Duration::from_millis(100), 2);
        let started = std::time::Instant::now();
        assert_eq!(
            wire.ask(&query("a.test."), &mut slot()).await.unwrap_err(),
            ExchangeError::Timeout
        );
        assert!(started.elapsed() >= Duration::from_millis(200));
        task.abort();
    }

    #[tokio::test]
    async fn a_closed_port_is_a_network_error_not_a_wait() {
        let closed = {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            s.local_addr().unwrap()
        };
        let wire = Wire::new(vec![closed], Duration::from_secs(5), 1);
        let started = std::time::Instant::now();
        let err = wire.ask(&query("a.test."), &mut slot()).await.unwrap_err();
        assert!(matches!(err, ExchangeError::Network(_)), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(4));
    }
}

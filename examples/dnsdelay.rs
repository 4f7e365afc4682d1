//! Bench tool (scripts/bench.sh): a DNS proxy on 127.0.0.1 that holds every UDP answer for a
//! fixed delay before passing it on, so a local nsd looks like a server 20 ms away. TCP is
//! passed through undelayed (only truncated answers take it).
//!
//! Why in Rust: the Python proxy in scripts/bench_tools.py tops out near 12,000 answers a
//! second on this machine, a quarter of what `--concurrency 1024` at 20 ms asks for
//! (51,200/s), so it measured itself rather than the tool.
//!
//! usage: dnsdelay LISTEN_PORT UPSTREAM_PORT DELAY_MS STATS_FILE
//! STATS_FILE gets `questions N` (questions forwarded), rewritten every 50 ms.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::time::Instant;

type Pending = Arc<Mutex<HashMap<u16, ([u8; 2], SocketAddr)>>>;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: dnsdelay LISTEN_PORT UPSTREAM_PORT DELAY_MS STATS_FILE");
        std::process::exit(2);
    }
    let listen: u16 = args[1].parse().expect("LISTEN_PORT");
    let upstream: SocketAddr = ([127, 0, 0, 1], args[2].parse().expect("UPSTREAM_PORT")).into();
    let delay = Duration::from_millis(args[3].parse().expect("DELAY_MS"));
    let stats = args[4].clone();

    let client = Arc::new(UdpSocket::bind(("127.0.0.1", listen)).await.expect("bind"));
    let up = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind"));
    up.connect(upstream).await.expect("connect");
    // Thousands of datagrams arrive together at --concurrency 1024: the kernel's default
    // receive buffer (212 kB) would drop some of them, and the run would measure timeouts.
    for socket in [&*client, &*up] {
        let _ = socket2::SockRef::from(socket).set_recv_buffer_size(4 << 20);
    }
    let tcp = TcpListener::bind(("127.0.0.1", listen))
        .await
        .expect("bind tcp");
    let pending: Pending = Arc::default();
    let questions = Arc::new(AtomicU64::new(0));
    let (due_tx, due_rx) = mpsc::unbounded_channel();

    tokio::spawn(forward(
        Arc::clone(&client),
        Arc::clone(&up),
        Arc::clone(&pending),
        Arc::clone(&questions),
    ));
    tokio::spawn(answers(up, pending, due_tx, delay));
    tokio::spawn(deliver(client, due_rx));
    tokio::spawn(pass_tcp(tcp, upstream));
    let mut written = u64::MAX;
    loop {
        let n = questions.load(Ordering::Relaxed);
        if n != written {
            let tmp = format!("{stats}.tmp");
            std::fs::write(&tmp, format!("questions {n}\n")).expect("stats");
            std::fs::rename(&tmp, &stats).expect("stats");
            written = n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Client questions go upstream under a fresh ID (clients' IDs may collide).
async fn forward(client: Arc<UdpSocket>, up: Arc<UdpSocket>, pending: Pending, n: Arc<AtomicU64>) {
    let mut buf = vec![0u8; 65_535];
    let mut next: u16 = 0;
    loop {
        let Ok((len, from)) = client.recv_from(&mut buf).await else {
            continue;
        };
        if len < 12 {
            continue;
        }
        n.fetch_add(1, Ordering::Relaxed);
        {
            let mut p = pending.lock().unwrap();
            for _ in 0..=u16::MAX {
                next = next.wrapping_add(1);
                if !p.contains_key(&next) {
                    break;
                }
            }
            p.insert(next, ([buf[0], buf[1]], from));
        }
        buf[..2].copy_from_slice(&next.to_be_bytes());
        let _ = up.send(&buf[..len]).await;
    }
}

/// Answers wait in arrival order: the delay is constant, so one queue suffices.
async fn answers(
    up: Arc<UdpSocket>,
    pending: Pending,
    due: mpsc::UnboundedSender<(Instant, Vec<u8>, SocketAddr)>,
    delay: Duration,
) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let Ok(len) = up.recv(&mut buf).await else {
            continue;
        };
        if len < 12 {
            continue;
        }
        let id = u16::from_be_bytes([buf[0], buf[1]]);
        let Some((orig, to)) = pending.lock().unwrap().remove(&id) else {
            continue;
        };
        let mut data = buf[..len].to_vec();
        data[..2].copy_from_slice(&orig);
        let _ = due.send((Instant::now() + delay, data, to));
    }
}

async fn deliver(
    client: Arc<UdpSocket>,
    mut due: mpsc::UnboundedReceiver<(Instant, Vec<u8>, SocketAddr)>,
) {
    let mut queue = VecDeque::new();
    loop {
        if queue.is_empty() {
            match due.recv().await {
                Some(item) => queue.push_back(item),
                None => return,
            }
        }
        while let Ok(item) = due.try_recv() {
            queue.push_back(item);
        }
        let (at, _, _) = queue.front().expect("not empty");
        tokio::time::sleep_until(*at).await;
        let now = Instant::now();
        while queue.front().is_some_and(|(at, _, _)| *at <= now) {
            let (_, data, to) = queue.pop_front().expect("front");
            let _ = client.send_to(&data, to).await;
        }
    }
}

async fn pass_tcp(listener: TcpListener, upstream: SocketAddr) {
    while let Ok((mut inbound, _)) = listener.accept().await {
        tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

//! Names the network failure behind a question hickory-resolver gave up on. hickory sends
//! UDP from unconnected sockets, so the kernel's ICMP reports (port unreachable, host
//! unreachable) never reach it: a closed port reads as a timeout, and a machine without a
//! network as "no connections available". Here the question goes once more to each server
//! from a connected socket, which the kernel does tell, and what it says becomes the
//! failure. The probe waits at most [`PROBE_WINDOW`] (or the per-try timeout, if shorter):
//! an ICMP report comes back within a round trip, and a server that stays silent is a
//! timeout. Only failed questions pay for a probe.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::proto::op::Query;
use tokio::net::UdpSocket;
use tokio::time::timeout;

use super::Failure;
use super::exchange::{foreign, reply_with_id, request_for};

/// The longest a probe waits for the network to say why a server did not answer.
pub const PROBE_WINDOW: Duration = Duration::from_secs(1);

/// What one server's probe heard.
#[derive(Debug)]
enum Heard {
    /// Some datagram came back: the server is there, only slow or choosy.
    Reply,
    /// Nothing within the window.
    Silence,
    /// The kernel reported an error for the socket.
    Error(io::Error),
}

/// The failure the network reports for `query` at `servers`: [`Failure::Slow`] when a
/// server answered the probe (it is there, only late), or `None` when there is no server
/// to ask. Servers failing in different ways are each named.
pub async fn diagnose(servers: &[SocketAddr], query: &Query, per_try: Duration) -> Option<Failure> {
    let window = per_try.min(PROBE_WINDOW);
    let request = request_for(query);
    let Ok(wire) = request.to_vec() else {
        return None;
    };
    let asked = Asked {
        wire: &wire,
        id: request.metadata.id,
        query,
    };
    let heard = futures::future::join_all(servers.iter().map(|&s| probe(s, &asked, window))).await;
    let mut kinds: Vec<(SocketAddr, Failure)> = Vec::with_capacity(servers.len());
    for (&server, heard) in servers.iter().zip(heard) {
        match heard {
            Heard::Reply => return Some(Failure::Slow),
            Heard::Silence => kinds.push((server, Failure::Timeout)),
            Heard::Error(e) => kinds.push((server, io_failure(&e))),
        }
    }
    let (_, first) = kinds.first()?;
    if kinds.iter().all(|(_, k)| k == first) {
        return Some(first.clone());
    }
    let each: Vec<String> = kinds.iter().map(|(s, k)| format!("{s} {k}")).collect();
    // `, ` because a pair's reason already separates its failed questions with `; `.
    Some(Failure::Network(each.join(", ")))
}

/// The probe's question: its bytes, message ID and query, to know its reply.
struct Asked<'a> {
    wire: &'a [u8],
    id: u16,
    query: &'a Query,
}

/// Sends the query from a fresh socket connected to `server` and listens for `window` for
/// its reply: one with its message ID that answers its question (anything else, such as a
/// reply to another question, is not the server answering, and is waited past).
async fn probe(server: SocketAddr, asked: &Asked<'_>, window: Duration) -> Heard {
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let exchange = async {
        let socket = UdpSocket::bind(local).await?;
        socket.connect(server).await?;
        socket.send(asked.wire).await?;
        let mut buf = vec![0u8; 65_535];
        loop {
            let n = socket.recv(&mut buf).await?;
            if let Ok(Some(reply)) = reply_with_id(&buf[..n], asked.id)
                && foreign(&reply, asked.query).is_none()
            {
                return Ok(());
            }
        }
    };
    match timeout(window, exchange).await {
        Err(_) => Heard::Silence,
        Ok(Ok(_)) => Heard::Reply,
        Ok(Err(e)) => Heard::Error(e),
    }
}

/// A socket error as the failure kind it reports.
pub fn io_failure(error: &io::Error) -> Failure {
    match error.kind() {
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => {
            Failure::ConnectionRefused
        }
        io::ErrorKind::NetworkUnreachable | io::ErrorKind::NetworkDown => Failure::Unreachable,
        io::ErrorKind::HostUnreachable => Failure::NoRoute,
        io::ErrorKind::TimedOut => Failure::Timeout,
        _ => Failure::Network(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::rr::{Name, RecordType};

    fn query() -> Query {
        Query::query(Name::from_ascii("probe.test.").unwrap(), RecordType::A)
    }

    #[test]
    fn socket_errors_name_their_kind() {
        let kind = |k: io::ErrorKind| io_failure(&io::Error::from(k));
        assert_eq!(
            kind(io::ErrorKind::ConnectionRefused),
            Failure::ConnectionRefused
        );
        assert_eq!(
            kind(io::ErrorKind::NetworkUnreachable),
            Failure::Unreachable
        );
        assert_eq!(kind(io::ErrorKind::HostUnreachable), Failure::NoRoute);
        assert!(matches!(
            kind(io::ErrorKind::PermissionDenied),
            Failure::Network(_)
        ));
    }

    /// A port nobody listens on: bound, then released, so the kernel answers ICMP.
    fn closed_port() -> SocketAddr {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap()
    }

    #[tokio::test]
    async fn a_closed_port_is_refused_a_silent_one_times_out_a_live_one_answers() {
        let closed = closed_port();
        let window = Duration::from_millis(300);
        assert_eq!(
            diagnose(&[closed], &query(), window).await,
            Some(Failure::ConnectionRefused)
        );

        let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let silent_addr = silent.local_addr().unwrap();
        assert_eq!(
            diagnose(&[silent_addr], &query(), window).await,
            Some(Failure::Timeout)
        );

        let mixed = diagnose(&[closed, silent_addr], &query(), window).await;
        assert_eq!(
            mixed,
            Some(Failure::Network(format!(
                "{closed} connection refused, {silent_addr} timeout"
            )))
        );

        let live = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let live_addr = live.local_addr().unwrap();
        // Answers as a server would: the question back, flagged as a response.
        let echo = tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, from) = live.recv_from(&mut buf).await.unwrap();
            let mut reply = hickory_resolver::proto::op::Message::from_vec(&buf[..n]).unwrap();
            reply.metadata.message_type = hickory_resolver::proto::op::MessageType::Response;
            live.send_to(&reply.to_vec().unwrap(), from).await.unwrap();
        });
        assert_eq!(
            diagnose(&[live_addr], &query(), window).await,
            Some(Failure::Slow)
        );
        echo.await.unwrap();

        // A datagram that is not a reply to the question (here the query sent back as it
        // came) is not the server answering: still a timeout.
        let parrot = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let parrot_addr = parrot.local_addr().unwrap();
        let repeat = tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, from) = parrot.recv_from(&mut buf).await.unwrap();
            parrot.send_to(&buf[..n], from).await.unwrap();
            parrot
        });
        assert_eq!(
            diagnose(&[parrot_addr], &query(), window).await,
            Some(Failure::Timeout)
        );
        drop(repeat.await.unwrap());
        drop(silent);
    }
}

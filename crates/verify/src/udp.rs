//! UDP probe over a connected socket: the kernel turns the peer's ICMP
//! port-unreachable into ECONNREFUSED on the next send/recv (closed) and
//! prohibited/unreachable into EHOSTUNREACH and kin (filtered), without raw
//! sockets or root. Any answer to our datagrams proves the path (open), a
//! token proves a responder (verified); silence after every retry is
//! open|filtered.

use crate::engine::Config;
use crate::{icmp, token, udp_protocols, Finding, State};
use portplan_model::Protocol;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;
use tokio::net::UdpSocket;
use tokio::time::timeout_at;

pub async fn probe(addr: SocketAddr, cfg: &Config) -> Finding {
    let local: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let start = Instant::now();
    let sock = match UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => return icmp::classify(&e, Protocol::Udp, start.elapsed()),
    };
    if let Err(e) = sock.connect(addr).await {
        return icmp::classify(&e, Protocol::Udp, start.elapsed());
    }
    let asked = token::Probe::new(addr.ip());
    let probe = token::probe(&asked);
    let proto = udp_protocols::for_port(addr.port(), &cfg.udp);
    let attempts = cfg.retries + 1;
    // The per-probe timeout covers every try.
    let each = cfg.timeout / attempts;
    let mut buf = [0u8; 2048];
    let mut first_sent = None;
    for _ in 0..attempts {
        let sent = Instant::now();
        let since = *first_sent.get_or_insert(sent);
        let mut payloads: Vec<&[u8]> = vec![&probe];
        if let Some(p) = &proto {
            payloads.push(&p.request);
        }
        for p in payloads {
            if let Err(e) = sock.send(p).await {
                return icmp::classify(&e, Protocol::Udp, since.elapsed());
            }
        }
        let deadline = tokio::time::Instant::from_std(sent + each);
        match timeout_at(deadline, sock.recv(&mut buf)).await {
            Err(_) => continue,
            Ok(Err(e)) => return icmp::classify(&e, Protocol::Udp, sent.elapsed()),
            Ok(Ok(n)) => {
                let rtt = Some(sent.elapsed());
                let data = &buf[..n];
                if let Some(tok) = token::parse_reply(data) {
                    let (state, why) = token::judge_reply(
                        cfg.secret.as_ref(),
                        &asked,
                        addr.ip(),
                        addr.port(),
                        Protocol::Udp,
                        tok,
                    );
                    return Finding::new(state, why, rtt);
                }
                let why = match proto.as_ref().and_then(|p| p.recognise(data)) {
                    Some(why) => why,
                    None => format!("the service answered with {n} bytes"),
                };
                return match cfg.expect {
                    crate::Expect::Service => Finding::new(State::Open, why, rtt),
                    crate::Expect::Responder => Finding::new(
                        State::Impostor,
                        format!(
                            "{why}, but no responder token: something else answers on this port"
                        ),
                        rtt,
                    ),
                };
            }
        }
    }
    let tried = match &proto {
        Some(p) => format!(" (portplan and {} probes)", p.name),
        None => String::new(),
    };
    Finding::new(
        State::OpenFiltered,
        format!("no answer and no ICMP error after {attempts} tries{tried}"),
        None,
    )
}

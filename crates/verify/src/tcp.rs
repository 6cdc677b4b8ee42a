//! TCP probe: connect (handshake = open, reset = closed, silence or ICMP
//! prohibited = filtered), then offer a portplan probe and wait briefly for
//! a token (a responder = verified).

use crate::engine::Config;
use crate::token::{self, REPLY_LEN};
use crate::{icmp, Finding, State};
use portplan_model::Protocol;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout_at;

/// How long to wait for a token once connected: a responder answers within
/// about one round trip, so a few handshake times plus scheduling slack (a
/// busy responder host may take a while to run its accept loop)
/// is enough and keeps a scan of silent services fast.
fn token_wait(rtt: Duration, limit: Duration) -> Duration {
    (rtt * 4 + Duration::from_millis(200)).min(limit)
}

/// The finding of a connect that did not complete.
pub fn not_connected(c: Option<(&std::io::Error, Duration)>, cfg: &Config) -> Finding {
    match c {
        Some((e, rtt)) => icmp::classify(e, Protocol::Tcp, rtt),
        None => Finding::new(
            State::Filtered,
            format!("no answer to SYN within {} ms", cfg.timeout.as_millis()),
            None,
        ),
    }
}

/// After the handshake: offer a portplan probe and judge what comes back.
pub async fn after_connect(
    mut stream: TcpStream,
    addr: SocketAddr,
    rtt: Duration,
    cfg: &Config,
) -> Finding {
    // A connect from an ephemeral port to the same port on the same host
    // can meet itself (TCP simultaneous open): nothing listens there.
    if let (Ok(l), Ok(p)) = (stream.local_addr(), stream.peer_addr()) {
        if l == p {
            return Finding::new(
                State::Closed,
                "connected to itself (TCP self-connect): nothing listens",
                Some(rtt),
            );
        }
    }
    let _ = stream.set_nodelay(true);
    let probe = token::Probe::new(addr.ip());
    if stream.write_all(&token::probe(&probe)).await.is_err() {
        return answered(
            cfg,
            "handshake completed; the service closed at once".into(),
            rtt,
        );
    }
    let deadline = tokio::time::Instant::now() + token_wait(rtt, cfg.timeout);
    let mut buf = [0u8; 256];
    let mut got = 0;
    let mut closed = false;
    while got < REPLY_LEN {
        match timeout_at(deadline, stream.read(&mut buf[got..])).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => {
                got += n;
                // Not our framing: no need to wait for more.
                let k = got.min(token::MAGIC.len());
                if buf[..k] != token::MAGIC[..k] {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    if let Some(tok) = token::parse_reply(&buf[..got.min(REPLY_LEN)]) {
        let (state, why) = token::judge_reply(
            cfg.secret.as_ref(),
            &probe,
            addr.ip(),
            addr.port(),
            Protocol::Tcp,
            tok,
        );
        return Finding::new(state, why, Some(rtt));
    }
    let why = match (got, closed) {
        (0, false) => "handshake completed".to_string(),
        (0, true) => "handshake completed; the service closed the connection".to_string(),
        (n, _) => {
            format!("handshake completed; the service sent {n} bytes (not a portplan responder)")
        }
    };
    answered(cfg, why, rtt)
}

/// A connection that gave no valid token: a service's answer, or, where a
/// responder was expected, an impostor's.
fn answered(cfg: &Config, why: String, rtt: Duration) -> Finding {
    match cfg.expect {
        crate::Expect::Service => Finding::new(State::Open, why, Some(rtt)),
        crate::Expect::Responder => Finding::new(
            State::Impostor,
            format!("{why}, but no responder token: something else answers on this port"),
            Some(rtt),
        ),
    }
}

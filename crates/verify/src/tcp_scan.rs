//! The connect stage of TCP probes, done the way nmap's connect scan does
//! it: many non-blocking connects watched by one poll(2) on a plain thread.
//! Most probes of a scan end in microseconds (a reset); an async runtime
//! would spend more on registering each socket with epoll and waking tasks
//! than the kernel spends on the probe itself. Connected sockets go on to
//! the async token exchange (tcp.rs).

use socket2::{Domain, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// How a connect ended.
pub enum Connect {
    /// Handshake completed, after this long.
    Open(std::net::TcpStream, Duration),
    /// Reset, ICMP error or local failure, after this long.
    Failed(io::Error, Duration),
    /// No answer within the time limit.
    Silent,
}

struct InFlight {
    idx: usize,
    sock: Socket,
    start: Instant,
}

/// Connects to every address, at most `window` at once, and reports each
/// outcome with the address's index as soon as it is known.
pub fn scan(
    addrs: &[SocketAddr],
    limit: Duration,
    window: usize,
    mut done: impl FnMut(usize, Connect),
) {
    let window = window.max(1);
    let mut next = 0;
    let mut flying: Vec<InFlight> = Vec::with_capacity(window.min(addrs.len()));
    let mut pfds: Vec<libc::pollfd> = Vec::with_capacity(flying.capacity());
    while next < addrs.len() || !flying.is_empty() {
        while flying.len() < window && next < addrs.len() {
            let a = addrs[next];
            let start = Instant::now();
            let sock = match Socket::new(
                Domain::for_address(a),
                Type::STREAM.nonblocking().cloexec(),
                None,
            ) {
                Ok(s) => s,
                // Out of descriptors: wait for some in flight to finish.
                Err(e)
                    if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
                        && !flying.is_empty() =>
                {
                    break
                }
                Err(e) => {
                    done(next, Connect::Failed(e, start.elapsed()));
                    next += 1;
                    continue;
                }
            };
            match sock.connect(&a.into()) {
                Ok(()) => done(next, Connect::Open(sock.into(), start.elapsed())),
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => flying.push(InFlight {
                    idx: next,
                    sock,
                    start,
                }),
                Err(e) => done(next, Connect::Failed(e, start.elapsed())),
            }
            next += 1;
        }
        if flying.is_empty() {
            continue;
        }
        pfds.clear();
        pfds.extend(flying.iter().map(|f| libc::pollfd {
            fd: f.sock.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        }));
        let now = Instant::now();
        let first_deadline = flying.iter().map(|f| f.start + limit).min().unwrap_or(now);
        let wait = first_deadline
            .saturating_duration_since(now)
            .min(Duration::from_millis(100));
        let wait_ms = wait.as_millis() as libc::c_int + 1;
        // SAFETY: pfds is a valid array of pollfd of the given length.
        let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, wait_ms) };
        if n < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            let e = io::Error::last_os_error();
            for f in flying.drain(..) {
                done(
                    f.idx,
                    Connect::Failed(io::Error::new(e.kind(), e.to_string()), f.start.elapsed()),
                );
            }
            continue;
        }
        let mut keep = Vec::with_capacity(flying.len());
        for (f, p) in flying.drain(..).zip(&pfds) {
            if p.revents != 0 {
                let rtt = f.start.elapsed();
                match f.sock.take_error() {
                    Ok(None) => done(f.idx, Connect::Open(f.sock.into(), rtt)),
                    Ok(Some(e)) | Err(e) => done(f.idx, Connect::Failed(e, rtt)),
                }
            } else if f.start.elapsed() >= limit {
                done(f.idx, Connect::Silent);
            } else {
                keep.push(f);
            }
        }
        flying = keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_a_listener_from_a_closed_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = l.local_addr().unwrap();
        let closed = {
            let t = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            t.local_addr().unwrap()
        };
        let mut got = Vec::new();
        scan(&[open, closed], Duration::from_secs(2), 8, |i, c| {
            got.push((
                i,
                match c {
                    Connect::Open(..) => "open".to_string(),
                    Connect::Failed(e, _) => format!("{:?}", e.raw_os_error()),
                    Connect::Silent => "silent".into(),
                },
            ))
        });
        got.sort();
        assert_eq!(
            got,
            vec![
                (0, "open".into()),
                (1, format!("{:?}", Some(libc::ECONNREFUSED)))
            ]
        );
    }
}

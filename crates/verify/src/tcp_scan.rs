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

/// An epoll instance, closed on drop.
struct Epoll(std::os::fd::OwnedFd);

impl Epoll {
    fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 returns a new descriptor or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        Ok(Epoll(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }))
    }
    /// Watches `fd` once for writability (a finished connect), tagged `slot`.
    fn watch(&self, fd: i32, slot: usize) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLOUT | libc::EPOLLONESHOT) as u32,
            u64: slot as u64,
        };
        // SAFETY: ev is a valid epoll_event; both descriptors are open.
        if unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    fn wait(&self, events: &mut [libc::epoll_event], ms: i32) -> usize {
        // SAFETY: events is a valid buffer of the given length.
        let n = unsafe {
            libc::epoll_wait(
                self.0.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                ms,
            )
        };
        usize::try_from(n).unwrap_or(0)
    }
}

/// In-flight connects allowed when every probe answers at once.
const FAST_WINDOW: usize = 128;
/// A connect without an answer after this long holds its slot as "slow".
const SLOW_AFTER: Duration = Duration::from_millis(20);

/// How many live connects, oldest first, have waited past `SLOW_AFTER`.
fn slow_count(
    order: &std::collections::VecDeque<(usize, usize)>,
    slots: &[Option<InFlight>],
    now: Instant,
) -> usize {
    let mut n = 0;
    for (slot, idx) in order {
        match &slots[*slot] {
            Some(f) if f.idx == *idx => {
                if now.duration_since(f.start) < SLOW_AFTER {
                    break;
                }
                n += 1;
            }
            _ => {}
        }
    }
    n
}

/// Connects to every address, at most `window` at once, and reports each
/// outcome with the address's index as soon as it is known. Sockets are
/// watched with epoll (one `epoll_ctl` each; closing a socket unwatches it),
/// so each round costs what finished, not what is in flight.
pub fn scan(
    addrs: &[SocketAddr],
    limit: Duration,
    window: usize,
    mut done: impl FnMut(usize, Connect),
) {
    let window = window.max(1);
    let ep = match Epoll::new() {
        Ok(e) => e,
        Err(e) => {
            for i in 0..addrs.len() {
                done(
                    i,
                    Connect::Failed(io::Error::new(e.kind(), e.to_string()), Duration::ZERO),
                );
            }
            return;
        }
    };
    let mut slots: Vec<Option<InFlight>> = Vec::with_capacity(window.min(addrs.len()));
    let mut free: Vec<usize> = Vec::new();
    // Slots in the order their connects started: the oldest expires first.
    let mut order: std::collections::VecDeque<(usize, usize)> = std::collections::VecDeque::new();
    let mut in_flight = 0usize;
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    let mut next = 0;
    while next < addrs.len() || in_flight > 0 {
        // Probes that answer at once need only a small window (each socket in
        // flight holds an ephemeral port, and a crowded port space makes every
        // connect dearer); probes that wait (drops, long paths) each earn
        // one more slot, up to `window`.
        let slow = slow_count(&order, &slots, Instant::now());
        let allowed = window.min(FAST_WINDOW + slow);
        while in_flight < allowed && next < addrs.len() {
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
                        && in_flight > 0 =>
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
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                    let slot = free.pop().unwrap_or_else(|| {
                        slots.push(None);
                        slots.len() - 1
                    });
                    if let Err(e) = ep.watch(sock.as_raw_fd(), slot) {
                        free.push(slot);
                        done(next, Connect::Failed(e, start.elapsed()));
                    } else {
                        slots[slot] = Some(InFlight {
                            idx: next,
                            sock,
                            start,
                        });
                        order.push_back((slot, next));
                        in_flight += 1;
                    }
                }
                Err(e) => done(next, Connect::Failed(e, start.elapsed())),
            }
            next += 1;
        }
        if in_flight == 0 {
            continue;
        }
        let oldest = order.iter().find_map(|(slot, idx)| {
            slots[*slot]
                .as_ref()
                .filter(|f| f.idx == *idx)
                .map(|f| f.start)
        });
        let wait = oldest
            .map(|t| (t + limit).saturating_duration_since(Instant::now()))
            .unwrap_or(limit)
            .min(Duration::from_millis(100));
        let n = ep.wait(&mut events, wait.as_millis() as i32 + 1);
        for ev in &events[..n] {
            let slot = ev.u64 as usize;
            if let Some(f) = slots.get_mut(slot).and_then(Option::take) {
                free.push(slot);
                in_flight -= 1;
                let rtt = f.start.elapsed();
                match f.sock.take_error() {
                    Ok(None) => done(f.idx, Connect::Open(f.sock.into(), rtt)),
                    Ok(Some(e)) | Err(e) => done(f.idx, Connect::Failed(e, rtt)),
                }
            }
        }
        // Expire the silent ones, oldest first; drop entries already finished.
        while let Some(&(slot, idx)) = order.front() {
            match &slots[slot] {
                Some(f) if f.idx == idx => {
                    if f.start.elapsed() < limit {
                        break;
                    }
                    slots[slot] = None;
                    free.push(slot);
                    in_flight -= 1;
                    done(idx, Connect::Silent);
                }
                _ => {}
            }
            order.pop_front();
        }
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

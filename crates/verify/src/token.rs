//! The portplan probe protocol (version 2). A probe carries a random nonce,
//! the prober's clock and the address the prober aimed at; a responder
//! answers `HMAC-SHA256(secret, tag ‖ nonce ‖ time ‖ address ‖ port ‖
//! protocol)`, and nothing else, only when that address is one it serves:
//! the address the probe arrived at, or (started `--as HOST`) an address
//! the deployment gives that host, which covers a public address reached
//! through NAT. So a token proves more than "something holds the secret":
//! - the port and protocol: a token captured on one port is no token for
//!   another;
//! - the address: a relay or a DNAT that carries the probe to another
//!   host gets no answer there (the probe names an address that host does
//!   not serve), and a reply for another address does not check;
//! - the nonce and time: a token cannot be replayed, and a responder
//!   refuses probes whose clock is far from its own.
//!
//! The responder computes tokens for anyone who sends a probe, so the
//! secret must resist guessing offline: short or repetitive secrets are
//! refused (`Secret::new`).

use hmac::{Hmac, Mac};
use portplan_model::Protocol;
use sha2::Sha256;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

/// Marks portplan traffic; the version digit changes with the framing.
pub const MAGIC: &[u8; 8] = b"PORTPLN2";
const PROBE_KIND: u8 = b'?';
const REPLY_KIND: u8 = b'!';
pub const NONCE_LEN: usize = 16;
pub const MAC_LEN: usize = 32;
/// A probe: magic, kind, nonce, time (seconds since 1970, big-endian), the
/// target address (16 bytes, IPv4 mapped), and zero padding, so that a
/// reply is never larger than the probe that asked for it (a spoofed UDP
/// probe gains an attacker no amplification).
pub const PROBE_LEN: usize = 64;
pub const REPLY_LEN: usize = MAGIC.len() + 1 + MAC_LEN;
const TIME_AT: usize = MAGIC.len() + 1 + NONCE_LEN;
const TARGET_AT: usize = TIME_AT + 8;
/// What the MAC covers first: the protocol and its version.
const TAG: &[u8] = b"portplan probe v2\0";
/// How far a probe's clock may be from the responder's.
pub const MAX_SKEW_SECS: u64 = 300;
/// Shortest secret accepted: 24 characters, as `openssl rand -base64 18`
/// prints (144 random bits).
pub const MIN_SECRET_LEN: usize = 24;
/// Fewest different characters in a secret (refuses `aaaa...`).
const MIN_DISTINCT: usize = 10;
/// Largest secret file read: a secret is a line, not a file's worth.
pub const MAX_SECRET_FILE: u64 = 4096;
/// How to make a good secret, for the errors that refuse one.
pub const MAKE_ONE: &str =
    "make one with `openssl rand -base64 32 > portplan.secret && chmod 600 portplan.secret`";

/// A probe: its nonce, the prober's clock, and the address it was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub nonce: [u8; NONCE_LEN],
    pub time: u64,
    pub target: IpAddr,
}

impl Probe {
    /// A fresh probe to `target`: a random nonce, the time now.
    pub fn new(target: IpAddr) -> Self {
        Probe {
            nonce: nonce(),
            time: now_secs(),
            target: target.to_canonical(),
        }
    }
    /// How far the probe's clock is from `now`, when more than allowed.
    pub fn skew(&self, now: u64) -> Option<u64> {
        let d = now.abs_diff(self.time);
        (d > MAX_SKEW_SECS).then_some(d)
    }
}

/// Seconds since 1970 (0 if the clock is before it).
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// An address as the MAC covers it: 16 bytes, IPv4 as IPv4-mapped IPv6, so
/// that `10.0.0.2` and `::ffff:10.0.0.2` (a dual-stack socket) agree.
fn addr_bytes(a: IpAddr) -> [u8; 16] {
    match a.to_canonical() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The shared secret (never printed).
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Name of the environment variable holding the secret.
pub const SECRET_ENV: &str = "PORTPLAN_SECRET";

impl Secret {
    /// A secret strong enough that the tokens a responder gives anyone do
    /// not reveal it: at least `MIN_SECRET_LEN` characters, not repetitive.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, String> {
        let b = bytes.into();
        if b.is_empty() {
            return Err(format!("the shared secret is empty: {MAKE_ONE}"));
        }
        if b.len() < MIN_SECRET_LEN {
            return Err(format!(
                "the shared secret is {} characters; at least {MIN_SECRET_LEN} are needed, since a responder answers anyone and a short secret can be guessed from one answer: {MAKE_ONE}",
                b.len()
            ));
        }
        let distinct = b.iter().collect::<std::collections::BTreeSet<_>>().len();
        if distinct < MIN_DISTINCT {
            return Err(format!(
                "the shared secret has only {distinct} different characters: use random ones, {MAKE_ONE}"
            ));
        }
        Ok(Secret(b))
    }
    /// `--secret-file` wins over `PORTPLAN_SECRET`; none of them gives
    /// `Ok(None)`. A file's trailing newline is not part of the secret. A
    /// file larger than `MAX_SECRET_FILE` is refused (it is not a secret,
    /// and `/dev/zero` would never end); a file other users may read comes
    /// with a warning, for the caller to print.
    pub fn load(file: Option<&Path>) -> Result<Option<Loaded>, String> {
        if let Some(p) = file {
            let shown = p.display();
            let f = std::fs::File::open(p)
                .map_err(|e| format!("cannot read the secret file {shown}: {e}"))?;
            let warning = readable_by_others(&f).then(|| {
                format!(
                    "the secret file {shown} can be read by other users of this host: `chmod 600 {shown}`"
                )
            });
            let mut b = Vec::new();
            f.take(MAX_SECRET_FILE + 1)
                .read_to_end(&mut b)
                .map_err(|e| format!("cannot read the secret file {shown}: {e}"))?;
            if b.len() as u64 > MAX_SECRET_FILE {
                return Err(format!(
                    "the secret file {shown} holds more than {MAX_SECRET_FILE} bytes: a secret is one line ({MAKE_ONE})"
                ));
            }
            while matches!(b.last(), Some(b'\n' | b'\r')) {
                b.pop();
            }
            return Secret::new(b)
                .map(|secret| Some(Loaded { secret, warning }))
                .map_err(|e| format!("{shown}: {e}"));
        }
        match std::env::var_os(SECRET_ENV) {
            Some(v) => Secret::new(v.into_encoded_bytes())
                .map(|secret| {
                    Some(Loaded {
                        secret,
                        warning: None,
                    })
                })
                .map_err(|e| format!("{SECRET_ENV}: {e}")),
            None => Ok(None),
        }
    }
    fn mac(&self, p: &Probe, addr: IpAddr, port: u16, proto: Protocol) -> Hmac<Sha256> {
        // new_from_slice only fails for fixed-size keys; HMAC takes any length.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        m.update(TAG);
        m.update(&p.nonce);
        m.update(&p.time.to_be_bytes());
        m.update(&addr_bytes(addr));
        m.update(&port.to_be_bytes());
        m.update(&[proto_byte(proto)]);
        m
    }
    /// The token a responder sends for a probe that arrived at `addr`.
    pub fn token(&self, p: &Probe, addr: IpAddr, port: u16, proto: Protocol) -> [u8; MAC_LEN] {
        self.mac(p, addr, port, proto)
            .finalize()
            .into_bytes()
            .into()
    }
    /// Constant-time check of a token for a probe sent to `addr`.
    pub fn check(&self, p: &Probe, addr: IpAddr, port: u16, proto: Protocol, tok: &[u8]) -> bool {
        self.mac(p, addr, port, proto).verify_slice(tok).is_ok()
    }
}

/// A secret as loaded, with a warning about where it came from.
#[derive(Debug)]
pub struct Loaded {
    pub secret: Secret,
    pub warning: Option<String>,
}

/// Whether group or others may read the file (a regular file only: a pipe
/// from `<(...)` or a descriptor is the caller's own).
fn readable_by_others(f: &std::fs::File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o044 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        let _ = f;
        false
    }
}

fn proto_byte(p: Protocol) -> u8 {
    p.number()
}

/// A fresh random nonce.
pub fn nonce() -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    if getrandom::fill(&mut n).is_err() {
        // No OS randomness is close to impossible on Linux; a time-based
        // nonce still differs per probe, which is what replay protection needs.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        n.copy_from_slice(&t.to_le_bytes());
    }
    n
}

/// The bytes of a probe.
pub fn probe(p: &Probe) -> [u8; PROBE_LEN] {
    let mut b = [0u8; PROBE_LEN];
    b[..8].copy_from_slice(MAGIC);
    b[8] = PROBE_KIND;
    b[9..TIME_AT].copy_from_slice(&p.nonce);
    b[TIME_AT..TARGET_AT].copy_from_slice(&p.time.to_be_bytes());
    b[TARGET_AT..TARGET_AT + 16].copy_from_slice(&addr_bytes(p.target));
    b
}

/// The probe in well-formed bytes; anything else is not a probe.
pub fn parse_probe(b: &[u8]) -> Option<Probe> {
    if b.len() != PROBE_LEN || &b[..8] != MAGIC || b[8] != PROBE_KIND {
        return None;
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&b[9..TIME_AT]);
    let mut t = [0u8; 8];
    t.copy_from_slice(&b[TIME_AT..TARGET_AT]);
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[TARGET_AT..TARGET_AT + 16]);
    Some(Probe {
        nonce,
        time: u64::from_be_bytes(t),
        target: IpAddr::V6(std::net::Ipv6Addr::from(a)).to_canonical(),
    })
}

/// The bytes of a reply.
pub fn reply(tok: &[u8; MAC_LEN]) -> [u8; REPLY_LEN] {
    let mut b = [0u8; REPLY_LEN];
    b[..8].copy_from_slice(MAGIC);
    b[8] = REPLY_KIND;
    b[9..].copy_from_slice(tok);
    b
}

/// The token of something shaped like a reply.
pub fn parse_reply(b: &[u8]) -> Option<&[u8]> {
    (b.len() == REPLY_LEN && &b[..8] == MAGIC && b[8] == REPLY_KIND).then(|| &b[9..])
}

/// What a reply proves, given the secret we hold and the address we aimed
/// at. A reply that does not check is an impostor's: something answered in
/// a responder's framing without proving it holds the secret for this
/// address and port (another secret, a relay to another host, a forgery).
pub fn judge_reply(
    secret: Option<&Secret>,
    p: &Probe,
    addr: IpAddr,
    port: u16,
    proto: Protocol,
    tok: &[u8],
) -> (crate::State, &'static str) {
    match secret {
        Some(s) if s.check(p, addr, port, proto, tok) => {
            (crate::State::Verified, "portplan responder: token valid")
        }
        Some(_) => (
            crate::State::Impostor,
            "a reply in the responder's framing whose token does not check (another secret, a relay or DNAT to another address, or a forgery)",
        ),
        None => (
            crate::State::Open,
            "portplan responder answered; no secret given to check its token",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "k9Qx2vR7pL0mZ4tW8yB1nC6d";

    fn a(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_token_checks_only_for_its_probe_address_port_protocol_and_secret() {
        let s = Secret::new(S).unwrap();
        let p = Probe::new(a("10.0.0.2"));
        let t = s.token(&p, a("10.0.0.2"), 443, Protocol::Tcp);
        assert!(s.check(&p, a("10.0.0.2"), 443, Protocol::Tcp, &t));
        // The same address seen by a dual-stack socket.
        assert!(s.check(&p, a("::ffff:10.0.0.2"), 443, Protocol::Tcp, &t));
        assert!(!s.check(&p, a("10.0.0.3"), 443, Protocol::Tcp, &t));
        assert!(!s.check(&p, a("10.0.0.2"), 444, Protocol::Tcp, &t));
        assert!(!s.check(&p, a("10.0.0.2"), 443, Protocol::Udp, &t));
        assert!(!s.check(
            &Probe::new(a("10.0.0.2")),
            a("10.0.0.2"),
            443,
            Protocol::Tcp,
            &t
        ));
        let later = Probe {
            time: p.time + 1,
            ..p
        };
        assert!(!s.check(&later, a("10.0.0.2"), 443, Protocol::Tcp, &t));
        let other = Secret::new("Zp3wQ8vN1xR5tY7uK2mL9bC4").unwrap();
        assert!(!other.check(&p, a("10.0.0.2"), 443, Protocol::Tcp, &t));
    }

    #[test]
    fn framing_round_trips_rejects_garbage_and_never_amplifies() {
        let p = Probe::new(a("10.0.0.2"));
        assert_eq!(parse_probe(&probe(&p)), Some(p));
        let p6 = Probe::new(a("2001:db8::1"));
        assert_eq!(parse_probe(&probe(&p6)), Some(p6));
        assert_eq!(parse_probe(b"GET / HTTP/1.0\r\n\r\n"), None);
        assert_eq!(parse_probe(&probe(&p)[..PROBE_LEN - 1]), None);
        let t = [7u8; MAC_LEN];
        assert_eq!(parse_reply(&reply(&t)), Some(&t[..]));
        assert_eq!(parse_reply(&probe(&p)), None);
        const { assert!(REPLY_LEN <= PROBE_LEN) };
    }

    #[test]
    fn clocks_far_apart_are_refused() {
        let p = Probe {
            nonce: [0; NONCE_LEN],
            time: 1_000_000,
            target: a("10.0.0.2"),
        };
        assert_eq!(p.skew(1_000_000 + MAX_SKEW_SECS), None);
        assert_eq!(p.skew(1_000_000 - MAX_SKEW_SECS), None);
        assert_eq!(p.skew(1_000_000 + 301), Some(301));
        assert_eq!(p.skew(0), Some(1_000_000));
    }

    #[test]
    fn weak_secrets_are_refused_with_how_to_make_one() {
        for weak in [
            "",
            "s3cret",
            "bed-secret-1",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "abababababababababababab",
        ] {
            let e = Secret::new(weak).unwrap_err();
            assert!(e.contains("openssl rand"), "{weak}: {e}");
        }
        assert!(Secret::new(S).is_ok());
    }

    #[test]
    fn secret_files_are_bounded_and_their_permissions_checked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("pp-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("s");
        std::fs::write(&f, format!("{S}\n")).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let l = Secret::load(Some(&f)).unwrap().unwrap();
        assert!(l.warning.is_none());
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let l = Secret::load(Some(&f)).unwrap().unwrap();
        assert!(l.warning.unwrap().contains("chmod 600"));
        // An endless file is cut at the bound, not read until memory ends.
        let e = Secret::load(Some(Path::new("/dev/zero"))).unwrap_err();
        assert!(e.contains("more than 4096 bytes"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The portplan probe protocol: a probe carries a random nonce; a responder
//! answers `HMAC-SHA256(secret, nonce ‖ port ‖ protocol)` and nothing else.
//! Binding the port and protocol into the MAC means a token captured on one
//! port cannot be replayed by a stray service on another; the nonce means it
//! cannot be replayed at all.

use hmac::{Hmac, Mac};
use portplan_model::Protocol;
use sha2::Sha256;
use std::path::Path;

/// Marks portplan traffic; the version digit changes if the framing does.
pub const MAGIC: &[u8; 8] = b"PORTPLN1";
const PROBE_KIND: u8 = b'?';
const REPLY_KIND: u8 = b'!';
pub const NONCE_LEN: usize = 16;
pub const MAC_LEN: usize = 32;
pub const PROBE_LEN: usize = MAGIC.len() + 1 + NONCE_LEN;
pub const REPLY_LEN: usize = MAGIC.len() + 1 + MAC_LEN;

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
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, String> {
        let b = bytes.into();
        if b.is_empty() {
            return Err("the shared secret is empty".into());
        }
        Ok(Secret(b))
    }
    /// `--secret-file` wins over `PORTPLAN_SECRET`; none of them gives `Ok(None)`.
    /// A file's trailing newline is not part of the secret.
    pub fn load(file: Option<&Path>) -> Result<Option<Self>, String> {
        if let Some(p) = file {
            let mut b = std::fs::read(p)
                .map_err(|e| format!("cannot read the secret file {}: {e}", p.display()))?;
            while matches!(b.last(), Some(b'\n' | b'\r')) {
                b.pop();
            }
            return Secret::new(b)
                .map(Some)
                .map_err(|e| format!("{}: {e}", p.display()));
        }
        match std::env::var_os(SECRET_ENV) {
            Some(v) => Secret::new(v.into_encoded_bytes())
                .map(Some)
                .map_err(|e| format!("{SECRET_ENV}: {e}")),
            None => Ok(None),
        }
    }
    fn mac(&self, nonce: &[u8; NONCE_LEN], port: u16, proto: Protocol) -> Hmac<Sha256> {
        // new_from_slice only fails for fixed-size keys; HMAC takes any length.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        m.update(nonce);
        m.update(&port.to_be_bytes());
        m.update(&[proto_byte(proto)]);
        m
    }
    /// The token a responder sends for this probe.
    pub fn token(&self, nonce: &[u8; NONCE_LEN], port: u16, proto: Protocol) -> [u8; MAC_LEN] {
        self.mac(nonce, port, proto).finalize().into_bytes().into()
    }
    /// Constant-time check of a token.
    pub fn check(&self, nonce: &[u8; NONCE_LEN], port: u16, proto: Protocol, tok: &[u8]) -> bool {
        self.mac(nonce, port, proto).verify_slice(tok).is_ok()
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
pub fn probe(nonce: &[u8; NONCE_LEN]) -> [u8; PROBE_LEN] {
    let mut b = [0u8; PROBE_LEN];
    b[..8].copy_from_slice(MAGIC);
    b[8] = PROBE_KIND;
    b[9..].copy_from_slice(nonce);
    b
}

/// The nonce of a well-formed probe; anything else is not a probe.
pub fn parse_probe(b: &[u8]) -> Option<[u8; NONCE_LEN]> {
    if b.len() != PROBE_LEN || &b[..8] != MAGIC || b[8] != PROBE_KIND {
        return None;
    }
    let mut n = [0u8; NONCE_LEN];
    n.copy_from_slice(&b[9..]);
    Some(n)
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

/// What a reply proves, given the secret we hold.
pub fn judge_reply(
    secret: Option<&Secret>,
    nonce: &[u8; NONCE_LEN],
    port: u16,
    proto: Protocol,
    tok: &[u8],
) -> (crate::State, &'static str) {
    match secret {
        Some(s) if s.check(nonce, port, proto, tok) => {
            (crate::State::Verified, "portplan responder: token valid")
        }
        Some(_) => (
            crate::State::Open,
            "portplan responder answered: token mismatch",
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

    #[test]
    fn a_token_checks_only_for_its_nonce_port_protocol_and_secret() {
        let s = Secret::new("s3cret").unwrap();
        let n = nonce();
        let t = s.token(&n, 443, Protocol::Tcp);
        assert!(s.check(&n, 443, Protocol::Tcp, &t));
        assert!(!s.check(&n, 444, Protocol::Tcp, &t));
        assert!(!s.check(&n, 443, Protocol::Udp, &t));
        assert!(!s.check(&nonce(), 443, Protocol::Tcp, &t));
        let other = Secret::new("other").unwrap();
        assert!(!other.check(&n, 443, Protocol::Tcp, &t));
    }

    #[test]
    fn framing_round_trips_and_rejects_garbage() {
        let n = nonce();
        assert_eq!(parse_probe(&probe(&n)), Some(n));
        assert_eq!(parse_probe(b"GET / HTTP/1.0\r\n\r\n"), None);
        assert_eq!(parse_probe(&probe(&n)[..PROBE_LEN - 1]), None);
        let t = [7u8; MAC_LEN];
        assert_eq!(parse_reply(&reply(&t)), Some(&t[..]));
        assert_eq!(parse_reply(&probe(&n)), None);
        assert!(Secret::new("").is_err());
    }
}

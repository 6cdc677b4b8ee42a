//! Junos tables the reader needs: the predefined `junos-*` applications of
//! the `junos-defaults` group, the port names `destination-port` takes, and
//! the ICMP type names.
//!
//! Sources (read 2026-11-30): Juniper, "Predefined Policy Applications" (Security
//! Policies User Guide), "show groups junos-defaults" (CLI reference, Junos
//! 12.2), "destination-port (Applications)" Table 4 "Port Names Supported by
//! Services Interfaces" (Junos-ES 9.3 CLI reference), "ALG Descriptions"
//! (Junos 13.1). Each predefined application matches any source port.

use crate::space::{ICMP, ICMPV6, TCP, UDP};

/// One match of a predefined application: protocol and destination ports
/// (ICMP types for ICMP; `None` for a protocol without ports).
pub type Term = (u8, Option<(u16, u16)>);

/// What an application-layer gateway adds to a predefined application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// None: the application is exactly its terms.
    No,
    /// The ALG opens further connections (pinholes) on ports negotiated in
    /// the control connection: the terms are the control connection only.
    Pinholes(&'static str),
    /// The application is defined by RPC program numbers or UUIDs whose
    /// ports are negotiated: no fixed ports at all.
    Dynamic(&'static str),
}

pub struct Predefined {
    pub name: &'static str,
    pub terms: &'static [Term],
    pub alg: Alg,
}

const fn p(name: &'static str, terms: &'static [Term], alg: Alg) -> Predefined {
    Predefined { name, terms, alg }
}

const fn t(proto: u8, lo: u16, hi: u16) -> Term {
    (proto, Some((lo, hi)))
}

/// The `junos-*` applications this reader knows. A name not listed here is
/// reported, never guessed.
pub static PREDEFINED: &[Predefined] = &[
    p("junos-aol", &[t(TCP, 5190, 5193)], Alg::No),
    p("junos-bgp", &[t(TCP, 179, 179)], Alg::No),
    p("junos-biff", &[t(UDP, 512, 512)], Alg::No),
    p("junos-bootpc", &[t(UDP, 68, 68)], Alg::No),
    p("junos-bootps", &[t(UDP, 67, 67)], Alg::No),
    p("junos-chargen", &[t(UDP, 19, 19)], Alg::No),
    p("junos-cvspserver", &[t(TCP, 2401, 2401)], Alg::No),
    p("junos-dhcp-client", &[t(UDP, 68, 68)], Alg::No),
    p("junos-dhcp-relay", &[t(UDP, 67, 67)], Alg::No),
    p("junos-dhcp-server", &[t(UDP, 67, 67)], Alg::No),
    p("junos-discard", &[t(UDP, 9, 9)], Alg::No),
    p("junos-dns-tcp", &[t(TCP, 53, 53)], Alg::No),
    p("junos-dns-udp", &[t(UDP, 53, 53)], Alg::No),
    p("junos-echo", &[t(UDP, 7, 7)], Alg::No),
    p("junos-finger", &[t(TCP, 79, 79)], Alg::No),
    p(
        "junos-ftp",
        &[t(TCP, 21, 21)],
        Alg::Pinholes(
            "the FTP ALG opens data connections on ports negotiated in the control connection",
        ),
    ),
    p("junos-ftp-data", &[t(TCP, 20, 20)], Alg::No),
    p("junos-gopher", &[t(TCP, 70, 70)], Alg::No),
    p("junos-gre", &[(47, None)], Alg::No),
    p(
        "junos-h323",
        &[t(TCP, 1720, 1720), t(UDP, 1719, 1719)],
        Alg::Pinholes("the H.323 ALG opens media channels on negotiated ports"),
    ),
    p("junos-http", &[t(TCP, 80, 80)], Alg::No),
    p("junos-https", &[t(TCP, 443, 443)], Alg::No),
    p("junos-icmp-all", &[t(ICMP, 0, 255)], Alg::No),
    p("junos-icmp-ping", &[t(ICMP, 8, 8)], Alg::No),
    p("junos-icmp6-all", &[t(ICMPV6, 0, 255)], Alg::No),
    p("junos-icmp6-echo-request", &[t(ICMPV6, 128, 128)], Alg::No),
    p("junos-icmp6-echo-reply", &[t(ICMPV6, 129, 129)], Alg::No),
    p("junos-icmp6-packet-too-big", &[t(ICMPV6, 2, 2)], Alg::No),
    p("junos-ident", &[t(TCP, 113, 113)], Alg::No),
    p("junos-ike", &[t(UDP, 500, 500)], Alg::No),
    p("junos-ike-nat", &[t(UDP, 4500, 4500)], Alg::No),
    p("junos-imap", &[t(TCP, 143, 143)], Alg::No),
    p("junos-imaps", &[t(TCP, 993, 993)], Alg::No),
    p("junos-irc", &[t(TCP, 6660, 6669)], Alg::No),
    p("junos-l2tp", &[t(UDP, 1701, 1701)], Alg::No),
    p("junos-ldap", &[t(TCP, 389, 389)], Alg::No),
    p("junos-ldp-tcp", &[t(TCP, 646, 646)], Alg::No),
    p("junos-ldp-udp", &[t(UDP, 646, 646)], Alg::No),
    p(
        "junos-ms-rpc-epm",
        &[t(TCP, 135, 135), t(UDP, 135, 135)],
        Alg::Pinholes("the MS-RPC ALG opens the endpoint mapper's dynamic ports"),
    ),
    p(
        "junos-ms-rpc",
        &[],
        Alg::Dynamic("MS-RPC services are matched by UUID on ports the endpoint mapper assigns"),
    ),
    p(
        "junos-ms-rpc-any",
        &[],
        Alg::Dynamic("MS-RPC services are matched by UUID on ports the endpoint mapper assigns"),
    ),
    p(
        "junos-ms-rpc-tcp",
        &[],
        Alg::Dynamic("MS-RPC services are matched by UUID on ports the endpoint mapper assigns"),
    ),
    p(
        "junos-ms-rpc-udp",
        &[],
        Alg::Dynamic("MS-RPC services are matched by UUID on ports the endpoint mapper assigns"),
    ),
    p("junos-ms-sql", &[t(TCP, 1433, 1433)], Alg::No),
    p("junos-nbds", &[t(UDP, 138, 138)], Alg::No),
    p("junos-nbname", &[t(UDP, 137, 137)], Alg::No),
    p("junos-netbios-session", &[t(TCP, 139, 139)], Alg::No),
    p("junos-nfsd-tcp", &[t(TCP, 2049, 2049)], Alg::No),
    p("junos-nfsd-udp", &[t(UDP, 2049, 2049)], Alg::No),
    p("junos-nntp", &[t(TCP, 119, 119)], Alg::No),
    p("junos-ntalk", &[t(UDP, 518, 518)], Alg::No),
    p("junos-ntp", &[t(UDP, 123, 123)], Alg::No),
    p("junos-ospf", &[(89, None)], Alg::No),
    p("junos-ping", &[t(ICMP, 8, 8)], Alg::No),
    p("junos-pingv6", &[t(ICMPV6, 128, 128)], Alg::No),
    p("junos-pop3", &[t(TCP, 110, 110)], Alg::No),
    p(
        "junos-pptp",
        &[t(TCP, 1723, 1723)],
        Alg::Pinholes("the PPTP ALG opens the GRE tunnel the control connection sets up"),
    ),
    p("junos-printer", &[t(TCP, 515, 515)], Alg::No),
    p("junos-radacct", &[t(UDP, 1813, 1813)], Alg::No),
    p("junos-radius", &[t(UDP, 1812, 1812)], Alg::No),
    p("junos-rip", &[t(UDP, 520, 520)], Alg::No),
    p(
        "junos-rsh",
        &[t(TCP, 514, 514)],
        Alg::Pinholes("the RSH ALG opens the standard-error connection back to the client"),
    ),
    p(
        "junos-rtsp",
        &[t(TCP, 554, 554)],
        Alg::Pinholes("the RTSP ALG opens media streams on negotiated ports"),
    ),
    p(
        "junos-sip",
        &[t(UDP, 5060, 5060), t(TCP, 5060, 5060)],
        Alg::Pinholes("the SIP ALG opens media channels on negotiated ports"),
    ),
    p("junos-smb", &[t(TCP, 139, 139), t(TCP, 445, 445)], Alg::No),
    p("junos-smb-session", &[t(TCP, 445, 445)], Alg::No),
    p("junos-smtp", &[t(TCP, 25, 25)], Alg::No),
    p("junos-smtps", &[t(TCP, 465, 465)], Alg::No),
    p("junos-snmp-agentx", &[t(TCP, 705, 705)], Alg::No),
    p("junos-snpp", &[t(TCP, 444, 444)], Alg::No),
    p(
        "junos-sqlnet-v2",
        &[t(TCP, 1521, 1521)],
        Alg::Pinholes("the SQLNET ALG opens redirected connections on negotiated ports"),
    ),
    p("junos-ssh", &[t(TCP, 22, 22)], Alg::No),
    p(
        "junos-sun-rpc",
        &[],
        Alg::Dynamic(
            "Sun RPC services are matched by program number on ports the portmapper assigns",
        ),
    ),
    p(
        "junos-sun-rpc-any",
        &[],
        Alg::Dynamic(
            "Sun RPC services are matched by program number on ports the portmapper assigns",
        ),
    ),
    p(
        "junos-sun-rpc-portmap-tcp",
        &[t(TCP, 111, 111)],
        Alg::Pinholes("the Sun RPC ALG opens the ports the portmapper assigns"),
    ),
    p(
        "junos-sun-rpc-portmap-udp",
        &[t(UDP, 111, 111)],
        Alg::Pinholes("the Sun RPC ALG opens the ports the portmapper assigns"),
    ),
    p("junos-syslog", &[t(UDP, 514, 514)], Alg::No),
    p("junos-tacacs", &[t(TCP, 49, 49)], Alg::No),
    p("junos-tacacs-ds", &[t(TCP, 65, 65)], Alg::No),
    p(
        "junos-talk",
        &[t(UDP, 517, 517)],
        Alg::Pinholes("the TALK ALG opens the session connection on a negotiated port"),
    ),
    p("junos-tcp-any", &[t(TCP, 0, 65535)], Alg::No),
    p("junos-telnet", &[t(TCP, 23, 23)], Alg::No),
    p(
        "junos-tftp",
        &[t(UDP, 69, 69)],
        Alg::Pinholes("the TFTP ALG opens the transfer on the server's chosen port"),
    ),
    p("junos-udp-any", &[t(UDP, 0, 65535)], Alg::No),
    p("junos-uucp", &[t(TCP, 540, 540)], Alg::No),
    p("junos-wais", &[t(TCP, 210, 210)], Alg::No),
    p("junos-who", &[t(UDP, 513, 513)], Alg::No),
    p("junos-whois", &[t(TCP, 43, 43)], Alg::No),
    p("junos-x-windows", &[t(TCP, 6000, 6063)], Alg::No),
    p("junos-xnm-clear-text", &[t(TCP, 3221, 3221)], Alg::No),
    p("junos-xnm-ssl", &[t(TCP, 3220, 3220)], Alg::No),
];

pub fn predefined(name: &str) -> Option<&'static Predefined> {
    PREDEFINED.iter().find(|p| p.name == name)
}

/// ALG names a custom application's `application-protocol` may give that
/// open further connections.
pub fn alg_opens_pinholes(alg: &str) -> bool {
    matches!(
        alg,
        "ftp"
            | "tftp"
            | "rtsp"
            | "sip"
            | "h323"
            | "pptp"
            | "rsh"
            | "sqlnet"
            | "sqlnet-v2"
            | "talk"
            | "ms-rpc"
            | "sun-rpc"
            | "dce-rpc"
            | "dce-rpc-portmap"
            | "rpc"
            | "rpc-portmap"
            | "mgcp-ca"
            | "mgcp-ua"
            | "sccp"
            | "netshow"
            | "realaudio"
            | "q931"
            | "ras"
            | "iiop"
            | "winframe"
    )
}

/// A port by number or by the name Junos accepts for it.
pub fn port_number(s: &str) -> Option<u16> {
    if let Ok(n) = s.parse::<u16>() {
        return Some(n);
    }
    Some(match s {
        "afs" => 1483,
        "bgp" => 179,
        "biff" => 512,
        "bootpc" => 68,
        "bootps" => 67,
        "cmd" => 514,
        "cvspserver" => 2401,
        "dhcp" => 67,
        "domain" => 53,
        "eklogin" => 2105,
        "ekshell" => 2106,
        "exec" => 512,
        "finger" => 79,
        "ftp" => 21,
        "ftp-data" => 20,
        "http" => 80,
        "https" => 443,
        "ident" => 113,
        "imap" => 143,
        "kerberos-sec" => 88,
        "klogin" => 543,
        "kpasswd" => 761,
        "krb-prop" => 754,
        "krbupdate" => 760,
        "kshell" => 544,
        "ldap" => 389,
        "ldp" => 646,
        "login" => 513,
        "mobileip-agent" => 434,
        "mobilip-mn" => 435,
        "msdp" => 639,
        "netbios-dgm" => 138,
        "netbios-ns" => 137,
        "netbios-ssn" => 139,
        "nfsd" => 2049,
        "nntp" => 119,
        "ntalk" => 518,
        "ntp" => 123,
        "pop3" => 110,
        "pptp" => 1723,
        "printer" => 515,
        "radacct" => 1813,
        "radius" => 1812,
        "rip" => 520,
        "rkinit" => 2108,
        "smtp" => 25,
        "snmp" => 161,
        "snmptrap" | "snmp-trap" => 162,
        "snpp" => 444,
        "socks" => 1080,
        "ssh" => 22,
        "sunrpc" => 111,
        "syslog" => 514,
        "tacacs" => 49,
        "tacacs-ds" => 65,
        "talk" => 517,
        "telnet" => 23,
        "tftp" => 69,
        "timed" => 525,
        "who" => 513,
        "xdmcp" => 177,
        _ => return None,
    })
}

/// `80`, `8000-8999`, `http`, `1024-65535`.
pub fn port_range(s: &str) -> Option<(u16, u16)> {
    let s = s.trim();
    if let Some(n) = port_number(s) {
        return Some((n, n));
    }
    let (a, b) = s.split_once('-')?;
    let a = port_number(a.trim())?;
    let b = port_number(b.trim())?;
    (a <= b).then_some((a, b))
}

/// An ICMP (or ICMPv6, `six`) type by number or Junos name.
pub fn icmp_type(s: &str, six: bool) -> Option<u8> {
    if let Ok(n) = s.parse::<u8>() {
        return Some(n);
    }
    let v = if six {
        match s {
            "destination-unreachable" => 1,
            "packet-too-big" => 2,
            "time-exceeded" => 3,
            "parameter-problem" => 4,
            "echo-request" => 128,
            "echo-reply" => 129,
            "membership-query" => 130,
            "membership-report" => 131,
            "membership-termination" => 132,
            "router-solicit" => 133,
            "router-advertisement" => 134,
            "neighbor-solicit" => 135,
            "neighbor-advertisement" => 136,
            "redirect" => 137,
            "router-renumbering" => 138,
            "node-information-request" => 139,
            "node-information-reply" => 140,
            _ => return None,
        }
    } else {
        match s {
            "echo-reply" => 0,
            "unreachable" => 3,
            "source-quench" => 4,
            "redirect" => 5,
            "echo-request" => 8,
            "router-advertisement" => 9,
            "router-solicit" => 10,
            "time-exceeded" => 11,
            "parameter-problem" => 12,
            "timestamp" => 13,
            "timestamp-reply" => 14,
            "info-request" => 15,
            "info-reply" => 16,
            "mask-request" => 17,
            "mask-reply" => 18,
            _ => return None,
        }
    };
    Some(v)
}

/// An IP protocol as Junos names it (`icmp6`, `ah`, numbers).
pub fn protocol(s: &str) -> Option<u8> {
    match s {
        "icmp6" | "icmpv6" => Some(ICMPV6),
        "ah" => Some(51),
        "esp" => Some(50),
        "gre" => Some(47),
        "ospf" => Some(89),
        "pim" => Some(103),
        "vrrp" => Some(112),
        "sctp" => Some(132),
        "igmp" => Some(2),
        "ipip" => Some(4),
        "egp" => Some(8),
        "rsvp" => Some(46),
        "ipv6" => Some(41),
        _ => crate::space::proto_number(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables() {
        assert_eq!(
            predefined("junos-https").map(|p| p.terms),
            Some(&[t(TCP, 443, 443)][..])
        );
        assert!(matches!(
            predefined("junos-ftp").map(|p| p.alg),
            Some(Alg::Pinholes(_))
        ));
        assert_eq!(port_range("http"), Some((80, 80)));
        assert_eq!(port_range("8000-8999"), Some((8000, 8999)));
        assert_eq!(port_range("9-1"), None);
        assert_eq!(icmp_type("echo-request", true), Some(128));
        assert_eq!(protocol("icmp6"), Some(58));
        // Names are unique.
        let mut names: Vec<&str> = PREDEFINED.iter().map(|p| p.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
    }
}

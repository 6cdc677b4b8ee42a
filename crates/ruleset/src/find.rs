//! Whole-text searches for the readers' sniffs: format detection asks
//! every reader about the whole file, and a 100,000-line ACL is 32 MB, so
//! each search that `str::contains` did in a scan of its own (half a
//! second in all, before any reading began) is a vectorised `memmem` here.
//! Same answers: a byte-exact substring search.

use memchr::{memchr2_iter, memmem};

/// `text.contains(needle)`, faster on long texts.
pub(crate) fn has(text: &str, needle: &str) -> bool {
    memmem::find(text.as_bytes(), needle.as_bytes()).is_some()
}

/// `text.to_ascii_lowercase().contains(needle)` for an ASCII `needle` in
/// lower case, without copying the text: the needle's rarest letter is
/// looked for in both cases and the bytes around it compared.
pub(crate) fn has_ignore_case(text: &str, needle: &str) -> bool {
    let hay = text.as_bytes();
    let n = needle.as_bytes();
    debug_assert!(n.iter().all(|b| b.is_ascii() && !b.is_ascii_uppercase()));
    if n.is_empty() {
        return true;
    }
    // Letters from rare to common in rule files: English text's order, but
    // `w` before `f` and `p` (`from`, `interface`, `permit`, `port`).
    const RARE: &[u8] = b"zqxjkwvbygfpmucldrhsnioate";
    let at = RARE
        .iter()
        .find_map(|r| n.iter().position(|b| b == r))
        .unwrap_or(0);
    let lower = n[at];
    let upper = lower.to_ascii_uppercase();
    memchr2_iter(lower, upper, hay).any(|i| {
        i >= at
            && hay
                .get(i - at..i - at + n.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_as_lowercase_contains() {
        let texts = [
            "",
            "New-NetFirewallRule -Name x",
            "x new-netfirewallrul",
            "NEW-NETFIREWALLRULE",
            "Set-NetFirewallProfile -Enabled True",
            "Get-NetFirewallRule | x",
            "netfirewallrule",
            "ünïcode New-NetFirewallRule ü",
            "fff wwww netfirewal",
        ];
        for t in texts {
            for n in [
                "new-netfirewallrule",
                "set-netfirewallprofile",
                "netfirewallrule",
            ] {
                assert_eq!(
                    has_ignore_case(t, n),
                    t.to_ascii_lowercase().contains(n),
                    "{t:?} {n:?}"
                );
                assert_eq!(has(t, n), t.contains(n));
            }
        }
    }
}

//! Reads Windows Firewall rules written as PowerShell: what
//! `render/src/windows.rs` writes (`New-NetFirewallRule` calls in a rule
//! group the script first empties) and the same cmdlets as engineers write
//! them, with continuations, variables, splatting, `Set-NetFirewallProfile`
//! and `Set-` / `Enable-` / `Disable-` / `Remove-NetFirewallRule`.
//!
//! Semantics (New-NetFirewallRule and Set-NetFirewallProfile reference,
//! learn.microsoft.com/powershell/module/netsecurity; [MS-FASP] 2.2.34
//! FW_RULE_ACTION): rule order does not matter; allow-bypass rules (allow
//! with -OverrideBlockRules, for authenticated traffic) win over block
//! rules, block rules win over allow rules, and what no rule matches gets
//! the active profile's default action (Windows' defaults: inbound Block,
//! outbound Allow). Each direction is one chain: bypass, block, allow
//! rules, then the default. Inbound, the remote address is the source and
//! the local port the destination port; outbound, the remote address is
//! the destination, the remote port the destination port. The firewall is
//! stateful: only the first packet of a connection is asked about.

use crate::model::*;
use crate::space::{self, Addrs, Ranges};
use crate::windows_ps::{self, Stmt, Tok, ESCAPED_DOLLAR};
use crate::words;
use crate::Reader;
use portplan_model::{Diagnostic, Location};
use std::collections::HashMap;

pub struct Windows;

impl Reader for Windows {
    fn name(&self) -> &'static str {
        "windows"
    }
    fn about(&self) -> &'static str {
        "PowerShell New-NetFirewallRule / Set-NetFirewallProfile scripts (Windows Firewall)"
    }
    fn sniff(&self, text: &str) -> u8 {
        // As if lowercased, without copying a large file to do so.
        let has = |n: &str| crate::find::has_ignore_case(text, n);
        if has("new-netfirewallrule") {
            90
        } else if has("set-netfirewallprofile") {
            80
        } else if has("netfirewallrule") {
            70
        } else {
            0
        }
    }
    fn read(&self, text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        read(text, file)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dir {
    In,
    Out,
}

impl Dir {
    fn word(self) -> &'static str {
        match self {
            Dir::In => "inbound",
            Dir::Out => "outbound",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Act {
    Allow,
    Block,
    /// Allow that overrides block rules, for authenticated traffic only.
    Bypass,
    Unknown(usize),
}

/// A rule the script creates.
#[derive(Clone, Debug)]
struct WinRule {
    name: Option<String>,
    display: Option<String>,
    group: Option<String>,
    dir: Dir,
    act: Act,
    /// `None`: enabled. `Some(why)`: off.
    off: Option<String>,
    rule: Rule,
}

/// A value of a parameter: its items, or why it cannot be read.
#[derive(Clone, Debug, Default)]
struct Val {
    items: Vec<String>,
    unresolved: Option<String>,
}

#[derive(Clone, Debug)]
enum Var {
    List(Vec<String>),
    Hash(Vec<(String, Val)>),
    /// Assigned with something this reader does not evaluate.
    Unknown,
}

const PROFILES: [&str; 3] = ["Domain", "Private", "Public"];

/// What `Set-NetFirewallProfile` made of each profile.
#[derive(Clone, Debug, Default)]
struct Profile {
    /// Default actions, and where they were set: (allow, line, text).
    inbound: Option<(bool, usize, String)>,
    outbound: Option<(bool, usize, String)>,
    /// `-Enabled False`: the firewall is off in this profile.
    off: Option<(usize, String)>,
    /// `-AllowInboundRules False`: inbound allow rules are ignored.
    no_inbound_rules: Option<(usize, String)>,
    /// `-DisabledInterfaceAliases`: the firewall does not filter these.
    unfiltered: Vec<(String, usize, String)>,
}

struct St {
    set: Ruleset,
    vars: HashMap<String, Var>,
    rules: Vec<WinRule>,
    profiles: [Profile; 3],
    /// Rules the script enables or turns to allow / block that are not in
    /// the file: line, text, issue, direction (None: both).
    outside_allow: Vec<(usize, String, usize, Option<Dir>)>,
    outside_block: Vec<(usize, String, usize, Option<Dir>)>,
    firewall_cmdlets: usize,
}

fn read(text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
    let stmts = windows_ps::statements(text).map_err(|e| {
        Diagnostic::error(
            file,
            format!("cannot read the PowerShell script: {}", e.message),
        )
        .at(Some(Location {
            line: e.line,
            column: e.column,
        }))
    })?;
    let mut st = St {
        set: Ruleset::new("windows", file),
        vars: HashMap::new(),
        rules: Vec::new(),
        profiles: Default::default(),
        outside_allow: Vec::new(),
        outside_block: Vec::new(),
        firewall_cmdlets: 0,
    };
    for s in &stmts {
        statement(&mut st, s);
    }
    if st.firewall_cmdlets == 0 {
        let line = stmts.first().map_or(1, |s| s.line);
        return Err(Diagnostic::error(
            file,
            "no Windows Firewall cmdlet found: expected a PowerShell script of New-NetFirewallRule (or Set-NetFirewallProfile) commands",
        )
        .at(Some(Location { line, column: 1 })));
    }
    let mut set = build(st);
    for i in set.issues.iter_mut().chain(set.notes.iter_mut()) {
        i.text = one_line(&i.text);
    }
    Ok(set)
}

/// Scalars PowerShell knows by name.
fn builtin(name: &str) -> Option<&'static str> {
    Some(match name {
        "true" => "True",
        "false" => "False",
        "null" => "",
        _ => return None,
    })
}

/// A variable's name (`$script:x` is `x`), lowercased.
fn var_name(s: &str) -> String {
    let s = s.trim_start_matches('$');
    let s = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(s);
    let s = match s.split_once(':') {
        Some((scope, rest))
            if ["script", "global", "local", "private", "using"]
                .contains(&scope.to_ascii_lowercase().as_str()) =>
        {
            rest
        }
        _ => s,
    };
    s.to_ascii_lowercase()
}

impl St {
    /// A word with its variables expanded: items, or why not.
    fn expand(&self, text: &str, expand: bool, bare: bool) -> Val {
        let restore = |s: &str| s.replace(ESCAPED_DOLLAR, "$");
        if !expand || !text.contains('$') {
            return Val {
                items: vec![restore(text)],
                unresolved: None,
            };
        }
        // A bare `$x` stands for its whole value (a list stays a list).
        let whole = bare
            && text.starts_with('$')
            && text[1..]
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '{' || c == '}');
        if whole {
            let n = var_name(text);
            if let Some(b) = builtin(&n) {
                return Val {
                    items: vec![b.into()],
                    unresolved: None,
                };
            }
            return match self.vars.get(&n) {
                Some(Var::List(v)) => Val {
                    items: v.clone(),
                    unresolved: None,
                },
                Some(Var::Unknown) => Val {
                    items: vec![],
                    unresolved: Some(format!(
                        "`{text}` is assigned a value this reader does not evaluate"
                    )),
                },
                _ => Val {
                    items: vec![],
                    unresolved: Some(format!("`{text}` is not assigned in the file")),
                },
            };
        }
        // Inside a string: `$x`, `${x}`; `$(...)` is not evaluated.
        let mut out = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != '$' {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            if chars.get(i + 1) == Some(&'(') {
                return Val {
                    items: vec![],
                    unresolved: Some(format!("`{text}` holds a subexpression `$(...)`")),
                };
            }
            let mut j = i + 1;
            let mut name = String::new();
            if chars.get(j) == Some(&'{') {
                j += 1;
                while j < chars.len() && chars[j] != '}' {
                    name.push(chars[j]);
                    j += 1;
                }
                j += 1;
            } else {
                while j < chars.len()
                    && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == ':')
                {
                    name.push(chars[j]);
                    j += 1;
                }
            }
            if name.is_empty() {
                out.push('$');
                i += 1;
                continue;
            }
            let n = var_name(&name);
            match (builtin(&n), self.vars.get(&n)) {
                (Some(b), _) => out.push_str(b),
                (None, Some(Var::List(v))) => out.push_str(&v.join(" ")),
                _ => {
                    return Val {
                        items: vec![],
                        unresolved: Some(format!(
                            "`${name}` in `{text}` is not assigned a value in the file"
                        )),
                    }
                }
            }
            i = j;
        }
        Val {
            items: vec![restore(&out)],
            unresolved: None,
        }
    }

    /// One value unit at `toks[*i]` (a word or a parenthesised list) and
    /// the comma-joined units after it.
    fn value(&self, toks: &[Tok], i: &mut usize) -> Val {
        let mut v = Val::default();
        loop {
            match toks.get(*i) {
                Some(Tok::Word { text, expand, bare }) => {
                    let x = self.expand(text, *expand, *bare);
                    v.items.extend(x.items);
                    if v.unresolved.is_none() {
                        v.unresolved = x.unresolved;
                    }
                    *i += 1;
                }
                Some(Tok::Open) => {
                    *i += 1;
                    let mut depth = 1;
                    while let Some(t) = toks.get(*i) {
                        match t {
                            Tok::Open => depth += 1,
                            Tok::Close => {
                                depth -= 1;
                                if depth == 0 {
                                    *i += 1;
                                    break;
                                }
                            }
                            Tok::Word { text, expand, bare } => {
                                if depth == 1 {
                                    let x = self.expand(text, *expand, *bare);
                                    v.items.extend(x.items);
                                    if v.unresolved.is_none() {
                                        v.unresolved = x.unresolved;
                                    }
                                } else if v.unresolved.is_none() {
                                    v.unresolved = Some("a nested expression".into());
                                }
                            }
                            Tok::Comma => {}
                            _ => {
                                if v.unresolved.is_none() {
                                    v.unresolved = Some("an expression in parentheses".into());
                                }
                            }
                        }
                        *i += 1;
                    }
                }
                _ => {
                    if v.unresolved.is_none() && v.items.is_empty() {
                        v.unresolved = Some("no value".into());
                    }
                    return v;
                }
            }
            if toks.get(*i) == Some(&Tok::Comma) {
                *i += 1;
                continue;
            }
            return v;
        }
    }
}

/// A command's parameters in order: name as written (without `-`) and value
/// (`None`: a switch).
type Params = Vec<(String, Option<Val>, bool)>;

/// Switch parameters of the cmdlets read here (they take no value).
const SWITCHES: &[&str] = &[
    "asjob", "whatif", "confirm", "verbose", "debug", "passthru", "all",
];

fn is_switch(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    SWITCHES
        .iter()
        .any(|s| *s == n || (n.len() >= 2 && s.starts_with(&n) && n != "a"))
}

/// The parameters of one command; positional words go to `extra`.
fn params(st: &St, toks: &[Tok], extra: &mut Vec<String>) -> Params {
    let mut out = Vec::new();
    let mut i = 1;
    while i < toks.len() {
        match &toks[i] {
            Tok::Word {
                text, bare: true, ..
            } if text.starts_with('-')
                && text.len() > 1
                && !text[1..].starts_with(|c: char| c.is_ascii_digit()) =>
            {
                let raw = &text[1..];
                let (name, attached) = match raw.split_once(':') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (raw.to_string(), None),
                };
                i += 1;
                if let Some(a) = attached {
                    if a.is_empty() {
                        let v = st.value(toks, &mut i);
                        out.push((name, Some(v), false));
                    } else {
                        let mut v = st.expand(&a, true, true);
                        if toks.get(i) == Some(&Tok::Comma) {
                            i += 1;
                            let more = st.value(toks, &mut i);
                            v.items.extend(more.items);
                            v.unresolved = v.unresolved.or(more.unresolved);
                        }
                        out.push((name, Some(v), false));
                    }
                } else if is_switch(&name) {
                    out.push((name, None, true));
                } else {
                    let v = st.value(toks, &mut i);
                    out.push((name, Some(v), false));
                }
            }
            Tok::Word {
                text, bare: true, ..
            } if text.starts_with('@') && text.len() > 1 => {
                // Splatting: `@params` is the hashtable's entries.
                let n = var_name(&text[1..]);
                match st.vars.get(&n) {
                    Some(Var::Hash(entries)) => {
                        for (k, v) in entries {
                            let switch = v.items.len() == 1
                                && v.items[0].eq_ignore_ascii_case("True")
                                && is_switch(k);
                            out.push((k.clone(), (!switch).then(|| v.clone()), switch));
                        }
                    }
                    _ => extra.push(format!(
                        "splatted `{text}` is not a hashtable assigned in the file"
                    )),
                }
                i += 1;
            }
            Tok::Word { text, .. } => {
                extra.push(format!("positional argument `{text}`"));
                i += 1;
            }
            other => {
                extra.push(format!("`{}`", tok_text(other)));
                i += 1;
            }
        }
    }
    out
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Word { text, .. } => text.clone(),
        Tok::Comma => ",".into(),
        Tok::Pipe => "|".into(),
        Tok::Open => "(".into(),
        Tok::Close => ")".into(),
        Tok::HashOpen => "@{".into(),
        Tok::HashClose => "}".into(),
        Tok::Eq => "=".into(),
        Tok::Semi => ";".into(),
    }
}

/// Resolves a parameter name as PowerShell does: exact name or alias, or
/// an unambiguous prefix of one.
fn resolve(
    name: &str,
    names: &[&'static str],
    aliases: &[(&str, &'static str)],
) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    if let Some(c) = names.iter().find(|c| c.to_ascii_lowercase() == n) {
        return Some(c);
    }
    if let Some((_, c)) = aliases.iter().find(|(a, _)| a.to_ascii_lowercase() == n) {
        return Some(c);
    }
    let cands: Vec<&&str> = names
        .iter()
        .filter(|c| c.to_ascii_lowercase().starts_with(&n))
        .collect();
    match cands.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

const COMMON: &[&str] = &[
    "Verbose",
    "Debug",
    "ErrorAction",
    "WarningAction",
    "InformationAction",
    "ErrorVariable",
    "WarningVariable",
    "InformationVariable",
    "OutVariable",
    "OutBuffer",
    "PipelineVariable",
    "WhatIf",
    "Confirm",
    "AsJob",
    "CimSession",
    "ThrottleLimit",
    "PolicyStore",
    "GPOSession",
    "PassThru",
];

const RULE_PARAMS: &[&str] = &[
    "Name",
    "DisplayName",
    "Description",
    "Group",
    "Enabled",
    "Profile",
    "Platform",
    "Direction",
    "Action",
    "EdgeTraversalPolicy",
    "LooseSourceMapping",
    "LocalOnlyMapping",
    "Owner",
    "LocalAddress",
    "RemoteAddress",
    "Protocol",
    "LocalPort",
    "RemotePort",
    "IcmpType",
    "DynamicTarget",
    "Program",
    "Package",
    "Service",
    "InterfaceAlias",
    "InterfaceType",
    "LocalUser",
    "RemoteUser",
    "RemoteMachine",
    "Authentication",
    "Encryption",
    "OverrideBlockRules",
    "RemoteDynamicKeywordAddresses",
    // Set-NetFirewallRule's selectors and changes.
    "DisplayGroup",
    "NewDisplayName",
    "All",
];

const RULE_ALIASES: &[(&str, &str)] = &[
    ("ID", "Name"),
    ("DynamicTransport", "DynamicTarget"),
    ("LSM", "LooseSourceMapping"),
    ("Session", "CimSession"),
    ("ea", "ErrorAction"),
    ("wi", "WhatIf"),
    ("cf", "Confirm"),
    ("ev", "ErrorVariable"),
    ("ov", "OutVariable"),
    ("vb", "Verbose"),
];

fn rule_param(name: &str) -> Option<&'static str> {
    let all: Vec<&'static str> = RULE_PARAMS.iter().chain(COMMON.iter()).copied().collect();
    resolve(name, &all, RULE_ALIASES)
}

const PROFILE_PARAMS: &[&str] = &[
    "Name",
    "Profile",
    "All",
    "Enabled",
    "DefaultInboundAction",
    "DefaultOutboundAction",
    "AllowInboundRules",
    "AllowLocalFirewallRules",
    "AllowLocalIPsecRules",
    "AllowUserApps",
    "AllowUserPorts",
    "AllowUnicastResponseToMulticast",
    "NotifyOnListen",
    "EnableStealthModeForIPsec",
    "LogFileName",
    "LogMaxSizeKilobytes",
    "LogAllowed",
    "LogBlocked",
    "LogIgnored",
    "DisabledInterfaceAliases",
    "AllowedInterfaceAliases",
];

fn profile_param(name: &str) -> Option<&'static str> {
    let all: Vec<&'static str> = PROFILE_PARAMS
        .iter()
        .chain(COMMON.iter())
        .copied()
        .collect();
    resolve(
        name,
        &all,
        &[("ea", "ErrorAction"), ("wi", "WhatIf"), ("cf", "Confirm")],
    )
}

/// Commands that print, log or load modules: nothing of the firewall.
const HARMLESS: &[&str] = &[
    "write-host",
    "write-output",
    "write-verbose",
    "write-warning",
    "write-debug",
    "write-information",
    "write-progress",
    "out-null",
    "out-host",
    "out-file",
    "import-module",
    "set-strictmode",
    "start-transcript",
    "stop-transcript",
    "requires",
    "param",
    "exit",
    "return",
    "break",
    "continue",
    "get-date",
    "start-sleep",
    "format-table",
    "format-list",
    "select-object",
    "sort-object",
    "where-object",
];

fn statement(st: &mut St, s: &Stmt) {
    let toks = windows_ps::tokens(&s.text);
    // Assignment: `$x = value`.
    if let (
        Some(Tok::Word {
            text, bare: true, ..
        }),
        Some(Tok::Eq),
    ) = (toks.first(), toks.get(1))
    {
        if text.starts_with('$') {
            assign(st, s, &toks);
            return;
        }
    }
    command(st, s, &toks);
}

/// A command (or pipeline of commands) of a statement.
fn command(st: &mut St, s: &Stmt, toks: &[Tok]) {
    let Some(Tok::Word { text: cmd, .. }) = toks.first() else {
        return;
    };
    let lc = cmd.to_ascii_lowercase();
    if BLOCK_WORDS.contains(&lc.as_str()) {
        // `while (...)` after a `do { }` and the like: no command.
        return;
    }
    // Pipelines: `Get-NetFirewallRule ... | Remove-NetFirewallRule`.
    let segs: Vec<&[Tok]> = toks.split(|t| *t == Tok::Pipe).collect();
    let names: Vec<String> = segs
        .iter()
        .map(|sg| match sg.first() {
            Some(Tok::Word { text, .. }) => text.to_ascii_lowercase(),
            _ => String::new(),
        })
        .collect();
    if names.iter().any(|n| n.contains("netfirewall")) {
        st.firewall_cmdlets += 1;
    }
    let cond = conditional(&s.blocks);
    match lc.as_str() {
        "new-netfirewallrule" => {
            let mut extra = Vec::new();
            let p = params(st, segs[0], &mut extra);
            let idx = new_rule(st, s, &p, &extra, cond.as_deref());
            for (k, sg) in segs.iter().enumerate().skip(1) {
                pipe_into(st, s, &names[k], sg, Some(vec![idx]));
            }
        }
        "set-netfirewallprofile" => {
            let mut extra = Vec::new();
            let p = params(st, segs[0], &mut extra);
            set_profile(st, s, &p, &extra, cond.as_deref());
        }
        "get-netfirewallrule" => {
            let mut extra = Vec::new();
            let p = params(st, segs[0], &mut extra);
            let sel = select(st, &p);
            for (k, sg) in segs.iter().enumerate().skip(1) {
                pipe_into(st, s, &names[k], sg, Some(sel.clone()));
            }
        }
        "set-netfirewallrule"
        | "enable-netfirewallrule"
        | "disable-netfirewallrule"
        | "remove-netfirewallrule" => {
            pipe_into(st, s, &lc, segs[0], None);
        }
        "netsh" | "netsh.exe" => {
            st.set.issue(
                s.line,
                &s.text,
                "netsh commands are not read: write the rule with New-NetFirewallRule to audit it",
            );
        }
        // Commands that only read or print change nothing.
        _ if names
            .iter()
            .all(|n| HARMLESS.contains(&n.as_str()) || n.starts_with("get-")) => {}
        _ => {
            st.set.issue(
                s.line,
                &s.text,
                format!("command `{cmd}` is not read; if it changes the firewall, its effect is missing here"),
            );
        }
    }
}

const BLOCK_WORDS: &[&str] = &[
    "if", "elseif", "else", "foreach", "for", "while", "do", "until", "switch", "function", "try",
    "catch", "finally", "trap",
];

/// Why statements in these blocks may not run (or run more than once).
fn conditional(blocks: &[(usize, String)]) -> Option<String> {
    for (line, h) in blocks {
        let w = h
            .split(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if !matches!(
            w.as_str(),
            "try" | "finally" | "begin" | "process" | "end" | ""
        ) {
            return Some(format!(
                "it is inside `{}` (line {line}): whether, and with which values, it runs is not read",
                crate::model::cut(h, 60)
            ));
        }
    }
    None
}

fn assign(st: &mut St, s: &Stmt, toks: &[Tok]) {
    let Some(Tok::Word { text, .. }) = toks.first() else {
        return;
    };
    let name = var_name(text);
    let rest = &toks[2..];
    // `$r = New-NetFirewallRule ...`: the command runs; the variable
    // holds its output, which this reader does not follow.
    if let Some(Tok::Word {
        text: w,
        bare: true,
        ..
    }) = rest.first()
    {
        if is_command(w) {
            command(st, s, rest);
            st.vars.insert(name, Var::Unknown);
            return;
        }
    }
    let v = match rest.first() {
        Some(Tok::HashOpen) => {
            let mut entries = Vec::new();
            let mut i = 1;
            let mut ok = false;
            while i < rest.len() {
                match (&rest[i], rest.get(i + 1)) {
                    (Tok::HashClose, _) => {
                        i += 1;
                        ok = true;
                        break;
                    }
                    (Tok::Semi, _) => i += 1,
                    (Tok::Word { text: k, .. }, Some(Tok::Eq)) => {
                        i += 2;
                        let v = st.value(rest, &mut i);
                        entries.push((k.clone(), v));
                    }
                    _ => break,
                }
            }
            if ok && i == rest.len() {
                Var::Hash(entries)
            } else {
                Var::Unknown
            }
        }
        Some(Tok::Word { .. }) | Some(Tok::Open) => {
            let mut i = 0;
            let v = st.value(rest, &mut i);
            if i == rest.len() && v.unresolved.is_none() {
                Var::List(v.items)
            } else {
                Var::Unknown
            }
        }
        _ => Var::Unknown,
    };
    st.vars.insert(name, v);
}

/// A bare word that names a command (`Verb-Noun`), not a value.
fn is_command(w: &str) -> bool {
    w.starts_with(|c: char| c.is_ascii_alphabetic())
        && w.contains('-')
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && w.split('-').all(|p| !p.is_empty())
        && words::addr_range(w).is_none()
}

/// Rule indexes a selector (`-Name`, `-DisplayName`, `-Group`,
/// `-DisplayGroup`, `-All`, `-Direction`) picks among the rules created so far.
fn select(st: &St, p: &Params) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..st.rules.len()).collect();
    let mut any_selector = false;
    for (k, v, _) in p {
        let Some(c) = rule_param(k) else { continue };
        let items = v.as_ref().map(|v| v.items.clone()).unwrap_or_default();
        let pick = |r: &WinRule| -> bool {
            let field = match c {
                "Name" => r.name.clone(),
                "DisplayName" => r.display.clone(),
                "Group" | "DisplayGroup" => r.group.clone(),
                "Direction" => Some(if r.dir == Dir::In {
                    "Inbound".into()
                } else {
                    "Outbound".into()
                }),
                _ => return true,
            };
            field.is_some_and(|f| items.iter().any(|pat| wildcard(pat, &f)))
        };
        match c {
            "Name" | "DisplayName" | "Group" | "DisplayGroup" | "Direction" => {
                any_selector = true;
                idx.retain(|&i| pick(&st.rules[i]));
            }
            "All" => any_selector = true,
            _ => {}
        }
    }
    if !any_selector {
        idx.clear();
    }
    idx
}

/// `*` and `?` wildcards, ignoring case.
fn wildcard(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.to_lowercase().chars().collect();
    let t: Vec<char> = s.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// A statement as one line, runs of spaces (from continuations) as one.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Set-` / `Enable-` / `Disable-` / `Remove-NetFirewallRule`, on rules a
/// pipeline hands it (`given`) or it selects itself.
fn pipe_into(st: &mut St, s: &Stmt, cmd: &str, toks: &[Tok], given: Option<Vec<usize>>) {
    let mut extra = Vec::new();
    let p = params(st, toks, &mut extra);
    if HARMLESS.contains(&cmd) {
        return;
    }
    let (sel, own_selector) = match given {
        Some(g) => (g, true),
        None => {
            let sel = select(st, &p);
            let has = p.iter().any(|(k, _, _)| {
                matches!(
                    rule_param(k),
                    Some("Name" | "DisplayName" | "Group" | "DisplayGroup" | "All")
                )
            });
            (sel, has)
        }
    };
    let _ = own_selector;
    let cond = conditional(&s.blocks);
    let dir_of = |p: &Params| -> Option<Dir> {
        p.iter().find_map(|(k, v, _)| match rule_param(k) {
            Some("Direction") => v.as_ref().and_then(|v| v.items.first()).and_then(|d| {
                match d.to_ascii_lowercase().as_str() {
                    "inbound" => Some(Dir::In),
                    "outbound" => Some(Dir::Out),
                    _ => None,
                }
            }),
            _ => None,
        })
    };
    let enabled_to = p.iter().find_map(|(k, v, _)| match rule_param(k) {
        Some("Enabled") => v.as_ref().and_then(|v| v.items.first().cloned()),
        _ => None,
    });
    let action_to = p.iter().find_map(|(k, v, _)| match rule_param(k) {
        Some("Action") => v.as_ref().and_then(|v| v.items.first().cloned()),
        _ => None,
    });
    let changes: Vec<String> = p
        .iter()
        .filter_map(|(k, _, _)| {
            let c = rule_param(k).unwrap_or("?");
            (!matches!(
                c,
                "Name"
                    | "DisplayName"
                    | "Group"
                    | "DisplayGroup"
                    | "All"
                    | "Enabled"
                    | "Action"
                    | "Description"
                    | "NewDisplayName"
            ) && !COMMON.contains(&c))
            .then(|| format!("-{k}"))
        })
        .collect();
    let verb = cmd.split('-').next().unwrap_or("");
    let what = format!("line {}", s.line);
    if let Some(why) = &cond {
        // Changes that may or may not happen: the rules they touch are unknown.
        let k = st.set.issue(
            s.line,
            &s.text,
            format!("`{cmd}` may or may not run: {why}"),
        );
        for &i in &sel {
            st.rules[i].rule.when.push(Cond::Unknown(k));
        }
        if sel.is_empty() && matches!(verb, "enable" | "set") {
            st.outside_allow.push((s.line, s.text.clone(), k, None));
        }
        return;
    }
    match verb {
        "remove" => {
            for &i in &sel {
                st.rules[i].off = Some(format!("removed at {what}"));
            }
        }
        "disable" => {
            for &i in &sel {
                st.rules[i].off = Some(format!("disabled at {what}"));
            }
        }
        "enable" => {
            for &i in &sel {
                st.rules[i].off = None;
            }
            if sel.is_empty() {
                let k = st.set.issue(
                    s.line,
                    &s.text,
                    "enables rules that are not in this file (built-in or earlier rules): what they allow is unknown",
                );
                st.outside_allow
                    .push((s.line, s.text.clone(), k, dir_of(&p)));
            }
        }
        "set" => {
            if let Some(e) = &enabled_to {
                for &i in &sel {
                    if e.eq_ignore_ascii_case("false") {
                        st.rules[i].off = Some(format!("disabled at {what}"));
                    } else {
                        st.rules[i].off = None;
                    }
                }
            }
            if let Some(a) = &action_to {
                for &i in &sel {
                    st.rules[i].act = match a.to_ascii_lowercase().as_str() {
                        "allow" => Act::Allow,
                        "block" => Act::Block,
                        _ => Act::Unknown(st.set.issue(
                            s.line,
                            &s.text,
                            format!("action `{a}` is neither Allow nor Block"),
                        )),
                    };
                }
            }
            if !changes.is_empty() {
                let k = st.set.issue(
                    s.line,
                    &s.text,
                    format!(
                        "Set-NetFirewallRule changes {} of these rules: not read",
                        changes.join(", ")
                    ),
                );
                for &i in &sel {
                    st.rules[i].rule.when.push(Cond::Unknown(k));
                }
            }
            if sel.is_empty() {
                let enables = enabled_to
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case("true"));
                let to_allow = action_to
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case("allow"));
                let to_block = action_to
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case("block"));
                if enables || to_allow {
                    let k = st.set.issue(
                        s.line,
                        &s.text,
                        "turns on (or to allow) rules that are not in this file: what they allow is unknown",
                    );
                    st.outside_allow
                        .push((s.line, s.text.clone(), k, dir_of(&p)));
                }
                if to_block {
                    let k = st.set.issue(
                        s.line,
                        &s.text,
                        "turns rules that are not in this file to block: what they block is unknown",
                    );
                    st.outside_block
                        .push((s.line, s.text.clone(), k, dir_of(&p)));
                }
            }
        }
        _ => {
            st.set.issue(
                s.line,
                &s.text,
                format!("`{cmd}` in a pipeline of firewall rules is not read"),
            );
        }
    }
}

/// Address keywords of -RemoteAddress / -LocalAddress: sets this host
/// knows at run time, symbols here.
const ADDRESS_KEYWORDS: &[&str] = &[
    "LocalSubnet",
    "DNS",
    "DHCP",
    "WINS",
    "DefaultGateway",
    "Internet",
    "Intranet",
    "IntranetRemoteAccess",
    "PlayToDevice",
    "CaptivePortal",
];

/// The values of list parameters, several to a string written with
/// commas, up to the first `Any` or `*`; whether there was one (every value).
fn list_values(items: &[String]) -> (Vec<&str>, bool) {
    let mut out = Vec::new();
    for p in items.iter().flat_map(|x| x.split(',')).map(str::trim) {
        if p.eq_ignore_ascii_case("any") || p == "*" {
            return (out, true);
        }
        if !p.is_empty() {
            out.push(p);
        }
    }
    (out, false)
}

fn address(items: &[String], what: &str, bad: &mut Vec<String>) -> AddrMatch {
    let mut m = AddrMatch::of(Addrs::none());
    let before = bad.len();
    if items.is_empty() {
        return AddrMatch::every();
    }
    let (values, any) = list_values(items);
    for p in values {
        if let Some(a) = words::addr(p).or_else(|| words::addr_range(p)) {
            m.addrs = m.addrs.union(&a);
            continue;
        }
        let base = p.trim_end_matches(['4', '6']);
        if let Some(k) = ADDRESS_KEYWORDS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(base))
        {
            let suffix = &p[base.len()..];
            m.symbols.push(format!("keyword:{k}{suffix}"));
            continue;
        }
        bad.push(format!("{what} `{p}` is not an address, range or keyword"));
    }
    if any || bad.len() > before {
        // What is not read may stand for any address.
        return AddrMatch::every();
    }
    m.symbols.sort();
    m.symbols.dedup();
    m
}

fn port_list(items: &[String], what: &str, bad: &mut Vec<String>) -> Ranges<u16> {
    if items.is_empty() {
        return Ranges::full();
    }
    let before = bad.len();
    let mut spans = Vec::new();
    let (values, any) = list_values(items);
    for p in values {
        match words::port_span(p, '-') {
            Some(s) => spans.push(s),
            None => bad.push(format!(
                "{what} `{p}` is a keyword or value whose ports are dynamic (not in the file)"
            )),
        }
    }
    if any || bad.len() > before || spans.is_empty() {
        // What is not read may stand for any port.
        return Ranges::full();
    }
    Ranges::from_iter(spans)
}

/// ICMP types (and codes) of -IcmpType.
fn icmp_types(items: &[String], bad: &mut Vec<String>) -> Ranges<u16> {
    // Types that have only code 0: `T:0` is the whole type.
    const ONE_CODE: &[u16] = &[
        0, 8, 9, 10, 13, 14, 15, 16, 17, 18, 128, 129, 133, 134, 135, 136, 137,
    ];
    if items.is_empty() {
        return Ranges::full();
    }
    let before = bad.len();
    let mut spans = Vec::new();
    let (values, any) = list_values(items);
    for p in values {
        let (t, code) = match p.split_once(':') {
            Some((t, c)) => (t, Some(c)),
            None => (p, None),
        };
        match t.trim().parse::<u16>() {
            Ok(t) if t <= 255 => {
                if let Some(c) = code {
                    let c = c.trim();
                    let whole_type = (c == "0" && ONE_CODE.contains(&t))
                        || c.eq_ignore_ascii_case("any")
                        || c == "*";
                    if !whole_type {
                        bad.push(format!(
                            "ICMP type `{p}` matches one code of the type; flows are asked by type"
                        ));
                    }
                }
                spans.push((t, t));
            }
            _ => bad.push(format!("ICMP type `{p}` is not a number")),
        }
    }
    if any || spans.is_empty() || bad[before..].iter().any(|b| b.contains("is not a number")) {
        return Ranges::full();
    }
    Ranges::from_iter(spans)
}

fn profiles_of(items: &[String], bad: &mut Vec<String>) -> [bool; 3] {
    let mut on = [false; 3];
    for x in items {
        for part in x.split(',') {
            let p = part.trim().to_ascii_lowercase();
            match p.as_str() {
                "any" | "all" | "*" => on = [true; 3],
                "domain" => on[0] = true,
                "private" => on[1] = true,
                "public" => on[2] = true,
                "notapplicable" | "" => {}
                _ => bad.push(format!(
                    "profile `{part}` is not Domain, Private, Public or Any"
                )),
            }
        }
    }
    on
}

fn first(v: &Option<Val>) -> Option<String> {
    v.as_ref().and_then(|v| v.items.first().cloned())
}

/// `New-NetFirewallRule`: the rule, in file order; returns its index.
fn new_rule(st: &mut St, s: &Stmt, p: &Params, extra: &[String], cond: Option<&str>) -> usize {
    let mut bad: Vec<String> = extra.to_vec();
    let mut get: HashMap<&'static str, Option<Val>> = HashMap::new();
    for (k, v, _) in p {
        match rule_param(k) {
            Some(c) => {
                if let Some(Val {
                    unresolved: Some(u),
                    ..
                }) = v
                {
                    if !matches!(c, "Name" | "DisplayName" | "Description" | "Group") {
                        bad.push(format!("-{c}: {u}"));
                    }
                }
                get.insert(c, v.clone());
            }
            None => bad.push(format!(
                "parameter `-{k}` is not one New-NetFirewallRule takes"
            )),
        }
    }
    let val = |k: &str| get.get(k).cloned().flatten();
    let items = |k: &str| val(k).map(|v| v.items).unwrap_or_default();
    let mut never: Vec<String> = Vec::new();
    // Direction and action.
    let dir = match first(&val("Direction"))
        .map(|d| d.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("inbound") => Dir::In,
        Some("outbound") => Dir::Out,
        Some(d) => {
            bad.push(format!("direction `{d}` is neither Inbound nor Outbound"));
            Dir::In
        }
    };
    let mut act = match first(&val("Action"))
        .map(|d| d.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("allow") => Act::Allow,
        Some("block") => Act::Block,
        Some(a) => Act::Unknown(st.set.issue(
            s.line,
            &s.text,
            format!("action `{a}` is neither Allow nor Block"),
        )),
    };
    let off = match first(&val("Enabled"))
        .map(|d| d.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("true") | Some("1") => None,
        Some("false") | Some("0") => Some("disabled (-Enabled False)".to_string()),
        Some(e) => {
            bad.push(format!("-Enabled `{e}` is neither True nor False"));
            None
        }
    };
    if get.get("WhatIf").is_some_and(|v| {
        v.as_ref()
            .is_none_or(|v| !v.items.iter().any(|x| x.eq_ignore_ascii_case("false")))
    }) {
        never.push("-WhatIf: the rule is not created".into());
    }
    // Protocol.
    let proto_text = first(&val("Protocol"));
    let proto: Ranges<u8> = match proto_text
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("any") => Ranges::full(),
        Some("tcp") => Ranges::one(space::TCP),
        Some("udp") => Ranges::one(space::UDP),
        Some("icmpv4") => Ranges::one(space::ICMP),
        Some("icmpv6") => Ranges::one(space::ICMPV6),
        Some(n) => match n.parse::<u8>() {
            Ok(x) => Ranges::one(x),
            Err(_) => {
                bad.push(format!(
                    "protocol `{n}` is not TCP, UDP, ICMPv4, ICMPv6, Any or a number"
                ));
                Ranges::full()
            }
        },
    };
    let icmp = proto == Ranges::one(space::ICMP) || proto == Ranges::one(space::ICMPV6);
    let ported = proto
        .spans()
        .iter()
        .all(|&(a, b)| (a..=b).all(space::has_ports));
    let local_port = port_list(&items("LocalPort"), "-LocalPort", &mut bad);
    let remote_port = port_list(&items("RemotePort"), "-RemotePort", &mut bad);
    if (!local_port.is_full() || !remote_port.is_full()) && !ported {
        bad.push(
            "ports are given for a protocol without ports (New-NetFirewallRule refuses that)"
                .into(),
        );
    }
    let types = icmp_types(&items("IcmpType"), &mut bad);
    if !types.is_full() && !icmp {
        bad.push("-IcmpType is given for a protocol that is not ICMPv4 or ICMPv6".into());
    }
    // Addresses.
    let mut remote = address(&items("RemoteAddress"), "-RemoteAddress", &mut bad);
    let local = address(&items("LocalAddress"), "-LocalAddress", &mut bad);
    let ids = items("RemoteDynamicKeywordAddresses");
    if !ids.is_empty() {
        let mut m = AddrMatch::of(Addrs::none());
        m.symbols = ids.iter().map(|i| format!("dynamic-keyword:{i}")).collect();
        remote = remote.and(m);
    }
    // Interfaces: traffic arriving on (leaving by) them comes from (goes
    // to) what lies behind them.
    let aliases = items("InterfaceAlias");
    if !aliases.is_empty() && !aliases.iter().any(|a| a.eq_ignore_ascii_case("any")) {
        let mut m = AddrMatch::of(Addrs::none());
        m.symbols = aliases.iter().map(|a| format!("interface:{a}")).collect();
        remote = remote.and(m);
    }
    if let Some(t) = first(&val("InterfaceType")) {
        if !t.eq_ignore_ascii_case("any") {
            let mut m = AddrMatch::of(Addrs::none());
            m.symbols = t
                .split(',')
                .map(|x| format!("interface-type:{}", x.trim()))
                .collect();
            remote = remote.and(m);
        }
    }
    // Conditions a port audit cannot see.
    for (k, what) in [
        ("Program", "program"),
        ("Service", "service"),
        ("Package", "app package"),
        ("Owner", "owner"),
        ("LocalUser", "local user"),
        ("RemoteUser", "remote user"),
        ("RemoteMachine", "remote computer"),
    ] {
        if let Some(v) = first(&val(k)) {
            if !v.eq_ignore_ascii_case("any") && v != "*" && !v.is_empty() {
                bad.push(format!(
                    "the rule only matches traffic of {what} `{}`: which {what} a flow belongs to is not known to a port audit",
                    crate::model::cut(&v, 80)
                ));
            }
        }
    }
    if let Some(d) = first(&val("DynamicTarget")) {
        if !d.eq_ignore_ascii_case("any") {
            bad.push(format!(
                "-DynamicTarget `{d}` matches one kind of dynamic transport only"
            ));
        }
    }
    if let Some(pl) = first(&val("Platform")) {
        bad.push(format!(
            "-Platform `{pl}`: the rule applies only on some Windows versions"
        ));
    }
    let auth = first(&val("Authentication")).map(|a| a.to_ascii_lowercase());
    let enc = first(&val("Encryption")).map(|a| a.to_ascii_lowercase());
    let bypass = first(&val("OverrideBlockRules")).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut issue_notes: Vec<String> = Vec::new();
    if bypass {
        if act == Act::Allow {
            act = Act::Bypass;
        }
        issue_notes.push(
            "-OverrideBlockRules: an authenticated-bypass rule allows IPsec-authenticated traffic even where block rules match; whether a flow is authenticated is not in the file".into(),
        );
    } else if matches!(auth.as_deref(), Some("required") | Some("noencap")) {
        issue_notes
            .push("-Authentication: the rule matches only IPsec-authenticated traffic".into());
    }
    if matches!(enc.as_deref(), Some("required") | Some("dynamic")) && !bypass {
        issue_notes.push("-Encryption: the rule matches only IPsec-encrypted traffic".into());
    }
    if let Some(ps) = first(&val("PolicyStore")).or_else(|| first(&val("GPOSession"))) {
        if !ps.eq_ignore_ascii_case("PersistentStore") && !ps.eq_ignore_ascii_case("localhost") {
            st.set.note(
                s.line,
                &s.text,
                format!("the rule goes to policy store `{ps}` (a group policy object?): it applies on the computers that policy reaches"),
            );
        }
    }
    if get.contains_key("CimSession") {
        bad.push("-CimSession: the rule is created on another computer".into());
    }
    // Profiles.
    let profiles = match val("Profile") {
        Some(v) => profiles_of(&v.items, &mut bad),
        None => [true; 3],
    };
    if profiles != [true; 3] {
        let names: Vec<&str> = PROFILES
            .iter()
            .zip(profiles)
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect();
        if names.is_empty() {
            never.push("in no profile (-Profile NotApplicable)".into());
        } else {
            bad.push(format!(
                "the rule applies only while profile {} is active; the active profile is not in the file",
                names.join(", ")
            ));
        }
    }
    // The match.
    let (src, dst, sport, dport) = match dir {
        Dir::In => (remote, local, remote_port, local_port),
        Dir::Out => (local, remote, local_port, remote_port),
    };
    let m = Match {
        proto: proto.clone(),
        src,
        dst,
        sport: if icmp { Ranges::full() } else { sport },
        dport: if icmp { types } else { dport },
    };
    let mut rule = Rule::new(s.line, &one_line(&s.text), Action::Next);
    rule.label = first(&val("DisplayName")).or_else(|| first(&val("Name")));
    // ICMPv4 is IPv4 traffic, ICMPv6 IPv6 traffic.
    rule.matches = if proto == Ranges::one(space::ICMP) {
        m.in_family(false).into_iter().collect()
    } else if proto == Ranges::one(space::ICMPV6) {
        m.in_family(true).into_iter().collect()
    } else {
        m.same_family()
    };
    for n in never {
        rule.when.push(Cond::Never(n));
    }
    if let Some(c) = cond {
        bad.push(c.to_string());
    }
    bad.extend(issue_notes);
    if let Some(k) = st.set.issue_if(s.line, &s.text, &bad) {
        rule.when.push(Cond::Unknown(k));
    }
    st.rules.push(WinRule {
        name: first(&val("Name")),
        display: first(&val("DisplayName")),
        group: first(&val("Group")),
        dir,
        act,
        off,
        rule,
    });
    st.rules.len() - 1
}

fn set_profile(st: &mut St, s: &Stmt, p: &Params, extra: &[String], cond: Option<&str>) {
    let mut bad: Vec<String> = extra.to_vec();
    let mut which = [true; 3];
    let mut named = false;
    for (k, v, _) in p {
        match profile_param(k) {
            Some("Name" | "Profile") => {
                named = true;
                which = profiles_of(
                    &v.as_ref().map(|v| v.items.clone()).unwrap_or_default(),
                    &mut bad,
                );
            }
            Some("All") => {
                named = true;
                which = [true; 3];
            }
            Some(_) => {}
            None => bad.push(format!(
                "parameter `-{k}` is not one Set-NetFirewallProfile takes"
            )),
        }
    }
    let _ = named;
    if let Some(c) = cond {
        bad.push(c.to_string());
    }
    let text = s.text.clone();
    let line = s.line;
    if !bad.is_empty() {
        // Profile settings not read: every default they might set is unknown.
        let k = st.set.issue(
            line,
            &text,
            format!("Set-NetFirewallProfile not read: {}", bad.join("; ")),
        );
        st.outside_allow.push((line, text.clone(), k, None));
        st.outside_block.push((line, text, k, None));
        return;
    }
    for (k, v, _) in p {
        let Some(c) = profile_param(k) else { continue };
        let val = first(v).unwrap_or_default();
        let lv = val.to_ascii_lowercase();
        let tf = |st: &mut St| -> Option<bool> {
            match lv.as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                "notconfigured" => None,
                _ => {
                    st.set.issue(
                        line,
                        &text,
                        format!("-{c} `{val}` is not True, False or NotConfigured"),
                    );
                    None
                }
            }
        };
        match c {
            "DefaultInboundAction" | "DefaultOutboundAction" => {
                let allow = match lv.as_str() {
                    "allow" => Some(true),
                    "block" => Some(false),
                    // Back to Windows' default.
                    "notconfigured" => None,
                    _ => {
                        let k = st.set.issue(
                            line,
                            &text,
                            format!("-{c} `{val}` is not Allow, Block or NotConfigured"),
                        );
                        st.outside_allow.push((line, text.clone(), k, None));
                        continue;
                    }
                };
                for (i, on) in which.iter().enumerate() {
                    if !on {
                        continue;
                    }
                    let slot = if c == "DefaultInboundAction" {
                        &mut st.profiles[i].inbound
                    } else {
                        &mut st.profiles[i].outbound
                    };
                    *slot = allow.map(|a| (a, line, text.clone()));
                }
            }
            "Enabled" => {
                let on = tf(st);
                for (i, w) in which.iter().enumerate() {
                    if *w {
                        st.profiles[i].off = (on == Some(false)).then(|| (line, text.clone()));
                    }
                }
            }
            "AllowInboundRules" => {
                let on = tf(st);
                for (i, w) in which.iter().enumerate() {
                    if *w {
                        st.profiles[i].no_inbound_rules =
                            (on == Some(false)).then(|| (line, text.clone()));
                    }
                }
            }
            "DisabledInterfaceAliases" => {
                for (i, w) in which.iter().enumerate() {
                    if *w {
                        st.profiles[i].unfiltered = v
                            .as_ref()
                            .map(|v| {
                                v.items
                                    .iter()
                                    .filter(|a| !a.eq_ignore_ascii_case("NotConfigured"))
                                    .map(|a| (a.clone(), line, text.clone()))
                                    .collect()
                            })
                            .unwrap_or_default();
                    }
                }
            }
            "AllowLocalFirewallRules" if tf(st) == Some(false) => {
                st.set.note(
                    line,
                    &text,
                    "-AllowLocalFirewallRules False: where this setting comes from group policy, rules of the local store (like this script's) are ignored",
                );
            }
            // Logging, notifications, stealth mode, user apps / ports
            // (merging of local rules) do not change which packets a rule
            // matches or the defaults.
            _ => {}
        }
    }
}

/// The rules into the model: per direction one chain (bypass, block, allow
/// rules, then the default) and one filter for the host.
fn build(mut st: St) -> Ruleset {
    let mut set = std::mem::take(&mut st.set);
    // Defaults per direction, per profile.
    let mut assumed = false;
    let mut ends: Vec<End> = Vec::new();
    let mut end_unknown: Vec<Option<usize>> = Vec::new();
    for dir in [Dir::In, Dir::Out] {
        let per: Vec<(bool, usize, String)> = st
            .profiles
            .iter()
            .map(|p| {
                let v = if dir == Dir::In {
                    &p.inbound
                } else {
                    &p.outbound
                };
                v.clone().unwrap_or_else(|| {
                    assumed = true;
                    (dir == Dir::Out, 0, String::new())
                })
            })
            .collect();
        let all_same = per.iter().all(|x| x.0 == per[0].0);
        let word = dir.word();
        if all_same {
            let (allow, line, text) = per.iter().max_by_key(|x| x.1).cloned().unwrap_or((
                dir == Dir::Out,
                0,
                String::new(),
            ));
            let text = if line == 0 {
                format!(
                    "Windows' default {word} action: {} (profile default, assumed)",
                    if allow { "Allow" } else { "Block" }
                )
            } else {
                one_line(&text)
            };
            ends.push(End::Policy {
                accept: allow,
                line,
                text,
            });
            end_unknown.push(None);
        } else {
            let desc: Vec<String> = PROFILES
                .iter()
                .zip(&per)
                .map(|(n, x)| format!("{n} {}", if x.0 { "Allow" } else { "Block" }))
                .collect();
            let line = per.iter().map(|x| x.1).max().unwrap_or(0);
            let k = set.issue(
                line,
                &format!("default {word} action"),
                format!(
                    "the default {word} action differs between profiles ({}); the active profile is not in the file",
                    desc.join(", ")
                ),
            );
            ends.push(End::Policy {
                accept: false,
                line,
                text: format!("default {word} action ({})", desc.join(", ")),
            });
            end_unknown.push(Some(k));
        }
    }
    if assumed {
        set.note(
            0,
            "",
            "the file does not set every profile's default actions (Set-NetFirewallProfile -DefaultInboundAction / -DefaultOutboundAction): Windows' defaults are assumed, inbound Block and outbound Allow",
        );
    }
    set.note(
        0,
        "",
        "only the rules this script creates are read: the host's other rules (built-in, group policy, earlier scripts) are not in the file; Windows Firewall does not filter loopback traffic",
    );
    let bypass_note = st.rules.iter().any(|r| r.act == Act::Bypass);
    if bypass_note {
        set.note(
            0,
            "",
            "authenticated-bypass rules (-OverrideBlockRules True) take precedence over block rules for IPsec-authenticated traffic",
        );
    }
    for (di, dir) in [Dir::In, Dir::Out].into_iter().enumerate() {
        let word = dir.word();
        let end = ends[di].clone();
        let c = set.chain(format!("windows {word}"), 0, end);
        let mut chain: Vec<Rule> = Vec::new();
        // The firewall switched off in some (or every) profile.
        let off: Vec<(usize, String)> = st.profiles.iter().filter_map(|p| p.off.clone()).collect();
        if !off.is_empty() {
            let (line, text) = off[0].clone();
            let mut r = Rule::new(line, &text, Action::Accept);
            r.label = Some("firewall off (-Enabled False)".into());
            if off.len() < 3 {
                let k = set.issue(
                    line,
                    &text,
                    "the firewall is off in some profiles; the active profile is not in the file",
                );
                r.when.push(Cond::Unknown(k));
            }
            chain.push(r);
        }
        // Interfaces the firewall does not filter.
        let mut seen_alias: Vec<String> = Vec::new();
        for p in &st.profiles {
            for (a, line, text) in &p.unfiltered {
                if seen_alias.contains(a) {
                    continue;
                }
                seen_alias.push(a.clone());
                let mut r = Rule::new(*line, text, Action::Accept);
                r.label = Some(format!("not filtered on interface {a}"));
                let sym = AddrMatch::symbol(format!("interface:{a}"));
                let mut m = Match::every();
                if dir == Dir::In {
                    m.src = sym;
                } else {
                    m.dst = sym;
                }
                r.matches = vec![m];
                let everywhere = st
                    .profiles
                    .iter()
                    .all(|q| q.unfiltered.iter().any(|(b, _, _)| b == a));
                if !everywhere {
                    let k = set.issue(
                        *line,
                        text,
                        format!("interface {a} is unfiltered in some profiles only"),
                    );
                    r.when.push(Cond::Unknown(k));
                }
                chain.push(r);
            }
        }
        outside(&mut chain, &st.outside_block, dir);
        let live = |r: &&WinRule| r.dir == dir && r.off.is_none();
        let with_action = |r: &WinRule, a: Action| {
            let mut x = r.rule.clone();
            x.action = a;
            x
        };
        let disabled: Vec<&WinRule> = st
            .rules
            .iter()
            .filter(|r| r.dir == dir && r.off.is_some())
            .collect();
        let no_rules: Vec<(usize, String)> = if dir == Dir::In {
            st.profiles
                .iter()
                .filter_map(|p| p.no_inbound_rules.clone())
                .collect()
        } else {
            Vec::new()
        };
        let partial = match no_rules.as_slice() {
            [(line, text), ..] if no_rules.len() < 3 => Some(set.issue(
                *line,
                text,
                "inbound rules are ignored in some profiles (-AllowInboundRules False); the active profile is not in the file",
            )),
            _ => None,
        };
        // -AllowInboundRules False: every inbound rule is ignored.
        let ignore = |x: &mut Rule| {
            if let Some((line, _)) = no_rules.first() {
                match partial {
                    Some(k) => x.when.push(Cond::Unknown(k)),
                    None => x.when.push(Cond::Never(format!(
                        "inbound rules are ignored (-AllowInboundRules False, line {line})"
                    ))),
                }
            }
        };
        for r in st
            .rules
            .iter()
            .filter(live)
            .filter(|r| r.act == Act::Bypass)
        {
            let mut x = with_action(r, Action::Accept);
            // Whether the traffic is authenticated is never known here.
            if !x.when.iter().any(|w| matches!(w, Cond::Unknown(_))) {
                let k = set.issue(
                    x.line,
                    &x.text,
                    "authenticated bypass: matches only IPsec-authenticated traffic",
                );
                x.when.push(Cond::Unknown(k));
            }
            ignore(&mut x);
            chain.push(x);
        }
        for r in st.rules.iter().filter(live) {
            let mut x = match &r.act {
                Act::Block => with_action(r, Action::Block),
                Act::Unknown(k) => with_action(r, Action::Unknown(*k)),
                _ => continue,
            };
            ignore(&mut x);
            chain.push(x);
        }
        for r in st.rules.iter().filter(live).filter(|r| r.act == Act::Allow) {
            let mut x = with_action(r, Action::Accept);
            ignore(&mut x);
            chain.push(x);
        }
        // Disabled rules stay in the model, never matching, so reports can
        // name them.
        for r in disabled {
            let mut x = with_action(
                r,
                match &r.act {
                    Act::Block => Action::Block,
                    Act::Unknown(k) => Action::Unknown(*k),
                    _ => Action::Accept,
                },
            );
            x.when.push(Cond::Never(r.off.clone().unwrap_or_default()));
            chain.push(x);
        }
        outside(&mut chain, &st.outside_allow, dir);
        if let Some(k) = end_unknown[di] {
            let mut r = Rule::new(0, &format!("default {word} action"), Action::Unknown(k));
            r.label = Some(format!("default {word} action"));
            chain.push(r);
        }
        set.chains[c].rules = chain;
        set.filters.push(Filter::new(
            format!("windows {word}"),
            if dir == Dir::In {
                Direction::In
            } else {
                Direction::Out
            },
            Families::BOTH,
            c,
        ));
    }
    set
}

/// Rules outside the file that may stand at this place (issue `k` each),
/// for the chain of `dir`.
fn outside(chain: &mut Vec<Rule>, rules: &[(usize, String, usize, Option<Dir>)], dir: Dir) {
    for (line, text, k, d) in rules {
        if d.is_none_or(|x| x == dir) {
            let mut r = Rule::new(*line, text, Action::Unknown(*k));
            r.label = Some("rules not in the file".into());
            chain.push(r);
        }
    }
}

//! A range given as two rows: `Sidecar proxy min port | 21000` then
//! `Sidecar proxy max port | 21255` is one range, 21000-21255, not two
//! single ports. (Two columns of one row are joined in `segment`.)

use crate::finding::{Finding, PortItem};
use portplan_model::PortRange;

/// Joins neighbouring findings that name the low and the high end of one
/// range: same name once the bound word is taken out, same protocols, one
/// single port each, the low below the high, at most two lines apart.
pub fn join(part: &mut Vec<Finding>) {
    let mut i = 0;
    while i + 1 < part.len() {
        if let Some(range) = pair(&part[i], &part[i + 1]) {
            let high = part.remove(i + 1);
            let low = &mut part[i];
            low.ports = vec![PortItem::Fixed(range)];
            low.service = unbounded_name(&low.service);
            low.notes.push(format!(
                "the page gives this range as two rows: the low end here and the high end on line {}",
                high.line
            ));
        }
        i += 1;
    }
}

fn pair(a: &Finding, b: &Finding) -> Option<PortRange> {
    if b.line.saturating_sub(a.line) > 2 || a.protocols != b.protocols {
        return None;
    }
    let single = |f: &Finding| match f.ports.as_slice() {
        [PortItem::Fixed(r)] if r.low == r.high => Some(r.low),
        _ => None,
    };
    let (lo, hi) = (single(a)?, single(b)?);
    let low_name = a.service.to_ascii_lowercase();
    let high_name = b.service.to_ascii_lowercase();
    let bounds = (
        crate::segment::bound_word(&low_name),
        crate::segment::bound_word(&high_name),
    );
    if bounds != (Some(true), Some(false)) || lo >= hi {
        return None;
    }
    (unbounded_name(&a.service).eq_ignore_ascii_case(&unbounded_name(&b.service)))
        .then_some(PortRange { low: lo, high: hi })
}

/// The name without its bound words: `Sidecar Proxy Min` → `Sidecar Proxy`.
fn unbounded_name(s: &str) -> String {
    const BOUNDS: &[&str] = &[
        "min", "minimum", "start", "first", "low", "lowest", "begin", "max", "maximum", "end",
        "last", "high", "highest",
    ];
    s.split_whitespace()
        .filter(|w| {
            let l = w
                .trim_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_ascii_lowercase();
            !BOUNDS.contains(&l.as_str())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

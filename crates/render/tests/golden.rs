//! Golden files: every format on every fixture. Each snapshot holds the
//! output and, after it, what the format said it could not express.

mod support;

use portplan_render::{formats, renderer};

#[test]
fn every_format_on_every_fixture() {
    for (fx, set) in support::fixtures() {
        for name in formats() {
            let r = renderer(name).unwrap();
            // Formats for a whole network get the whole plan; a cloud
            // format honours --for-host (one host's group), tested apart.
            let mut opts = support::opts(fx);
            if !r.per_host() {
                opts.for_host = None;
            }
            let Ok(out) = r.render(&set, &opts) else {
                continue;
            };
            let mut snap = out.text.clone();
            snap.push_str("\n=== unexpressed ===\n");
            for u in &out.unexpressed {
                snap.push_str(&format!("{}: {}\n", u.requirements.join(", "), u.reason));
            }
            insta::assert_snapshot!(format!("{name}__{fx}"), snap);
        }
    }
}

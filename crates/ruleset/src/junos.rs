//! Reads Junos `show configuration | display set`: security policies, firewall filters. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct Junos;

impl Reader for Junos {
    fn name(&self) -> &'static str {
        "junos"
    }
    fn about(&self) -> &'static str {
        "Junos `show configuration | display set`: security policies, firewall filters"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the junos reader is not written yet",
        ))
    }
}

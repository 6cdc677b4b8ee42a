//! Reads PAN-OS `set` commands: addresses, services, security rules. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct Panos;

impl Reader for Panos {
    fn name(&self) -> &'static str {
        "panos"
    }
    fn about(&self) -> &'static str {
        "PAN-OS `set` commands: addresses, services, security rules"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the panos reader is not written yet",
        ))
    }
}

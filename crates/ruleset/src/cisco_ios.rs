//! Reads Cisco IOS / IOS XE extended ACLs and running-config. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct CiscoIos;

impl Reader for CiscoIos {
    fn name(&self) -> &'static str {
        "cisco-ios"
    }
    fn about(&self) -> &'static str {
        "Cisco IOS / IOS XE extended ACLs and running-config"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the cisco-ios reader is not written yet",
        ))
    }
}

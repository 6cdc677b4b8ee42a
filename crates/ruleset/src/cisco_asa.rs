//! Reads Cisco ASA running-config: objects, object-groups, access-lists, access-groups. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct CiscoAsa;

impl Reader for CiscoAsa {
    fn name(&self) -> &'static str {
        "cisco-asa"
    }
    fn about(&self) -> &'static str {
        "Cisco ASA running-config: objects, object-groups, access-lists, access-groups"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the cisco-asa reader is not written yet",
        ))
    }
}

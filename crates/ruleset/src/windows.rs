//! Reads PowerShell New-NetFirewallRule commands. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct Windows;

impl Reader for Windows {
    fn name(&self) -> &'static str {
        "windows"
    }
    fn about(&self) -> &'static str {
        "PowerShell New-NetFirewallRule commands"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the windows reader is not written yet",
        ))
    }
}

//! Reads Terraform Google Compute firewall rules. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct GcpTerraform;

impl Reader for GcpTerraform {
    fn name(&self) -> &'static str {
        "gcp-terraform"
    }
    fn about(&self) -> &'static str {
        "Terraform Google Compute firewall rules"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the gcp-terraform reader is not written yet",
        ))
    }
}

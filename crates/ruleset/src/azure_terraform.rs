//! Reads Terraform Azure network security groups. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct AzureTerraform;

impl Reader for AzureTerraform {
    fn name(&self) -> &'static str {
        "azure-terraform"
    }
    fn about(&self) -> &'static str {
        "Terraform Azure network security groups"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the azure-terraform reader is not written yet",
        ))
    }
}

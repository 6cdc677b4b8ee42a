//! Reads Terraform AWS security groups and rules. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct AwsTerraform;

impl Reader for AwsTerraform {
    fn name(&self) -> &'static str {
        "aws-terraform"
    }
    fn about(&self) -> &'static str {
        "Terraform AWS security groups and rules"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the aws-terraform reader is not written yet",
        ))
    }
}

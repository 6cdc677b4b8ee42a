//! Reads `aws ec2 describe-security-groups` JSON. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct AwsJson;

impl Reader for AwsJson {
    fn name(&self) -> &'static str {
        "aws-json"
    }
    fn about(&self) -> &'static str {
        "`aws ec2 describe-security-groups` JSON"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the aws-json reader is not written yet",
        ))
    }
}

//! Reads `gcloud compute firewall-rules list --format=json`. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct GcpJson;

impl Reader for GcpJson {
    fn name(&self) -> &'static str {
        "gcp-json"
    }
    fn about(&self) -> &'static str {
        "`gcloud compute firewall-rules list --format=json`"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the gcp-json reader is not written yet",
        ))
    }
}

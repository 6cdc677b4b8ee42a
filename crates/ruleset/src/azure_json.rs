//! Reads `az network nsg show` / `az network nsg list` JSON. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct AzureJson;

impl Reader for AzureJson {
    fn name(&self) -> &'static str {
        "azure-json"
    }
    fn about(&self) -> &'static str {
        "`az network nsg show` / `az network nsg list` JSON"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the azure-json reader is not written yet",
        ))
    }
}

//! Reads `nft -j list ruleset` JSON. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct NftablesJson;

impl Reader for NftablesJson {
    fn name(&self) -> &'static str {
        "nftables-json"
    }
    fn about(&self) -> &'static str {
        "`nft -j list ruleset` JSON"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the nftables-json reader is not written yet",
        ))
    }
}

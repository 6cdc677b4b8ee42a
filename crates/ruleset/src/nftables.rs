//! Reads `nft -f` input and `nft list ruleset` output. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct NftablesText;

impl Reader for NftablesText {
    fn name(&self) -> &'static str {
        "nftables"
    }
    fn about(&self) -> &'static str {
        "`nft -f` input and `nft list ruleset` output"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(
            file,
            "the nftables reader is not written yet",
        ))
    }
}

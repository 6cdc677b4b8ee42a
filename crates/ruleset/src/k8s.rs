//! Reads Kubernetes NetworkPolicy YAML. (Being written: see the ruleset issue.)

use crate::model::Ruleset;
use crate::Reader;
use portplan_model::Diagnostic;

pub struct K8s;

impl Reader for K8s {
    fn name(&self) -> &'static str {
        "k8s"
    }
    fn about(&self) -> &'static str {
        "Kubernetes NetworkPolicy YAML"
    }
    fn sniff(&self, _text: &str) -> u8 {
        0
    }
    fn read(&self, _text: &str, file: &str) -> Result<Ruleset, Diagnostic> {
        Err(Diagnostic::error(file, "the k8s reader is not written yet"))
    }
}

//! JSON: the flow set itself, for tools. Every flow keeps its `because`.

use crate::{RenderOptions, Rendered, Renderer};
use portplan_model::FlowSet;

pub struct Json;

impl Renderer for Json {
    fn name(&self) -> &'static str {
        "json"
    }
    fn render(&self, set: &FlowSet, _opts: &RenderOptions) -> Result<Rendered, String> {
        let sorted = FlowSet {
            deployment: set.deployment.clone(),
            flows: crate::common::sorted(set).into_iter().cloned().collect(),
            diagnostics: set.diagnostics.clone(),
        };
        let mut text = serde_json::to_string_pretty(&sorted).map_err(|e| e.to_string())?;
        text.push('\n');
        Ok(Rendered {
            text,
            unexpressed: Vec::new(),
        })
    }
}

//! A value parser for a closed list of names (`--format`) that suggests
//! what a wrong name most likely meant: a name it is part of (`asa` ->
//! `cisco-asa`, `terraform` -> the three `*-terraform`), or a close
//! spelling. clap's own parser suggests only by edit distance, which misses
//! the abbreviations people type. The `--help` list of values is kept.

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use portplan_model::diag::suggest;
use std::ffi::OsStr;

#[derive(Clone)]
pub struct OneOf(pub Vec<&'static str>);

impl TypedValueParser for OneOf {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        let v = value.to_string_lossy();
        if self.0.contains(&v.as_ref()) {
            return Ok(v.into_owned());
        }
        let arg = arg.map_or_else(|| "...".to_string(), ToString::to_string);
        let names = self.0.iter().copied();
        let tip = match suggest(&v, names).as_slice() {
            [] => String::new(),
            [one] => format!("\n  help: did you mean `{one}`?"),
            many => format!(
                "\n  help: did you mean one of {}?",
                many.iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let msg = format!(
            "invalid value '{v}' for '{arg}'{tip}\n  [possible values: {}]\n\nFor more information, try '--help'.\n",
            self.0.join(", ")
        );
        Err(clap::Error::raw(ErrorKind::InvalidValue, msg).with_cmd(cmd))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().map(|s| PossibleValue::new(*s))))
    }
}

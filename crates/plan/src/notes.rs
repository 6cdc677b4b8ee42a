//! A flow's notes are its requirements' notes. They are attached once the
//! flows are merged, so each note is copied once per rule, not once per
//! planned flow.

use portplan_model::{Catalog, Flow};
use rayon::prelude::*;
use std::collections::HashMap;

pub fn attach(cat: &Catalog, flows: &mut [Flow]) {
    let by_id: HashMap<(&str, &str), &[String]> = cat
        .products
        .values()
        .flat_map(|p| {
            p.requirements
                .iter()
                .map(move |r| ((p.product.as_str(), r.id.as_str()), r.notes.as_slice()))
        })
        .collect();
    // Each flow on its own, on every core (an unmerged plan of a large
    // deployment has 100,000 flows).
    flows.par_iter_mut().for_each(|f| {
        let mut notes: Vec<String> = Vec::new();
        for b in &f.because {
            let Some(list) = by_id.get(&(b.product.as_str(), b.requirement.as_str())) else {
                continue;
            };
            for n in list.iter() {
                if !notes.contains(n) {
                    notes.push(n.clone());
                }
            }
        }
        notes.sort();
        f.notes = notes;
    });
}

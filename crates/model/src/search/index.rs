//! Every requirement's searchable text, lowercased once, with an index of
//! its words and of the ports it opens, for a catalog that answers many
//! queries (`portplan serve`): a query then looks only at the requirements
//! the index names for its most selective term, instead of at all of them.
//!
//! Matching stays what `search` (the scan) does (substring matching on the whole
//! text: `radius` finds `radiusd`, `sdm-gw` finds `sdm-gw-1`; a port inside
//! a range or a parameter's default): the index only narrows which
//! requirements are looked at. A piece of a text term is a run of word
//! bytes (ASCII letters and digits, any non-ASCII byte); such a run inside
//! a text lies within one of the text's words, so a text holding the term
//! holds a word holding the piece, and is among the candidates.

use crate::catalog::{Product, Requirement};
use crate::ports::PortRange;
use crate::store::Catalog;
use memchr::memmem;
use std::collections::HashMap;

pub struct Haystacks {
    /// By requirement number (products in catalog order, then their
    /// requirements in order): its fields joined by newlines, lowercased.
    texts: Vec<String>,
    /// By requirement number: (product index, requirement index).
    owners: Vec<(u32, u32)>,
    /// The distinct words of all texts, each between newlines, so one
    /// substring search finds a piece in every word at once; where each
    /// word starts; the requirement numbers whose text holds it (ascending).
    vocabulary: String,
    starts: Vec<u32>,
    postings: Vec<Vec<u32>>,
    /// Requirements by a single port they open; and the ranges (low < high)
    /// with their requirement, which are few.
    by_port: HashMap<u16, Vec<u32>>,
    ranges: Vec<(PortRange, u32)>,
}

fn is_word_byte(c: char) -> bool {
    c.is_ascii_alphanumeric() || !c.is_ascii()
}

/// The text's words (maximal runs of word bytes).
fn words_of(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_word_byte(c))
        .filter(|w| !w.is_empty())
}

/// The longest piece of a term: the word run the index looks up.
fn piece(term: &str) -> Option<&str> {
    term.split(|c: char| !is_word_byte(c))
        .max_by_key(|p| p.len())
        .filter(|p| !p.is_empty())
}

/// Adds `g` to a posting list; texts are numbered in order, so a repeat is
/// the last one.
fn post(list: &mut Vec<u32>, g: u32) {
    if list.last() != Some(&g) {
        list.push(g);
    }
}

/// The sorted union of sorted lists.
fn union<'a>(lists: impl Iterator<Item = &'a [u32]>) -> Vec<u32> {
    let mut got: Vec<u32> = Vec::new();
    let mut n = 0;
    for l in lists {
        got.extend_from_slice(l);
        n += 1;
    }
    if n > 1 {
        got.sort_unstable();
        got.dedup();
    }
    got
}

/// What a requirement gives the index: its searchable fields, and the
/// ranges of ports it opens (search.rs owns both meanings).
pub(super) struct Parts {
    pub fields: fn(&Product, &Requirement) -> Vec<String>,
    pub opens: fn(&Product, &Requirement) -> Vec<PortRange>,
}

impl Haystacks {
    /// Made from `cat`, and only valid with it.
    pub(super) fn build(cat: &Catalog, parts: Parts) -> Self {
        let mut h = Haystacks {
            texts: Vec::new(),
            owners: Vec::new(),
            vocabulary: String::from("\n"),
            starts: Vec::new(),
            postings: Vec::new(),
            by_port: HashMap::new(),
            ranges: Vec::new(),
        };
        let mut ids: HashMap<String, usize> = HashMap::new();
        for (pi, p) in cat.products.values().enumerate() {
            for (ri, r) in p.requirements.iter().enumerate() {
                let text = (parts.fields)(p, r).join("\n").to_ascii_lowercase();
                let g = h.texts.len() as u32;
                for w in words_of(&text) {
                    let id = *ids.entry(w.to_string()).or_insert_with(|| {
                        h.starts.push(h.vocabulary.len() as u32);
                        h.vocabulary.push_str(w);
                        h.vocabulary.push('\n');
                        h.postings.push(Vec::new());
                        h.postings.len() - 1
                    });
                    post(&mut h.postings[id], g);
                }
                for range in (parts.opens)(p, r) {
                    if range.low == range.high {
                        post(h.by_port.entry(range.low).or_default(), g);
                    } else {
                        h.ranges.push((range, g));
                    }
                }
                h.owners.push((pi as u32, ri as u32));
                h.texts.push(text);
            }
        }
        h.postings.iter_mut().for_each(|p| p.shrink_to_fit());
        h
    }

    /// How many requirement texts there are.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    pub(super) fn text(&self, g: u32) -> &str {
        &self.texts[g as usize]
    }

    pub(super) fn owner(&self, g: u32) -> (usize, usize) {
        let (p, r) = self.owners[g as usize];
        (p as usize, r as usize)
    }

    /// The texts with a word that holds `piece` (ascending).
    fn with_piece(&self, piece: &str) -> Vec<u32> {
        let mut words = Vec::new();
        for at in memmem::find_iter(self.vocabulary.as_bytes(), piece.as_bytes()) {
            // The word whose start is the last at or before `at`; a piece
            // holds no newline, so it lies inside that word.
            let w = self.starts.partition_point(|s| *s as usize <= at) - 1;
            if words.last() != Some(&w) {
                words.push(w);
            }
        }
        union(words.iter().map(|w| self.postings[*w].as_slice()))
    }

    /// The requirements that open `port` (ascending).
    fn with_port(&self, port: u16) -> Vec<u32> {
        let ranges: Vec<u32> = self
            .ranges
            .iter()
            .filter(|(r, _)| r.contains(port))
            .map(|(_, g)| *g)
            .collect();
        let single = self.by_port.get(&port).map_or(&[][..], |v| v.as_slice());
        union([single, &ranges[..]].into_iter())
    }

    /// The requirement numbers (ascending) that may match a query of text
    /// `terms` (lowercase, no whitespace) and `ports`: the smallest of the
    /// sets the index gives for each term; every requirement when no term
    /// narrows (a text term without a letter or digit).
    pub(super) fn candidates(&self, terms: &[&str], ports: &[u16]) -> Vec<u32> {
        let mut best: Option<Vec<u32>> = None;
        let sets = ports.iter().map(|p| self.with_port(*p)).chain(
            terms
                .iter()
                .filter_map(|t| piece(t))
                .map(|p| self.with_piece(p)),
        );
        for set in sets {
            if best.as_ref().is_none_or(|b| set.len() < b.len()) {
                best = Some(set);
            }
        }
        best.unwrap_or_else(|| (0..self.texts.len() as u32).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_ascii_punctuation_and_space_only() {
        let w: Vec<&str> = words_of("sdm-gw-1 tcp/443\nrésumé_x").collect();
        assert_eq!(w, ["sdm", "gw", "1", "tcp", "443", "résumé", "x"]);
        assert_eq!(piece("sdm-gateway/1"), Some("gateway"));
        assert_eq!(piece("->"), None);
    }
}

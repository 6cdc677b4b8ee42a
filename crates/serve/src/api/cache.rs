//! Answers that depend only on a saved version's text (and the catalog,
//! fixed for the server's life): a plan or a picture is computed once per
//! version, then served from memory. A version's text never changes; the
//! key holds the text itself, so a deployment deleted and made again under
//! the same name and version number cannot be answered with the old plan.
//! A product's JSON depends on the catalog alone: made once per product.

use axum::body::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;

/// (what, deployment, version, its text).
type Key = (&'static str, String, i64, String);

/// At most this many answers; past it the cache starts over (plans of the
/// versions people look at come back after one computation each).
const MOST: usize = 64;

#[derive(Default)]
pub struct Answers(Mutex<HashMap<Key, Bytes>>);

impl Answers {
    pub fn get(&self, what: &'static str, name: &str, version: i64, yaml: &str) -> Option<Bytes> {
        let map = self.0.lock().ok()?;
        map.get(&(what, name.to_string(), version, yaml.to_string()))
            .cloned()
    }

    pub fn put(&self, what: &'static str, name: &str, version: i64, yaml: &str, body: Bytes) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= MOST {
                map.clear();
            }
            map.insert((what, name.to_string(), version, yaml.to_string()), body);
        }
    }
}

/// Each product's JSON as `GET /api/catalog/products/{id}` answers it, made
/// at its first request: the catalog is fixed for the server's life, so
/// there is at most one entry per product.
#[derive(Default)]
pub struct Products(Mutex<HashMap<String, Bytes>>);

impl Products {
    pub fn get_or_make<E>(
        &self,
        id: &str,
        make: impl FnOnce() -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        if let Some(b) = self.0.lock().ok().and_then(|m| m.get(id).cloned()) {
            return Ok(b);
        }
        let body = make()?;
        if let Ok(mut m) = self.0.lock() {
            m.insert(id.to_string(), body.clone());
        }
        Ok(body)
    }
}

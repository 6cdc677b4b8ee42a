//! The HTTP side: shared state, the route table (which also writes the
//! OpenAPI document), the guard every request passes, and the pages.

mod assets;
pub mod error;
mod guard;
pub mod openapi;
pub mod routes;
pub mod session;

pub use guard::User;

use crate::engine::Engine;
use crate::store::Store;
use crate::Options;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use portplan_model::Catalog;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub opts: Options,
    pub catalog: Arc<Catalog>,
    pub store: Store,
    pub engine: Engine,
    /// CPU-bound jobs, at most one per core.
    pub cpu: crate::cpu::CpuJobs,
    /// The catalog's requirements as lowercased text, for fast search.
    pub haystacks: Arc<portplan_model::search::Haystacks>,
    /// Plans and pictures of saved versions.
    pub answers: crate::api::cache::Answers,
    /// Products' JSON.
    pub products: crate::api::cache::Products,
    /// Signs session cookies; new at each start (sessions end with it).
    pub key: [u8; 32],
    pub addr: SocketAddr,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(opts: Options, catalog: Arc<Catalog>, store: Store, addr: SocketAddr) -> AppState {
        let mut key = [0u8; 32];
        if getrandom::fill(&mut key).is_err() {
            // No OS randomness: sessions cannot be signed safely, so none
            // verify (a token still works per request).
            eprintln!("portplan serve: no OS randomness; browser sign-in is off");
        }
        let engine = Engine::new(opts.exe.clone(), opts.catalog_dir.clone());
        let haystacks = Arc::new(portplan_model::search::Haystacks::new(&catalog));
        AppState(Arc::new(Inner {
            opts,
            haystacks,
            answers: crate::api::cache::Answers::default(),
            products: crate::api::cache::Products::default(),
            catalog,
            store,
            engine,
            cpu: crate::cpu::CpuJobs::new(),
            key,
            addr,
        }))
    }
}

pub fn router(state: AppState) -> Router {
    let mut api = Router::new();
    for r in routes::table() {
        api = api.route(r.doc.path, r.handler);
    }
    let limit = state.opts.max_upload;
    api.merge(assets::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

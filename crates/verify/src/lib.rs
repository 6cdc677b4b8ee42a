//! portplan verify stage.

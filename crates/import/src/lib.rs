//! portplan import stage.

//! portplan render stage.

//! portplan plan stage.

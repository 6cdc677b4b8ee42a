//! One-of decisions stated row by row become a choice with options, not a
//! feature per row: a deployment picks one database, it does not enable four.

mod common;
use common::{draft, on_port};
use portplan_model::Product;

/// The (choice, option) the requirement on `port` is under, if any.
fn option_of(p: &Product, port: u16) -> Option<(String, String)> {
    on_port(p, port)
        .when
        .as_ref()
        .and_then(|w| w.choice.iter().next())
        .map(|(c, o)| (c.clone(), o.clone()))
}

#[test]
fn rows_that_differ_in_what_is_used_are_one_choice() {
    let p = draft(
        "| Port | Condition | Listener | Talker |\n|---|---|---|---|\n\
         | 1433/TCP | if SQL Server is used | SQL Server store | Manager |\n\
         | 5432/TCP | if PostgreSQL is used | PostgreSQL store | Manager |\n\
         | 443/TCP | Always | Manager | Browser |\n",
    );
    assert_eq!(p.choices.len(), 1, "{:?}", p.choices);
    let c = &p.choices[0];
    assert_eq!(c.id, "store");
    let ids: Vec<&str> = c.options.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["sql-server", "postgresql"]);
    assert_eq!(
        option_of(&p, 1433),
        Some(("store".into(), "sql-server".into()))
    );
    assert_eq!(
        option_of(&p, 5432),
        Some(("store".into(), "postgresql".into()))
    );
    // Not features any more; the unconditional row is untouched.
    assert!(p.features.is_empty(), "{:?}", p.features);
    assert_eq!(option_of(&p, 443), None);
}

#[test]
fn one_condition_alone_stays_a_feature() {
    let p = draft(
        "| Port | Condition | Listener | Talker |\n|---|---|---|---|\n\
         | 636/TCP | if LDAPS is used | Directory | Manager |\n\
         | 1433/TCP | if SQL Server is used | SQL Server store | Manager |\n",
    );
    // Different kinds of party (directory, store): no common choice.
    assert!(p.choices.is_empty(), "{:?}", p.choices);
    assert_eq!(p.features.len(), 2, "{:?}", p.features);
}

//! Tables copied from a browser often arrive one cell per line: the header
//! cells (`Source`, `Destination`, `Port`, `Protocol`, `Purpose`) each on a
//! line of their own, then every row's cells, one per line, in the same
//! order. Read as lines, the parties are lost (each line is its own item);
//! put back as rows, the table's columns say who talks and who listens.

use crate::segment::{is_header_cell, is_port_column};
use crate::text::Row;

/// A line holding one cell: not a bullet, not blank, not a table row.
fn lone_cell(r: &Row) -> Option<&str> {
    match r.cells.as_slice() {
        [one] if !r.bullet && !r.heading && one.len() == 1 && !one[0].trim().is_empty() => {
            Some(one[0].trim())
        }
        _ => None,
    }
}

/// The rows with every one-cell-per-line table put back into table rows.
/// A run counts as a header when three or more lines in a row each name a
/// column and one of them is a port column; the lines that follow are taken
/// in groups of that many for as long as each group's port cell holds a
/// port. Anything else is left as it was.
pub fn regroup(rows: Vec<Row>) -> Vec<Row> {
    let n = rows.len();
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let run = rows[i..]
            .iter()
            .take_while(|r| lone_cell(r).is_some_and(is_header_cell))
            .count();
        let port_at = rows[i..i + run]
            .iter()
            .position(|r| lone_cell(r).is_some_and(is_port_column));
        let (true, Some(port_at)) = (run >= 3, port_at) else {
            out.push(rows[i].clone());
            i += 1;
            continue;
        };
        // Cells of the rows below, blank lines skipped.
        let mut groups: Vec<Vec<&Row>> = Vec::new();
        let mut j = i + run;
        loop {
            let mut group = Vec::with_capacity(run);
            let mut k = j;
            while group.len() < run && k < n {
                if rows[k].is_blank() {
                    k += 1;
                    continue;
                }
                match lone_cell(&rows[k]) {
                    Some(_) => group.push(&rows[k]),
                    None => break,
                }
                k += 1;
            }
            let has_port = group.len() == run
                && lone_cell(group[port_at]).is_some_and(|c| {
                    !crate::grammar::parse(&format!("port {c}"))
                        .mentions
                        .is_empty()
                });
            if !has_port {
                break;
            }
            groups.push(group);
            j = k;
        }
        if groups.is_empty() {
            out.push(rows[i].clone());
            i += 1;
            continue;
        }
        let table_row = |cells: &[&Row]| Row {
            line: cells[0].line,
            cells: cells.iter().map(|r| r.cells[0].clone()).collect(),
            cell_lines: cells.iter().map(|r| r.line).collect(),
            ..Row::default()
        };
        let header: Vec<&Row> = rows[i..i + run].iter().collect();
        out.push(table_row(&header));
        for g in &groups {
            out.push(table_row(g));
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cell_per_line_becomes_rows() {
        let (_, rows) = crate::text::rows(
            "Ports\nSource\nDestination\nPort\nProtocol\nAgent\nServer\n8443\nTCP\nServer\nDatabase\n5432\nTCP\nThe end.\n",
        );
        let rows = regroup(rows);
        let tables: Vec<&Row> = rows.iter().filter(|r| r.cells.len() >= 2).collect();
        assert_eq!(tables.len(), 3, "{rows:?}");
        assert_eq!(tables[1].cells[0], vec!["Agent".to_string()]);
        assert_eq!(tables[2].cells[2], vec!["5432".to_string()]);
        assert_eq!(tables[2].cell_lines, vec![10, 11, 12, 13]);
        assert!(rows.iter().any(|r| r.text() == "The end."));
    }

    #[test]
    fn lines_that_only_look_like_headers_stay() {
        let src = "Source\nDestination\nPort\nsee the table below for details\n";
        let (_, rows) = crate::text::rows(src);
        let before = rows.len();
        assert_eq!(regroup(rows).len(), before);
    }
}

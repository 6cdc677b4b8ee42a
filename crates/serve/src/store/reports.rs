//! Verification reports (`portplan report -f json`) received per
//! deployment, with what changed since the one before.

use super::audits::json;
use super::{text, DbError, Store};
use serde::Serialize;

pub struct NewReport<'a> {
    pub deployment: &'a str,
    pub author: &'a str,
    pub source: &'a str,
    pub summary: &'a serde_json::Value,
    pub body: &'a serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    pub id: String,
    pub deployment: String,
    pub received_at: String,
    pub author: String,
    pub source: String,
    pub summary: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<serde_json::Value>,
}

const COLUMNS: &str = "id, deployment, received_at, author, source, summary, changes";

impl Store {
    /// Keeps a report with `changes(previous body)`. The deployment's row
    /// is locked first (a no-op update: a row lock in PostgreSQL, the write
    /// lock in SQLite), so two reports received at once, even by two
    /// servers sharing the database, are compared one after the other and
    /// the second sees the first as its previous.
    pub async fn add_report(
        &self,
        r: NewReport<'_>,
        changes: impl FnOnce(Option<&serde_json::Value>) -> serde_json::Value,
    ) -> Result<ReportRow, DbError> {
        let id = crate::new_id();
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE deployments SET latest = latest WHERE name = $1")
            .bind(r.deployment)
            .execute(&mut *tx)
            .await?;
        let previous = sqlx::query(
            "SELECT body FROM reports WHERE deployment = $1 ORDER BY received_at DESC, id DESC LIMIT 1",
        )
        .bind(r.deployment)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| text(&row, "body").map(|s| json(&s)))
        .transpose()?;
        let changes = changes(previous.as_ref());
        // Taken under the lock: the order of times is the order of comparing.
        let now = crate::now();
        sqlx::query(
            "INSERT INTO reports (id, deployment, received_at, author, source, summary, body, changes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(r.deployment)
        .bind(&now)
        .bind(r.author)
        .bind(r.source)
        .bind(r.summary.to_string())
        .bind(r.body.to_string())
        .bind(changes.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ReportRow {
            id,
            deployment: r.deployment.to_string(),
            received_at: now,
            author: r.author.to_string(),
            source: r.source.to_string(),
            summary: r.summary.clone(),
            changes: Some(changes),
            report: None,
        })
    }

    /// A deployment's reports, newest first, without their bodies.
    pub async fn reports(&self, deployment: &str) -> Result<Vec<ReportRow>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM reports WHERE deployment = $1 ORDER BY received_at DESC, id DESC"
        ))
        .bind(deployment)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| report_row(r, false)).collect()
    }

    /// The body of the report received just before (`received_at`, `id`).
    pub async fn report_before(
        &self,
        deployment: &str,
        received_at: &str,
        id: &str,
    ) -> Result<Option<serde_json::Value>, DbError> {
        let row = sqlx::query(
            "SELECT body FROM reports WHERE deployment = $1 \
             AND (received_at < $2 OR (received_at = $2 AND id < $3)) \
             ORDER BY received_at DESC, id DESC LIMIT 1",
        )
        .bind(deployment)
        .bind(received_at)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| text(&r, "body").map(|s| json(&s))).transpose()
    }

    pub async fn report(&self, id: &str) -> Result<Option<ReportRow>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, body FROM reports WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(|r| report_row(r, true)).transpose()
    }
}

fn report_row(r: &sqlx::any::AnyRow, with_body: bool) -> Result<ReportRow, DbError> {
    Ok(ReportRow {
        id: text(r, "id")?,
        deployment: text(r, "deployment")?,
        received_at: text(r, "received_at")?,
        author: text(r, "author")?,
        source: text(r, "source")?,
        summary: json(&text(r, "summary")?),
        changes: Some(json(&text(r, "changes")?)),
        report: if with_body {
            Some(json(&text(r, "body")?))
        } else {
            None
        },
    })
}

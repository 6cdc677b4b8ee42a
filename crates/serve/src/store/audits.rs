//! Audits of uploaded rulesets: the verdicts as `portplan audit -f json`
//! wrote them, with who ran them against which version.

use super::{int, text, DbError, Store};
use serde::Serialize;

pub struct NewAudit<'a> {
    pub deployment: &'a str,
    pub version: i64,
    pub author: &'a str,
    pub file: &'a str,
    pub rules_format: &'a str,
    pub as_host: &'a str,
    pub summary: &'a serde_json::Value,
    pub result: &'a serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub id: String,
    pub deployment: String,
    pub version: i64,
    pub created_at: String,
    pub author: String,
    pub file: String,
    pub rules_format: String,
    #[serde(rename = "as")]
    pub as_host: String,
    pub summary: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
}

const COLUMNS: &str =
    "id, deployment, version, created_at, author, file, rules_format, as_host, summary";

impl Store {
    pub async fn add_audit(&self, a: NewAudit<'_>) -> Result<AuditRow, DbError> {
        let id = crate::new_id();
        let now = crate::now();
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO audits (id, deployment, version, created_at, author, file, rules_format, as_host, summary, result) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(a.deployment)
        .bind(a.version)
        .bind(&now)
        .bind(a.author)
        .bind(a.file)
        .bind(a.rules_format)
        .bind(a.as_host)
        .bind(a.summary.to_string())
        .bind(a.result.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(AuditRow {
            id,
            deployment: a.deployment.to_string(),
            version: a.version,
            created_at: now,
            author: a.author.to_string(),
            file: a.file.to_string(),
            rules_format: a.rules_format.to_string(),
            as_host: a.as_host.to_string(),
            summary: a.summary.clone(),
            result: Some(a.result.clone()),
        })
    }

    /// A deployment's audits, newest first, without their verdicts.
    pub async fn audits(&self, deployment: &str) -> Result<Vec<AuditRow>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audits WHERE deployment = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(deployment)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| audit_row(r, false)).collect()
    }

    pub async fn audit(&self, id: &str) -> Result<Option<AuditRow>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, result FROM audits WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(|r| audit_row(r, true)).transpose()
    }
}

fn audit_row(r: &sqlx::any::AnyRow, with_result: bool) -> Result<AuditRow, DbError> {
    Ok(AuditRow {
        id: text(r, "id")?,
        deployment: text(r, "deployment")?,
        version: int(r, "version")?,
        created_at: text(r, "created_at")?,
        author: text(r, "author")?,
        file: text(r, "file")?,
        rules_format: text(r, "rules_format")?,
        as_host: text(r, "as_host")?,
        summary: json(&text(r, "summary")?),
        result: if with_result {
            Some(json(&text(r, "result")?))
        } else {
            None
        },
    })
}

/// Stored JSON was written by the server itself; a row edited by hand into
/// something else shows as that text rather than failing the page.
pub(super) fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.to_string()))
}

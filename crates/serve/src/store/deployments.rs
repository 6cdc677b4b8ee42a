//! Deployments and their versions: each save is a new version row, the
//! deployment row points at the latest; a save based on an older version
//! than the latest is refused (someone else saved in between).

use super::{int, text, DbError, Store};
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Serialize)]
pub struct DeploymentRow {
    pub name: String,
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionRow {
    pub version: i64,
    pub yaml: String,
    pub sha256: String,
    pub author: String,
    pub message: String,
    pub created_at: String,
}

/// Why a save did not happen.
#[derive(Debug)]
pub enum Conflict {
    /// The name is taken (create).
    Exists,
    /// No such deployment (update).
    Missing,
    /// Someone saved after the version the edit started from.
    Stale {
        current: i64,
    },
    Db(DbError),
}

impl From<sqlx::Error> for Conflict {
    fn from(e: sqlx::Error) -> Self {
        Conflict::Db(e.into())
    }
}

fn digest(yaml: &str) -> String {
    Sha256::digest(yaml.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Store {
    pub async fn list_deployments(&self) -> Result<Vec<DeploymentRow>, DbError> {
        let rows = sqlx::query(
            "SELECT name, latest, created_at, created_by, updated_at, updated_by \
             FROM deployments ORDER BY updated_at DESC, name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(deployment_row).collect()
    }

    pub async fn deployment(&self, name: &str) -> Result<Option<DeploymentRow>, DbError> {
        let row = sqlx::query(
            "SELECT name, latest, created_at, created_by, updated_at, updated_by \
             FROM deployments WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(deployment_row).transpose()
    }

    /// One version, or the latest when `version` is None.
    pub async fn version(
        &self,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<VersionRow>, DbError> {
        let q = match version {
            Some(_) => {
                "SELECT version, yaml, sha256, author, message, created_at \
                 FROM deployment_versions WHERE deployment = $1 AND version = $2"
            }
            None => {
                "SELECT v.version, v.yaml, v.sha256, v.author, v.message, v.created_at \
                 FROM deployment_versions v JOIN deployments d \
                 ON d.name = v.deployment AND d.latest = v.version WHERE d.name = $1"
            }
        };
        let mut query = sqlx::query(q).bind(name);
        if let Some(v) = version {
            query = query.bind(v);
        }
        let row = query.fetch_optional(self.pool()).await?;
        row.as_ref().map(version_row).transpose()
    }

    /// Every version, newest first.
    pub async fn versions(&self, name: &str) -> Result<Vec<VersionRow>, DbError> {
        let rows = sqlx::query(
            "SELECT version, yaml, sha256, author, message, created_at \
             FROM deployment_versions WHERE deployment = $1 ORDER BY version DESC",
        )
        .bind(name)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(version_row).collect()
    }

    pub async fn create_deployment(
        &self,
        name: &str,
        yaml: &str,
        author: &str,
        message: &str,
    ) -> Result<DeploymentRow, Conflict> {
        let now = crate::now();
        let mut tx = self.pool().begin().await?;
        // Write first, no read before: a SQLite transaction that read and
        // then writes after another save fails with "database is locked"
        // instead of waiting. A taken name fails on the key.
        let inserted = sqlx::query(
            "INSERT INTO deployments (name, latest, created_at, created_by, updated_at, updated_by) \
             VALUES ($1, 1, $2, $3, $2, $3)",
        )
        .bind(name)
        .bind(&now)
        .bind(author)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            return Err(if is_unique_violation(&e) {
                Conflict::Exists
            } else {
                e.into()
            });
        }
        insert_version(&mut tx, name, 1, yaml, author, message, &now).await?;
        tx.commit().await?;
        Ok(DeploymentRow {
            name: name.to_string(),
            version: 1,
            created_at: now.clone(),
            created_by: author.to_string(),
            updated_at: now,
            updated_by: author.to_string(),
        })
    }

    /// A new version on top of `base`; refused when `base` is not the latest.
    pub async fn update_deployment(
        &self,
        name: &str,
        base: i64,
        yaml: &str,
        author: &str,
        message: &str,
    ) -> Result<DeploymentRow, Conflict> {
        let now = crate::now();
        let mut tx = self.pool().begin().await?;
        // The compare-and-set: only one of two saves from the same base
        // moves `latest`; the other sees no row changed.
        let moved = sqlx::query(
            "UPDATE deployments SET latest = $1, updated_at = $2, updated_by = $3 \
             WHERE name = $4 AND latest = $5",
        )
        .bind(base + 1)
        .bind(&now)
        .bind(author)
        .bind(name)
        .bind(base)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            let current = sqlx::query("SELECT latest FROM deployments WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match current {
                None => Conflict::Missing,
                Some(r) => Conflict::Stale {
                    current: int(&r, "latest").map_err(Conflict::Db)?,
                },
            });
        }
        insert_version(&mut tx, name, base + 1, yaml, author, message, &now).await?;
        tx.commit().await?;
        match self.deployment(name).await {
            Ok(Some(row)) => Ok(row),
            Ok(None) => Err(Conflict::Missing),
            Err(e) => Err(Conflict::Db(e)),
        }
    }
}

impl Store {
    /// Removes a deployment with its versions, audits and reports, in one
    /// transaction; false when there was none.
    pub async fn delete_deployment(&self, name: &str) -> Result<bool, DbError> {
        let mut tx = self.pool().begin().await?;
        for table in ["audits", "reports", "deployment_versions"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE deployment = $1"))
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        let gone = sqlx::query("DELETE FROM deployments WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone > 0)
    }
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
    version: i64,
    yaml: &str,
    author: &str,
    message: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO deployment_versions (deployment, version, yaml, sha256, author, message, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(name)
    .bind(version)
    .bind(yaml)
    .bind(digest(yaml))
    .bind(author)
    .bind(message)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn deployment_row(r: &sqlx::any::AnyRow) -> Result<DeploymentRow, DbError> {
    Ok(DeploymentRow {
        name: text(r, "name")?,
        version: int(r, "latest")?,
        created_at: text(r, "created_at")?,
        created_by: text(r, "created_by")?,
        updated_at: text(r, "updated_at")?,
        updated_by: text(r, "updated_by")?,
    })
}

fn version_row(r: &sqlx::any::AnyRow) -> Result<VersionRow, DbError> {
    Ok(VersionRow {
        version: int(r, "version")?,
        yaml: text(r, "yaml")?,
        sha256: text(r, "sha256")?,
        author: text(r, "author")?,
        message: text(r, "message")?,
        created_at: text(r, "created_at")?,
    })
}

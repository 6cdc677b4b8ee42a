//! The database: SQLite or PostgreSQL behind sqlx's `any` driver, one
//! schema (migrations/, embedded), every write in a transaction.

mod audits;
mod deployments;
mod migrate;
mod reports;

pub use audits::{AuditRow, NewAudit};
pub use deployments::{Conflict, DeploymentRow, VersionRow};
pub use reports::{NewReport, ReportRow};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};

/// Which database the server keeps its data in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    pub backend: Backend,
}

/// A database failure, said without the driver's internals where they
/// would only confuse (the full text goes to the server's stderr).
#[derive(Debug)]
pub struct DbError(pub String);

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        DbError(e.to_string())
    }
}

impl Store {
    /// Connects (a SQLite file is made if missing) and brings the schema up
    /// to date.
    pub async fn open(url: &str) -> Result<Store, String> {
        sqlx::any::install_default_drivers();
        let (backend, url) = parse_url(url)?;
        let pool = AnyPoolOptions::new()
            // SQLite writes one at a time whatever the pool; a few
            // connections serve concurrent reads (WAL).
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| format!("cannot open the database {}: {e}", redact(&url)))?;
        if backend == Backend::Sqlite {
            // Readers do not wait for a writer (and the mode stays with the file).
            pool.execute("PRAGMA journal_mode = WAL;")
                .await
                .map_err(|e| format!("cannot set up {}: {e}", redact(&url)))?;
        }
        migrate::run(&pool).await.map_err(|e| {
            format!(
                "cannot bring the schema of {} up to date: {e}",
                redact(&url)
            )
        })?;
        Ok(Store { pool, backend })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// `sqlite:FILE` (made if missing), `sqlite://FILE`, `postgres://...`,
/// `postgresql://...`.
fn parse_url(url: &str) -> Result<(Backend, String), String> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let file = rest.trim_start_matches("//");
        if file.is_empty() {
            return Err("--db sqlite: needs a file name, as in sqlite:portplan.db".into());
        }
        let (file, query) = file.split_once('?').unwrap_or((file, ""));
        let mode = if query.contains("mode=") {
            ""
        } else {
            "mode=rwc"
        };
        let sep = if query.is_empty() || mode.is_empty() {
            ""
        } else {
            "&"
        };
        return Ok((
            Backend::Sqlite,
            format!("sqlite://{file}?{query}{sep}{mode}"),
        ));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_string()));
    }
    Err(format!(
        "--db {}: give sqlite:FILE or postgres://USER@HOST/DB",
        redact(url)
    ))
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn text(row: &AnyRow, col: &str) -> Result<String, DbError> {
    use sqlx::Row;
    Ok(row.try_get::<String, _>(col)?)
}

fn int(row: &AnyRow, col: &str) -> Result<i64, DbError> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(col)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("sqlite:pp.db").unwrap(),
            (Backend::Sqlite, "sqlite://pp.db?mode=rwc".into())
        );
        assert_eq!(
            parse_url("sqlite:///tmp/a.db?mode=ro").unwrap(),
            (Backend::Sqlite, "sqlite:///tmp/a.db?mode=ro".into())
        );
        assert!(parse_url("mysql://x").is_err());
        assert_eq!(
            redact("postgres://bob:secret@db/pp"),
            "postgres://bob:***@db/pp"
        );
    }
}

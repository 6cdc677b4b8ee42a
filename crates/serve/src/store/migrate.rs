//! The schema's history, embedded in the binary: sqlx's migrator applies
//! what a database has not seen yet (checksummed, locked on PostgreSQL).

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::AnyPool;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

/// (version, description, SQL), in order. Never edit a released one: add.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "deployments audits reports",
    include_str!("../../migrations/0001_deployments_audits_reports.sql"),
)];

#[derive(Debug)]
struct Embedded;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|(v, d, sql)| {
                    Migration::new(
                        *v,
                        Cow::Borrowed(*d),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

pub async fn run(pool: &AnyPool) -> Result<(), String> {
    let m = Migrator::new(Embedded).await.map_err(|e| e.to_string())?;
    m.run(pool).await.map_err(|e| e.to_string())
}

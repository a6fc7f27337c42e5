//! Test databases: a fresh SQLite file, or a fresh PostgreSQL database on the local server
//! (`PLENARY_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/postgres`), each
//! dropped when the test ends.

use sqlx::Connection as _;

/// Which database a store test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Done,
    File(std::path::PathBuf),
    Postgres { admin: String, name: String },
}

fn admin_url() -> String {
    std::env::var("PLENARY_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

impl TestDatabase {
    pub async fn create(kind: Kind) -> TestDatabase {
        sqlx::any::install_default_drivers();
        match kind {
            Kind::Sqlite => {
                let path = std::env::temp_dir().join(format!("{}.db", unique("plenary_test")));
                TestDatabase { url: format!("sqlite://{}?mode=rwc", path.display()), cleanup: Cleanup::File(path) }
            }
            Kind::Postgres => {
                let admin = admin_url();
                let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is needed for this test and is not reachable at {admin} ({e}). \
                         Start it (pg_ctlcluster <version> main start) or point PLENARY_TEST_POSTGRES \
                         at a server where this user may create databases."
                    )
                });
                let name = unique("plenary_test");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create a test database");
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
                TestDatabase { url: format!("{base}/{name}"), cleanup: Cleanup::Postgres { admin, name } }
            }
        }
    }

    /// Drops the database. Dropping the value does the same, also when a test fails.
    pub async fn drop_database(self) {
        let cleanup = std::mem::replace(&mut { self }.cleanup, Cleanup::Done);
        tokio::task::spawn_blocking(move || cleanup.run()).await.unwrap();
    }
}

impl Cleanup {
    fn run(self) {
        match self {
            Cleanup::Done => {}
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            // On a thread of its own: this may run inside a test's runtime, while it unwinds.
            Cleanup::Postgres { admin, name } => std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async {
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await {
                        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await;
                    }
                });
            })
            .join()
            .unwrap(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        std::mem::replace(&mut self.cleanup, Cleanup::Done).run();
    }
}

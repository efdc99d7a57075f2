//! Durable storage over SQLite or PostgreSQL behind one type.
//!
//! Each query is written once: the SQL uses `$n` placeholders, which both drivers accept, and
//! timestamps are bound from Rust, so the `on_pool!` macro can expand the same code for
//! each backend. Only the migrations differ per database.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{Error, Result};

mod host_actions;
mod meeting_owner;
mod meetings;
mod participants;
mod refresh_sessions;
mod users;

/// How long a request waits for a PostgreSQL connection. It also bounds a database outage: the
/// pool retries a refused connection until then, and the request answers 503 `unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

/// Runs `$body` with `$pool` bound to whichever pool this store holds.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool, _) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Connection pool to the configured database. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    /// The primary, and a read replica for the reads that [`crate::ReplicaReads`] sends there.
    Postgres(PgPool, Option<PgPool>),
}

fn pg_pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(ACQUIRE_TIMEOUT)
}

impl Store {
    /// Connects and brings the schema up to date.
    ///
    /// Accepts `sqlite:PATH` (the file and its parent directory are created if missing; WAL and
    /// foreign keys on), `sqlite::memory:`, and `postgres://` / `postgresql://` URLs.
    pub async fn connect(database_url: &str) -> Result<Self> {
        let store = if database_url.starts_with("sqlite:") {
            Self::Sqlite(connect_sqlite(database_url).await?)
        } else if database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://")
        {
            Self::Postgres(pg_pool_options().connect(database_url).await?, None)
        } else {
            return Err(Error::Config(
                "database URL must start with sqlite: or postgres://".to_owned(),
            ));
        };
        store.migrate().await?;
        Ok(store)
    }

    /// [`Store::connect`], with a PostgreSQL read replica (a streaming standby of the primary;
    /// no migrations run there). The replica connects lazily: a replica that is down at start
    /// only sends its reads back to the primary.
    pub async fn connect_with_replica(
        database_url: &str,
        replica_url: Option<&str>,
    ) -> Result<Self> {
        let store = Self::connect(database_url).await?;
        let Some(replica_url) = replica_url else {
            return Ok(store);
        };
        match store {
            Self::Postgres(primary, None) => {
                let replica = pg_pool_options().connect_lazy(replica_url)?;
                Ok(Self::Postgres(primary, Some(replica)))
            }
            _ => Err(Error::Config(
                "DATABASE_REPLICA_URL needs a postgres:// DATABASE_URL".to_owned(),
            )),
        }
    }

    /// The replica as a store of its own, if there is one.
    pub fn replica(&self) -> Option<Store> {
        match self {
            Self::Postgres(_, Some(replica)) => Some(Self::Postgres(replica.clone(), None)),
            _ => None,
        }
    }

    /// Applies pending migrations of this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Self::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await?,
            Self::Postgres(pool, _) => POSTGRES_MIGRATOR.run(pool).await?,
        }
        Ok(())
    }

    /// Name of the backend, for logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(..) => "postgres",
        }
    }

    /// Readiness probe: one round trip to the database.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Connections the pool holds open (idle or in use): the pool grows under load up to its
    /// maximum and keeps idle connections for a while, each with its own descriptors.
    pub fn connections(&self) -> u32 {
        on_pool!(self, pool => pool.size())
    }

    /// Closes every connection; waits for checked-out connections to come back.
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await);
        if let Self::Postgres(_, Some(replica)) = self {
            replica.close().await;
        }
    }
}

async fn connect_sqlite(url: &str) -> Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let dir = options.get_filename().parent().map(Path::to_path_buf);
    if let Some(dir) = dir.filter(|d| !in_memory && !d.as_os_str().is_empty()) {
        create_dir(&dir)?;
    }
    let mut pool = SqlitePoolOptions::new();
    if in_memory {
        // Every connection to `:memory:` is a different database: keep exactly one, forever.
        pool = pool
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    } else {
        pool = pool.max_connections(8);
    }
    Ok(pool.connect_with(options).await?)
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Config(format!("cannot create {}: {e}", dir.display())))
}

/// Current time at the precision both databases keep (microseconds), so a value read back
/// equals the value written on either backend.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// True when `err` is a unique-constraint violation.
fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

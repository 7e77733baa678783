//! The database's rate limits (`SqlRateLimits`) on SQLite and PostgreSQL:
//! GCRA's burst and refill on a stepped clock, keys and limits apart, the
//! sweep, and on PostgreSQL a race of many takes for the last requests of
//! one key, as replicas would run them.

use adapter_sql::{Database, PoolSettings, Rate, SqlRateLimits};
use std::time::Duration;
use test_support::postgres::{PgCluster, TestDatabase};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

async fn limits(url: &str) -> SqlRateLimits {
    let db = Database::connect(url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    SqlRateLimits::new(db)
}

async fn burst_refill_keys_and_sweep(limits: SqlRateLimits) {
    let rate = Rate::per_minute(3);
    for _ in 0..3 {
        assert_eq!(limits.take("accept", "ada", rate, NOW).await.unwrap(), Ok(()));
    }
    // Three taken at once: the next one refills 20 s later.
    assert_eq!(limits.take("accept", "ada", rate, NOW).await.unwrap(), Err(Duration::from_secs(20)));
    let refused = limits.take("accept", "ada", rate, NOW + time::Duration::seconds(5)).await.unwrap();
    assert_eq!(refused, Err(Duration::from_secs(15)), "a refused request takes nothing");
    assert_eq!(limits.take("accept", "bob", rate, NOW).await.unwrap(), Ok(()), "another key");
    assert_eq!(limits.take("preview", "ada", rate, NOW).await.unwrap(), Ok(()), "another limit");

    let later = NOW + time::Duration::seconds(20);
    assert_eq!(limits.take("accept", "ada", rate, later).await.unwrap(), Ok(()));
    assert!(limits.take("accept", "ada", rate, later).await.unwrap().is_err());

    // A minute after the last take every allowance is full: the rows go.
    let idle = later + time::Duration::seconds(60);
    assert_eq!(limits.sweep(NOW).await.unwrap(), 0, "nothing is full yet");
    assert_eq!(limits.sweep(idle).await.unwrap(), 3);
    for _ in 0..3 {
        assert_eq!(limits.take("accept", "ada", rate, idle).await.unwrap(), Ok(()));
    }
    assert!(limits.take("accept", "ada", rate, idle).await.unwrap().is_err());
}

#[tokio::test]
async fn sqlite_limits_burst_refill_and_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    burst_refill_keys_and_sweep(limits(&url).await).await;
}

#[tokio::test]
async fn postgres_limits_burst_refill_and_sweep() {
    let db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    burst_refill_keys_and_sweep(limits(db.url()).await).await;
}

/// 40 takes of one key at once, from two pools as two replicas would
/// send them, with an allowance of 5: exactly 5 succeed.
#[tokio::test]
async fn postgres_grants_exactly_the_burst_to_concurrent_takes() {
    let db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let replicas = [limits(db.url()).await, limits(db.url()).await];
    let rate = Rate::per_minute(5);
    let takes = (0..40).map(|i| {
        let limits = replicas[i % 2].clone();
        tokio::spawn(async move { limits.take("accept", "ada", rate, NOW).await.unwrap() })
    });
    let outcomes = futures_util::future::join_all(takes).await;
    let granted = outcomes.into_iter().map(Result::unwrap).filter(Result::is_ok).count();
    assert_eq!(granted, 5);
}

//! Tests of the throwaway PostgreSQL harness against the machine's server.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use test_support::postgres::{PgCluster, TestDatabase};

/// A connection that gives up quickly, so that a stopped server fails fast.
async fn connect(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(2))
        .acquire_timeout(Duration::from_secs(2))
        .sqlx_logging(false);
    Database::connect(options).await
}

/// The single integer `sql` returns.
async fn query_i64(connection: &DatabaseConnection, sql: &str) -> i64 {
    let row = connection
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("query runs")
        .expect("query returns a row");
    row.try_get_by_index::<i64>(0).expect("an integer column")
}

/// Whether a database called `name` exists in the cluster at `admin_url`.
async fn database_exists(admin_url: &str, name: &str) -> bool {
    let admin = connect(admin_url).await.expect("admin connection");
    let count = query_i64(&admin, &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'")).await;
    admin.close().await.expect("close");
    count == 1
}

#[tokio::test]
async fn a_private_cluster_gives_independent_databases_that_are_dropped_with_their_value() {
    let cluster = PgCluster::start().expect("cluster starts");
    let first = TestDatabase::create(&cluster).await.expect("first database");
    let second = TestDatabase::create(&cluster).await.expect("second database");
    assert_ne!(first.name(), second.name());
    assert!(first.name().starts_with("test_"));
    assert_eq!(first.url(), cluster.url(first.name()));

    let one = connect(first.url()).await.expect("connects to the first database");
    let two = connect(second.url()).await.expect("connects to the second database");
    assert_eq!(query_i64(&one, "SELECT 1::bigint").await, 1);
    // Cloned from the migrated template: every migration is recorded already.
    assert!(query_i64(&one, "SELECT count(*) FROM seaql_migrations").await > 0);

    one.execute_unprepared("CREATE TABLE only_here (id bigint)").await.expect("create table");
    one.execute_unprepared("INSERT INTO only_here VALUES (42)").await.expect("insert");
    assert_eq!(query_i64(&one, "SELECT count(*) FROM only_here").await, 1);
    let elsewhere = "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'";
    assert_eq!(query_i64(&two, elsewhere).await, 0);
    two.close().await.expect("close");

    // Dropped even while a connection is still open.
    let (name, admin_url) = (first.name().to_owned(), cluster.url("postgres"));
    drop(first);
    assert!(!database_exists(&admin_url, &name).await);
    assert!(database_exists(&admin_url, second.name()).await);
    drop(one);
}

#[tokio::test]
async fn a_stopped_cluster_refuses_connections_until_it_is_restarted_on_the_same_port() {
    let cluster = PgCluster::start().expect("cluster starts");
    let database = TestDatabase::create(&cluster).await.expect("database");
    let before = connect(database.url()).await.expect("connects");
    before.execute_unprepared("CREATE TABLE kept (id bigint)").await.expect("create table");
    before.close().await.expect("close");
    let port = cluster.port();

    cluster.stop().expect("stops");
    assert!(connect(database.url()).await.is_err(), "a stopped cluster must refuse connections");
    cluster.stop().expect("stopping twice is harmless");

    cluster.restart().expect("restarts");
    assert_eq!(cluster.port(), port);
    let after = connect(database.url()).await.expect("connects after the restart");
    assert_eq!(query_i64(&after, "SELECT count(*) FROM kept").await, 0, "the data survived");
    after.close().await.expect("close");
}

#[tokio::test]
async fn the_shared_cluster_serves_one_test() {
    let database = TestDatabase::create(PgCluster::shared()).await.expect("database");
    let connection = connect(database.url()).await.expect("connects");
    assert_eq!(query_i64(&connection, "SELECT 1::bigint").await, 1);
    connection.close().await.expect("close");
}

#[tokio::test]
async fn the_shared_cluster_serves_another_test() {
    let first = TestDatabase::create(PgCluster::shared()).await.expect("database");
    let second = TestDatabase::create(PgCluster::shared()).await.expect("database");
    assert_eq!(PgCluster::shared().port(), PgCluster::shared().port());
    for database in [&first, &second] {
        let connection = connect(database.url()).await.expect("connects");
        assert_eq!(query_i64(&connection, "SELECT 2::bigint").await, 2);
        connection.close().await.expect("close");
    }
}

#[tokio::test]
async fn a_restart_on_a_port_taken_meanwhile_fails_with_the_server_log() {
    let cluster = PgCluster::start().expect("cluster starts");
    cluster.stop().expect("stops");
    let squatter = std::net::TcpListener::bind(("127.0.0.1", cluster.port())).expect("takes the port");

    let error = format!("{:#}", cluster.restart().expect_err("the port is taken"));
    assert!(error.contains(&cluster.port().to_string()), "{error}");
    assert!(error.contains("could not"), "the log should say why: {error}");

    drop(squatter);
    cluster.restart().expect("restarts once the port is free");
    connect(&cluster.url("postgres")).await.expect("connects");
}

#[test]
fn many_runtimes_creating_databases_at_once_share_one_template() {
    // Each thread stands for a `#[tokio::test]` with its own runtime.
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                runtime.block_on(async {
                    let database = TestDatabase::create(PgCluster::shared()).await.expect("database");
                    let connection = connect(database.url()).await.expect("connects");
                    assert_eq!(query_i64(&connection, "SELECT 3::bigint").await, 3);
                    connection.close().await.expect("close");
                    database.name().to_owned()
                })
            })
        })
        .collect();
    let mut names: Vec<String> = threads.into_iter().map(|thread| thread.join().expect("thread")).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8);
}

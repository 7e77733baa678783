//! What the suite shows, one function per claim of issue 16: start-up on an
//! empty database, the race suites split across replicas, shared limits,
//! background jobs once, the database stopped under load, a replica killed,
//! a rolling restart, and at the end every acknowledged write present.
//!
//! Each scenario adds a row to the [`Report`] and a violation for every
//! broken promise; the suite fails when there is any.

use crate::api::{Api, token};
use crate::cluster::{
    ACQUIRE_TIMEOUT, AVATAR_TRIES, Cluster, DISCORD_IDS, DRAIN_SECONDS, EMAILS_PER_RECIPIENT, PREVIEWS_PER_MINUTE,
    ROOT, SECOND,
};
use crate::load::{Acknowledged, Load, Outcomes};
use anyhow::Context as _;
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Workers of the background load in the fault scenarios.
const WORKERS: usize = 8;
/// How long an answer may take while the database is down: the acquire
/// timeout plus time to answer.
const SLOW: Duration = Duration::from_secs(ACQUIRE_TIMEOUT.as_secs() + 2);
/// How long every replica may take to recover once the database is back.
const RECOVERY: Duration = Duration::from_secs(5);
/// Successful answers the load must get before a fault and after each
/// step, so that every phase runs under load.
const WINDOW: u64 = 100;
/// The longest any phase of the load may take to get its answers.
const PHASE: Duration = Duration::from_secs(30);

/// One line of the summary.
struct Row {
    scenario: &'static str,
    requests: u64,
    figures: String,
    violations: usize,
}

/// The suite's findings.
#[derive(Default)]
pub struct Report {
    rows: Vec<Row>,
    violations: Vec<String>,
    /// Every write answered 2xx under load, checked at the end.
    ledger: Vec<Acknowledged>,
}

impl Report {
    fn check(&mut self, holds: bool, violation: impl FnOnce() -> String) {
        if !holds {
            self.violations.push(violation());
        }
    }

    fn row(&mut self, scenario: &'static str, requests: u64, figures: String, before: usize) {
        let violations = self.violations.len() - before;
        self.rows.push(Row { scenario, requests, figures, violations });
    }

    /// Whether every promise held.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The summary: one line per scenario, then every violation.
    pub fn print(&self) {
        println!("\ncluster suite: 3 replicas behind HAProxy on one PostgreSQL");
        println!("{:<22} {:>9}  {:<6}  figures", "scenario", "requests", "result");
        for row in &self.rows {
            let result = if row.violations == 0 { "ok" } else { "FAILED" };
            println!("{:<22} {:>9}  {:<6}  {}", row.scenario, row.requests, result, row.figures);
        }
        let total: u64 = self.rows.iter().map(|r| r.requests).sum();
        println!("{:<22} {:>9}", "total", total);
        for violation in &self.violations {
            println!("VIOLATION: {violation}");
        }
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        println!("cluster suite {verdict}: {} violations", self.violations.len());
    }

    /// Load outcomes every fault scenario checks alike: no 500, no 503
    /// without `Retry-After`, nothing slower than [`SLOW`].
    fn check_load(&mut self, scenario: &str, seen: &Outcomes) {
        let errors = seen.count(500..=500);
        self.check(errors == 0, || format!("{scenario}: {errors} answers were 500"));
        let bare = seen.unavailable_without_retry_after;
        self.check(bare == 0, || format!("{scenario}: {bare} 503s came without Retry-After"));
        let slow = seen.too_slow;
        self.check(slow == 0, || {
            format!("{scenario}: {slow} answers took longer than {SLOW:?} (slowest {:?})", seen.slowest)
        });
    }
}

/// Runs every scenario in order on a prepared cluster.
pub async fn run(cluster: &mut Cluster) -> anyhow::Result<Report> {
    let api = Api::new()?;
    let mut report = Report::default();
    start_up(cluster, &mut report).await?;
    cluster.wait_proxy(&[0, 1, 2], Duration::from_secs(30)).await?;
    races(cluster, &api, &mut report).await?;
    limits(cluster, &api, &mut report).await?;
    jobs(cluster, &api, &mut report).await?;
    database_outage(cluster, &api, &mut report).await?;
    replica_killed(cluster, &api, &mut report).await?;
    rolling_restart(cluster, &api, &mut report).await?;
    ledger(cluster, &api, &mut report).await?;
    Ok(report)
}

/// Claim 7: three replicas started together on an empty database migrate once
/// (the migration lock) and all become ready.
async fn start_up(cluster: &mut Cluster, report: &mut Report) -> anyhow::Result<()> {
    let before = report.violations.len();
    let took = cluster.start_all().await?;
    let pool = sea_orm::sqlx::PgPool::connect(&cluster.database_url()).await?;
    let applied: i64 = sea_orm::sqlx::query_scalar("SELECT count(*) FROM seaql_migrations").fetch_one(&pool).await?;
    let distinct: i64 =
        sea_orm::sqlx::query_scalar("SELECT count(DISTINCT version) FROM seaql_migrations").fetch_one(&pool).await?;
    pool.close().await;
    let known = <migrations::Migrator as sea_orm_migration::MigratorTrait>::migrations().len();
    report.check(applied == known as i64 && distinct == applied, || {
        format!("start-up: {applied} migration rows ({distinct} distinct) for {known} migrations")
    });
    report.row(
        "start-up",
        0,
        format!("3 replicas on an empty database: {known} migrations applied once, all ready in {took:.1?}"),
        before,
    );
    Ok(())
}

/// Claim 1: the race suites with requests split across the replicas (request `i`
/// goes to replica `i % 3`): every invariant holds as on one process.
async fn races(cluster: &Cluster, api: &Api, report: &mut Report) -> anyhow::Result<()> {
    let before = report.violations.len();
    let targets = Targets::of(cluster);
    let (at, proxy) = (|i| targets.at(i), targets.proxy.as_str());
    let mut requests = 0u64;
    let root = token(ROOT);
    let second = token(SECOND);

    // 50 accepts of a 10-use link: exactly 10 admitted, 40 used up.
    let ada = token("ada@race.example");
    let org = create_org(api, proxy, &ada, "Race: accepts").await?;
    let link = invite(api, proxy, &ada, &org, json!({"maxUses": 10})).await?;
    let racers = provisioned(api, &targets, "racer", 50).await;
    let accepts = join_all(
        racers
            .iter()
            .enumerate()
            .map(|(i, t)| api.post(at(i), "/invitation/accept", t, json!({"token": link["token"]}))),
    )
    .await;
    requests += 100;
    let got = statuses(&accepts);
    let admitted = got.iter().filter(|s| **s == 200).count();
    let used_up = got.iter().filter(|s| **s == 410).count();
    report
        .check((admitted, used_up) == (10, 40), || format!("accepts: {admitted} admitted, {used_up} used up: {got:?}"));
    let listed = members(api, proxy, &ada, &org).await?.len();
    report.check(listed == 10, || format!("accepts: {listed} members listed instead of 10"));

    // 20 profile creations by one user: exactly one profile.
    let kim = token("kim@race.example");
    api.expect(proxy, Method::POST, "/user/get", &kim, Some(json!({})), 200).await?;
    let body = json!({"firstName": "Kim", "confirm": true});
    let creates = join_all((0..20).map(|i| api.post(at(i), "/resource/profiles", &kim, body.clone()))).await;
    requests += 21;
    let got = statuses(&creates);
    let created = got.iter().filter(|s| **s == 201).count();
    let refused = got.iter().filter(|s| **s == 409).count();
    report.check((created, refused) == (1, 19), || format!("profiles: {created} created, {refused} refused: {got:?}"));

    // Two superusers on two replicas deciding at once: one wins, one decision logged.
    api.expect(at(0), Method::POST, "/user/get", &root, Some(json!({})), 200).await?;
    api.expect(at(1), Method::POST, "/user/get", &second, Some(json!({})), 200).await?;
    let mine = api.expect(proxy, Method::GET, "/resource/profiles/me", &kim, None, 200).await?;
    let id = mine[0]["id"].as_str().context("kim's profile")?.to_owned();
    let path = format!("/admin/profiles/{id}");
    let (a, b) = tokio::join!(
        api.call(at(0), Method::PUT, &path, Some(&root), Some(json!({"state": "verified"}))),
        api.call(at(1), Method::PUT, &path, Some(&second), Some(json!({"state": "rejected", "reason": "no"}))),
    );
    requests += 5;
    let mut decided = statuses(&[a, b]);
    decided.sort_unstable();
    report.check(decided == [200, 409], || format!("reviewers: {decided:?} instead of [200, 409]"));
    let detail = api.expect(proxy, Method::GET, &path, &root, None, 200).await?;
    let decisions = detail["decisions"].as_array().map_or(0, Vec::len);
    report.check(decisions == 1, || format!("reviewers: {decisions} decisions logged"));

    // Two role changes of one member on two replicas: both land, each with its history row.
    let org = create_org(api, proxy, &ada, "Race: roles").await?;
    let mem = token("mem@race.example");
    let invited = invite(api, proxy, &ada, &org, json!({})).await?;
    api.expect(proxy, Method::POST, "/invitation/accept", &mem, Some(json!({"token": invited["token"]})), 200).await?;
    let mem_id = api.expect(proxy, Method::POST, "/user/get", &mem, Some(json!({})), 200).await?["id"].clone();
    let change = |role: &str| json!({"organizationId": org, "userId": mem_id, "role": role});
    let (a, b) = tokio::join!(
        api.post(at(0), "/organization/members/update-role", &ada, change("moderator")),
        api.post(at(1), "/organization/members/update-role", &ada, change("guest")),
    );
    requests += 7;
    let changed = statuses(&[a, b]);
    report.check(changed == [200, 200], || format!("role changes: {changed:?} instead of [200, 200]"));
    let history = api
        .expect(
            proxy,
            Method::POST,
            "/organization/members/history",
            &ada,
            Some(json!({"organizationId": org, "userId": mem_id})),
            200,
        )
        .await?;
    let causes: Vec<&str> = history["history"]
        .as_array()
        .map(|h| h.iter().filter_map(|r| r["cause"].as_str()).collect())
        .unwrap_or_default();
    report
        .check(causes == ["invitation", "role_change", "role_change"], || format!("role changes: history {causes:?}"));

    // Revoke under load: 60 accepts of a busy link race its revocation on
    // three replicas; every admission is a member and logged, none after.
    let org = create_org(api, proxy, &ada, "Race: revoke").await?;
    let busy = invite(api, proxy, &ada, &org, json!({"maxUses": 1000})).await?;
    let takers = provisioned(api, &targets, "taker", 60).await;
    // The revocation leaves when the first accept is answered, so that it
    // lands among them rather than before all of them.
    let first = tokio::sync::Notify::new();
    let revoke = async {
        first.notified().await;
        api.post(at(2), "/invitation/revoke", &ada, json!({"invitationId": busy["invitation"]["id"]})).await
    };
    let (first, busy) = (&first, &busy);
    let accepting = join_all(takers.iter().enumerate().map(|(i, t)| async move {
        let answer = api.post(at(i), "/invitation/accept", t, json!({"token": busy["token"]})).await;
        first.notify_one();
        answer
    }));
    let (revoked, accepted) = tokio::join!(revoke, accepting);
    requests += 123;
    let revoked = revoked.map(|a| a.status).unwrap_or(0);
    report.check((200..300).contains(&revoked), || format!("revoke under load: the revocation answered {revoked}"));
    let got = statuses(&accepted);
    let admitted = got.iter().filter(|s| **s == 200).count();
    let stray = got.iter().filter(|s| !matches!(s, 200 | 410)).count();
    report.check(stray == 0, || format!("revoke under load: accepts answered {got:?}"));
    let listed = members(api, proxy, &ada, &org).await?.len();
    report.check(listed == admitted, || format!("revoke under load: {admitted} admitted but {listed} members"));
    let late =
        api.post(proxy, "/invitation/accept", &token("late@race.example"), json!({"token": busy["token"]})).await?;
    report.check(late.status == 410, || {
        format!("revoke under load: an accept after the revocation answered {}", late.status)
    });

    // Photo verification is on. 20 finalizes of one upload: one opens the
    // review, 19 find the ticket used.
    let eve = token("eve@race.example");
    link_discord(api, proxy, &root, &eve, DISCORD_IDS[1]).await?;
    let key = upload(api, proxy, &eve, 0).await?;
    let body = json!({"tmpKey": key});
    let finalizes = join_all((0..20).map(|i| api.post(at(i), "/user/avatar/finalize", &eve, body.clone()))).await;
    requests += 24;
    let got = statuses(&finalizes);
    let published = got.iter().filter(|s| **s == 200).count();
    let conflicts = got.iter().filter(|s| **s == 409).count();
    report.check((published, conflicts) == (1, 19), || format!("finalizes of one upload: {got:?}"));

    // 20 finalizes of 20 uploads by one user at once: each supersedes the
    // one before, exactly one verification is left pending.
    let pia = token("pia@race.example");
    link_discord(api, proxy, &root, &pia, DISCORD_IDS[0]).await?;
    let mut keys = Vec::new();
    for tag in 1..=20 {
        keys.push(upload(api, proxy, &pia, tag).await?);
    }
    let finalizes = join_all(
        keys.iter().enumerate().map(|(i, k)| api.post(at(i), "/user/avatar/finalize", &pia, json!({"tmpKey": k}))),
    )
    .await;
    requests += 64;
    let got = statuses(&finalizes);
    report.check(got.iter().all(|s| *s == 200), || format!("photo finalizes: {got:?}"));
    let pending = api.expect(proxy, Method::GET, "/picture/all?username=pia", &root, None, 200).await?;
    let pending: Vec<String> = pending["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|v| v["id"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let all =
        api.expect(proxy, Method::GET, "/picture/all?username=pia&status=all&limit=100", &root, None, 200).await?;
    let items = all["items"].as_array().cloned().unwrap_or_default();
    let superseded = items.iter().filter(|v| v["status"] == "SUPERSEDED").count();
    report.check(pending.len() == 1 && items.len() == 20 && superseded == 19, || {
        format!("photo finalizes: {} pending, {} verifications, {superseded} superseded", pending.len(), items.len())
    });

    // Two superusers on two replicas deciding that verification at once: one wins.
    if let Some(id) = pending.first() {
        let (verify, reject) = (format!("/picture/verify/{id}?type=profile"), format!("/picture/reject/{id}"));
        let (a, b) = tokio::join!(
            api.call(at(0), Method::PATCH, &verify, Some(&root), None),
            api.call(at(1), Method::PATCH, &reject, Some(&second), Some(json!({"reason": "no"}))),
        );
        requests += 4;
        let mut decided = statuses(&[a, b]);
        decided.sort_unstable();
        report.check(decided == [200, 409], || format!("photo reviewers: {decided:?} instead of [200, 409]"));
    }

    report.row(
        "races across replicas",
        requests,
        format!(
            "50 accepts of a 10-use link → 10; 20 profile creations → 1; profile reviewers → [200, 409]; \
             role changes → 2 history rows; revoke under load → {admitted} admitted = members; \
             20 finalizes of one upload → 1; 20 photo finalizes → 1 pending, 19 superseded; photo reviewers → [200, 409]"
        ),
        before,
    );
    Ok(())
}

/// Claim 2: limits are shared: avatar tries, invitation previews per address and
/// e-mails per recipient count across replicas.
async fn limits(cluster: &Cluster, api: &Api, report: &mut Report) -> anyhow::Result<()> {
    let before = report.violations.len();
    let targets = Targets::of(cluster);
    let (at, proxy) = (|i| targets.at(i), targets.proxy.as_str());

    const TICKETS: usize = AVATAR_TRIES + 7;
    // Photo verification is on: uploading needs a linked Discord account.
    let zoe = token("zoe@limits.example");
    link_discord(api, proxy, &token(ROOT), &zoe, DISCORD_IDS[2]).await?;
    let tickets = join_all(
        (0..TICKETS).map(|i| api.post(at(i), "/user/avatar/upload-ticket", &zoe, json!({"contentType": "image/png"}))),
    )
    .await;
    let granted = statuses(&tickets).iter().filter(|s| **s == 200).count();
    report
        .check(granted == AVATAR_TRIES, || format!("limits: {granted} avatar tickets granted of {AVATAR_TRIES} tries"));

    let previews = join_all(
        (0..PREVIEWS_PER_MINUTE * 2)
            .map(|i| api.call(at(i), Method::POST, "/invitation/preview", None, Some(json!({"token": "unknown"})))),
    )
    .await;
    let limited = statuses(&previews).iter().filter(|s| **s == 429).count();
    report.check(limited == PREVIEWS_PER_MINUTE, || {
        format!("limits: {limited} of {} previews limited instead of {PREVIEWS_PER_MINUTE}", PREVIEWS_PER_MINUTE * 2)
    });

    let root = token(ROOT);
    let mut orgs = Vec::new();
    for n in 0..10 {
        orgs.push(create_org(api, proxy, &root, &format!("Quota {n}")).await?);
    }
    let invites = join_all(orgs.iter().enumerate().map(|(i, org)| {
        api.post(at(i), "/invitation/create", &root, json!({"organizationId": org, "email": "busy@limits.example"}))
    }))
    .await;
    let sent = statuses(&invites).iter().filter(|s| **s == 200).count();
    report.check(sent == EMAILS_PER_RECIPIENT, || {
        format!("limits: {sent} invitation e-mails to one address instead of {EMAILS_PER_RECIPIENT}")
    });
    report.row(
        "shared limits",
        TICKETS as u64 + PREVIEWS_PER_MINUTE as u64 * 2 + 21,
        format!(
            "avatar tickets {granted}/{TICKETS} (tries {AVATAR_TRIES}); previews limited {limited}/{}; \
             e-mails to one address {sent}/10 (quota {EMAILS_PER_RECIPIENT})",
            PREVIEWS_PER_MINUTE * 2
        ),
        before,
    );
    Ok(())
}

/// Claim 6: background jobs on three replicas at once: each e-mail sent once,
/// each time-bound membership ended once.
async fn jobs(cluster: &Cluster, api: &Api, report: &mut Report) -> anyhow::Result<()> {
    let before = report.violations.len();
    let targets = Targets::of(cluster);
    let (at, proxy) = (|i| targets.at(i), targets.proxy.as_str());
    let ada = token("ada@jobs.example");
    let org = create_org(api, proxy, &ada, "Jobs").await?;
    const MAILS: usize = 30;
    const LAPSING: usize = 6;
    let invites = join_all((0..MAILS).map(|n| {
        api.post(
            at(n),
            "/invitation/create",
            &ada,
            json!({"organizationId": org, "email": format!("job{n}@jobs.example")}),
        )
    }))
    .await;
    let queued = statuses(&invites).iter().filter(|s| **s == 200).count();
    report.check(queued == MAILS, || format!("jobs: {queued} of {MAILS} e-mail invitations created"));
    let link = invite(api, proxy, &ada, &org, json!({"maxUses": LAPSING, "membershipDurationSeconds": 2})).await?;
    let mut lapsing = Vec::new();
    for n in 0..LAPSING {
        let member = token(&format!("lapse{n}@jobs.example"));
        api.expect(at(n), Method::POST, "/invitation/accept", &member, Some(json!({"token": link["token"]})), 200)
            .await?;
        lapsing.push(api.expect(proxy, Method::POST, "/user/get", &member, Some(json!({})), 200).await?["id"].clone());
    }

    // The replicas' schedulers run every second. Wait (bounded) until each
    // e-mail reached the SMTP sink, the outbox holds none of them unsent,
    // and the replicas' sweeps ended every membership. Each replica logs how
    // many rows its compare-and-set took, so the sum over the three says how
    // many were ended, however they split the work; each log line of a job
    // is the cue to look again. Nothing else reads the organization
    // meanwhile, so no request ends a membership on the spot.
    let addressed = |mails: &Vec<adapter_smtp::sink::Received>, n: usize| {
        mails.iter().filter(|m| m.to.iter().any(|to| to == &format!("job{n}@jobs.example"))).count()
    };
    let limit = Duration::from_secs(60);
    let deadline = tokio::time::Instant::now() + limit;
    cluster.smtp.wait_for(limit, |mails| (0..MAILS).all(|n| addressed(mails, n) > 0)).await;
    let pool = sea_orm::sqlx::PgPool::connect(&cluster.database_url()).await?;
    let mut logged = cluster.jobs();
    let (unsent, ended) = loop {
        let unsent: i64 = sea_orm::sqlx::query_scalar(
            "SELECT count(*) FROM invitation_outbox WHERE recipient LIKE '%@jobs.example' AND sent_at IS NULL",
        )
        .fetch_one(&pool)
        .await?;
        let ended = logged.borrow_and_update().ended;
        if (unsent == 0 && ended >= LAPSING)
            || !matches!(tokio::time::timeout_at(deadline, logged.changed()).await, Ok(Ok(())))
        {
            break (unsent, ended);
        }
    };
    pool.close().await;
    let mails = cluster.smtp.messages();
    let delivered = (0..MAILS).filter(|n| addressed(&mails, *n) > 0).count();
    report.check(delivered == MAILS && unsent == 0 && ended == LAPSING, || {
        format!(
            "jobs: within {limit:?}, {delivered} of {MAILS} e-mails delivered ({unsent} still unsent) and {ended} \
             memberships ended for {LAPSING}"
        )
    });
    let twice: Vec<usize> = (0..MAILS).filter(|n| addressed(&mails, *n) > 1).collect();
    report.check(twice.is_empty(), || format!("jobs: e-mails {twice:?} were sent more than once"));
    let expired = members(api, proxy, &ada, &org).await?.iter().filter(|m| m["endReason"] == "expired").count();
    report.check(expired == LAPSING, || format!("jobs: {expired} members listed as expired of {LAPSING}"));
    report.row(
        "jobs exactly once",
        (MAILS + 2 * LAPSING + 1) as u64,
        format!(
            "{MAILS} e-mails delivered once each, {LAPSING} time-bound memberships ended once each, by 3 schedulers"
        ),
        before,
    );
    Ok(())
}

/// Claim 3: PostgreSQL stopped under load: only 503 with `Retry-After`, nothing
/// slower than the acquire timeout, every `/readyz` 503; restarted: every
/// replica ready again within 5 s, without a restart.
async fn database_outage(cluster: &mut Cluster, api: &Api, report: &mut Report) -> anyhow::Result<()> {
    let before = report.violations.len();
    let load = Load::start(api, &cluster.proxy, "outage", WORKERS, SLOW);
    load.answers(WINDOW, 200..=299, PHASE).await?;
    let pg = &cluster.pg;
    std::thread::scope(|s| s.spawn(|| pg.stop()).join())
        .map_err(|_| anyhow::anyhow!("stopping PostgreSQL panicked"))??;
    let stopped = Instant::now();
    // HAProxy checks `/readyz` every 250 ms and takes a replica out when
    // two checks in a row fail (here they time out: `/readyz` gives the
    // database 2 s). Once it took all three out, each must say so itself.
    let (drained, _) = cluster.wait_proxy(&[], Duration::from_secs(15)).await?;
    let readyz = join_all(cluster.replicas.iter().map(|r| api.call(r.url(), Method::GET, "/readyz", None, None))).await;
    let readyz: Vec<u16> = readyz.iter().map(|a| a.as_ref().map_or(0, |a| a.status)).collect();
    report.check(readyz.iter().all(|s| *s == 503), || format!("outage: /readyz of the replicas answered {readyz:?}"));
    // With no replica up, HAProxy answers for them; a phase as long as
    // every worker's being refused a few times.
    load.answers(3 * WORKERS as u64, 503..=503, PHASE).await?;
    let down_for = stopped.elapsed();
    std::thread::scope(|s| s.spawn(|| pg.restart()).join())
        .map_err(|_| anyhow::anyhow!("restarting PostgreSQL panicked"))??;
    // Back in HAProxy's rotation: two `/readyz` 200s each, 250 ms apart.
    let (recovered, _) = cluster.wait_proxy(&[0, 1, 2], Duration::from_secs(30)).await?;
    report.check(recovered <= RECOVERY, || {
        format!("outage: the replicas were ready again after {recovered:?}, not within {RECOVERY:?}")
    });
    load.answers(WINDOW, 200..=299, PHASE).await?;
    let seen = load.finish().await;
    report.check_load("outage", &seen);
    let other = seen.requests() - seen.count(200..=299) - seen.count(503..=503);
    report.check(other == 0, || format!("outage: {other} answers were neither 2xx nor 503: {:?}", seen.statuses));
    let after = seen.count(200..=299);
    report.check(after > 0, || "outage: no request succeeded".to_owned());
    report.row(
        "database stopped",
        seen.requests(),
        format!(
            "down {down_for:.1?}: {} × 2xx, {} × 503 ({} from HAProxy with no replica up; all with Retry-After), \
             {} × 500, slowest {:.1?}; all out of HAProxy (/readyz 503) within {:.1?}; all back {:.1?} after restart",
            after,
            seen.count(503..=503),
            seen.by_proxy,
            seen.count(500..=500),
            seen.slowest,
            drained,
            recovered,
        ),
        before,
    );
    report.ledger.extend(seen.ledger);
    Ok(())
}

/// Claim 4: one replica killed (SIGKILL) under load: HAProxy routes around it; at
/// most the requests in flight on it fail.
async fn replica_killed(cluster: &mut Cluster, api: &Api, report: &mut Report) -> anyhow::Result<()> {
    let before = report.violations.len();
    let load = Load::start(api, &cluster.proxy, "kill", WORKERS, SLOW);
    load.answers(WINDOW, 200..=299, PHASE).await?;
    cluster.signal(1, "KILL")?;
    cluster.wait_exit(1, Duration::from_secs(10)).await?;
    let (detected, _) = cluster.wait_proxy(&[0, 2], Duration::from_secs(10)).await?;
    load.answers(WINDOW, 200..=299, PHASE).await?;
    cluster.spawn(1)?;
    cluster.wait_ready(1, Duration::from_secs(30)).await?;
    cluster.wait_proxy(&[0, 1, 2], Duration::from_secs(10)).await?;
    load.answers(WINDOW, 200..=299, PHASE).await?;
    let seen = load.finish().await;
    report.check_load("kill", &seen);
    let failed = seen.failed();
    report.check(failed <= WORKERS as u64, || {
        format!("kill: {failed} requests failed, more than the {WORKERS} that can be in flight: {:?}", seen.statuses)
    });
    report.row(
        "replica SIGKILLed",
        seen.requests(),
        format!(
            "r2 killed and restarted: {failed} failed (bound: {WORKERS} in flight), {} transport errors, \
             HAProxy took it out in {detected:.1?}; by replica {:?}",
            seen.transport_errors, seen.by_replica
        ),
        before,
    );
    report.ledger.extend(seen.ledger);
    Ok(())
}

/// Claim 5: rolling restart under load: SIGTERM each replica in turn (readiness
/// off, drain, in-flight requests finish), start it again: zero failures.
async fn rolling_restart(cluster: &mut Cluster, api: &Api, report: &mut Report) -> anyhow::Result<()> {
    let before = report.violations.len();
    let load = Load::start(api, &cluster.proxy, "rolling", WORKERS, SLOW);
    load.answers(WINDOW, 200..=299, PHASE).await?;
    let mut exits = Vec::new();
    for i in 0..cluster.replicas.len() {
        cluster.signal(i, "TERM")?;
        let others: Vec<usize> = (0..cluster.replicas.len()).filter(|j| *j != i).collect();
        cluster.wait_proxy(&others, Duration::from_secs(10)).await?;
        let status = cluster.wait_exit(i, Duration::from_secs(DRAIN_SECONDS + 20)).await?;
        exits.push(status.success());
        cluster.spawn(i)?;
        cluster.wait_ready(i, Duration::from_secs(30)).await?;
        cluster.wait_proxy(&[0, 1, 2], Duration::from_secs(10)).await?;
        load.answers(WINDOW, 200..=299, PHASE).await?;
    }
    let seen = load.finish().await;
    report.check_load("rolling", &seen);
    report.check(exits.iter().all(|ok| *ok), || format!("rolling: exit statuses {exits:?}"));
    let failed = seen.failed();
    report.check(failed == 0, || {
        format!("rolling: {failed} requests failed ({} transport errors): {:?}", seen.transport_errors, seen.statuses)
    });
    report.row(
        "rolling restart",
        seen.requests(),
        format!("3 replicas SIGTERMed and restarted in turn: {failed} failed; by replica {:?}", seen.by_replica),
        before,
    );
    report.ledger.extend(seen.ledger);
    Ok(())
}

/// Every write answered 2xx under load is there, whole: the organization
/// exists and its creator is its one admin (a partial write would show an
/// organization without one).
async fn ledger(cluster: &Cluster, api: &Api, report: &mut Report) -> anyhow::Result<()> {
    let before = report.violations.len();
    let entries = std::mem::take(&mut report.ledger);
    let mut missing = 0usize;
    for chunk in entries.chunks(16) {
        let answers = join_all(chunk.iter().map(|entry| {
            api.post(
                &cluster.proxy,
                "/organization/members/list",
                &entry.token,
                json!({"organizationId": entry.organization, "role": "admin"}),
            )
        }))
        .await;
        missing += answers
            .iter()
            .filter(|a| {
                !a.as_ref().is_ok_and(|a| a.status == 200 && a.body["members"].as_array().map(Vec::len) == Some(1))
            })
            .count();
    }
    report.check(missing == 0, || {
        format!("ledger: {missing} of {} acknowledged writes are missing or partial", entries.len())
    });

    // Whole in the database too, acknowledged or not (a request cut off by
    // the kill or the outage may have committed without an answer, or not at
    // all, but never half): each organization has exactly one active admin,
    // each membership its history.
    let pool = sea_orm::sqlx::PgPool::connect(&cluster.database_url()).await?;
    let organizations: i64 = sea_orm::sqlx::query_scalar("SELECT count(*) FROM organizations").fetch_one(&pool).await?;
    let without_one_admin: i64 = sea_orm::sqlx::query_scalar(
        "SELECT count(*) FROM organizations o WHERE (SELECT count(*) FROM memberships m \
         WHERE m.organization_id = o.id AND m.role = 'admin' AND m.status = 'active') <> 1",
    )
    .fetch_one(&pool)
    .await?;
    let without_history: i64 = sea_orm::sqlx::query_scalar(
        "SELECT count(*) FROM memberships m WHERE NOT EXISTS \
         (SELECT 1 FROM membership_history h WHERE h.membership_id = m.id)",
    )
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    report.check(without_one_admin == 0, || {
        format!("database: {without_one_admin} of {organizations} organizations have not exactly one active admin")
    });
    report.check(without_history == 0, || format!("database: {without_history} memberships have no history"));
    report.row(
        "acknowledged writes",
        entries.len() as u64,
        format!(
            "{} organizations answered 2xx under faults, {missing} missing or partial; \
             {organizations} in the database, {without_one_admin} without exactly one admin, \
             {without_history} memberships without history",
            entries.len()
        ),
        before,
    );
    Ok(())
}

/// Where a scenario sends its requests: replica `i % 3`, or HAProxy.
struct Targets {
    replicas: Vec<String>,
    proxy: String,
}

impl Targets {
    fn of(cluster: &Cluster) -> Targets {
        Targets { replicas: cluster.replicas.iter().map(|r| r.url()).collect(), proxy: cluster.proxy.clone() }
    }

    /// The replica request `i` goes to.
    fn at(&self, i: usize) -> &str {
        &self.replicas[i % self.replicas.len()]
    }
}

/// Creates an invitation to `org` with `fields`; the answer (`invitation`, `token`).
async fn invite(api: &Api, base: &str, token: &str, org: &str, fields: Value) -> anyhow::Result<Value> {
    let mut body = json!({"organizationId": org});
    if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
        body.extend(fields);
    }
    api.expect(base, Method::POST, "/invitation/create", token, Some(body), 200).await
}

/// The members of `org` with the role `member`, ended ones included (up to 100).
async fn members(api: &Api, base: &str, token: &str, org: &str) -> anyhow::Result<Vec<Value>> {
    let body = json!({"organizationId": org, "role": "member", "limit": 100});
    let page = api.expect(base, Method::POST, "/organization/members/list", token, Some(body), 200).await?;
    Ok(page["members"].as_array().cloned().unwrap_or_default())
}

/// Tokens of `count` users `<prefix><n>@race.example`, each signed in once
/// (through replica `n % 3`) so that a race is about its subject alone.
async fn provisioned(api: &Api, targets: &Targets, prefix: &str, count: usize) -> Vec<String> {
    let tokens: Vec<String> = (0..count).map(|n| token(&format!("{prefix}{n}@race.example"))).collect();
    join_all(tokens.iter().enumerate().map(|(n, t)| api.post(targets.at(n), "/user/get", t, json!({})))).await;
    tokens
}

/// Creates an organization; its id.
async fn create_org(api: &Api, base: &str, token: &str, name: &str) -> anyhow::Result<String> {
    let user = api.expect(base, Method::POST, "/organization/create", token, Some(json!({"name": name})), 200).await?;
    Ok(user["currentOrganizationId"].as_str().context("the new organization is current")?.to_owned())
}

/// The statuses of some answers; 0 for a transport failure.
fn statuses(answers: &[reqwest::Result<crate::api::Answer>]) -> Vec<u16> {
    answers.iter().map(|a| a.as_ref().map_or(0, |a| a.status)).collect()
}

/// An avatar ticket and the PUT of [`png`]`(tag)` to its URL; the key to finalize.
async fn upload(api: &Api, base: &str, token: &str, tag: u32) -> anyhow::Result<String> {
    let body = json!({"contentType": "image/png"});
    let ticket = api.expect(base, Method::POST, "/user/avatar/upload-ticket", token, Some(body), 200).await?;
    let url = ticket["uploadUrl"].as_str().context("an upload URL")?;
    let put = reqwest::Client::new()
        .put(url)
        .header("content-type", "image/png")
        .body(test_support::images::png(tag))
        .send()
        .await?;
    anyhow::ensure!(put.status().is_success(), "uploading to S3 answered {}", put.status());
    Ok(ticket["tmpKey"].as_str().context("a tmpKey")?.to_owned())
}

/// Links `discord` to the user of `token`, as the superuser `root`.
async fn link_discord(api: &Api, base: &str, root: &str, token: &str, discord: &str) -> anyhow::Result<()> {
    let user = api.expect(base, Method::POST, "/user/get", token, Some(json!({})), 200).await?;
    let id = user["id"].as_str().context("a user id")?;
    let body = json!({"discordId": discord});
    api.expect(base, Method::PATCH, &format!("/admin/users/{id}"), root, Some(body), 200).await?;
    Ok(())
}

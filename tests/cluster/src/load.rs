//! Load through HAProxy while a fault is injected: workers, each with its
//! own user, alternate creating an organization (a write with a ledger
//! entry when answered 2xx) and reading themselves. Bounded in count and in
//! time; every answer is classified.

use crate::api::{Answer, Api, token};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// At most this many requests per worker per run, whatever happens.
const MAX_REQUESTS_PER_WORKER: u64 = 20_000;

/// A write answered 2xx: the organization must exist afterwards, with its
/// creator as its one admin.
#[derive(Clone, Debug)]
pub struct Acknowledged {
    /// The organization's id.
    pub organization: String,
    /// The creator's token.
    pub token: String,
}

/// What the workers saw.
#[derive(Debug, Default)]
pub struct Outcomes {
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer (refused, reset, timed out).
    pub transport_errors: u64,
    /// 503s without `Retry-After`.
    pub unavailable_without_retry_after: u64,
    /// The slowest answer.
    pub slowest: Duration,
    /// Answers slower than the limit the run was given.
    pub too_slow: u64,
    /// The writes answered 2xx.
    pub ledger: Vec<Acknowledged>,
    /// Answers by replica (`X-Served-By`).
    pub by_replica: BTreeMap<String, u64>,
    /// Answers HAProxy gave itself (no replica was up).
    pub by_proxy: u64,
}

impl Outcomes {
    /// Every request sent.
    pub fn requests(&self) -> u64 {
        self.statuses.values().sum::<u64>() + self.transport_errors
    }

    /// Requests answered with a status in `range`.
    pub fn count(&self, range: std::ops::RangeInclusive<u16>) -> u64 {
        self.statuses.iter().filter(|(s, _)| range.contains(s)).map(|(_, n)| n).sum()
    }

    /// Requests that did not get a 2xx.
    pub fn failed(&self) -> u64 {
        self.requests() - self.count(200..=299)
    }

    fn merge(&mut self, other: Outcomes) {
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        for (replica, n) in other.by_replica {
            *self.by_replica.entry(replica).or_default() += n;
        }
        self.transport_errors += other.transport_errors;
        self.by_proxy += other.by_proxy;
        self.unavailable_without_retry_after += other.unavailable_without_retry_after;
        self.slowest = self.slowest.max(other.slowest);
        self.too_slow += other.too_slow;
        self.ledger.extend(other.ledger);
    }

    fn record(&mut self, answer: &Answer, slow: Duration) {
        *self.statuses.entry(answer.status).or_default() += 1;
        match &answer.served_by {
            Some(replica) => *self.by_replica.entry(replica.clone()).or_default() += 1,
            None => self.by_proxy += 1,
        }
        if answer.status == 503 && !answer.retry_after {
            self.unavailable_without_retry_after += 1;
        }
        self.slowest = self.slowest.max(answer.elapsed);
        if answer.elapsed > slow {
            self.too_slow += 1;
        }
    }
}

/// Answers so far by status (a transport error counts as 0), shared by the
/// workers so that a scenario can wait for the load to have done something.
type Tally = Arc<tokio::sync::watch::Sender<BTreeMap<u16, u64>>>;

/// Load running in the background until [`Load::finish`].
pub struct Load {
    stop: Arc<AtomicBool>,
    tally: Tally,
    workers: Vec<tokio::task::JoinHandle<Outcomes>>,
}

impl Load {
    /// Starts `workers` workers against `base`; an answer slower than `slow`
    /// is counted as too slow. Worker `w` signs in as `<tag>-<w>@load.example`.
    pub fn start(api: &Api, base: &str, tag: &str, workers: usize, slow: Duration) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Tally::default();
        let workers = (0..workers)
            .map(|w| {
                let (api, base, stop, tally) = (api.clone(), base.to_owned(), stop.clone(), tally.clone());
                let token = token(&format!("{tag}-{w}@load.example"));
                let tag = tag.to_owned();
                tokio::spawn(async move { work(api, base, token, format!("{tag} {w}"), stop, tally, slow).await })
            })
            .collect();
        Load { stop, tally, workers }
    }

    /// Waits, at most `limit`, until the load got `n` more answers with a
    /// status in `statuses` than it had when called: a phase of a scenario
    /// is as long as the requests it must see, not a span of time.
    pub async fn answers(
        &self,
        n: u64,
        statuses: std::ops::RangeInclusive<u16>,
        limit: Duration,
    ) -> anyhow::Result<()> {
        let count = |tally: &BTreeMap<u16, u64>| -> u64 {
            tally.iter().filter(|(s, _)| statuses.contains(s)).map(|(_, n)| n).sum()
        };
        let mut seen = self.tally.subscribe();
        let wanted = count(&seen.borrow_and_update()) + n;
        match tokio::time::timeout(limit, seen.wait_for(|tally| count(tally) >= wanted)).await {
            Ok(Ok(_)) => Ok(()),
            _ => anyhow::bail!(
                "the load did not get {n} more answers in {statuses:?} within {limit:?}: {:?}",
                *self.tally.borrow()
            ),
        }
    }

    /// Stops the workers (each finishes the request it is in) and sums what they saw.
    pub async fn finish(self) -> Outcomes {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Outcomes::default();
        for worker in self.workers {
            all.merge(worker.await.unwrap_or_default());
        }
        all
    }
}

async fn work(
    api: Api,
    base: String,
    token: String,
    name: String,
    stop: Arc<AtomicBool>,
    tally: Tally,
    slow: Duration,
) -> Outcomes {
    let mut seen = Outcomes::default();
    for n in 0..MAX_REQUESTS_PER_WORKER {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let answer = if n % 2 == 0 {
            api.post(&base, "/organization/create", &token, json!({"name": format!("{name} #{n}")})).await
        } else {
            api.post(&base, "/user/get", &token, json!({})).await
        };
        let status = answer.as_ref().map_or(0, |a| a.status);
        tally.send_modify(|tally| *tally.entry(status).or_default() += 1);
        match answer {
            Ok(answer) => {
                seen.record(&answer, slow);
                if n % 2 == 0
                    && (200..300).contains(&answer.status)
                    && let Some(id) = answer.body["currentOrganizationId"].as_str()
                {
                    seen.ledger.push(Acknowledged { organization: id.to_owned(), token: token.clone() });
                }
            }
            Err(_) => seen.transport_errors += 1,
        }
    }
    seen
}

//! `ProfileRepository` over sea-orm: profiles with sealed personal data, the
//! append-only decision log and labels.
//!
//! "One open profile per user" is the partial unique index
//! `profiles_one_open_per_user`; a decision is one transaction that
//! compare-and-sets the profile on `version`, appends to the log and upserts
//! the `profile` label. The `email` label is not stored: it is derived from
//! `users.email_verified` when labels are read, so it can never disagree
//! with the identity provider's latest word.
//!
//! Personal data is sealed with the user's own data key
//! (`user_data_keys.wrapped`, itself sealed by the key ring): `shred`
//! destroys it, so every copy of the values stays sealed for good.

use crate::backend::violates_unique;
use crate::database::Database;
use crate::entities::{labels, profile_decisions, profiles, user_data_keys, users};
use crate::mapping::profiles as mapping;
use anyhow::Context as _;
use async_trait::async_trait;
use profile_verification::{
    CreateProfileError, Decision, Label, LabelKey, LabelScope, PiiCipher, Profile, ProfileEvent, ProfileFilter,
    ProfileId, ProfileListItem, ProfileRepository, ProfileState, Transition, UserSummary,
};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, Order, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, SqlErr, TransactionTrait as _,
};
use shared_kernel::{Cursor, Event, Page, PageRequest, UserId};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Profiles, decisions and labels in PostgreSQL or SQLite.
#[derive(Clone)]
pub struct SqlProfileRepository {
    db: Database,
    cipher: Arc<dyn PiiCipher>,
}

impl std::fmt::Debug for SqlProfileRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlProfileRepository").field("db", &self.db).finish_non_exhaustive()
    }
}

impl SqlProfileRepository {
    /// A repository over `db` sealing personal data with `cipher`.
    pub fn new(db: Database, cipher: Arc<dyn PiiCipher>) -> Self {
        Self { db, cipher }
    }

    /// Reads one row with its user's data key.
    async fn read(&self, m: profiles::Model) -> anyhow::Result<Profile> {
        let keys = self.data_keys(vec![m.user_id]).await?;
        mapping::profile(m, self.cipher.as_ref(), &keys)
    }

    /// Reads rows with their users' data keys (one query for all of them).
    async fn read_all(&self, rows: Vec<profiles::Model>) -> anyhow::Result<Vec<Profile>> {
        let keys = self.data_keys(rows.iter().map(|m| m.user_id).collect()).await?;
        rows.into_iter().map(|m| mapping::profile(m, self.cipher.as_ref(), &keys)).collect()
    }

    /// The wrapped data keys of `users`: absent for a user without one,
    /// `None` for a destroyed one.
    async fn data_keys(&self, mut users: Vec<i64>) -> anyhow::Result<mapping::DataKeys> {
        users.sort_unstable();
        users.dedup();
        let rows = user_data_keys::Entity::find()
            .filter(user_data_keys::Column::UserId.is_in(users))
            .all(self.db.conn())
            .await
            .context("loading users' data keys")?;
        Ok(rows.into_iter().map(|k| (k.user_id, k.wrapped)).collect())
    }

    /// The user's wrapped data key, made on first use. `UserMissing` when
    /// the user does not exist or their key was destroyed by an erasure.
    async fn data_key_for_write(&self, user: UserId) -> Result<String, CreateProfileError> {
        let now = time::OffsetDateTime::now_utc();
        let fresh = user_data_keys::ActiveModel {
            user_id: Set(user.get()),
            wrapped: Set(Some(self.cipher.new_data_key(&mapping::key_context(user))?)),
            created_at: Set(now),
            destroyed_at: Set(None),
        };
        // Concurrent first writes race here: the first key stays, the others are dropped.
        let inserted = user_data_keys::Entity::insert(fresh)
            .on_conflict(OnConflict::column(user_data_keys::Column::UserId).do_nothing().to_owned())
            .exec_without_returning(self.db.conn())
            .await;
        match inserted {
            Ok(_) => {}
            Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
                return Err(CreateProfileError::UserMissing);
            }
            Err(e) => return Err(anyhow::Error::new(e).context("making a user's data key").into()),
        }
        let stored = user_data_keys::Entity::find_by_id(user.get())
            .one(self.db.conn())
            .await
            .context("loading a user's data key")?;
        stored.and_then(|k| k.wrapped).ok_or(CreateProfileError::UserMissing)
    }

    async fn summaries(&self, ids: Vec<i64>) -> anyhow::Result<BTreeMap<i64, UserSummary>> {
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let rows = users::Entity::find()
            .filter(users::Column::Id.is_in(ids))
            .all(self.db.conn())
            .await
            .context("loading the users of a profile page")?;
        Ok(rows.into_iter().map(|m| (m.id, mapping::summary(m))).collect())
    }
}

const OPEN_STATES: [&str; 2] = ["drafted", "submitted"];

#[async_trait]
impl ProfileRepository for SqlProfileRepository {
    async fn create(&self, profile: &Profile, event: &Event) -> Result<(), CreateProfileError> {
        let key = self.data_key_for_write(profile.user_id).await?;
        let model = mapping::active_model(profile, self.cipher.as_ref(), &key)?;
        let txn = self.db.begin_write().await.context("starting a profile transaction")?;
        if let Err(e) = model.insert(&txn).await {
            txn.rollback().await.context("rolling back a profile")?;
            return Err(if violates_unique(&e, "profiles_one_open_per_user", "profiles.user_id") {
                CreateProfileError::OpenProfileExists
            } else if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) {
                CreateProfileError::UserMissing
            } else {
                anyhow::Error::new(e).context("inserting a profile").into()
            });
        }
        crate::events::append(&txn, std::slice::from_ref(event)).await.map_err(anyhow::Error::new)?;
        txn.commit().await.context("committing a profile")?;
        Ok(())
    }

    async fn find(&self, id: ProfileId) -> anyhow::Result<Option<Profile>> {
        let row = profiles::Entity::find_by_id(id.as_uuid())
            .one(self.db.conn())
            .await
            .with_context(|| format!("loading profile {id}"))?;
        match row {
            Some(m) => self.read(m).await.map(Some),
            None => Ok(None),
        }
    }

    async fn open_of(&self, user: UserId) -> anyhow::Result<Option<Profile>> {
        let row = profiles::Entity::find()
            .filter(profiles::Column::UserId.eq(user.get()))
            .filter(profiles::Column::State.is_in(OPEN_STATES))
            .one(self.db.conn())
            .await
            .with_context(|| format!("loading user {user}'s open profile"))?;
        match row {
            Some(m) => self.read(m).await.map(Some),
            None => Ok(None),
        }
    }

    async fn of_user(&self, user: UserId) -> anyhow::Result<Vec<Profile>> {
        let rows = profiles::Entity::find()
            .filter(profiles::Column::UserId.eq(user.get()))
            .order_by(profiles::Column::CreatedAt, Order::Desc)
            .order_by(profiles::Column::Id, Order::Desc)
            .all(self.db.conn())
            .await
            .with_context(|| format!("loading user {user}'s profiles"))?;
        self.read_all(rows).await
    }

    async fn update_draft(&self, profile: &Profile, expected_version: i64, event: &Event) -> anyhow::Result<bool> {
        let key = match self.data_key_for_write(profile.user_id).await {
            Ok(key) => key,
            // The user was erased meanwhile: their draft is no longer theirs to write.
            Err(CreateProfileError::UserMissing) => return Ok(false),
            Err(e) => return Err(anyhow::anyhow!("{e}")),
        };
        let sealed = mapping::seal(profile, self.cipher.as_ref(), &key)?;
        let f = &profile.fields;
        let txn = self.db.begin_write().await.context("starting a draft transaction")?;
        let result = profiles::Entity::update_many()
            .col_expr(profiles::Column::FirstName, Expr::value(sealed.first_name))
            .col_expr(profiles::Column::LastName, Expr::value(sealed.last_name))
            .col_expr(profiles::Column::Dob, Expr::value(sealed.dob))
            .col_expr(profiles::Column::Address, Expr::value(sealed.address))
            .col_expr(profiles::Column::Postcode, Expr::value(sealed.postcode))
            .col_expr(profiles::Column::City, Expr::value(sealed.city))
            .col_expr(profiles::Column::Country, Expr::value(f.country.map(|c| c.alpha2().to_owned())))
            .col_expr(profiles::Column::Metadata, Expr::value(sealed.metadata))
            .col_expr(profiles::Column::State, Expr::value(profile.state.as_str()))
            .col_expr(profiles::Column::UpdatedAt, Expr::value(profile.updated_at))
            .col_expr(profiles::Column::Version, Expr::value(profile.version))
            .filter(profiles::Column::Id.eq(profile.id.as_uuid()))
            .filter(profiles::Column::Version.eq(expected_version))
            .filter(profiles::Column::State.eq(ProfileState::Drafted.as_str()))
            .exec(&txn)
            .await
            .with_context(|| format!("updating draft profile {}", profile.id))?;
        if result.rows_affected != 1 {
            txn.rollback().await.context("rolling back a lost draft update")?;
            return Ok(false);
        }
        crate::events::append(&txn, std::slice::from_ref(event)).await.map_err(anyhow::Error::new)?;
        txn.commit().await.context("committing a draft")?;
        Ok(true)
    }

    async fn decide(&self, decided: &Transition, expected_version: i64) -> anyhow::Result<bool> {
        let profile = &decided.record;
        let txn = self.db.begin_write().await.context("starting a decision transaction")?;
        let moved = profiles::Entity::update_many()
            .col_expr(profiles::Column::State, Expr::value(profile.state.as_str()))
            .col_expr(profiles::Column::UpdatedAt, Expr::value(profile.updated_at))
            .col_expr(profiles::Column::Version, Expr::value(profile.version))
            .filter(profiles::Column::Id.eq(profile.id.as_uuid()))
            .filter(profiles::Column::Version.eq(expected_version))
            .filter(profiles::Column::State.eq(ProfileState::Submitted.as_str()))
            .exec(&txn)
            .await
            .with_context(|| format!("deciding profile {}", profile.id))?;
        if moved.rows_affected != 1 {
            txn.rollback().await.context("rolling back a lost decision")?;
            return Ok(false);
        }
        for event in &decided.events {
            match event {
                ProfileEvent::Decided(d) => {
                    profile_decisions::ActiveModel {
                        id: Set(d.id.as_uuid()),
                        profile_id: Set(d.profile_id.as_uuid()),
                        admin_id: Set(d.admin_id.map(UserId::get)),
                        decision: Set(d.verdict.as_str().to_owned()),
                        reason: Set(d.reason.as_ref().map(|r| r.as_str().to_owned())),
                        note: Set(d.note.as_ref().map(|n| n.as_str().to_owned())),
                        retry: Set(d.retry.map(|r| r.as_str().to_owned())),
                        decided_at: Set(d.at),
                    }
                    .insert(&txn)
                    .await
                    .with_context(|| format!("logging the decision on profile {}", profile.id))?;
                }
                ProfileEvent::Labelled(label) => {
                    labels::Entity::insert(labels::ActiveModel {
                        user_id: Set(profile.user_id.get()),
                        key: Set(label.key.as_str().to_owned()),
                        scope: Set(label.scope.as_str().to_owned()),
                        value: Set(label.value.clone()),
                        created_at: Set(label.updated_at),
                        updated_at: Set(label.updated_at),
                    })
                    .on_conflict(
                        OnConflict::columns([labels::Column::UserId, labels::Column::Key, labels::Column::Scope])
                            .update_columns([labels::Column::Value, labels::Column::UpdatedAt])
                            .to_owned(),
                    )
                    .exec_without_returning(&txn)
                    .await
                    .with_context(|| format!("labelling user {}", profile.user_id))?;
                }
            }
        }
        let public = profile_verification::events::decided(decided);
        crate::events::append(&txn, &public).await.map_err(anyhow::Error::new)?;
        txn.commit().await.context("committing a decision")?;
        Ok(true)
    }

    async fn list(
        &self,
        filter: &ProfileFilter,
        page: &PageRequest<uuid::Uuid>,
    ) -> anyhow::Result<Page<ProfileListItem>> {
        let mut query = profiles::Entity::find();
        if let Some(state) = filter.state {
            query = query.filter(profiles::Column::State.eq(state.as_str()));
        }
        if let Some(user) = filter.user_id {
            query = query.filter(profiles::Column::UserId.eq(user.get()));
        }
        if let Some(after) = page.after() {
            let id = after.id;
            // A row-value comparison, so both databases walk the
            // (…, created_at, id) index from the cursor on.
            let position = Expr::tuple([Expr::col(profiles::Column::CreatedAt), Expr::col(profiles::Column::Id)]);
            query = query.filter(position.lt(Expr::tuple([Expr::value(after.created_at), Expr::value(id)])));
        }
        let rows = query
            .order_by(profiles::Column::CreatedAt, Order::Desc)
            .order_by(profiles::Column::Id, Order::Desc)
            .limit(u64::from(page.limit()) + 1)
            .all(self.db.conn())
            .await
            .context("listing profiles")?;
        let more = rows.len() > page.limit() as usize;
        let rows: Vec<profiles::Model> = rows.into_iter().take(page.limit() as usize).collect();
        let mut ids: Vec<i64> = rows.iter().flat_map(|m| std::iter::once(m.user_id).chain(m.author_id)).collect();
        ids.sort_unstable();
        ids.dedup();
        let users = self.summaries(ids).await?;
        let mut items = Vec::with_capacity(rows.len());
        for profile in self.read_all(rows).await? {
            let user = users
                .get(&profile.user_id.get())
                .cloned()
                .with_context(|| format!("user {} of profile {} is missing", profile.user_id, profile.id))?;
            let author = profile.author.and_then(|a| users.get(&a.get()).cloned());
            items.push(ProfileListItem { profile, user, author });
        }
        let next_cursor = more
            .then(|| items.last())
            .flatten()
            .map(|last| Cursor { created_at: last.profile.created_at, id: last.profile.id.as_uuid() }.encode());
        Ok(Page { items, next_cursor })
    }

    async fn decisions_of_user(&self, user: UserId) -> anyhow::Result<Vec<Decision>> {
        let of_user = Query::select()
            .column(profiles::Column::Id)
            .from(profiles::Entity)
            .and_where(profiles::Column::UserId.eq(user.get()))
            .to_owned();
        let rows = profile_decisions::Entity::find()
            .filter(profile_decisions::Column::ProfileId.in_subquery(of_user))
            .order_by(profile_decisions::Column::DecidedAt, Order::Desc)
            .order_by(profile_decisions::Column::Id, Order::Desc)
            .all(self.db.conn())
            .await
            .with_context(|| format!("loading the decisions on user {user}'s profiles"))?;
        rows.into_iter().map(mapping::decision).collect()
    }

    async fn user_summary(&self, user: UserId) -> anyhow::Result<Option<UserSummary>> {
        let row = users::Entity::find_by_id(user.get())
            .one(self.db.conn())
            .await
            .with_context(|| format!("loading user {user}"))?;
        Ok(row.map(mapping::summary))
    }

    async fn labels(&self, user: UserId) -> anyhow::Result<Option<Vec<Label>>> {
        // One read transaction so the user row and its labels agree.
        let txn = self.db.conn().begin().await.context("starting a labels read")?;
        let Some(row) =
            users::Entity::find_by_id(user.get()).one(&txn).await.with_context(|| format!("loading user {user}"))?
        else {
            return Ok(None);
        };
        let stored = labels::Entity::find()
            .filter(labels::Column::UserId.eq(user.get()))
            .order_by(labels::Column::Key, Order::Asc)
            .order_by(labels::Column::Scope, Order::Asc)
            .all(&txn)
            .await
            .with_context(|| format!("loading user {user}'s labels"))?;
        txn.commit().await.context("ending a labels read")?;
        let mut labels = Vec::with_capacity(stored.len() + 1);
        if row.email_verified {
            labels.push(Label {
                key: LabelKey::email(),
                value: "verified".to_owned(),
                scope: LabelScope::Private,
                updated_at: shared_kernel::truncate_to_micros(row.updated_at),
            });
        }
        for m in stored {
            labels.push(mapping::label(m)?);
        }
        Ok(Some(labels))
    }

    async fn shred(&self, user: UserId) -> anyhow::Result<()> {
        let now = time::OffsetDateTime::now_utc();
        let txn = self.db.begin_write().await.context("starting an erasure")?;
        // A tombstone even for a user who never had a key, so none is made later.
        let tombstone = user_data_keys::ActiveModel {
            user_id: Set(user.get()),
            wrapped: Set(None),
            created_at: Set(now),
            destroyed_at: Set(Some(now)),
        };
        user_data_keys::Entity::insert(tombstone)
            .on_conflict(
                OnConflict::column(user_data_keys::Column::UserId)
                    .update_columns([user_data_keys::Column::Wrapped, user_data_keys::Column::DestroyedAt])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await
            .with_context(|| format!("destroying user {user}'s data key"))?;
        let cleared: Option<String> = None;
        profiles::Entity::update_many()
            .col_expr(profiles::Column::FirstName, Expr::value(cleared.clone()))
            .col_expr(profiles::Column::LastName, Expr::value(cleared.clone()))
            .col_expr(profiles::Column::Dob, Expr::value(cleared.clone()))
            .col_expr(profiles::Column::Address, Expr::value(cleared.clone()))
            .col_expr(profiles::Column::Postcode, Expr::value(cleared.clone()))
            .col_expr(profiles::Column::City, Expr::value(cleared.clone()))
            .col_expr(profiles::Column::Metadata, Expr::value(cleared))
            .filter(profiles::Column::UserId.eq(user.get()))
            .exec(&txn)
            .await
            .with_context(|| format!("clearing user {user}'s profile data"))?;
        txn.commit().await.context("committing an erasure")?;
        Ok(())
    }
}

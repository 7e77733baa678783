//! `UserRepository` over sea-orm.

use crate::backend::{self, violates_unique};
use crate::database::Database;
use crate::entities::users::{ActiveModel, Column, Entity, Model};
use crate::entities::{upload_tickets, user_erasures};
use crate::mapping;
use crate::schema::{Memberships, Organizations};
use anyhow::Context as _;
use async_trait::async_trait;
use image_upload::TicketState;
use image_upload::{ObjectKey, TicketId};
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseTransaction, DbErr,
    EntityTrait as _, FromQueryResult as _, Iterable as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use shared_kernel::{Cursor, EmailAddress, Page, PageRequest, PlatformRole, UserId};
use time::OffsetDateTime;
use users::{
    AdminUserError, AdminUserUpdate, CreateUserError, Erased, Erasure, ErasureRecord, IdentityRefresh, ManualStatus,
    NewUser, ProfileChange, SetAvatarError, User, UserRecord, UserRepository, ViewQuery,
};

/// Users in PostgreSQL or SQLite.
#[derive(Clone, Debug)]
pub struct SqlUserRepository {
    db: Database,
}

/// The user a read is about, as errors name them (formatted only on failure).
#[derive(Clone, Copy)]
enum Who<'a> {
    Id(UserId),
    Subject(&'a str),
}

impl std::fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Who::Id(id) => write!(f, "{id}"),
            Who::Subject(subject) => write!(f, "with subject {subject:?}"),
        }
    }
}

impl SqlUserRepository {
    /// A repository over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    async fn update(&self, id: UserId, model: ActiveModel) -> anyhow::Result<Option<User>> {
        match model.update(self.db.conn()).await {
            Ok(m) => mapping::user(m).map(Some),
            Err(DbErr::RecordNotUpdated) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("updating user {id}")),
        }
    }

    /// The user row, the avatar tries used in the window and the
    /// memberships the query selects (one row per membership, at least one
    /// row), in one query. The model derives every status from them.
    async fn load_view(&self, id: UserId, query: ViewQuery) -> anyhow::Result<Option<UserRecord>> {
        self.load_view_where(Expr::col((Entity, Column::Id)).eq(id.get()), query, Who::Id(id)).await
    }

    /// [`Self::load_view`] of the user `which` selects (by id or by
    /// subject, both unique); `who` names them in errors.
    async fn load_view_where(&self, which: Expr, query: ViewQuery, who: Who<'_>) -> anyhow::Result<Option<UserRecord>> {
        use Memberships as M;
        use Organizations as O;
        use upload_tickets::Column as T;
        let tries = Query::select()
            .expr(Expr::col((upload_tickets::Entity, T::Id)).count())
            .from(upload_tickets::Entity)
            .and_where(Expr::col((upload_tickets::Entity, T::Purpose)).eq("avatar"))
            .and_where(
                Expr::col((upload_tickets::Entity, T::Owner)).eq(Expr::col((Entity, Column::Id)).cast_as("TEXT")),
            )
            .and_where(Expr::col((upload_tickets::Entity, T::State)).ne(TicketState::Rejected.as_str()))
            .and_where(Expr::col((upload_tickets::Entity, T::CreatedAt)).gt(query.tries_since))
            .to_owned();
        // Named columns, never `users.*`: SQLite re-prepares a statement whose
        // table gained a column (a migration run after the connection opened),
        // and sqlx's cached column list would no longer match the row.
        let select = Query::select()
            .columns(Column::iter().map(|c| (Entity, c)))
            .expr_as(Expr::SubQuery(None, Box::new(tries.into())), "avatar_tries_used")
            .expr_as(Expr::col((M::Table, M::Role)), "m_role")
            .expr_as(Expr::col((M::Table, M::Status)), "m_status")
            .expr_as(Expr::col((M::Table, M::JoinedAt)), "m_joined_at")
            .expr_as(Expr::col((M::Table, M::EndedAt)), "m_ended_at")
            .expr_as(Expr::col((M::Table, M::ExpiresAt)), "m_expires_at")
            .expr_as(Expr::col((O::Table, O::Id)), "o_id")
            .expr_as(Expr::col((O::Table, O::Name)), "o_name")
            .expr_as(Expr::col((O::Table, O::LogoUrl)), "o_logo_url")
            .from(Entity)
            .left_join(
                M::Table,
                Expr::col((M::Table, M::UserId)).equals((Entity, Column::Id)).and(
                    Expr::col((M::Table, M::Status))
                        .eq(organizations::MembershipStatus::Active.as_str())
                        .or(Expr::col((M::Table, M::EndedAt)).gt(query.ended_since)),
                ),
            )
            .left_join(O::Table, Expr::col((O::Table, O::Id)).equals((M::Table, M::OrganizationId)))
            .and_where(which)
            .to_owned();
        let rows = self.db.conn().query_all(&select).await.with_context(|| format!("loading user {who}"))?;
        let Some(first) = rows.first() else { return Ok(None) };
        let model = Model::from_query_result(first, "").with_context(|| format!("reading user {who}"))?;
        let used: i64 =
            first.try_get("", "avatar_tries_used").with_context(|| format!("reading user {who}'s tries"))?;
        let memberships = rows
            .iter()
            .filter_map(|row| mapping::membership_record(row).transpose())
            .collect::<anyhow::Result<Vec<_>>>()
            .with_context(|| format!("reading user {who}'s memberships"))?;
        Ok(Some(UserRecord {
            user: mapping::user(model)?,
            memberships,
            avatar_tries_used: u32::try_from(used).unwrap_or(u32::MAX),
        }))
    }

    /// Replaces the avatar inside `txn` and returns the previous key. On
    /// PostgreSQL the row is locked first, so concurrent avatar changes see
    /// each other's result and every replaced object gets deleted.
    async fn replace_avatar(
        &self,
        txn: &DatabaseTransaction,
        id: UserId,
        avatar: Option<(&ObjectKey, &str)>,
        now: OffsetDateTime,
    ) -> Result<Option<ObjectKey>, SetAvatarError> {
        let query = Entity::find_by_id(id.get()).select_only().column(Column::AvatarKey);
        let previous = backend::for_update_of(query)
            .into_tuple::<Option<String>>()
            .one(txn)
            .await
            .with_context(|| format!("reading user {id}'s avatar"))?
            .ok_or(SetAvatarError::UserGone)?;
        let model = ActiveModel {
            avatar_url: Set(avatar.map(|(_, url)| url.to_owned())),
            avatar_key: Set(avatar.map(|(key, _)| key.as_str().to_owned())),
            ..touch(id, now)
        };
        let user = model.update(txn).await.with_context(|| format!("setting user {id}'s avatar"))?;
        // Removing an avatar when there is none changes nothing: no event.
        if avatar.is_some() || previous.is_some() {
            let event = users::events::updated(&mapping::user(user)?, users::Changed::Avatar, now);
            crate::events::append(txn, &[event]).await.map_err(anyhow::Error::new)?;
        }
        let previous = previous.as_deref().map(ObjectKey::parse).transpose();
        Ok(previous.with_context(|| format!("user {id} has an unreadable avatar key"))?)
    }
}

/// Whether `id` is a superuser and no other user is. On PostgreSQL it first
/// takes a transaction-scoped lock shared by every demotion, so two demotions
/// decide one after the other (on SQLite `begin_write` already serialises).
async fn is_last_superuser(txn: &DatabaseTransaction, id: UserId) -> anyhow::Result<bool> {
    backend::advisory_xact_lock(txn, "usher:platform-roles").await.context("locking the platform roles")?;
    let superusers = |who: Expr| {
        let counted = Query::select()
            .expr(Expr::col(Column::Id).count())
            .from(Entity)
            .and_where(who)
            .and_where(Expr::col(Column::PlatformRole).eq(PlatformRole::Superuser.as_str()))
            .to_owned();
        Expr::SubQuery(None, Box::new(counted.into()))
    };
    let count = Query::select()
        .expr_as(superusers(Expr::col(Column::Id).eq(id.get())), "target")
        .expr_as(superusers(Expr::col(Column::Id).ne(id.get())), "others")
        .to_owned();
    let row =
        txn.query_one(&count).await.context("counting superusers")?.context("counting superusers returned no row")?;
    let target: i64 = row.try_get("", "target").context("reading the superuser count")?;
    let others: i64 = row.try_get("", "others").context("reading the superuser count")?;
    Ok(target > 0 && others == 0)
}

fn touch(id: UserId, now: OffsetDateTime) -> ActiveModel {
    ActiveModel { id: Unchanged(id.get()), updated_at: Set(now), ..Default::default() }
}

#[async_trait]
impl UserRepository for SqlUserRepository {
    async fn find(&self, id: UserId) -> anyhow::Result<Option<User>> {
        Entity::find_by_id(id.get())
            .one(self.db.conn())
            .await
            .with_context(|| format!("loading user {id}"))?
            .map(mapping::user)
            .transpose()
    }

    async fn find_many(&self, ids: &[UserId]) -> anyhow::Result<Vec<User>> {
        let mut ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut found = Vec::with_capacity(ids.len());
        // Chunks keep each statement well under SQLite's bound-parameter limit.
        for chunk in ids.chunks(500) {
            let rows = Entity::find()
                .filter(Column::Id.is_in(chunk.iter().copied()))
                .all(self.db.conn())
                .await
                .context("loading users by id")?;
            for row in rows {
                found.push(mapping::user(row)?);
            }
        }
        Ok(found)
    }

    async fn erase(&self, erasure: &Erasure) -> anyhow::Result<Erased> {
        let id = erasure.user_id;
        let txn = self.db.begin_write().await.context("starting an erasure")?;
        let record = |m: user_erasures::Model| ErasureRecord {
            user_id: UserId::new(m.user_id),
            by: m.erased_by.map(UserId::new),
            at: shared_kernel::truncate_to_micros(m.erased_at),
        };
        // Under the write lock (SQLite) or the row lock below (PostgreSQL),
        // so two erasures of one user write one record.
        let query = Entity::find_by_id(id.get()).select_only().column(Column::AvatarKey);
        let avatar = backend::for_update_of(query)
            .into_tuple::<Option<String>>()
            .one(&txn)
            .await
            .with_context(|| format!("locking user {id} for erasure"))?
            .with_context(|| format!("user {id} vanished before its erasure"))?;
        if let Some(done) = user_erasures::Entity::find_by_id(id.get()).one(&txn).await.context("reading an erasure")? {
            txn.rollback().await.context("ending an erasure already done")?;
            return Ok(Erased::Already(record(done)));
        }
        let model = ActiveModel {
            subject: Set(erasure.subject.clone()),
            email: Set(erasure.email.as_str().to_owned()),
            email_verified: Set(false),
            first_name: Set(None),
            last_name: Set(None),
            display_name: Set(erasure.display_name.as_str().to_owned()),
            username: Set(erasure.username.as_str().to_owned()),
            avatar_url: Set(None),
            avatar_key: Set(None),
            current_organization_id: Set(None),
            manual_status: Set(None),
            google_calendar_connected: Set(false),
            google_calendar_enabled: Set(false),
            platform_role: Set(PlatformRole::User.as_str().to_owned()),
            discord_id: Set(None),
            ..touch(id, erasure.at)
        };
        model.update(&txn).await.with_context(|| format!("pseudonymising user {id}"))?;
        let written = user_erasures::ActiveModel {
            user_id: Set(id.get()),
            erased_by: Set(Some(erasure.by.get())),
            erased_at: Set(erasure.at),
        }
        .insert(&txn)
        .await
        .with_context(|| format!("recording user {id}'s erasure"))?;
        crate::events::append(&txn, &[users::events::erased(erasure)]).await.map_err(anyhow::Error::new)?;
        txn.commit().await.context("committing an erasure")?;
        let avatar = avatar.as_deref().map(ObjectKey::parse).transpose();
        let avatar = avatar.with_context(|| format!("user {id} had an unreadable avatar key"))?;
        Ok(Erased::Now { record: record(written), avatar })
    }

    async fn find_by_subject(&self, subject: &str) -> anyhow::Result<Option<User>> {
        Entity::find()
            .filter(Column::Subject.eq(subject))
            .one(self.db.conn())
            .await
            .context("finding a user by subject")?
            .map(mapping::user)
            .transpose()
    }

    async fn create(&self, new: &NewUser) -> Result<User, CreateUserError> {
        let model = ActiveModel {
            id: NotSet,
            subject: Set(new.identity.subject().to_owned()),
            email: Set(new.email.as_str().to_owned()),
            email_verified: Set(new.identity.email_verified),
            first_name: Set(new.identity.given_name.clone()),
            last_name: Set(new.identity.family_name.clone()),
            display_name: Set(new.display_name.as_str().to_owned()),
            username: Set(new.username.as_str().to_owned()),
            avatar_url: Set(None),
            avatar_key: Set(None),
            current_organization_id: Set(None),
            manual_status: Set(None),
            google_calendar_connected: Set(false),
            google_calendar_enabled: Set(false),
            platform_role: Set(new.platform_role.as_str().to_owned()),
            discord_id: Set(None),
            created_at: Set(new.now),
            updated_at: Set(new.now),
        };
        let txn = self.db.begin_write().await.context("starting a user's provisioning")?;
        let user = match model.insert(&txn).await {
            Ok(m) => mapping::user(m)?,
            Err(e) => {
                txn.rollback().await.context("rolling back a user's provisioning")?;
                return Err(if violates_unique(&e, "users_subject_key", "users.subject") {
                    CreateUserError::SubjectTaken
                } else if violates_unique(&e, "users_username_key", "users.username") {
                    CreateUserError::UsernameTaken
                } else {
                    anyhow::Error::new(e).context("inserting a user").into()
                });
            }
        };
        crate::events::append(&txn, &[users::events::provisioned(&user)]).await.map_err(anyhow::Error::new)?;
        txn.commit().await.context("committing a user's provisioning")?;
        Ok(user)
    }

    async fn refresh_identity(
        &self,
        id: UserId,
        refresh: &IdentityRefresh,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<User>> {
        let model = ActiveModel {
            email: Set(refresh.email.as_str().to_owned()),
            email_verified: Set(refresh.email_verified),
            first_name: Set(refresh.first_name.clone()),
            last_name: Set(refresh.last_name.clone()),
            ..touch(id, now)
        };
        self.update(id, model).await
    }

    async fn view(&self, id: UserId, query: ViewQuery) -> anyhow::Result<Option<UserRecord>> {
        self.load_view(id, query).await
    }

    async fn view_by_subject(&self, subject: &str, query: ViewQuery) -> anyhow::Result<Option<UserRecord>> {
        self.load_view_where(Expr::col((Entity, Column::Subject)).eq(subject), query, Who::Subject(subject)).await
    }

    async fn change_profile(
        &self,
        id: UserId,
        change: &ProfileChange,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<User>> {
        let model = match change {
            ProfileChange::DisplayName(name) => {
                ActiveModel { display_name: Set(name.as_str().to_owned()), ..touch(id, now) }
            }
            ProfileChange::ManualStatus(status) => {
                ActiveModel { manual_status: Set(status.map(ManualStatus::as_i16)), ..touch(id, now) }
            }
        };
        // The change and its `user.updated` commit together.
        let txn = self.db.begin_write().await.context("starting a profile change")?;
        let user = match model.update(&txn).await {
            Ok(m) => mapping::user(m)?,
            Err(DbErr::RecordNotUpdated) => {
                txn.rollback().await.context("rolling back a profile change")?;
                return Ok(None);
            }
            Err(e) => return Err(e).with_context(|| format!("updating user {id}")),
        };
        let event = users::events::updated(&user, change.changed(), now);
        crate::events::append(&txn, &[event]).await.map_err(anyhow::Error::new)?;
        txn.commit().await.context("committing a profile change")?;
        Ok(Some(user))
    }

    async fn set_avatar(
        &self,
        id: UserId,
        ticket: TicketId,
        key: &ObjectKey,
        url: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ObjectKey>, SetAvatarError> {
        let txn = self.db.begin_write().await.context("starting an avatar transaction")?;
        if !crate::tickets::mark_used(&txn, ticket, now).await? {
            txn.rollback().await.context("rolling back an avatar transaction")?;
            return Err(SetAvatarError::TicketUsed);
        }
        let previous = self.replace_avatar(&txn, id, Some((key, url)), now).await?;
        txn.commit().await.context("committing an avatar")?;
        Ok(previous)
    }

    async fn clear_avatar(&self, id: UserId, now: OffsetDateTime) -> Result<Option<ObjectKey>, SetAvatarError> {
        let txn = self.db.begin_write().await.context("starting an avatar transaction")?;
        let previous = self.replace_avatar(&txn, id, None, now).await?;
        txn.commit().await.context("committing an avatar removal")?;
        Ok(previous)
    }

    async fn find_by_email(&self, email: &EmailAddress) -> anyhow::Result<Vec<User>> {
        Entity::find()
            .filter(Column::Email.eq(email.as_str()))
            .order_by_asc(Column::Id)
            .all(self.db.conn())
            .await
            .with_context(|| format!("finding the users with e-mail {email}"))?
            .into_iter()
            .map(mapping::user)
            .collect()
    }

    async fn admin_update(
        &self,
        id: UserId,
        update: &AdminUserUpdate,
        now: OffsetDateTime,
        by: Option<UserId>,
    ) -> Result<User, AdminUserError> {
        let mut model = touch(id, now);
        if let Some(role) = update.platform_role {
            model.platform_role = Set(role.as_str().to_owned());
        }
        if let Some(discord) = &update.discord_id {
            model.discord_id = Set(discord.as_ref().map(|d| d.as_str().to_owned()));
        }
        if let Some(username) = &update.username {
            model.username = Set(username.as_str().to_owned());
        }
        let txn = self.db.begin_write().await.context("starting a user administration transaction")?;
        if update.platform_role == Some(PlatformRole::User) && is_last_superuser(&txn, id).await? {
            txn.rollback().await.context("ending a user administration transaction")?;
            return Err(AdminUserError::LastSuperuser);
        }
        // The role before, read under the row lock so that the event names the change this write made.
        let before = backend::for_update_of(Entity::find_by_id(id.get()).select_only().column(Column::PlatformRole))
            .into_tuple::<String>()
            .one(&txn)
            .await
            .context("reading a user's platform role")?;
        let Some(before) = before else {
            txn.rollback().await.context("ending a user administration transaction")?;
            return Err(AdminUserError::NotFound);
        };
        let before = PlatformRole::parse(&before).with_context(|| format!("user {id}'s platform role {before:?}"))?;
        let updated = model.update(&txn).await;
        match updated {
            Ok(m) => {
                let user = mapping::user(m)?;
                let changed: Vec<_> = users::events::admin_updated(before, &user, by, now).into_iter().collect();
                crate::events::append(&txn, &changed).await.map_err(anyhow::Error::new)?;
                txn.commit().await.context("committing a user administration change")?;
                Ok(user)
            }
            Err(DbErr::RecordNotUpdated) => Err(AdminUserError::NotFound),
            Err(e) if violates_unique(&e, "users_discord_id_key", "users.discord_id") => {
                Err(AdminUserError::DiscordIdTaken)
            }
            Err(e) if violates_unique(&e, "users_username_key", "users.username") => Err(AdminUserError::UsernameTaken),
            Err(e) => Err(anyhow::Error::new(e).context(format!("updating user {id} as an administrator")).into()),
        }
    }

    async fn search(&self, query: Option<String>, page: &PageRequest<UserId>) -> anyhow::Result<Page<User>> {
        let mut select = Entity::find();
        if let Some(q) = query {
            // LIKE with the wildcards of the query escaped, case-insensitive on both databases.
            let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = format!("%{escaped}%");
            let like = |column: Column| {
                Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(column)))
                    .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
            };
            select = select.filter(
                Condition::any().add(like(Column::Email)).add(like(Column::Username)).add(like(Column::DisplayName)),
            );
        }
        if let Some(after) = page.after() {
            let after_id = after.id.get();
            select = select.filter(
                Condition::any()
                    .add(Column::CreatedAt.gt(after.created_at))
                    .add(Condition::all().add(Column::CreatedAt.eq(after.created_at)).add(Column::Id.gt(after_id))),
            );
        }
        let rows = select
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .limit(u64::from(page.limit()) + 1)
            .all(self.db.conn())
            .await
            .context("searching users")?;
        let users = rows.into_iter().map(mapping::user).collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(users, page, |u| Cursor { created_at: u.created_at, id: u.id }))
    }
}

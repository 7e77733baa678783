//! `UserRepository` over sea-orm.

use crate::database::{Database, violates_unique};
use crate::entities::users::{ActiveModel, Column, Entity};
use crate::mapping;
use anyhow::Context as _;
use async_trait::async_trait;
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::{ActiveModelTrait as _, ColumnTrait as _, DbErr, EntityTrait as _, QueryFilter as _};
use shared_kernel::{EmailAddress, PlatformRole, UserId};
use time::OffsetDateTime;
use user_dto::{
    CreateUserError, DisplayName, IdentityRefresh, ManualStatus, NewUser, User, UserRepository,
    UserView,
};

/// Users in PostgreSQL or SQLite.
#[derive(Clone, Debug)]
pub struct SqlUserRepository {
    db: Database,
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

    fn view_of(user: Option<User>) -> Option<UserView> {
        // Organizations arrive with the invitations capability; until then no
        // user has a membership to show.
        user.map(|user| UserView {
            user,
            memberships: Vec::new(),
            avatar_upload_tries_remaining: 0,
        })
    }
}

fn touch(id: UserId, now: OffsetDateTime) -> ActiveModel {
    ActiveModel {
        id: Unchanged(id.get()),
        updated_at: Set(now),
        ..Default::default()
    }
}

#[async_trait]
impl UserRepository for SqlUserRepository {
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
            current_organization_id: Set(None),
            manual_status: Set(None),
            google_calendar_connected: Set(false),
            google_calendar_enabled: Set(false),
            platform_role: Set(new.platform_role.as_str().to_owned()),
            created_at: Set(new.now),
            updated_at: Set(new.now),
        };
        match model.insert(self.db.conn()).await {
            Ok(m) => Ok(mapping::user(m)?),
            Err(e) if violates_unique(&e, "users_subject_key", "users.subject") => {
                Err(CreateUserError::SubjectTaken)
            }
            Err(e) if violates_unique(&e, "users_username_key", "users.username") => {
                Err(CreateUserError::UsernameTaken)
            }
            Err(e) => Err(anyhow::Error::new(e).context("inserting a user").into()),
        }
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

    async fn view(&self, id: UserId) -> anyhow::Result<Option<UserView>> {
        let user = Entity::find_by_id(id.get())
            .one(self.db.conn())
            .await
            .with_context(|| format!("loading user {id}"))?
            .map(mapping::user)
            .transpose()?;
        Ok(Self::view_of(user))
    }

    async fn update_display_name(
        &self,
        id: UserId,
        name: &DisplayName,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<UserView>> {
        let model = ActiveModel {
            display_name: Set(name.as_str().to_owned()),
            ..touch(id, now)
        };
        Ok(Self::view_of(self.update(id, model).await?))
    }

    async fn set_manual_status(
        &self,
        id: UserId,
        status: Option<ManualStatus>,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<UserView>> {
        let model = ActiveModel {
            manual_status: Set(status.map(ManualStatus::as_i16)),
            ..touch(id, now)
        };
        Ok(Self::view_of(self.update(id, model).await?))
    }

    async fn promote_by_email(
        &self,
        email: &EmailAddress,
        now: OffsetDateTime,
    ) -> anyhow::Result<u64> {
        let result = Entity::update_many()
            .col_expr(
                Column::PlatformRole,
                PlatformRole::Superuser.as_str().into(),
            )
            .col_expr(Column::UpdatedAt, now.into())
            .filter(Column::Email.eq(email.as_str()))
            .exec(self.db.conn())
            .await
            .with_context(|| format!("promoting {email}"))?;
        Ok(result.rows_affected)
    }
}

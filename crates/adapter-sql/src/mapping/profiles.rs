//! Profile rows ↔ domain records. Every personal-data column (names, date
//! of birth, address, postcode, city, metadata) is sealed on the way in and
//! opened on the way out by the `PiiCipher`, bound to its column and row
//! (`profiles.<column>:<id>`). Postcode, city and metadata were stored in
//! plaintext before issue 12; such a value is read as it is and sealed by
//! the row's next write.

use crate::entities::{labels, profile_decisions, profiles, users};
use anyhow::{Context as _, anyhow};
use profile_verification::{
    Address, City, Country, Decision, DecisionId, DecisionKind, Dob, Field, Label, LabelKey, LabelScope, Metadata,
    PersonName, PiiCipher, Postcode, Profile, ProfileFields, ProfileId, ProfileState, Reason, Retry, ReviewNote,
    UserSummary,
};
use sea_orm::ActiveValue::Set;
use shared_kernel::{UserId, truncate_to_micros};

/// Wrapped data keys by user id; `None` for a key an erasure destroyed.
pub(crate) type DataKeys = std::collections::HashMap<i64, Option<String>>;

/// The associated data binding a user's wrapped data key to that user.
pub(crate) fn key_context(user: UserId) -> String {
    format!("user_data_keys:{user}")
}

/// The associated data binding a sealed value to its column and row.
pub(crate) fn context(column: &str, id: ProfileId) -> String {
    format!("profiles.{column}:{id}")
}

/// The sealed personal-data columns of `p`.
pub(crate) struct Sealed {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub dob: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub metadata: Option<String>,
}

/// Seals `p`'s personal data with its user's data key `key` (wrapped).
pub(crate) fn seal(p: &Profile, cipher: &dyn PiiCipher, key: &str) -> anyhow::Result<Sealed> {
    let f = &p.fields;
    let key_context = key_context(p.user_id);
    let seal_one = |column: &str, value: Option<String>| {
        value.map(|v| cipher.seal_with(key, &key_context, &v, &context(column, p.id))).transpose()
    };
    Ok(Sealed {
        first_name: seal_one("first_name", f.first_name.as_ref().map(|v| v.as_str().to_owned()))?,
        last_name: seal_one("last_name", f.last_name.as_ref().map(|v| v.as_str().to_owned()))?,
        dob: seal_one("dob", f.dob.map(|v| v.to_iso()))?,
        address: seal_one("address", f.address.as_ref().map(|v| v.as_str().to_owned()))?,
        postcode: seal_one("postcode", f.postcode.as_ref().map(|v| v.as_str().to_owned()))?,
        city: seal_one("city", f.city.as_ref().map(|v| v.as_str().to_owned()))?,
        metadata: seal_one("metadata", f.metadata.as_ref().map(Metadata::to_json))?,
    })
}

pub(crate) fn active_model(p: &Profile, cipher: &dyn PiiCipher, key: &str) -> anyhow::Result<profiles::ActiveModel> {
    let sealed = seal(p, cipher, key)?;
    let f = &p.fields;
    Ok(profiles::ActiveModel {
        id: Set(p.id.as_uuid()),
        user_id: Set(p.user_id.get()),
        author_id: Set(p.author.map(UserId::get)),
        first_name: Set(sealed.first_name),
        last_name: Set(sealed.last_name),
        dob: Set(sealed.dob),
        address: Set(sealed.address),
        postcode: Set(sealed.postcode),
        city: Set(sealed.city),
        country: Set(f.country.map(|c| c.alpha2().to_owned())),
        metadata: Set(sealed.metadata),
        state: Set(p.state.as_str().to_owned()),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
        version: Set(p.version),
    })
}

/// Reads a row, opening its values with its user's data key in `keys`.
/// A value sealed with a destroyed key reads as absent: it was erased.
pub(crate) fn profile(m: profiles::Model, cipher: &dyn PiiCipher, keys: &DataKeys) -> anyhow::Result<Profile> {
    let id = ProfileId::from_uuid(m.id);
    let user = UserId::new(m.user_id);
    let row = || format!("reading profile {id}");
    let key = keys.get(&m.user_id);
    let open = |column: &str, value: Option<String>| -> anyhow::Result<Option<String>> {
        let Some(v) = value else { return Ok(None) };
        if !cipher.is_data_sealed(&v) {
            // Sealed with the key ring directly, before per-user data keys.
            return cipher.open(&v, &context(column, id)).map(Some);
        }
        match key {
            Some(Some(wrapped)) => cipher.open_with(wrapped, &key_context(user), &v, &context(column, id)).map(Some),
            Some(None) => Ok(None),
            None => Err(anyhow!("the data key of user {user} is missing")),
        }
    };
    let first_name = open("first_name", m.first_name).with_context(row)?;
    let last_name = open("last_name", m.last_name).with_context(row)?;
    let dob = open("dob", m.dob).with_context(row)?;
    let address = open("address", m.address).with_context(row)?;
    // Written in plaintext before these columns were sealed (never the
    // sealed format: a postcode, city or JSON object never starts "v1.").
    let open_or_legacy = |column: &str, value: Option<String>| -> anyhow::Result<Option<String>> {
        match value {
            Some(v) if !v.starts_with("v1.") && !cipher.is_data_sealed(&v) => Ok(Some(v)),
            other => open(column, other),
        }
    };
    let postcode = open_or_legacy("postcode", m.postcode).with_context(row)?;
    let city = open_or_legacy("city", m.city).with_context(row)?;
    let metadata = open_or_legacy("metadata", m.metadata).with_context(row)?;
    let fields = ProfileFields {
        first_name: first_name.map(|v| PersonName::parse(&v, Field::FirstName)).transpose().with_context(row)?,
        last_name: last_name.map(|v| PersonName::parse(&v, Field::LastName)).transpose().with_context(row)?,
        dob: dob
            .map(|v| Dob::from_stored(&v).ok_or_else(|| anyhow!("unreadable dob")))
            .transpose()
            .with_context(row)?,
        address: address.map(|v| Address::parse(&v)).transpose().with_context(row)?,
        postcode: postcode.map(|v| Postcode::parse(&v)).transpose().with_context(row)?,
        city: city.map(|v| City::parse(&v)).transpose().with_context(row)?,
        country: m.country.map(|v| Country::parse(&v)).transpose().with_context(row)?,
        metadata: metadata
            .map(|v| serde_json_value(&v).and_then(|j| Metadata::parse(&j).map_err(anyhow::Error::new)))
            .transpose()
            .with_context(row)?,
    };
    Ok(Profile {
        id,
        user_id: user,
        author: m.author_id.map(UserId::new),
        fields,
        state: ProfileState::parse(&m.state).ok_or_else(|| anyhow!("unknown state {}", m.state)).with_context(row)?,
        created_at: truncate_to_micros(m.created_at),
        updated_at: truncate_to_micros(m.updated_at),
        version: m.version,
    })
}

fn serde_json_value(text: &str) -> anyhow::Result<sea_orm::JsonValue> {
    serde_json::from_str(text).context("metadata is not JSON")
}

pub(crate) fn decision(m: profile_decisions::Model) -> anyhow::Result<Decision> {
    let id = m.id;
    let row = || format!("reading profile decision {id}");
    Ok(Decision {
        id: DecisionId::from_uuid(m.id),
        profile_id: ProfileId::from_uuid(m.profile_id),
        admin_id: m.admin_id.map(UserId::new),
        verdict: DecisionKind::parse(&m.decision)
            .ok_or_else(|| anyhow!("unknown decision {}", m.decision))
            .with_context(row)?,
        reason: m
            .reason
            .map(|r| Reason::parse(&r).ok_or_else(|| anyhow!("unreadable reason")))
            .transpose()
            .with_context(row)?,
        note: m.note.map(|n| ReviewNote::parse(&n).map_err(anyhow::Error::new)).transpose().with_context(row)?,
        retry: m
            .retry
            .map(|r| Retry::parse(&r).ok_or_else(|| anyhow!("unknown retry {r}")))
            .transpose()
            .with_context(row)?,
        at: truncate_to_micros(m.decided_at),
    })
}

pub(crate) fn label(m: labels::Model) -> anyhow::Result<Label> {
    let row = || format!("reading label {} of user {}", m.key, m.user_id);
    Ok(Label {
        key: LabelKey::parse(&m.key).ok_or_else(|| anyhow!("unreadable key")).with_context(row)?,
        value: m.value.clone(),
        scope: LabelScope::parse(&m.scope).ok_or_else(|| anyhow!("unknown scope")).with_context(row)?,
        updated_at: truncate_to_micros(m.updated_at),
    })
}

pub(crate) fn summary(m: users::Model) -> UserSummary {
    UserSummary {
        id: UserId::new(m.id),
        email: m.email,
        email_verified: m.email_verified,
        username: m.username,
        display_name: m.display_name,
    }
}

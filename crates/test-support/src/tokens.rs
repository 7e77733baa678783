//! Token minting for tests: HS256 with the test secret, RS256/ES256 with the
//! fixed test keys in `keys/` (public JWKs derived from them), and the
//! malicious shapes the security suite needs (`alg: none`, HS/RS confusion).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The HS256 secret every spawned test app is configured with.
pub const HS256_SECRET: &str = "usher-test-secret-that-is-long-enough-for-hs256";

/// A test RSA private key (PKCS#8 PEM), kid `rsa-a`.
pub const RSA_A: &str = include_str!("../keys/rsa-a.pem");
/// The public half of [`RSA_A`] as PEM (for the HS/RS confusion attack).
pub const RSA_A_PUBLIC: &str = include_str!("../keys/rsa-a.pub.pem");
/// A second RSA private key, kid `rsa-b` (for rotation tests).
pub const RSA_B: &str = include_str!("../keys/rsa-b.pem");
/// A test P-256 private key, kid `ec-a`.
pub const EC_A: &str = include_str!("../keys/ec-a.pem");
/// A test P-384 private key, kid `ec384-a`.
pub const EC384_A: &str = include_str!("../keys/ec384-a.pem");
/// A test Ed25519 private key, kid `ed-a`.
pub const ED_A: &str = include_str!("../keys/ed-a.pem");

/// The issuer the test identity provider's tokens name (`iss`).
pub const ISSUER: &str = "https://idp.test.example";
/// The audience the test identity provider's tokens name (`aud`).
pub const AUDIENCE: &str = "usher-test";

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Claims of a valid one-hour token for `email`, with subject `test|<email>`.
pub fn claims(email: &str) -> Value {
    let now = now();
    json!({
        "sub": format!("test|{email}"),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "email": email,
        "email_verified": true,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    })
}

/// Signs `claims` with HS256 and `secret`.
pub fn hs256(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes()))
        .expect("HS256 signing cannot fail")
}

/// Signs `claims` with one of the test keys: `"rsa-a"`, `"rsa-b"` (RS256),
/// `"ec-a"` (ES256), `"ec384-a"` (ES384) or `"ed-a"` (EdDSA).
pub fn signed(kid: &str, claims: &Value) -> String {
    signed_with(kid, private_key(kid).1, claims)
}

/// Signs `claims` with a test key and another algorithm of its family
/// (`"rsa-a"` with PS256 or RS512).
pub fn signed_with(kid: &str, alg: Algorithm, claims: &Value) -> String {
    let (key, _) = private_key(kid);
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).expect("signing with a test key")
}

fn private_key(kid: &str) -> (EncodingKey, Algorithm) {
    match kid {
        "rsa-a" => (EncodingKey::from_rsa_pem(RSA_A.as_bytes()).expect("test key"), Algorithm::RS256),
        "rsa-b" => (EncodingKey::from_rsa_pem(RSA_B.as_bytes()).expect("test key"), Algorithm::RS256),
        "ec-a" => (EncodingKey::from_ec_pem(EC_A.as_bytes()).expect("test key"), Algorithm::ES256),
        "ec384-a" => (EncodingKey::from_ec_pem(EC384_A.as_bytes()).expect("test key"), Algorithm::ES384),
        "ed-a" => (EncodingKey::from_ed_pem(ED_A.as_bytes()).expect("test key"), Algorithm::EdDSA),
        other => panic!("no test key named {other}"),
    }
}

/// A JWKS publishing the public halves of the named test keys.
pub fn jwks(kids: &[&str]) -> Value {
    let keys: Vec<Value> = kids
        .iter()
        .map(|kid| {
            let (key, alg) = private_key(kid);
            let mut jwk = Jwk::from_encoding_key(&key, alg).expect("deriving a public JWK");
            jwk.common.key_id = Some((*kid).to_owned());
            serde_json::to_value(jwk).expect("a JWK serialises")
        })
        .collect();
    json!({ "keys": keys })
}

/// An unsigned token with `alg: none`.
pub fn alg_none(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// The classic confusion attack: HS256 "signed" with the RSA public key as
/// the HMAC secret, hoping the server verifies with that same public key.
pub fn hs256_with_rsa_public_key(kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(RSA_A_PUBLIC.as_bytes())).expect("HS256 signing")
}

//! Secrets generated into `data_dir` on first run (the embedded default's
//! HS256 token secret and local upload signing key), created atomically so
//! concurrent processes agree on one value.

use crate::settings::Secret;
use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::io::Write as _;
use std::path::Path;

/// Creates `dir` and its missing parents readable by this user only (0700).
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("creating {}", dir.display()))
}

/// Reads the secret in `path`, or generates 48 random bytes (base64url) into
/// it with mode 0600; `what` names it in the log.
pub fn read_or_generate(path: &Path, what: &str) -> anyhow::Result<Secret> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("reading the OS random generator: {e}"))?;
    let generated = URL_SAFE_NO_PAD.encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(generated.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a new {what}");
            Ok(Secret::new(generated))
        }
        // Another process (or an earlier run) made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let secret = text.trim();
            anyhow::ensure!(secret.len() >= 32, "{} holds fewer than 32 bytes", path.display());
            Ok(Secret::new(secret))
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

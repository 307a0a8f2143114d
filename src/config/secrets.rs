//! The admin token and the link-signing secret: given on the command line, or generated at the
//! first start and kept in the data directory (`secrets.json`, readable by its owner only).

use std::path::Path;

use anyhow::Context;
use secrecy::SecretString;

use crate::auth::{Keys, random_token};

/// The file's contents (held only while it is read or written).
#[derive(serde::Serialize, serde::Deserialize)]
struct Secrets {
    admin_token: String,
    secret: String,
}

/// The admin token and the secret (hex): those given, the rest from the data directory's
/// `secrets.json`, which is created (and the generated admin token printed once) when missing.
pub(super) fn resolve(
    data_dir: &Path,
    admin_token: Option<&SecretString>,
    secret: Option<&SecretString>,
) -> anyhow::Result<(SecretString, SecretString)> {
    if let (Some(t), Some(s)) = (admin_token, secret) {
        return Ok((t.clone(), s.clone()));
    }
    let path = data_dir.join("secrets.json");
    let stored = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str::<Secrets>(&text)
            .with_context(|| format!("reading {}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let fresh = Secrets {
                admin_token: random_token(),
                secret: Keys::generate().to_hex(),
            };
            write_private(&path, &serde_json::to_string_pretty(&fresh)?)?;
            if admin_token.is_none() {
                // Printed once, at the first start: it is the key to the organizer API.
                println!(
                    "rostrum: generated admin token (kept in {}): {}",
                    path.display(),
                    fresh.admin_token
                );
            }
            fresh
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok((
        admin_token
            .cloned()
            .unwrap_or_else(|| stored.admin_token.into()),
        secret.cloned().unwrap_or_else(|| stored.secret.into()),
    ))
}

/// Write a file only its owner can read.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes())?;
    Ok(())
}

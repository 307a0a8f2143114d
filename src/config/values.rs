//! The typed values of `serve`'s flags and their clap parsers: a bad value is refused by clap,
//! naming the flag, before anything starts.

use crate::store::Durability;

/// `--store`: where events are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreArg {
    /// SQLite in the data directory.
    Sqlite,
    /// In memory, lost at exit.
    Memory,
    /// A NATS JetStream cluster: the URLs as given (`nats://` or `tls://`, comma-separated).
    Nats(String),
}

impl std::str::FromStr for StoreArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sqlite" => Ok(Self::Sqlite),
            "memory" => Ok(Self::Memory),
            nats if nats.split(',').all(|u| {
                let u = u.trim();
                let host = u
                    .strip_prefix("nats://")
                    .or_else(|| u.strip_prefix("tls://"));
                host.is_some_and(|h| !h.is_empty())
            }) =>
            {
                Ok(Self::Nats(nats.to_owned()))
            }
            _ => Err("use sqlite, memory, or nats://host:port[,nats://host2:port]".into()),
        }
    }
}

/// `--log-format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per event.
    Text,
    /// One JSON object per event, for a log collector.
    Json,
}

/// `--sync`: SQLite's durability, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SyncArg {
    /// Survives power loss.
    Full,
    /// Survives a crash of the process; the last commits may be lost on power loss.
    Normal,
}

impl From<SyncArg> for Durability {
    fn from(s: SyncArg) -> Self {
        match s {
            SyncArg::Full => Durability::Full,
            SyncArg::Normal => Durability::Normal,
        }
    }
}

/// An `http://` or `https://` URL with a host (`--public-url`, `--peer-url`), without its
/// trailing slash.
pub(super) fn http_url(s: &str) -> Result<String, String> {
    if !(s.starts_with("http://") || s.starts_with("https://")) {
        return Err("must start with http:// or https://".into());
    }
    super::origin_of(s).map_err(|e| e.to_string())?;
    Ok(s.trim_end_matches('/').to_owned())
}

/// An origin only (`--allowed-origin`): `scheme://host[:port]`, as browsers send it.
pub(super) fn origin(s: &str) -> Result<String, String> {
    let parsed = super::origin_of(s).map_err(|e| e.to_string())?;
    if parsed != s.trim_end_matches('/').to_ascii_lowercase() {
        return Err(format!("must be an origin only, like {parsed:?}"));
    }
    Ok(parsed)
}

/// A CSP source list (`--frame-ancestors`): no directive separator, no control character.
pub(super) fn source_list(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() || s.chars().any(|c| c == ';' || c == ',' || c.is_control()) {
        return Err("must be a CSP source list, like 'none' or https://events.example.org".into());
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_are_named_or_nats_urls() {
        assert_eq!("sqlite".parse(), Ok(StoreArg::Sqlite));
        assert_eq!("memory".parse(), Ok(StoreArg::Memory));
        assert_eq!(
            "nats://a:4222, tls://b:4222".parse(),
            Ok(StoreArg::Nats("nats://a:4222, tls://b:4222".into()))
        );
        for bad in ["postgres", "nats://", "nats://a:4222,http://b", ""] {
            assert!(bad.parse::<StoreArg>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urls_origins_and_source_lists() {
        assert_eq!(
            http_url("https://a.example.org/"),
            Ok("https://a.example.org".into())
        );
        assert!(http_url("a.example.org").is_err());
        assert!(http_url("ftp://a.example.org").is_err());
        assert_eq!(
            origin("HTTPS://A.example.org"),
            Ok("https://a.example.org".into())
        );
        assert!(origin("https://a.example.org/path").is_err());
        assert_eq!(source_list(" 'none' "), Ok("'none'".into()));
        for bad in ["", "'self'; script-src *", "a,b", "a\nb"] {
            assert!(source_list(bad).is_err(), "{bad:?}");
        }
    }
}

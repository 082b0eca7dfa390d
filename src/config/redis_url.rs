//! `REDIS_URL`: every form operators use to name a Redis (docs/scaling.md, "Redis shapes"), parsed
//! into a [`RedisUrl`] whose `Display` never shows the password. Parsed in every build, so a bad
//! URL gets the same clear error everywhere; `crate::store::redis` turns it into a client.
//!
//! | form | reaches |
//! |---|---|
//! | `redis://[[user]:password@]host[:port][/db]` | one Redis (port 6379) |
//! | `rediss://…` | the same over TLS (certificates always verified; `REDIS_CA_FILE` for a private CA) |
//! | `redis+unix:///path/redis.sock[?db=N]`, `unix://…` | one Redis on a unix socket |
//! | `redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/master[/db]` | the primary Sentinel names (sentinels on 26379) |
//! | `redis+cluster://[[user]:password@]host[:port][,host[:port]…]` | a Redis Cluster, from any of its nodes |
//!
//! `rediss+sentinel://` and `rediss+cluster://` are the TLS forms. The user and password are the
//! data nodes' (`AUTH`); Sentinel's own are `REDIS_SENTINEL_USERNAME` and `REDIS_SENTINEL_PASSWORD`.

use std::fmt;
use std::path::PathBuf;

use super::kinds::Secret;
use crate::bytes::percent_decode;

/// One `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// How the Redis holding the revocations is laid out, and how it is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// One server (or a name that always points at the current primary, as managed services give).
    Standalone(Node),
    /// One server on a unix socket.
    Unix(PathBuf),
    /// The primary that these sentinels name `master`.
    Sentinel { nodes: Vec<Node>, master: String },
    /// A Redis Cluster; any reachable node tells where the others are.
    Cluster(Vec<Node>),
}

/// A parsed `REDIS_URL`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub topology: Topology,
    /// `rediss`: TLS to every node (and every sentinel).
    pub tls: bool,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub db: u8,
}

/// Shows the URL with its password replaced, for logs and `Debug`.
impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.tls { "s" } else { "" };
        let scheme = match &self.topology {
            Topology::Standalone(_) => format!("redis{s}://"),
            Topology::Unix(_) => "redis+unix://".to_string(),
            Topology::Sentinel { .. } => format!("redis{s}+sentinel://"),
            Topology::Cluster(_) => format!("redis{s}+cluster://"),
        };
        f.write_str(&scheme)?;
        match (&self.username, &self.password) {
            (Some(user), Some(_)) => write!(f, "{user}:<redacted>@")?,
            (None, Some(_)) => f.write_str(":<redacted>@")?,
            // `redis://secret@host` is a password written where the user goes (a user alone can't
            // log in): it is not shown either.
            (Some(_), None) => f.write_str("<redacted>@")?,
            (None, None) => {}
        }
        let list = |nodes: &[Node]| {
            nodes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        match &self.topology {
            Topology::Standalone(node) => write!(f, "{node}/{}", self.db),
            Topology::Unix(path) => write!(f, "{}?db={}", path.display(), self.db),
            Topology::Sentinel { nodes, master } => {
                write!(f, "{}/{master}/{}", list(nodes), self.db)
            }
            Topology::Cluster(nodes) => f.write_str(&list(nodes)),
        }
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({self})")
    }
}

const URL_HELP: &str = "use redis://[[user]:password@]host[:port][/db] (or rediss://, \
     redis+unix:///path, redis+sentinel://host:port,.../master, redis+cluster://host:port,...; \
     docs/scaling.md)";

impl RedisUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad = |what: &str| format!("{what}; {URL_HELP}");
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(bad("it is not a redis:// URL"));
        };
        // No error below shows what was written, except a scheme that is one by RFC 3986's letters
        // (a password has no place in those): any other part may hold the password, or a query
        // string with one (`redis://h/0?password=...`).
        let (tls, kind) = match scheme {
            "redis" => (false, "standalone"),
            "rediss" => (true, "standalone"),
            "redis+unix" | "unix" => (false, "unix"),
            "redis+sentinel" => (false, "sentinel"),
            "rediss+sentinel" => (true, "sentinel"),
            "redis+cluster" => (false, "cluster"),
            "rediss+cluster" => (true, "cluster"),
            other if is_scheme(other) => {
                return Err(bad(&format!("the scheme {other:?} is not one of Redis's")));
            }
            _ => return Err(bad("it is not a redis:// URL")),
        };
        let (userinfo, rest) = match rest.rsplit_once('@') {
            Some((userinfo, rest)) => (Some(userinfo), rest),
            None => (None, rest),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(info) => {
                let (user, password) = info.split_once(':').unwrap_or((info, ""));
                let user =
                    percent_decode(user, false).ok_or_else(|| bad("bad %-escape in the user"))?;
                let password = percent_decode(password, false)
                    .ok_or_else(|| bad("bad %-escape in the password"))?;
                // The user is shown in the log: one holding `/`, `?` or `#` is more likely a path
                // or a query that held an `@` (`redis://h/0?password=a@b`).
                if user.contains(['/', '?', '#']) {
                    return Err(bad(
                        "the part before the last @ is not a user: %-escape an @ in a query \
                         or a path, and / ? # in the user name",
                    ));
                }
                (
                    (!user.is_empty()).then_some(user),
                    (!password.is_empty()).then(|| Secret::new(password)),
                )
            }
        };
        // Only a unix URL takes a query (`?db=N`); elsewhere it would be read as part of a host,
        // a port, a master name or a database, and its text may be a password.
        if kind != "unix" && rest.contains(['?', '#']) {
            return Err(bad(
                "a query (?...) or fragment (#...) is not taken: the user and password go before \
                 the host (redis://user:password@host), the database after it (/N)",
            ));
        }
        // The client reaches databases 0 to 255, so a larger number is refused here, with every
        // other mistake in the URL, not when the first connection is made.
        let database = |db: &str| -> Result<u8, String> {
            db.parse()
                .map_err(|_| bad("the database (after the host, /N) is not a number from 0 to 255"))
        };
        let (topology, db) = match kind {
            "unix" => {
                let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
                if !path.starts_with('/') {
                    return Err(bad(
                        "a unix socket needs an absolute path (redis+unix:///path)",
                    ));
                }
                let db = match query.strip_prefix("db=") {
                    Some(db) => database(db)?,
                    None if query.is_empty() => 0,
                    None => return Err(bad("the only query a unix URL takes is ?db=N")),
                };
                (Topology::Unix(PathBuf::from(path)), db)
            }
            "standalone" => {
                let (authority, db) = split_db(rest);
                let db = db.map_or(Ok(0), database)?;
                (
                    Topology::Standalone(node(authority, 6379).map_err(|e| bad(&e))?),
                    db,
                )
            }
            "sentinel" => {
                let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
                let (master, db) = path.split_once('/').unwrap_or((path, ""));
                if master.is_empty() {
                    return Err(bad(
                        "a Sentinel URL names the master after the sentinels: redis+sentinel://host:26379,.../mymaster",
                    ));
                }
                let db = if db.is_empty() { 0 } else { database(db)? };
                let nodes = nodes(authority, 26379).map_err(|e| bad(&e))?;
                let master = master.to_string();
                (Topology::Sentinel { nodes, master }, db)
            }
            _ => {
                let (authority, db) = split_db(rest);
                if db.is_some_and(|db| db != "0") {
                    return Err(bad("a Redis Cluster has only database 0"));
                }
                (
                    Topology::Cluster(nodes(authority, 6379).map_err(|e| bad(&e))?),
                    0,
                )
            }
        };
        Ok(RedisUrl {
            topology,
            tls,
            username,
            password,
            db,
        })
    }
}

/// `authority[/db]`: the authority, and the database when one is written (an empty one is none).
fn split_db(rest: &str) -> (&str, Option<&str>) {
    match rest.split_once('/') {
        Some((authority, "")) => (authority, None),
        Some((authority, db)) => (authority, Some(db)),
        None => (rest, None),
    }
}

/// A comma-separated list of `host[:port]`.
fn nodes(authority: &str, default_port: u16) -> Result<Vec<Node>, String> {
    authority
        .split(',')
        .map(|one| node(one.trim(), default_port))
        .collect()
}

/// `host[:port]`, the host perhaps an IPv6 address in brackets.
fn node(authority: &str, default_port: u16) -> Result<Node, String> {
    let (host, port) = match authority.rsplit_once(':') {
        // An IPv6 address in brackets has colons of its own.
        Some((host, port)) if !port.contains(']') => (
            host,
            // Not the text: `redis://app:hunter2` (the host forgotten) puts a password here.
            port.parse()
                .map_err(|_| "the port (after the host's :) is not a number".to_string())?,
        ),
        _ => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(['?', '#', ' ', '/']) {
        return Err("no host".into());
    }
    Ok(Node {
        host: host.to_string(),
        port,
    })
}

/// Whether `text` is a scheme by RFC 3986 §3.1: a letter, then letters, digits, `+`, `-`, `.`
/// (at most 16 of them here, as no Redis scheme is longer).
fn is_scheme(text: &str) -> bool {
    text.len() <= 16
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standalone(url: &RedisUrl) -> (&str, u16, u8) {
        match &url.topology {
            Topology::Standalone(node) => (node.host.as_str(), node.port, url.db),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn urls() {
        let url = RedisUrl::parse("redis://127.0.0.1:6380/2").unwrap();
        assert_eq!(standalone(&url), ("127.0.0.1", 6380, 2));
        assert_eq!(
            (&url.username, &url.password, url.tls),
            (&None, &None, false)
        );
        let url = RedisUrl::parse("redis://localhost").unwrap();
        assert_eq!(standalone(&url), ("localhost", 6379, 0));
        let url = RedisUrl::parse("redis://:p%40ss@[::1]:7000/").unwrap();
        assert_eq!(standalone(&url), ("::1", 7000, 0));
        assert_eq!(url.password, Some(Secret::new("p@ss")));
        assert_eq!(url.to_string(), "redis://:<redacted>@[::1]:7000/0");
        let url = RedisUrl::parse("redis://hunter2@h:6379").unwrap();
        assert_eq!(url.to_string(), "redis://<redacted>@h:6379/0");
        let url = RedisUrl::parse("redis://app:secret@redis.internal").unwrap();
        assert_eq!(url.username.as_deref(), Some("app"));
        assert!(!format!("{url:?}").contains("secret"));
        for bad in [
            "http://x",
            "127.0.0.1:6379",
            "redis://",
            "redis://h:port",
            "redis://h/db",
            "redis://:%zz@h",
            // A sign is no hex digit, though `u8::from_str_radix` takes one.
            "redis://:%+f@h",
            "redis://:%4@h",
            "redis+unix://relative.sock",
            "redis+unix:///s.sock?password=x",
            "redis+sentinel://h1,h2",
            "redis+sentinel://h1,/m",
            "redis+cluster://h1,h2/3",
        ] {
            assert!(RedisUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_shape() {
        let url = RedisUrl::parse("rediss://app:pw@redis.example.com:6380/1").unwrap();
        assert!(url.tls);
        assert_eq!(standalone(&url), ("redis.example.com", 6380, 1));
        assert_eq!(
            url.to_string(),
            "rediss://app:<redacted>@redis.example.com:6380/1"
        );
        let url = RedisUrl::parse("redis+unix:///run/redis/redis.sock?db=3").unwrap();
        assert_eq!(url.topology, Topology::Unix("/run/redis/redis.sock".into()));
        assert_eq!(url.db, 3);
        let url = RedisUrl::parse("unix://:pw@/tmp/r.sock").unwrap();
        assert_eq!(url.topology, Topology::Unix("/tmp/r.sock".into()));
        assert_eq!(url.to_string(), "redis+unix://:<redacted>@/tmp/r.sock?db=0");
        let url = RedisUrl::parse("redis+sentinel://s1,s2:26380,[::1]/mymaster/2").unwrap();
        let Topology::Sentinel { nodes, master } = &url.topology else {
            panic!("{url:?}");
        };
        assert_eq!(master, "mymaster");
        let shown: Vec<String> = nodes.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["s1:26379", "s2:26380", "[::1]:26379"]);
        assert_eq!(url.db, 2);
        let url = RedisUrl::parse("rediss+cluster://:pw@n1:7000,n2:7001").unwrap();
        assert!(url.tls);
        assert_eq!(
            url.to_string(),
            "rediss+cluster://:<redacted>@n1:7000,n2:7001"
        );
    }

    /// Every refusal, reached with a password where a user might put it by mistake: in a query
    /// string, where the port or the database goes, in the scheme.
    #[test]
    fn a_refused_url_never_shows_its_password() {
        for (bad, says) in [
            // Not a URL, or not Redis's scheme.
            ("app:hunter2@h:6379", "not a redis:// URL"),
            ("redis:/app:hunter2@h", "not a redis:// URL"),
            ("r:hunter2@h://x", "not a redis:// URL"),
            ("http://:hunter2@h", "the scheme \"http\""),
            // A query string, where only a unix URL takes one (and only ?db=N).
            ("redis://h/0?password=hunter2", "query"),
            ("redis://h:6379?password=hunter2", "query"),
            ("redis://h?password=hunter2", "query"),
            ("redis://h#hunter2", "query"),
            ("redis+sentinel://h/m?password=hunter2", "query"),
            ("redis+sentinel://h/m/0?password=hunter2", "query"),
            ("redis+cluster://h:7000?password=hunter2", "query"),
            ("redis+unix:///s.sock?password=hunter2", "?db=N"),
            ("redis+unix:///s.sock?db=0&password=hunter2", "database"),
            // A query holding an @: what is before it is no user.
            ("redis://h/0?password=hunter2@b", "not a user"),
            // The password where the port or the database goes.
            ("redis://app:hunter2", "port"),
            ("redis://:hunter2", "port"),
            ("redis+cluster://h:hunter2", "port"),
            ("redis://app:hunter2@h:port", "port"),
            ("redis://h/hunter2", "database"),
            ("redis://app:hunter2@h/db", "database"),
            ("redis+sentinel://h/m/hunter2", "database"),
            ("redis://app:hunter2@h/256", "from 0 to 255"),
            ("redis+cluster://h/hunter2", "database 0"),
            // The rest.
            ("redis://app:hunter2%zz@h", "%-escape"),
            ("redis://app:hunter2@", "no host"),
            ("redis+sentinel://app:hunter2@h", "master"),
            ("redis+unix://app:hunter2@relative", "absolute path"),
        ] {
            let problem = RedisUrl::parse(bad).unwrap_err();
            assert!(!problem.contains("hunter2"), "{bad}: {problem}");
            assert!(problem.contains(says), "{bad}: {problem}");
        }
    }
}

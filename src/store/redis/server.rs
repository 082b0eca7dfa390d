//! What start-up learns of the server, and says in one log line: its name and version, and how
//! durable an acknowledged revocation is ([`Durability`]).
//!
//! Where the server has `WAITAOF` (Redis 7.2 and later, Valkey) and its append-only file is on, a
//! revocation is acknowledged only once that file is on disk (`REDIS_WAITAOF=local`, the default),
//! and on `REDIS_WAIT_REPLICAS` replicas' too. Where it has not, `appendonly` and `appendfsync`
//! (`CONFIG GET`, when the ACL allows it) tell how much an acknowledged revocation may be lost
//! with Redis's process or host; docs/scaling.md has the measured table.

use fred::clients::Client;
use fred::prelude::ClientLike;
use fred::types::{ClusterHash, CustomCommand, Value};

use super::error::Error;
use crate::config::RedisSettings;

/// What an acknowledgement waits for after the revocation's script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `WAITAOF local replicas`: the primary's append-only file (`local`) and that many replicas'
    /// are on disk.
    WaitAof { local: bool, replicas: u32 },
    /// `WAIT replicas`: that many replicas have it in memory (servers without `WAITAOF`).
    Wait { replicas: u32 },
    /// Nothing more: what Redis's own settings give.
    None,
}

/// What start-up found.
#[derive(Debug, Clone)]
pub struct Facts {
    /// `Redis 7.0.15`, `Valkey 9.0.0`.
    pub version: String,
    pub durability: Durability,
    /// What an acknowledgement means here, for the start-up log.
    pub durability_note: String,
}

/// Asks the server (the node of `slot` in a Cluster) what it is and how durable it is, and
/// chooses the durability `settings` ask for and the server allows.
pub async fn inspect(client: &Client, settings: &RedisSettings, slot: u16) -> Result<Facts, Error> {
    let ask = |cmd: &'static str, args: Vec<&str>| {
        let command = CustomCommand::new_static(cmd, ClusterHash::Custom(slot), false);
        let args: Vec<String> = args.into_iter().map(str::to_string).collect();
        async move {
            client
                .custom::<Value, _>(command, args)
                .await
                .map_err(Error::from)
        }
    };
    let version = match ask("INFO", vec!["server"]).await {
        Ok(info) => version(info.as_str().as_deref().unwrap_or("")),
        Err(e) if e.code() == Some("NOPERM") => "version unknown (INFO denied)".to_string(),
        Err(e) => return Err(e),
    };
    let persistence = match (
        ask("CONFIG", vec!["GET", "appendonly"]).await,
        ask("CONFIG", vec!["GET", "appendfsync"]).await,
    ) {
        (Ok(on), Ok(fsync)) => Some((second(&on), second(&fsync))),
        (Err(e), _) | (_, Err(e)) if e.code() == Some("NOPERM") => None,
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let replicas = settings.wait_replicas;
    let wanted = settings.wait_aof || replicas > 0;
    // One millisecond at most: a test of whether WAITAOF exists, is allowed, and (numlocal 1)
    // whether the append-only file is on.
    let local = if settings.wait_aof { "1" } else { "0" };
    let probe = if wanted {
        Some(ask("WAITAOF", vec![local, "0", "1"]).await)
    } else {
        None
    };
    let loss = loss_window(persistence.as_ref());
    let (durability, note) = match probe {
        None => (
            Durability::None,
            format!("no waiting (REDIS_WAITAOF=off); {loss}"),
        ),
        Some(Ok(_)) => (
            Durability::WaitAof {
                local: settings.wait_aof,
                replicas,
            },
            match (settings.wait_aof, replicas) {
                (true, 0) => {
                    "WAITAOF: acknowledged once Redis's append-only file is on disk".into()
                }
                (true, n) => format!(
                    "WAITAOF: acknowledged once Redis's append-only file and {n} replica(s)' are on disk"
                ),
                (false, n) => format!(
                    "WAITAOF: acknowledged once {n} replica(s)' append-only files are on disk; {loss}"
                ),
            },
        ),
        Some(Err(e)) if e.code() == Some("NOPERM") => {
            return Err(Error::Config(format!(
                "the ACL user of REDIS_URL may not run WAITAOF ({e}): allow +waitaof (docs/scaling.md), \
                 or set REDIS_WAITAOF=off to acknowledge without waiting for the disk"
            )));
        }
        Some(Err(e)) if e.to_string().contains("appendonly is disabled") => {
            let durability = if replicas > 0 {
                Durability::WaitAof {
                    local: false,
                    replicas,
                }
            } else {
                Durability::None
            };
            (
                durability,
                format!(
                    "Redis's append-only file is off (appendonly no), so there is no disk to wait \
                     for: {loss}"
                ),
            )
        }
        Some(Err(e))
            if e.to_string()
                .to_ascii_lowercase()
                .contains("unknown command") =>
        {
            if replicas > 0 {
                (
                    Durability::Wait { replicas },
                    format!(
                        "this server has no WAITAOF (Redis 7.2+, Valkey): acknowledged once {replicas} \
                         replica(s) have it in memory (WAIT); {loss}"
                    ),
                )
            } else {
                (
                    Durability::None,
                    format!("this server has no WAITAOF (Redis 7.2+, Valkey); {loss}"),
                )
            }
        }
        Some(Err(e)) => return Err(e),
    };
    Ok(Facts {
        version,
        durability,
        durability_note: note,
    })
}

/// `Valkey 9.0.0` or `Redis 7.0.15`, from `INFO server`.
fn version(info: &str) -> String {
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.trim().strip_prefix(name)?.strip_prefix(':'))
            .map(str::to_string)
    };
    match (field("valkey_version"), field("redis_version")) {
        (Some(v), _) => format!("Valkey {v}"),
        (None, Some(v)) => format!("Redis {v}"),
        (None, None) => "version unknown".into(),
    }
}

/// The value of a `CONFIG GET` reply (`[name, value]`).
fn second(reply: &Value) -> String {
    match reply {
        Value::Array(items) => items.get(1).and_then(|v| v.as_string()).unwrap_or_default(),
        _ => String::new(),
    }
}

/// What an acknowledged revocation may lose with these persistence settings.
fn loss_window(persistence: Option<&(String, String)>) -> String {
    match persistence {
        None => "the ACL denies CONFIG GET, so the loss window is unknown (docs/scaling.md, \
                 \"Durability\")"
            .into(),
        Some((on, _)) if on != "yes" => {
            "appendonly no: revocations live in Redis's memory (and its snapshots), and a restart \
             loses those made since the last snapshot"
                .into()
        }
        Some((_, fsync)) if fsync == "always" => {
            "appendonly yes, appendfsync always: every acknowledged revocation is on disk".into()
        }
        Some((_, fsync)) if fsync == "everysec" => "appendonly yes, appendfsync everysec: a kill \
             of Redis or of its host loses the revocations of about the last second (up to 2 s \
             while the disk is slow), acknowledged or not"
            .into(),
        Some((_, fsync)) => format!(
            "appendonly yes, appendfsync {fsync}: the system writes the file when it likes, so a \
             crash of Redis's host loses the last ~30 s of revocations"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_loss_windows() {
        assert_eq!(
            version("# Server\r\nredis_version:7.0.15\r\n"),
            "Redis 7.0.15"
        );
        assert_eq!(
            version("redis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:9.0.0\r\n"),
            "Valkey 9.0.0"
        );
        let setting = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert!(loss_window(setting("yes", "always").as_ref()).contains("every acknowledged"));
        assert!(loss_window(setting("yes", "everysec").as_ref()).contains("last second"));
        assert!(loss_window(setting("no", "everysec").as_ref()).contains("restart"));
        assert!(loss_window(None).contains("unknown"));
    }
}

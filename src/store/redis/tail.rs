//! The follower's side of Redis: [`Tail`], a dedicated connection that reads the revocation sets
//! in full ([`Tail::load`]) and blocks on the event stream ([`Tail::read`]), and the stream
//! positions it keeps ([`StreamId`], [`StreamInfo`], [`Position`]). The follower itself, which
//! turns these into a current replica, is `crate::store::denylist`'s.

use std::fmt;
use std::time::Duration;

use fred::clients::Client;
use fred::prelude::ClientLike;
use fred::types::config::Options;
use fred::types::{ClusterHash, ConnectHandle, CustomCommand, Value};

use super::error::Error;
use super::values::items;

/// How long one blocking read of the stream waits before asking again.
const BLOCK: Duration = Duration::from_secs(2);
/// Events read at once from the stream.
const READ_COUNT: usize = 1000;
/// Members asked for at once when loading a set (`ZSCAN`'s `COUNT`, a hint).
const LOAD_CHUNK: usize = 10_000;

/// The three kinds of revocation, one sorted set each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    Jtis,
    Families,
    Cutoffs,
}

impl Set {
    pub const ALL: [Set; 3] = [Set::Jtis, Set::Families, Set::Cutoffs];

    pub(super) fn name(self) -> &'static str {
        match self {
            Set::Jtis => "jtis",
            Set::Families => "families",
            Set::Cutoffs => "cutoffs",
        }
    }
}

/// A position in the stream: `<ms>-<seq>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct StreamId(pub u64, pub u64);

impl StreamId {
    pub fn parse(text: &str) -> Option<Self> {
        let (ms, seq) = text.split_once('-')?;
        Some(StreamId(ms.parse().ok()?, seq.parse().ok()?))
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

/// What `XINFO STREAM` says about the event stream (all zero when it does not exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamInfo {
    /// The newest id given out.
    pub last_generated: StreamId,
    /// The oldest entry still there (`0-0` when none is).
    pub first_entry: StreamId,
    /// Entries there now.
    pub length: u64,
    /// Entries ever added.
    pub entries_added: u64,
    /// The newest entry deleted by `XDEL` (trimming does not count here).
    pub max_deleted: StreamId,
}

/// How far a reader has read: the last entry it applied, and how many entries the stream had
/// ever had up to it (Redis 7's `entries-added` then).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub id: StreamId,
    pub count: u64,
}

impl StreamInfo {
    /// Where a reader that has just loaded everything stands.
    pub fn position(&self) -> Position {
        Position {
            id: self.last_generated,
            count: self.entries_added,
        }
    }

    /// Whether a reader at `read` may have missed events: the stream is younger than what it read
    /// (Redis lost its data, or was flushed); or entries after it are gone: trimming removes the
    /// oldest first, so nothing is missing while the stream still reaches back to `read`, and
    /// otherwise the count tells whether every entry added since is still there.
    pub fn missed_since(&self, read: Position) -> bool {
        if self.last_generated < read.id || self.entries_added < read.count {
            return true;
        }
        let reaches_back = self.length > 0 && self.first_entry <= read.id;
        let added_since = self.entries_added - read.count;
        self.max_deleted > read.id || (!reaches_back && added_since > self.length)
    }
}

/// A dedicated connection: reads the revocation sets and blocks on the event stream. Owned by the
/// one task that keeps a replica current (`crate::store::denylist`); it never reconnects by itself
/// (the owner makes a new one), and dropping it closes it.
pub struct Tail {
    client: Client,
    task: ConnectHandle,
    command_timeout: Duration,
    events: String,
    sets: [(Set, String); 3],
    /// The Cluster slot every key is in (the prefix's hash tag); ignored elsewhere.
    slot: u16,
}

impl Drop for Tail {
    fn drop(&mut self) {
        // The client's task owns the socket: ending it closes the connection.
        self.task.abort();
    }
}

/// One event of the stream: its id and its payload (field `r`).
pub type Event = (StreamId, String);

impl Tail {
    pub(super) fn new(
        (client, task): (Client, ConnectHandle),
        command_timeout: Duration,
        events: String,
        sets: [(Set, String); 3],
        slot: u16,
    ) -> Self {
        Tail {
            client,
            task,
            command_timeout,
            events,
            sets,
            slot,
        }
    }

    /// The client, for start-up's questions about the server (`server.rs`).
    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    /// The Cluster slot of our keys.
    pub(super) fn slot(&self) -> u16 {
        self.slot
    }

    /// One command within the command timeout (start-up's questions).
    pub(super) async fn call(&self, name: &'static str, args: Vec<String>) -> Result<Value, Error> {
        self.send(name, args, false, self.command_timeout).await
    }

    /// One command, on the node holding our keys; an error reply is an error.
    async fn send(
        &self,
        name: &'static str,
        args: Vec<String>,
        blocking: bool,
        timeout: Duration,
    ) -> Result<Value, Error> {
        let command = CustomCommand::new_static(name, ClusterHash::Custom(self.slot), blocking);
        let options = Options {
            timeout: Some(timeout),
            ..Options::default()
        };
        let client = self.client.with_options(&options);
        let reply = client.custom::<Value, _>(command, args);
        // fred's own timeout, and this one in case the client's task is gone.
        match tokio::time::timeout(timeout + Duration::from_millis(100), reply).await {
            Ok(reply) => reply.map_err(Error::from),
            Err(_) => Err(Error::Timeout),
        }
    }

    /// Where the stream stands.
    pub async fn info(&mut self) -> Result<StreamInfo, Error> {
        let args = vec!["STREAM".to_string(), self.events.clone()];
        let reply = match self.send("XINFO", args, false, self.command_timeout).await {
            // No stream yet: nothing was ever revoked (or Redis lost everything).
            Err(Error::Refused(msg)) if msg.contains("no such key") => {
                return Ok(StreamInfo::default());
            }
            other => other?,
        };
        let fields = items(&reply).ok_or(Error::Unexpected("XINFO's fields"))?;
        let field = |name: &str| {
            fields
                .chunks(2)
                .find(|pair| pair[0].as_str().as_deref() == Some(name))
                .and_then(|pair| pair.get(1))
        };
        let id = |name: &str| {
            field(name)
                .and_then(Value::as_str)
                .and_then(|t| StreamId::parse(&t))
        };
        let number = |name: &str| {
            field(name)
                .and_then(Value::as_i64)
                .and_then(|n| u64::try_from(n).ok())
        };
        // entries-added and recorded-first-entry-id are Redis 7.0's; without them, gaps can't be
        // ruled out (docs/scaling.md asks for 7.0 or later).
        Ok(StreamInfo {
            last_generated: id("last-generated-id")
                .ok_or(Error::Unexpected("XINFO's last-generated-id"))?,
            first_entry: id("recorded-first-entry-id").unwrap_or_default(),
            length: number("length").ok_or(Error::Unexpected("XINFO's length"))?,
            entries_added: number("entries-added").unwrap_or(u64::MAX),
            max_deleted: id("max-deleted-entry-id").unwrap_or_default(),
        })
    }

    /// Every member of every set that still matters at `now`, with its score.
    ///
    /// Read with `ZSCAN`, not by rank: other instances revoke (and sweep expired members) while a
    /// large set is read in pages, and paging by rank or by score can then skip a member that was
    /// there all along, whose event predates the stream position the follower resumes from. A
    /// full `ZSCAN` returns every member present from its start to its end (perhaps twice, which
    /// the replica merges); one added meanwhile is also in the stream after that position.
    pub async fn load(&mut self, now: i64) -> Result<Vec<(Set, String, i64)>, Error> {
        let mut all = Vec::new();
        for (set, key) in &self.sets {
            let mut cursor = String::from("0");
            loop {
                let args = vec![
                    key.clone(),
                    cursor.clone(),
                    "COUNT".to_string(),
                    LOAD_CHUNK.to_string(),
                ];
                let reply = self.call("ZSCAN", args).await?;
                let parts = items(&reply).ok_or(Error::Unexpected("a ZSCAN reply"))?;
                let (Some(next), Some(members)) = (
                    parts.first().and_then(Value::as_str),
                    parts.get(1).and_then(items),
                ) else {
                    return Err(Error::Unexpected("a cursor and members"));
                };
                for pair in members.chunks(2) {
                    let (Some(member), Some(score)) = (pair[0].as_str(), pair.get(1)) else {
                        return Err(Error::Unexpected("a member and its score"));
                    };
                    let score = score.as_f64().ok_or(Error::Unexpected("a score"))?;
                    // Scores are whole seconds, exact in a double.
                    let until = score as i64;
                    if until >= now {
                        all.push((*set, member.into_owned(), until));
                    }
                }
                if next == "0" {
                    break;
                }
                cursor = next.into_owned();
            }
        }
        Ok(all)
    }

    /// The events after `after`, waiting up to [`BLOCK`] for the first; empty when none came.
    ///
    /// Redis answers a blocked read within [`BLOCK`] even when nothing happens, so no answer
    /// within one more command timeout means it is frozen or cut off: [`Error::Timeout`], and the
    /// follower reconnects (and says it is not current meanwhile).
    pub async fn read(&mut self, after: StreamId) -> Result<Vec<Event>, Error> {
        let args = vec![
            "COUNT".to_string(),
            READ_COUNT.to_string(),
            "BLOCK".to_string(),
            BLOCK.as_millis().to_string(),
            "STREAMS".to_string(),
            self.events.clone(),
            after.to_string(),
        ];
        let reply = self
            .send("XREAD", args, true, BLOCK + self.command_timeout)
            .await?;
        let mut events = Vec::new();
        // [[stream, [[id, [field, value, ...]], ...]]], or nil when the wait timed out.
        for stream in items(&reply).ok_or(Error::Unexpected("XREAD's streams"))? {
            let entries = items(stream)
                .and_then(|s| s.get(1))
                .and_then(items)
                .ok_or(Error::Unexpected("XREAD's entries"))?;
            for entry in entries {
                let entry = items(entry).ok_or(Error::Unexpected("a stream entry"))?;
                let (Some(id), Some(fields)) = (
                    entry.first().and_then(Value::as_str),
                    entry.get(1).and_then(items),
                ) else {
                    return Err(Error::Unexpected("a stream entry"));
                };
                let id = StreamId::parse(&id).ok_or(Error::Unexpected("a stream id"))?;
                let payload = fields
                    .chunks(2)
                    .find(|pair| pair[0].as_str().as_deref() == Some("r"))
                    .and_then(|pair| pair.get(1)?.as_str())
                    .unwrap_or_default();
                events.push((id, payload.into_owned()));
            }
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_order_and_gaps() {
        let id = |t| StreamId::parse(t).unwrap();
        assert!(id("5-0") < id("5-1") && id("5-1") < id("10-0"));
        assert_eq!(id("12-3").to_string(), "12-3");
        assert_eq!(StreamId::parse("12"), None);
        // Entries 1..=100 were added (ids 1-0 to 100-0); 61..=100 are left.
        let info = StreamInfo {
            last_generated: id("100-0"),
            first_entry: id("61-0"),
            length: 40,
            entries_added: 100,
            max_deleted: StreamId::default(),
        };
        let at = |n: u64| Position {
            id: StreamId(n, 0),
            count: n,
        };
        // Read up to 70, or 61, or 100: everything after it is still there.
        assert!(!info.missed_since(at(70)));
        assert!(!info.missed_since(at(61)) && !info.missed_since(at(100)));
        // Read up to 60: 61 is the first left, and nothing is missing.
        assert!(!info.missed_since(at(60)));
        // Read up to 50: 51..=60 were trimmed unread.
        assert!(info.missed_since(at(50)));
        // Read 200, but the stream only reached 100: it was recreated.
        assert!(info.missed_since(at(200)));
        // Everything trimmed (XTRIM MAXLEN 0) after 100 were added, read up to 90.
        let empty = StreamInfo {
            length: 0,
            first_entry: StreamId::default(),
            ..info
        };
        assert!(empty.missed_since(at(90)));
        assert!(!empty.missed_since(at(100)));
        // A stream that never existed, read by a newcomer: nothing missed.
        assert!(!StreamInfo::default().missed_since(Position::default()));
    }
}

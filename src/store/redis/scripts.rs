//! The Lua scripts hyperjwt runs in Redis, each one atomic there: a revocation ([`REVOKE`]),
//! readiness's write ([`PROBE`]), start-up's permission check ([`PERMISSIONS`]) and the failed-login
//! counters ([`COUNT_FAILURES`], [`FAILURES`]); and [`Script`], a script known by its SHA-1.

/// A Lua script, run by its SHA-1 once Redis knows it (`EVALSHA`), by its text otherwise.
pub(super) struct Script {
    pub(super) source: &'static str,
    pub(super) sha: String,
}

impl Script {
    pub(super) fn new(source: &'static str) -> Self {
        let digest =
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, source.as_bytes());
        Script {
            source,
            sha: crate::bytes::hex(digest.as_ref()),
        }
    }
}

/// Revokes one member: KEYS = the set, the stream; ARGV = member, until, event, now, stream length.
/// Returns 1 if it was new (and the event was appended), 0 if someone revoked it first. Every write
/// is checked against the ACL first, so a denial leaves nothing half done.
pub(super) const REVOKE: &str = r"
for _, c in ipairs({
  {'ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]},
  {'XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'r', ARGV[3]},
  {'ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4]},
}) do
  if not redis.acl_check_cmd(unpack(c)) then
    return redis.error_reply('NOPERM the ACL user may not run ' .. c[1] .. ' on ' .. c[2])
  end
end
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
if added == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'r', ARGV[3])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
return added
";

/// Readiness's write: what a revocation does, with a member that is swept at once (scored 0) and
/// no event. KEYS = a set, the stream; ARGV = member, now. The same ACL checks as [`REVOKE`], so
/// readiness fails where revocations would.
pub(super) const PROBE: &str = r"
for _, c in ipairs({
  {'ZADD', KEYS[1], 'NX', 0, ARGV[1]},
  {'XADD', KEYS[2], 'MAXLEN', '~', 1, '*', 'r', ''},
  {'ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2]},
}) do
  if not redis.acl_check_cmd(unpack(c)) then
    return redis.error_reply('NOPERM the ACL user may not run ' .. c[1] .. ' on ' .. c[2])
  end
end
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
return 1
";

/// Start-up's question: the first command hyperjwt needs that the ACL denies on our keys, or ''.
/// KEYS = a set, the stream, a counter. Nothing is run, only checked.
pub(super) const PERMISSIONS: &str = r"
for _, c in ipairs({
  {'ZADD', KEYS[1], 'NX', 0, 'm'},
  {'XADD', KEYS[2], 'MAXLEN', '~', 1, '*', 'r', ''},
  {'ZREMRANGEBYSCORE', KEYS[1], '-inf', '0'},
  {'ZSCAN', KEYS[1], '0'},
  {'XINFO', 'STREAM', KEYS[2]},
  {'XREAD', 'COUNT', 1, 'STREAMS', KEYS[2], '0'},
  {'INCR', KEYS[3]}, {'PEXPIRE', KEYS[3], 1}, {'GET', KEYS[3]}, {'PTTL', KEYS[3]}, {'DEL', KEYS[3]},
}) do
  if not redis.acl_check_cmd(unpack(c)) then return c[1] end
end
return ''
";

/// Counts one failure on each key: KEYS = counters; ARGV = window (ms). The window starts at the
/// first failure (`PEXPIRE` only when the count is new), as the local counters do.
pub(super) const COUNT_FAILURES: &str = r"
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  counts[i] = n
end
return counts
";

/// Each key's count and the milliseconds left in its window: KEYS = counters.
pub(super) const FAILURES: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  out[2 * i - 1] = tonumber(redis.call('GET', key) or '0')
  out[2 * i] = redis.call('PTTL', key)
end
return out
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_named_by_their_sha1() {
        let script = Script::new("return 1");
        // `redis-cli SCRIPT LOAD "return 1"`
        assert_eq!(script.sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    }
}

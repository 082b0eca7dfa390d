//! The keys for running it: `REDIS_URL` and its companions, `LOG_FORMAT`, `METRICS` and `METRICS_ADDR`.

use super::*;

#[test]
fn redis_keys() {
    let c = config(&[]).unwrap();
    assert_eq!(c.redis, None);
    let with_url = config(&[("REDIS_URL", "redis://127.0.0.1:6390/1")]);
    if cfg!(feature = "redis") {
        let redis = with_url.unwrap().redis.unwrap();
        assert_eq!(
            redis.url.topology,
            RedisTopology::Standalone(RedisNode {
                host: "127.0.0.1".into(),
                port: 6390
            })
        );
        assert_eq!(redis.url.db, 1);
        assert_eq!(redis.key_prefix, DEFAULT_KEY_PREFIX);
        assert_eq!(redis.connect_timeout, Duration::from_secs(30));
        let c = config(&[
            ("REDIS_URL", "redis://h"),
            ("REDIS_KEY_PREFIX", "{app}:"),
            ("REDIS_CONNECT_TIMEOUT", "3"),
        ])
        .unwrap()
        .redis
        .unwrap();
        assert_eq!(
            (c.key_prefix.as_str(), c.connect_timeout),
            ("{app}:", Duration::from_secs(3))
        );
        // One store of revocations: Redis or the journal, not both.
        let both = config(&[("REDIS_URL", "redis://h"), ("DENYLIST_FILE", "/tmp/d")]);
        assert_eq!(both.unwrap_err().key, "DENYLIST_FILE");
    } else {
        // A binary without the feature says how to get one with it.
        let err = with_url.unwrap_err();
        assert_eq!(err.key, "REDIS_URL");
        assert!(err.problem.contains("--features redis"), "{}", err.problem);
    }
    for (key, value) in [("REDIS_URL", "http://h"), ("REDIS_CONNECT_TIMEOUT", "0")] {
        assert_eq!(config(&[(key, value)]).unwrap_err().key, key, "{value}");
    }
    // The companions of REDIS_URL are checked with it (a binary without the feature refuses the
    // URL first; src/config/redis.rs's own tests cover every setting in every build).
    let prefix = config(&[("REDIS_URL", "redis://h"), ("REDIS_KEY_PREFIX", "a b")]);
    let expected = if cfg!(feature = "redis") {
        "REDIS_KEY_PREFIX"
    } else {
        "REDIS_URL"
    };
    assert_eq!(prefix.unwrap_err().key, expected);
}

#[test]
fn log_format_is_text_or_json() {
    assert_eq!(
        config(&[("LOG_FORMAT", "json")]).unwrap().log_format,
        LogFormat::Json
    );
    assert_eq!(
        config(&[("LOG_FORMAT", " TEXT ")]).unwrap().log_format,
        LogFormat::Text
    );
    let err = config(&[("LOG_FORMAT", "yaml")]).unwrap_err();
    assert_eq!(err.key, "LOG_FORMAT");
    assert!(err.problem.contains("text or json"), "{}", err.problem);
}

#[test]
fn metrics_can_be_turned_off_or_moved_to_their_own_address() {
    assert!(!config(&[("METRICS", "off")]).unwrap().metrics);
    assert_eq!(
        config(&[("METRICS", "sometimes")]).unwrap_err().key,
        "METRICS"
    );
    let moved = config(&[("METRICS_ADDR", "127.0.0.1:9100")]).unwrap();
    assert!(moved.metrics);
    assert_eq!(moved.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
    assert_eq!(
        config(&[("METRICS_ADDR", "[::1]:9100")])
            .unwrap()
            .metrics_addr,
        Some("[::1]:9100".parse().unwrap())
    );
    for bad in ["localhost:9100", "127.0.0.1", "9100", "127.0.0.1:99999"] {
        let err = config(&[("METRICS_ADDR", bad)]).unwrap_err();
        assert_eq!(err.key, "METRICS_ADDR", "{bad}");
        assert!(err.problem.contains("127.0.0.1:9100"), "{}", err.problem);
    }
    // Off and moved at once is a contradiction, not a silent choice.
    let err = config(&[("METRICS", "off"), ("METRICS_ADDR", "127.0.0.1:9100")]).unwrap_err();
    assert_eq!(err.key, "METRICS_ADDR");
}

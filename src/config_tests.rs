//! Tests of the configuration: defaults, the file, the environment and flags.

use super::*;

#[test]
fn defaults_are_local_and_embedded() {
    let c = Config::from_settings(Settings::default()).unwrap();
    assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
    assert_eq!(c.database_url, "sqlite:data/mini-meeting.db");
    assert!(c.redis_url.is_none());
    assert_eq!(c.sfu.workers, default_workers());
    assert!(c.sfu.workers >= 1);
    assert_eq!(c.access_token_ttl, Duration::from_secs(900));
}

#[test]
fn file_values_fill_what_env_and_flags_leave_unset() {
    let dir = std::env::temp_dir().join(format!("mm-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mm.toml");
    std::fs::write(
        &path,
        "http_addr = \"127.0.0.1:9000\"\nlog_level = \"debug\"\n",
    )
    .unwrap();
    let s = Settings {
        config_file: Some(path),
        log_level: Some("warn".into()),
        ..Settings::default()
    };
    let c = Config::from_settings(s).unwrap();
    assert_eq!(c.http_addr.port(), 9000);
    assert_eq!(c.log_level, "warn", "a flag or env var beats the file");
}

#[test]
fn unknown_file_keys_and_bad_values_are_errors() {
    let dir = std::env::temp_dir().join(format!("mm-config-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mm.toml");
    std::fs::write(&path, "htp_addr = \"x\"\n").unwrap();
    let s = Settings {
        config_file: Some(path),
        ..Settings::default()
    };
    assert!(Config::from_settings(s).is_err());
    let s = Settings {
        sfu_udp_addr: Some("0.0.0.0:40000".parse().unwrap()),
        ..Settings::default()
    };
    assert!(
        Config::from_settings(s).is_err(),
        "unspecified bind needs public IPs"
    );
}

#[test]
fn turn_needs_urls_and_secret_together() {
    assert!(turn_config(None, None, None).unwrap().is_none());
    let t = turn_config(Some(vec!["turn:t:3478".into()]), Some("s".into()), Some(60))
        .unwrap()
        .unwrap();
    assert_eq!(t.ttl(), Duration::from_secs(60));
    assert!(turn_config(Some(vec!["turn:t".into()]), None, None).is_err());
    assert!(turn_config(None, Some("s".into()), None).is_err());
    assert!(turn_config(Some(vec!["stun:t".into()]), Some("s".into()), None).is_err());
    assert!(turn_config(Some(vec!["turn:t".into()]), Some("s".into()), Some(0)).is_err());
}

#[test]
fn ice_servers_parse_from_list_or_json() {
    let l = parse_ice_servers("stun:a:3478, turn:b").unwrap();
    assert_eq!(l.len(), 2);
    let j = parse_ice_servers(r#"[{"urls":["turn:t"],"username":"u","credential":"c"}]"#).unwrap();
    assert_eq!(j[0].username.as_deref(), Some("u"));
    assert!(parse_ice_servers("[nope").is_err());
}

#[test]
fn cluster_settings_are_checked() {
    let bad = [
        Settings {
            node_url: Some("https://10.0.0.2:8080".into()),
            ..Settings::default()
        },
        Settings {
            node_id: Some("node one".into()),
            ..Settings::default()
        },
        Settings {
            admin_token: Some("short".into()),
            ..Settings::default()
        },
        Settings {
            meeting_lease_secs: Some(0),
            ..Settings::default()
        },
    ];
    for settings in bad {
        assert!(Config::from_settings(settings).is_err());
    }
    let c = Config::from_settings(Settings::default()).unwrap();
    assert_eq!(c.cluster.redis_key_prefix, "mm:");
    assert_eq!(c.cluster.meeting_lease, Duration::from_secs(8));
    assert!(c.cluster.admin_token.is_none());
}

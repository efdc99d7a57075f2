//! Every key `--help` lists works from the config file, from the environment and as a flag
//! (issue 12, finding 10: two file keys were silently ignored). The table below must name
//! every key of clap's command, so a key added to `--help` without a row here fails.
//!
//! Only one test here reads the environment (through clap), and it is the one that sets it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::{CommandFactory, Parser};
use mini_meeting::Config;
use mini_meeting::config::Settings;

/// One key: its value on the command line or in the environment, the same value as TOML, and
/// how the resolved configuration shows it.
struct Key {
    id: &'static str,
    text: &'static str,
    toml: &'static str,
    read: fn(&Config) -> String,
    expected: &'static str,
    /// Keys that only work together with this one: (id, text, toml), set the same way.
    with: &'static [(&'static str, &'static str, &'static str)],
}

fn secs(d: std::time::Duration) -> String {
    d.as_secs().to_string()
}

fn keys() -> Vec<Key> {
    macro_rules! key {
        ($id:literal, $text:literal, $toml:literal, $read:expr, $expected:literal) => {
            Key {
                id: $id,
                text: $text,
                toml: $toml,
                read: $read,
                expected: $expected,
                with: &[],
            }
        };
        ($id:literal, $text:literal, $toml:literal, $read:expr, $expected:literal, with $with:expr) => {
            Key {
                with: $with,
                ..key!($id, $text, $toml, $read, $expected)
            }
        };
    }
    vec![
        key!(
            "http_addr",
            "127.0.0.1:9001",
            "\"127.0.0.1:9001\"",
            |c| c.http_addr.to_string(),
            "127.0.0.1:9001"
        ),
        key!(
            "data_dir",
            "/tmp/mm-keys",
            "\"/tmp/mm-keys\"",
            |c| c.data_dir.display().to_string(),
            "/tmp/mm-keys"
        ),
        key!(
            "database_url",
            "sqlite:/tmp/mm-keys/k.db",
            "\"sqlite:/tmp/mm-keys/k.db\"",
            |c| c.database_url.clone(),
            "sqlite:/tmp/mm-keys/k.db"
        ),
        key!(
            "redis_url",
            "redis://127.0.0.1:6390",
            "\"redis://127.0.0.1:6390\"",
            |c| c.redis_url.clone().unwrap_or_default(),
            "redis://127.0.0.1:6390"
        ),
        key!(
            "database_replica_url",
            "postgres://reader@10.0.0.9/mm",
            "\"postgres://reader@10.0.0.9/mm\"",
            |c| c.database_replica_url.clone().unwrap_or_default(),
            "postgres://reader@10.0.0.9/mm"
        ),
        key!(
            "jwt_secret",
            "0123456789abcdef0123456789abcdef",
            "\"0123456789abcdef0123456789abcdef\"",
            |c| c.jwt_secret.clone().unwrap_or_default(),
            "0123456789abcdef0123456789abcdef"
        ),
        key!(
            "jwt_issuer",
            "issuer-x",
            "\"issuer-x\"",
            |c| c.jwt_issuer.clone(),
            "issuer-x"
        ),
        key!(
            "access_token_ttl_secs",
            "61",
            "61",
            |c| secs(c.access_token_ttl),
            "61"
        ),
        key!(
            "refresh_token_ttl_secs",
            "62",
            "62",
            |c| secs(c.refresh_token_ttl),
            "62"
        ),
        key!(
            "cors_origins",
            "https://a.example,https://b.example",
            "[\"https://a.example\", \"https://b.example\"]",
            |c| c.cors_origins.join(","),
            "https://a.example,https://b.example"
        ),
        key!(
            "api_rate_limit_per_minute",
            "63",
            "63",
            |c| c.api_rate_limit_per_minute.to_string(),
            "63"
        ),
        key!(
            "api_request_timeout_secs",
            "17",
            "17",
            |c| secs(c.api_request_timeout),
            "17"
        ),
        key!(
            "trust_proxy",
            "true",
            "true",
            |c| c.trust_proxy.to_string(),
            "true"
        ),
        key!(
            "log_format",
            "json",
            "\"json\"",
            |c| format!("{:?}", c.log_format),
            "Json"
        ),
        key!(
            "log_level",
            "debug",
            "\"debug\"",
            |c| c.log_level.clone(),
            "debug"
        ),
        key!(
            "web_dir",
            "/tmp/mm-web",
            "\"/tmp/mm-web\"",
            |c| c.web_dir.display().to_string(),
            "/tmp/mm-web"
        ),
        key!(
            "sfu_udp_addr",
            "127.0.0.1:40100",
            "\"127.0.0.1:40100\"",
            |c| c.sfu.bind.to_string(),
            "127.0.0.1:40100"
        ),
        key!(
            "sfu_public_ips",
            "127.0.0.2,127.0.0.3",
            "[\"127.0.0.2\", \"127.0.0.3\"]",
            |c| join(&c.sfu.public_ips),
            "127.0.0.2,127.0.0.3"
        ),
        key!(
            "sfu_allowed_networks",
            "10.0.0.0/8,127.0.0.0/8",
            "[\"10.0.0.0/8\", \"127.0.0.0/8\"]",
            |c| join(&c.sfu.allowed_networks),
            "10.0.0.0/8,127.0.0.0/8"
        ),
        key!("sfu_workers", "3", "3", |c| c.sfu.workers.to_string(), "3"),
        key!(
            "sfu_socket_buffer_bytes",
            "65536",
            "65536",
            |c| c.sfu.socket_buffer_bytes.to_string(),
            "65536"
        ),
        key!(
            "sfu_bandwidth_estimation",
            "true",
            "true",
            |c| c.sfu.bandwidth_estimation.to_string(),
            "true"
        ),
        key!(
            "sfu_ice_tcp",
            "false",
            "false",
            |c| c.sfu.ice_tcp.to_string(),
            "false"
        ),
        key!(
            "sfu_ice_tcp_port",
            "41000",
            "41000",
            |c| format!("{:?}", c.sfu.ice_tcp_port),
            "Some(41000)"
        ),
        key!(
            "sfu_keyframe_cache_ms",
            "1500",
            "1500",
            |c| c.sfu.keyframe_cache_max_age.as_millis().to_string(),
            "1500"
        ),
        key!(
            "ice_servers",
            "stun:stun.example:3478",
            "\"stun:stun.example:3478\"",
            |c| c
                .ice_servers
                .iter()
                .flat_map(|s| s.urls.clone())
                .collect::<Vec<_>>()
                .join(","),
            "stun:stun.example:3478"
        ),
        key!(
            "turn_urls",
            "turn:turn.example:3478",
            "[\"turn:turn.example:3478\"]",
            |c| c
                .turn
                .as_ref()
                .map(|t| t.urls().join(","))
                .unwrap_or_default(),
            "turn:turn.example:3478",
            with & [("turn_secret", "k3y", "\"k3y\"")]
        ),
        key!(
            "turn_secret",
            "k3y",
            "\"k3y\"",
            |c| c
                .turn
                .as_ref()
                .and_then(|t| t.mint(1, std::time::UNIX_EPOCH).credential)
                .unwrap_or_default(),
            // base64(HMAC-SHA1("k3y", "86400:1")): the secret reached the minting.
            "zZXtC/xT9Ij5TwKYDmfR9DMYklg=",
            with & [("turn_urls", "turn:t:3478", "[\"turn:t:3478\"]")]
        ),
        key!(
            "turn_credential_ttl_secs",
            "600",
            "600",
            |c| c.turn.as_ref().map(|t| secs(t.ttl())).unwrap_or_default(),
            "600",
            with & [
                ("turn_urls", "turn:t:3478", "[\"turn:t:3478\"]"),
                ("turn_secret", "k3y", "\"k3y\"")
            ]
        ),
        key!(
            "heartbeat_interval_secs",
            "7",
            "7",
            |c| secs(c.heartbeat_interval),
            "7"
        ),
        key!(
            "reconnect_grace_secs",
            "8",
            "8",
            |c| secs(c.reconnect_grace),
            "8"
        ),
        key!(
            "empty_meeting_grace_secs",
            "9",
            "9",
            |c| secs(c.empty_meeting_grace),
            "9"
        ),
        key!(
            "paused_timeout_secs",
            "11",
            "11",
            |c| secs(c.paused_timeout),
            "11"
        ),
        key!(
            "join_timeout_secs",
            "13",
            "13",
            |c| secs(c.join_timeout),
            "13"
        ),
        key!(
            "lobby_max_wait_secs",
            "17",
            "17",
            |c| secs(c.lobby_max_wait),
            "17"
        ),
        key!(
            "ws_max_unauthenticated_per_ip",
            "5",
            "5",
            |c| c.ws_max_unauthenticated_per_ip.to_string(),
            "5"
        ),
        key!(
            "ws_max_sessions_per_user",
            "4",
            "4",
            |c| c.ws_max_sessions_per_user.to_string(),
            "4"
        ),
        key!(
            "max_participants_per_meeting",
            "7",
            "7",
            |c| c.max_participants_per_meeting.to_string(),
            "7"
        ),
        key!(
            "http_header_read_timeout_secs",
            "12",
            "12",
            |c| secs(c.http.header_read_timeout),
            "12"
        ),
        key!(
            "http_idle_timeout_secs",
            "13",
            "13",
            |c| secs(c.http.idle_timeout),
            "13"
        ),
        key!(
            "http_max_connections",
            "14",
            "14",
            |c| c.http.max_connections.to_string(),
            "14"
        ),
        key!(
            "shutdown_grace_secs",
            "15",
            "15",
            |c| secs(c.http.shutdown_grace),
            "15"
        ),
        key!(
            "node_id",
            "node-7",
            "\"node-7\"",
            |c| c.cluster.node_id.clone().unwrap_or_default(),
            "node-7"
        ),
        key!(
            "node_url",
            "http://10.0.0.7:8080",
            "\"http://10.0.0.7:8080\"",
            |c| c.cluster.node_url.clone().unwrap_or_default(),
            "http://10.0.0.7:8080"
        ),
        key!(
            "redis_key_prefix",
            "blue:",
            "\"blue:\"",
            |c| c.cluster.redis_key_prefix.clone(),
            "blue:"
        ),
        key!(
            "meeting_lease_secs",
            "12",
            "12",
            |c| secs(c.cluster.meeting_lease),
            "12"
        ),
        key!(
            "admin_token",
            "operator-secret-0123",
            "\"operator-secret-0123\"",
            |c| c.cluster.admin_token.clone().unwrap_or_default(),
            "operator-secret-0123"
        ),
        key!(
            "drain_timeout_secs",
            "9",
            "9",
            |c| secs(c.cluster.drain_timeout),
            "9"
        ),
    ]
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The keys `--help` lists (besides help, version and the file itself), with flag and variable.
fn help_keys() -> Vec<(String, String, String)> {
    Settings::command()
        .get_arguments()
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version" | "config_file"))
        .map(|a| {
            (
                a.get_id().to_string(),
                a.get_long().expect("every key has a flag").to_string(),
                a.get_env()
                    .expect("every key has a variable")
                    .to_string_lossy()
                    .into_owned(),
            )
        })
        .collect()
}

fn load(args: &[&str]) -> Config {
    let mut argv = vec!["mini-meeting"];
    argv.extend_from_slice(args);
    Config::from_settings(Settings::try_parse_from(argv).expect("arguments parse"))
        .expect("configuration resolves")
}

#[test]
fn every_help_key_works_from_the_file_the_environment_and_a_flag() {
    let table = keys();
    let help = help_keys();
    let in_help: BTreeSet<&str> = help.iter().map(|(id, _, _)| id.as_str()).collect();
    let in_table: BTreeSet<&str> = table.iter().map(|k| k.id).collect();
    assert_eq!(
        in_help, in_table,
        "every key --help lists needs a row in this test's table, and only those"
    );
    // The outer environment must not decide what this test sees.
    for (_, _, env) in &help {
        // SAFETY: the only test of this binary; nothing else reads the environment meanwhile.
        unsafe { std::env::remove_var(env) };
    }
    unsafe { std::env::remove_var("CONFIG_FILE") };

    let dir = std::env::temp_dir().join(format!("mm-config-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let defaults = load(&[]);
    for key in &table {
        let (_, long, env) = help.iter().find(|(id, _, _)| id == key.id).unwrap();
        assert_eq!(*long, key.id.replace('_', "-"), "flag name of {}", key.id);
        assert_eq!(*env, key.id.to_uppercase(), "variable name of {}", key.id);
        assert_ne!(
            (key.read)(&defaults),
            key.expected,
            "{}: the sample must differ from the default, or the test proves nothing",
            key.id
        );

        let env_of = |id: &str| id.to_uppercase();
        let mut flags = vec![format!("--{long}"), key.text.to_owned()];
        for (id, text, _) in key.with {
            flags.extend([format!("--{}", id.replace('_', "-")), (*text).to_owned()]);
        }
        let flag = load(&flags.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!((key.read)(&flag), key.expected, "--{long}");

        // SAFETY: as above.
        unsafe { std::env::set_var(env, key.text) };
        for (id, text, _) in key.with {
            unsafe { std::env::set_var(env_of(id), text) };
        }
        let from_env = load(&[]);
        unsafe { std::env::remove_var(env) };
        for (id, _, _) in key.with {
            unsafe { std::env::remove_var(env_of(id)) };
        }
        assert_eq!((key.read)(&from_env), key.expected, "${env}");

        let mut text = format!("{} = {}\n", key.id, key.toml);
        for (id, _, toml) in key.with {
            text.push_str(&format!("{id} = {toml}\n"));
        }
        let file = write(&dir, &text);
        let from_file = load(&["--config-file", file.to_str().unwrap()]);
        assert_eq!(
            (key.read)(&from_file),
            key.expected,
            "{} in the file",
            key.id
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_file_key_is_an_error_not_ignored() {
    let dir = std::env::temp_dir().join(format!("mm-config-unknown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = write(&dir, "api_rate_limit_per_minut = 5\n");
    let settings = Settings {
        config_file: Some(file),
        ..Settings::default()
    };
    let err = Config::from_settings(settings)
        .err()
        .expect("a misspelt key is refused");
    assert!(
        format!("{err:#}").contains("api_rate_limit_per_minut"),
        "the error names the key: {err:#}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn write(dir: &std::path::Path, text: &str) -> PathBuf {
    let path = dir.join("mm.toml");
    std::fs::write(&path, text).unwrap();
    path
}

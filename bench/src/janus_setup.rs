//! `bench janus-up` / `bench janus-down`: Janus in a network namespace of its own, joined to
//! ours by a veth pair (10.99.0.1 <-> 10.99.0.2), with a copy of `/etc/janus` that binds the
//! HTTP API to 10.99.0.2, gathers ICE only on the namespace's veth end and loads only the
//! VideoRoom plugin and the HTTP transport. Needs root.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::janus::{HOST_IP, HOST_VETH, JANUS_DIR, JANUS_IP, JANUS_NETNS, JANUS_URL, JANUS_VETH};

fn run(cmd: &str, args: &[&str]) -> anyhow::Result<()> {
    let st = Command::new(cmd)
        .args(args)
        .status()
        .with_context(|| format!("running {cmd}"))?;
    if !st.success() {
        bail!("{cmd} {} failed: {st}", args.join(" "));
    }
    Ok(())
}

fn pid_file() -> PathBuf {
    Path::new(JANUS_DIR).join("janus.pid")
}

/// The pid of the Janus started by `janus-up`, if it is still running.
pub fn janus_pid() -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(pid_file())
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

/// Edits the copied configuration (pure: text in, text out).
pub fn edit_janus_jcfg(
    text: &str,
    conf_dir: &str,
    disable_plugins: &str,
    disable_transports: &str,
) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut section = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(name) = t.strip_suffix(": {") {
            section = name.trim().to_owned();
        }
        let key = t.split(['=', ' ', '\t']).next().unwrap_or("");
        let replaced = match (section.as_str(), key) {
            ("general", "configs_folder") => Some(format!("\tconfigs_folder = \"{conf_dir}\"")),
            ("general", "debug_level") => Some("\tdebug_level = 3".to_owned()),
            ("nat", "#ice_enforce_list") => Some(format!("\tice_enforce_list = \"{JANUS_VETH}\"")),
            ("plugins", "#disable") => Some(format!("\tdisable = \"{disable_plugins}\"")),
            ("transports", "#disable") => Some(format!("\tdisable = \"{disable_transports}\"")),
            _ => None,
        };
        match replaced {
            Some(r) => out.push_str(&r),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Binds the HTTP transport to Janus's veth address.
pub fn edit_http_jcfg(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#ip =") {
            out.push_str(&format!("\tip = \"{JANUS_IP}\""));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn other_libs(dir: &str, keep: &str) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".so") && n != keep)
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.join(",")
}

/// Creates the namespace and veth pair, writes the configuration and starts Janus.
pub async fn janus_up() -> anyhow::Result<()> {
    if janus_pid().is_some() {
        println!("janus already running (pid {})", janus_pid().unwrap_or(0));
        return Ok(());
    }
    if !Path::new("/usr/bin/janus").exists() {
        bail!("janus is not installed: apt-get install -y janus");
    }
    let netns_exists = Command::new("ip")
        .args(["netns", "exec", JANUS_NETNS, "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !netns_exists {
        run("ip", &["netns", "add", JANUS_NETNS])?;
        run(
            "ip",
            &[
                "link", "add", HOST_VETH, "type", "veth", "peer", "name", JANUS_VETH,
            ],
        )?;
        run("ip", &["link", "set", JANUS_VETH, "netns", JANUS_NETNS])?;
        run(
            "ip",
            &["addr", "add", &format!("{HOST_IP}/24"), "dev", HOST_VETH],
        )?;
        run("ip", &["link", "set", HOST_VETH, "up"])?;
        let ns = |args: &[&str]| {
            let mut a = vec!["netns", "exec", JANUS_NETNS, "ip"];
            a.extend_from_slice(args);
            run("ip", &a)
        };
        ns(&["addr", "add", &format!("{JANUS_IP}/24"), "dev", JANUS_VETH])?;
        ns(&["link", "set", JANUS_VETH, "up"])?;
        ns(&["link", "set", "lo", "up"])?;
    }
    let conf = Path::new(JANUS_DIR).join("etc");
    std::fs::create_dir_all(&conf)?;
    for e in std::fs::read_dir("/etc/janus")? {
        let e = e?;
        std::fs::copy(e.path(), conf.join(e.file_name()))?;
    }
    let conf_s = conf.display().to_string();
    let plugins = other_libs(
        "/usr/lib/x86_64-linux-gnu/janus/plugins",
        "libjanus_videoroom.so",
    );
    let transports = other_libs(
        "/usr/lib/x86_64-linux-gnu/janus/transports",
        "libjanus_http.so",
    );
    let main = std::fs::read_to_string(conf.join("janus.jcfg"))?;
    std::fs::write(
        conf.join("janus.jcfg"),
        edit_janus_jcfg(&main, &conf_s, &plugins, &transports),
    )?;
    let http = std::fs::read_to_string(conf.join("janus.transport.http.jcfg"))?;
    std::fs::write(
        conf.join("janus.transport.http.jcfg"),
        edit_http_jcfg(&http),
    )?;
    let log = std::fs::File::create(Path::new(JANUS_DIR).join("janus.log"))?;
    let child = Command::new("ip")
        .args(["netns", "exec", JANUS_NETNS, "janus", "-F", &conf_s, "-C"])
        .arg(conf.join("janus.jcfg"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting janus")?;
    // `ip netns exec` execs janus: the child's pid is Janus's.
    std::fs::write(pid_file(), child.id().to_string())?;
    let http = reqwest::Client::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(r) = http.get(format!("{JANUS_URL}/info")).send().await
            && r.status().is_success()
        {
            println!(
                "janus up: pid {}, API {JANUS_URL}, netns {JANUS_NETNS}, log {JANUS_DIR}/janus.log",
                child.id()
            );
            return Ok(());
        }
    }
    bail!("janus did not answer on {JANUS_URL} within 10 s; see {JANUS_DIR}/janus.log")
}

/// Stops Janus (the pid we started) and deletes the namespace (the veth pair goes with it).
pub fn janus_down() -> anyhow::Result<()> {
    if let Some(pid) = janus_pid() {
        // SAFETY: kill(2) on the pid janus-up recorded.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        for _ in 0..50 {
            if janus_pid().is_none() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if janus_pid().is_some() {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        println!("janus (pid {pid}) stopped");
    }
    let _ = std::fs::remove_file(pid_file());
    let _ = Command::new("ip")
        .args(["netns", "del", JANUS_NETNS])
        .stderr(Stdio::null())
        .status();
    println!("netns {JANUS_NETNS} removed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_edits_touch_only_the_intended_keys() {
        let text = "general: {\n\tconfigs_folder = \"/etc/janus\"\t\t# x\n\tdebug_level = 4\n}\n\
            nat: {\n\t#ice_enforce_list = \"eth0\"\n}\nplugins: {\n\t#disable = \"a.so\"\n}\n\
            transports: {\n\t#disable = \"b.so\"\n}\nloggers: {\n\t#disable = \"c.so\"\n}\n";
        let out = edit_janus_jcfg(text, "/tmp/x", "p.so", "t.so");
        assert!(out.contains("configs_folder = \"/tmp/x\""));
        assert!(out.contains("ice_enforce_list = \"mmj1\""));
        assert!(out.contains("\tdisable = \"p.so\""));
        assert!(out.contains("\tdisable = \"t.so\""));
        assert!(out.contains("#disable = \"c.so\""));
        assert!(edit_http_jcfg("\t#ip = \"192.168.0.1\"\n").contains("ip = \"10.99.0.2\""));
    }
}

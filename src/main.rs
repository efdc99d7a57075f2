//! `cargo run`: the whole Mini Meeting server in one process.

use mini_meeting::{Config, Server, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load()?;
    telemetry::init(config.log_format, &config.log_level);
    let server = Server::start(config).await?;
    // Scripts and tests read this line to find the server (the port may be chosen by the OS).
    println!("Mini Meeting listening on http://{}", server.http_addr());
    server.run_until(shutdown_signal()).await
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}

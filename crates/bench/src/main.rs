//! `lodge-bench`: load generators that measure Lodge against native
//! baselines in the same run. Not part of Lodge: the load generators and
//! the comparison servers live here so that the `lodge` binary users run
//! carries none of them.
//!
//! Each subcommand starts a Lodge server in this process (the library,
//! `lodge-server`, with its data in a temporary folder) or measures a
//! running one, pushes the apps it needs, and prints its figures;
//! BENCHMARKS.md records them.

mod cluster;
mod http;
mod load;
mod lobby;
mod lodge;
mod native;
mod neighbours;
mod report;
mod rooms;
mod served;

// Shared with the `lodge` binary rather than copied: packing an app
// folder into a bundle, and printing tables and errors.
#[path = "../../../src/output.rs"]
#[allow(
    dead_code,
    reason = "the `lodge` binary's helpers; the bench uses some"
)]
mod output;
#[path = "../../../src/pack.rs"]
#[allow(
    dead_code,
    reason = "the `lodge` binary's helpers; the bench uses some"
)]
mod pack;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Measure Lodge: load generators with a native baseline in the same run.
#[derive(Parser)]
#[command(name = "lodge-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Chat rooms: members send, rooms fan out; Lodge's chat app vs a native Rust chat server.
    Rooms(rooms::RoomsArgs),
    /// HTTP parts: http-hello through Lodge vs `wasmtime serve` vs native axum, loaded by wrk.
    Http(http::HttpArgs),
    /// Fair CPU: the chat round trip in one app, alone and while another app's rooms spin.
    Neighbours(neighbours::NeighboursArgs),
    /// The live room list: a thousand watchers while rooms fill, and reconnects.
    Lobby(lobby::LobbyArgs),
    /// Several servers as one: chat on 1 server vs 3 sharing PostgreSQL
    /// (members on the room's server, spread, forwarded), and failover times.
    Cluster(cluster::ClusterArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Rooms(args) => rooms::run(args).await,
            Command::Http(args) => http::run(args).await,
            Command::Neighbours(args) => neighbours::run(args).await,
            Command::Lobby(args) => lobby::run(args).await,
            Command::Cluster(args) => cluster::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", output::one_line(&e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}

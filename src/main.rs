//! `lodge`: the Lodge server, its command-line client and the author's tool, in one binary.

mod client;
mod commands;
mod output;
mod pack;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Run user-made WebAssembly apps.
#[derive(Parser)]
#[command(name = "lodge", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: API, rooms and apps, with storage in one data directory.
    Serve(commands::serve::Args),
    /// Push, list, show and remove apps on a server.
    App(commands::app::Args),
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
            Command::Serve(args) => commands::serve::run(args).await,
            Command::App(args) => commands::app::run(args).await,
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

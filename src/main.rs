//! `lodge`: the Lodge server, its command-line client and the author's tool, in one binary.

mod client;
mod commands;
mod credentials;
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
    Serve(Box<commands::serve::Args>),
    /// Push, list, show and remove apps on a server.
    App(commands::app::Args),
    /// Develop an app: a local server that rebuilds and re-pushes it on every change.
    Dev(commands::dev::Args),
    /// See the live rooms of an app.
    #[command(subcommand)]
    Rooms(commands::rooms::Command),
    /// Print an app's log: guest log lines and room events.
    Logs(commands::logs::Args),
    /// Join a room from the terminal: each typed line is sent, each message printed.
    Join(commands::join::Args),
    /// Sign in to a server: a token for this CLI, kept in your config directory.
    Login(commands::account::LoginArgs),
    /// Create an account on a server, and sign in with it.
    Signup(commands::account::LoginArgs),
    /// Sign out: revoke the token `lodge login` kept, and forget it.
    Logout(commands::account::ConnectionArgs),
    /// Who you are signed in as, your apps and quotas.
    Whoami(commands::account::ConnectionArgs),
    /// See the servers sharing one Lodge (`lodge serve --cluster`).
    #[command(subcommand)]
    Cluster(commands::cluster::Command),
    /// Create, list and revoke your API tokens (for scripts and CI).
    #[command(subcommand)]
    Token(commands::token::Command),
    /// Compile one uploaded component for the server that runs this (internal).
    #[command(name = "__compile", hide = true)]
    Compile(commands::compile::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Compile(args) = cli.command {
        // The server's compiler child: no async runtime, nothing but the compile.
        return commands::compile::run(args);
    }
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
            Command::Serve(args) => commands::serve::run(*args).await,
            Command::App(args) => commands::app::run(args).await,
            Command::Dev(args) => commands::dev::run(args).await,
            Command::Rooms(command) => commands::rooms::run(command).await,
            Command::Logs(args) => commands::logs::run(args).await,
            Command::Join(args) => commands::join::run(args).await,
            Command::Login(args) => commands::account::login(args, false).await,
            Command::Signup(args) => commands::account::login(args, true).await,
            Command::Logout(args) => commands::account::logout(args).await,
            Command::Whoami(args) => commands::account::whoami(args).await,
            Command::Token(command) => commands::token::run(command).await,
            Command::Cluster(command) => commands::cluster::run(command).await,
            Command::Compile(_) => unreachable!("handled before the runtime starts"),
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

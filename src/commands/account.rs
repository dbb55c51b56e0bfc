//! `lodge login`, `lodge signup`, `lodge logout` and `lodge whoami`: an
//! account on a server, and the token this CLI keeps for it.

use crate::client::{ApiClient, Connection};
use crate::credentials::{self, Login};
use crate::output::size;
use anyhow::Context;
use reqwest::Method;
use serde::Deserialize;
use std::io::{BufRead, IsTerminal, Write};

#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    /// Your username (asked for when left out).
    #[arg(long)]
    username: Option<String>,
    /// Read the password from the first line of standard input, instead of
    /// asking for it at the terminal (for scripts).
    #[arg(long)]
    password_stdin: bool,
    /// An invite code, for `lodge signup` on a server whose sign-up needs one.
    #[arg(long)]
    invite: Option<String>,
    #[command(flatten)]
    connection: Connection,
}

#[derive(clap::Args, Debug)]
pub struct ConnectionArgs {
    #[command(flatten)]
    connection: Connection,
}

#[derive(Deserialize)]
struct NewToken {
    id: i64,
    username: String,
    token: String,
    scopes: Vec<String>,
}

fn read_line(prompt: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        eprint!("{prompt}");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub(crate) fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        return read_line("");
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "no terminal to ask for the password at: pass --password-stdin and give it on standard input"
        );
    }
    rpassword::prompt_password("password: ").context("reading the password")
}

/// The name a new CLI token gets: which machine holds it.
fn token_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into());
    format!("lodge CLI on {host}")
}

/// `lodge login` (and, with `signup`, `lodge signup` first creating the account).
pub async fn login(args: LoginArgs, signup: bool) -> anyhow::Result<()> {
    let client = ApiClient::new(&args.connection)?;
    let username = match args.username {
        Some(username) => username,
        None => read_line("username: ")?,
    };
    let password = read_password(args.password_stdin)?;
    if signup {
        let _: serde_json::Value =
            client
                .send(client.request_anonymous(Method::POST, "/api/signup").json(
                    &serde_json::json!({
                        "username": username,
                        "password": password,
                        "invite": args.invite,
                    }),
                ))
                .await?;
    }
    let created: NewToken = client
        .send(
            client
                .request_anonymous(Method::POST, "/api/tokens")
                .json(&serde_json::json!({
                    "name": token_name(),
                    "username": username,
                    "password": password,
                })),
        )
        .await?;
    let server = args.connection.server_key();
    let path = credentials::store(
        &server,
        Some(Login {
            username: created.username.clone(),
            token: created.token,
            token_id: created.id,
        }),
    )?;
    if signup {
        println!("created the account {} on {server}", created.username);
    }
    println!(
        "signed in to {server} as {} ({}); the token is kept in {}",
        created.username,
        created.scopes.join(", "),
        path.display()
    );
    Ok(())
}

/// `lodge logout`.
pub async fn logout(args: ConnectionArgs) -> anyhow::Result<()> {
    let server = args.connection.server_key();
    let Some(login) = args.connection.login() else {
        println!("not signed in to {server}");
        return Ok(());
    };
    let mut connection = args.connection.clone();
    connection.token = Some(login.token.clone());
    let client = ApiClient::new(&connection)?;
    let revoked = client
        .request(Method::DELETE, &format!("/api/tokens/{}", login.token_id))
        .send()
        .await;
    match revoked {
        Ok(response)
            if response.status().is_success()
                || response.status() == 401
                || response.status() == 404 => {}
        Ok(response) => {
            anyhow::bail!(
                "the server would not revoke the token ({}); still signed in",
                response.status()
            )
        }
        Err(e) => {
            anyhow::bail!("could not reach {server} to revoke the token: {e}; still signed in")
        }
    }
    credentials::store(&server, None)?;
    println!("signed out of {server} ({})", login.username);
    Ok(())
}

#[derive(Deserialize)]
struct Me {
    username: String,
    role: String,
    via: String,
    scopes: Vec<String>,
    quotas: Option<Quotas>,
    usage: Usage,
    apps: Vec<MyApp>,
}

#[derive(Deserialize)]
struct Quotas {
    apps: u64,
    versions_per_app: u64,
    stored_bytes: u64,
    kv_bytes: u64,
}

#[derive(Deserialize)]
struct Usage {
    apps: u64,
    stored_bytes: u64,
    kv_bytes: u64,
}

#[derive(Deserialize)]
struct MyApp {
    name: String,
    role: String,
}

/// `lodge whoami`.
pub async fn whoami(args: ConnectionArgs) -> anyhow::Result<()> {
    let client = ApiClient::new(&args.connection)?;
    let me: Me = client.send(client.request(Method::GET, "/api/me")).await?;
    println!(
        "{} ({}) on {}, with a {} ({})",
        me.username,
        me.role,
        client.base(),
        match me.via.as_str() {
            "operator" => "the operator's token",
            _ => "token",
        },
        me.scopes.join(", ")
    );
    match me.quotas {
        Some(q) => {
            println!("apps:         {} of {}", me.usage.apps, q.apps);
            println!(
                "stored:       {} of {}",
                size(me.usage.stored_bytes),
                size(q.stored_bytes)
            );
            println!(
                "kv data:      {} of {}",
                size(me.usage.kv_bytes),
                size(q.kv_bytes)
            );
            println!("versions/app: at most {}", q.versions_per_app);
        }
        None => println!(
            "no quotas (admin); {} apps, {} stored, {} kv data",
            me.usage.apps,
            size(me.usage.stored_bytes),
            size(me.usage.kv_bytes)
        ),
    }
    for app in me.apps {
        println!("  {} ({})", app.name, app.role);
    }
    Ok(())
}

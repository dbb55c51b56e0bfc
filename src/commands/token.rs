//! `lodge token create|ls|rm`: personal API tokens for scripts and CI.

use crate::client::{ApiClient, Connection};
use crate::output::table;
use reqwest::Method;
use serde::Deserialize;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Create a token; it is printed once and never shown again.
    Create {
        /// What the token is for ("CI for snake").
        name: String,
        /// What it may do: publish:* (all your apps), publish:APP (one app),
        /// rooms (rooms and logs of your apps), admin. Repeat for several.
        #[arg(long = "scope", default_value = "publish:*")]
        scopes: Vec<String>,
        /// Days until it stops working; it never expires when left out.
        #[arg(long)]
        expires_days: Option<u32>,
        /// Print the whole answer as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: Connection,
    },
    /// List your tokens (never their secrets).
    Ls {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: Connection,
    },
    /// Revoke a token by its id (from `lodge token ls`).
    Rm {
        id: i64,
        #[command(flatten)]
        connection: Connection,
    },
}

#[derive(Deserialize)]
struct Token {
    id: i64,
    name: String,
    scopes: Vec<String>,
    created: String,
    expires: Option<String>,
    last_used: Option<String>,
    expired: bool,
}

#[derive(Deserialize)]
struct TokenList {
    tokens: Vec<Token>,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Create {
            name,
            scopes,
            expires_days,
            json,
            connection,
        } => {
            let client = ApiClient::new(&connection)?;
            let created: serde_json::Value = client
                .send(
                    client
                        .request(Method::POST, "/api/tokens")
                        .json(&serde_json::json!({
                            "name": name,
                            "scopes": scopes,
                            "expires_in_days": expires_days,
                        })),
                )
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&created)?);
            } else {
                println!("{}", created["token"].as_str().unwrap_or_default());
                eprintln!(
                    "token {} \"{}\" ({}), expires {}: copy it now, it is not shown again",
                    created["id"],
                    created["name"].as_str().unwrap_or_default(),
                    scopes.join(", "),
                    created["expires"].as_str().unwrap_or("never"),
                );
            }
        }
        Command::Ls { json, connection } => {
            let client = ApiClient::new(&connection)?;
            let value: serde_json::Value = client
                .send(client.request(Method::GET, "/api/tokens"))
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&value)?);
                return Ok(());
            }
            let list: TokenList = serde_json::from_value(value)?;
            let rows: Vec<Vec<String>> = list
                .tokens
                .into_iter()
                .map(|t| {
                    let expires = match (t.expires, t.expired) {
                        (Some(at), true) => format!("expired {at}"),
                        (Some(at), false) => at,
                        (None, _) => "never".into(),
                    };
                    vec![
                        t.id.to_string(),
                        t.name,
                        t.scopes.join(","),
                        t.created,
                        expires,
                        t.last_used.unwrap_or_else(|| "never".into()),
                    ]
                })
                .collect();
            table(
                &["ID", "NAME", "SCOPES", "CREATED", "EXPIRES", "LAST USED"],
                &rows,
            );
        }
        Command::Rm { id, connection } => {
            let client = ApiClient::new(&connection)?;
            let response = client
                .request(Method::DELETE, &format!("/api/tokens/{id}"))
                .send()
                .await?;
            if !response.status().is_success() {
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                anyhow::bail!(
                    "{}",
                    body["error"]["message"]
                        .as_str()
                        .unwrap_or("revoking the token failed")
                );
            }
            println!("revoked token {id}");
        }
    }
    Ok(())
}

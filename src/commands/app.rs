//! `lodge app push|ls|show|rm`: manage apps on a server.

use crate::client::{ApiClient, Connection};
use crate::output::{size, table};
use crate::pack::pack;
use anyhow::Context;
use reqwest::Method;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Pack the app in DIR (its lodge.toml and components) and upload it.
    Push {
        /// The app directory, holding lodge.toml.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Print the server's answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pack the app in DIR into a bundle file, to upload later (for example
    /// by dropping it on the web UI).
    Pack {
        /// The app directory, holding lodge.toml.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Where to write the bundle [default: NAME-VERSION.tar.gz here].
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List the apps on the server.
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Show an app's versions, or one version (NAME@VERSION).
    Show {
        /// NAME or NAME@VERSION.
        app: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove an app with all its versions, or one version (NAME@VERSION).
    Rm {
        /// NAME or NAME@VERSION.
        app: String,
        #[arg(long)]
        json: bool,
    },
    /// Let another account push to an app (as a maintainer, or an owner).
    Share {
        app: String,
        username: String,
        /// maintainer: pushes and deletes versions; owner (only an admin may
        /// make one): also deletes the app and manages who shares it.
        #[arg(long, default_value = "maintainer", value_parser = ["maintainer", "owner"])]
        role: String,
    },
    /// Take an account off an app's collaborators (or leave it yourself).
    Unshare { app: String, username: String },
}

#[derive(Deserialize)]
struct Part {
    role: String,
    sha256: String,
    size: u64,
    #[serde(default)]
    capabilities: Vec<String>,
}

#[derive(Deserialize)]
struct Version {
    name: String,
    version: String,
    description: String,
    created: String,
    size: u64,
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Published {
    status: String,
    #[serde(flatten)]
    version: Version,
}

#[derive(Deserialize)]
struct AppList {
    apps: Vec<AppListItem>,
}

#[derive(Deserialize)]
struct AppListItem {
    name: String,
    latest: String,
    description: String,
    parts: Vec<String>,
    versions: usize,
}

#[derive(Deserialize)]
struct AppDetail {
    versions: Vec<Version>,
}

#[derive(Deserialize)]
struct Deleted {
    name: String,
    version: Option<String>,
    versions_deleted: usize,
}

/// Splits `NAME@VERSION`.
fn split_app(app: &str) -> (&str, Option<&str>) {
    match app.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (app, None),
    }
}

fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values print")
    );
}

fn print_parts(parts: &[Part]) {
    for part in parts {
        let caps = if part.capabilities.is_empty() {
            String::new()
        } else {
            format!("  [{}]", part.capabilities.join(", "))
        };
        println!(
            "  {:<7} sha256:{}  {}{}",
            part.role,
            part.sha256,
            size(part.size),
            caps
        );
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    if let Command::Pack { dir, output } = args.command {
        return pack_to_file(&dir, output);
    }
    let client = ApiClient::new(&args.connection)?;
    match args.command {
        Command::Pack { .. } => unreachable!("handled above"),
        Command::Push { dir, json } => push(&client, dir, json).await,
        Command::Ls { json } => {
            let value: serde_json::Value = client
                .send(client.request(Method::GET, "/api/apps"))
                .await?;
            if json {
                print_json(&value);
                return Ok(());
            }
            let list: AppList = serde_json::from_value(value)?;
            if list.apps.is_empty() {
                println!("no apps yet: push one with `lodge app push DIR`");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .apps
                .into_iter()
                .map(|a| {
                    vec![
                        a.name,
                        a.latest,
                        a.versions.to_string(),
                        a.parts.join(","),
                        a.description,
                    ]
                })
                .collect();
            table(
                &["NAME", "LATEST", "VERSIONS", "PARTS", "DESCRIPTION"],
                &rows,
            );
            Ok(())
        }
        Command::Show { app, json } => {
            let (name, version) = split_app(&app);
            let path = match version {
                Some(v) => format!("/api/apps/{name}/versions/{v}"),
                None => format!("/api/apps/{name}"),
            };
            let value: serde_json::Value = client.send(client.request(Method::GET, &path)).await?;
            if json {
                print_json(&value);
                return Ok(());
            }
            let versions = if version.is_some() {
                let v: Version = serde_json::from_value(value)?;
                println!("{}@{}", v.name, v.version);
                vec![v]
            } else {
                print_members(
                    &format!(
                        "{} (latest {})",
                        value["name"].as_str().unwrap_or_default(),
                        value["latest"].as_str().unwrap_or_default()
                    ),
                    &value,
                );
                let detail: AppDetail = serde_json::from_value(value)?;
                detail.versions
            };
            for v in versions {
                println!();
                println!("{}  created {}  {}", v.version, v.created, size(v.size));
                if !v.description.is_empty() {
                    println!("  {}", v.description);
                }
                print_parts(&v.parts);
            }
            Ok(())
        }
        Command::Share {
            app,
            username,
            role,
        } => {
            let answer: serde_json::Value = client
                .send(
                    client
                        .request(Method::PUT, &format!("/api/apps/{app}/members/{username}"))
                        .json(&serde_json::json!({ "role": role })),
                )
                .await?;
            print_members(&app, &answer);
            Ok(())
        }
        Command::Unshare { app, username } => {
            let answer: serde_json::Value = client
                .send(client.request(
                    Method::DELETE,
                    &format!("/api/apps/{app}/members/{username}"),
                ))
                .await?;
            print_members(&app, &answer);
            Ok(())
        }
        Command::Rm { app, json } => {
            let (name, version) = split_app(&app);
            let path = match version {
                Some(v) => format!("/api/apps/{name}/versions/{v}"),
                None => format!("/api/apps/{name}"),
            };
            let value: serde_json::Value =
                client.send(client.request(Method::DELETE, &path)).await?;
            if json {
                print_json(&value);
                return Ok(());
            }
            let deleted: Deleted = serde_json::from_value(value)?;
            match deleted.version {
                Some(v) => println!("deleted {}@{v}", deleted.name),
                None => println!(
                    "deleted {} ({} version{})",
                    deleted.name,
                    deleted.versions_deleted,
                    if deleted.versions_deleted == 1 {
                        ""
                    } else {
                        "s"
                    }
                ),
            }
            Ok(())
        }
    }
}

/// "talk: alice (owner), bob (maintainer)" (just "talk" without collaborators).
fn print_members(app: &str, answer: &serde_json::Value) {
    let members: Vec<String> = answer["members"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            format!(
                "{} ({})",
                m["username"].as_str().unwrap_or_default(),
                m["role"].as_str().unwrap_or_default()
            )
        })
        .collect();
    if members.is_empty() {
        println!("{app}");
    } else {
        println!("{app}: {}", members.join(", "));
    }
}

fn pack_to_file(dir: &std::path::Path, output: Option<PathBuf>) -> anyhow::Result<()> {
    let packed = pack(dir)?;
    let app = &packed.manifest.app;
    let output = output.unwrap_or_else(|| format!("{}-{}.tar.gz", app.name, app.version).into());
    std::fs::write(&output, &packed.bytes)
        .with_context(|| format!("writing {}", output.display()))?;
    println!(
        "packed {}@{} into {} ({})",
        app.name,
        app.version,
        output.display(),
        size(packed.bytes.len() as u64)
    );
    Ok(())
}

async fn push(client: &ApiClient, dir: PathBuf, json: bool) -> anyhow::Result<()> {
    let packed = tokio::task::spawn_blocking(move || pack(&dir))
        .await
        .context("packing the bundle")??;
    let total = packed.bytes.len() as u64;
    let progress = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    progress.set_message(format!(
        "uploading {}@{}",
        packed.manifest.app.name, packed.manifest.app.version
    ));
    let chunks: Vec<bytes::Bytes> = bytes::Bytes::from(packed.bytes)
        .chunks(64 * 1024)
        .map(bytes::Bytes::copy_from_slice)
        .collect();
    let bar = progress.clone();
    let stream = futures::stream::iter(chunks).map(move |chunk| {
        bar.inc(chunk.len() as u64);
        Ok::<_, std::io::Error>(chunk)
    });
    let request = client
        .request(Method::POST, "/api/apps")
        .header(reqwest::header::CONTENT_TYPE, "application/gzip")
        .header(reqwest::header::CONTENT_LENGTH, total)
        .body(reqwest::Body::wrap_stream(stream));
    let result: anyhow::Result<serde_json::Value> = client.send(request).await;
    progress.finish_and_clear();
    let value = result?;
    if json {
        print_json(&value);
        return Ok(());
    }
    let published: Published = serde_json::from_value(value)?;
    let v = &published.version;
    let note = if published.status == "unchanged" {
        " (unchanged: this exact version was already published)"
    } else {
        ""
    };
    println!("pushed {}@{} to {}{note}", v.name, v.version, client.base());
    print_parts(&v.parts);
    Ok(())
}

use futures::StreamExt;

//! The HTTP client the CLI uses to talk to a Lodge server's API.

use anyhow::{Context, anyhow};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use std::path::PathBuf;

/// Where the server is and how to authenticate, from flags and environment.
#[derive(clap::Args, Debug, Clone)]
pub struct Connection {
    /// The Lodge server's URL.
    #[arg(
        long,
        env = "LODGE_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// The API token, for writes, logs and unlisted rooms. When absent, the
    /// token `lodge login` stored for this server is used, else the token
    /// file of a server on this machine (from --data or LODGE_DATA, or the
    /// default data directory).
    #[arg(long, env = "LODGE_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// The data directory of a local server, to find its token.
    #[arg(long = "data", env = "LODGE_DATA", global = true, hide = true)]
    pub data: Option<PathBuf>,
    /// A certificate (PEM) to trust for an https:// server besides the
    /// web's roots: a self-signed one, or a private CA's.
    #[arg(long, env = "LODGE_CA_CERT", global = true)]
    pub ca_cert: Option<PathBuf>,
}

impl Connection {
    /// The server's URL as `lodge login` keys it.
    pub fn server_key(&self) -> String {
        self.server.trim_end_matches('/').to_owned()
    }

    /// What `lodge login` stored for this server.
    pub fn login(&self) -> Option<crate::credentials::Login> {
        crate::credentials::login_for(&self.server_key())
    }

    /// TLS for https:// and wss://: the web's root certificates, and
    /// `--ca-cert` when given.
    pub fn tls(&self) -> anyhow::Result<std::sync::Arc<rustls::ClientConfig>> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        if let Some(path) = &self.ca_cert {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    anyhow!(
                        "--ca-cert {}: not a readable PEM certificate: {e:?}",
                        path.display()
                    )
                })?;
            if certs.is_empty() {
                anyhow::bail!("--ca-cert {}: holds no certificate", path.display());
            }
            for cert in certs {
                roots
                    .add(cert)
                    .with_context(|| format!("--ca-cert {}", path.display()))?;
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(std::sync::Arc::new(config))
    }
}

/// Appended to a `401` when the CLI found no token to send.
pub const NO_TOKEN_HINT: &str = "no token found: sign in with `lodge login`, or pass --token or set LODGE_TOKEN; a local server keeps its operator token in its data directory's `token` file";

/// The default data directory of `lodge serve`.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("lodge")
}

/// A connection to one server's API.
#[derive(Clone)]
pub struct ApiClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl ApiClient {
    pub fn new(connection: &Connection) -> anyhow::Result<Self> {
        let base = connection.server.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            anyhow::bail!("--server {base:?} must start with http:// or https://");
        }
        // The local server's operator token goes only to a server on this machine.
        let local = reqwest::Url::parse(&base)
            .ok()
            .and_then(|url| {
                url.host_str()
                    .map(|h| h.trim_matches(['[', ']']).to_owned())
            })
            .is_some_and(|host| {
                host == "localhost"
                    || host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            });
        let token = connection
            .token
            .clone()
            .or_else(|| connection.login().map(|l| l.token))
            .or_else(|| {
                if !local {
                    return None;
                }
                let dir = connection.data.clone().unwrap_or_else(default_data_dir);
                std::fs::read_to_string(dir.join(lodge_server::TOKEN_FILE))
                    .ok()
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
            });
        let http = reqwest::Client::builder()
            .user_agent(concat!("lodge/", env!("CARGO_PKG_VERSION")))
            .tls_backend_preconfigured((*connection.tls()?).clone())
            .build()
            .context("building the HTTP client")?;
        Ok(Self { base, token, http })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether a token was found (flag, environment or token file).
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Starts a request to `path` that sends no token (signing in).
    pub fn request_anonymous(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// Starts a request to `path` (under the server's base URL).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request
    }

    /// Sends a request and decodes a JSON answer, turning API errors into
    /// their one-line message.
    pub async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<T> {
        let response = request.send().await.map_err(|e| {
            let cause = root_cause(&e);
            // A certificate the web's roots don't vouch for: say how to trust it.
            let hint = if cause.contains("certificate") {
                "; for a self-signed or private CA's certificate, pass --ca-cert FILE (or set LODGE_CA_CERT)"
            } else {
                ""
            };
            anyhow!("could not reach the server at {}: {cause}{hint}", self.base)
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .context("reading the server's answer")?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .context("the server's answer is not the JSON expected");
        }
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_owned());
        Err(match status {
            StatusCode::UNAUTHORIZED if self.token.is_none() => {
                anyhow!("{message} ({NO_TOKEN_HINT})")
            }
            _ => anyhow!("{message}"),
        })
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

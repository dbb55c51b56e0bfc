//! `wasi:http` outgoing requests: only to hosts an http part lists in
//! `[http].allowed-hosts`, and only on public addresses unless the operator
//! allows others (`http::connect`). Linked for every server-side part so
//! toolchains that import it run; a room part has no allowed hosts.

use super::{GuestState, InstanceContext};
use http::uri::Scheme;
use lodge_manifest::Role;
use std::sync::Arc;
use wasmtime::component::Linker;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

pub(super) fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)
}

/// Outbound requests: allowed hosts only, reported in the app's log when denied.
pub(crate) struct Outbound {
    allowed_hosts: Arc<Vec<String>>,
    app: String,
    room: Option<String>,
    role: Role,
    logs: crate::logs::AppLogs,
    /// `lodge serve --http-allow-private-outbound`: loopback, private and
    /// other non-public addresses may be reached.
    allow_private: bool,
}

impl Outbound {
    pub(super) fn new(ctx: &InstanceContext<'_>) -> Self {
        Self {
            allowed_hosts: Arc::new(ctx.allowed_hosts.to_vec()),
            app: ctx.app.to_owned(),
            room: ctx.room.as_ref().map(|r| r.name.to_owned()),
            role: ctx.role,
            logs: ctx.shared.logs.clone(),
            allow_private: ctx.allow_private_outbound,
        }
    }
}

/// Whether `host:port` (with `port` the request's, or the scheme's default)
/// matches one `allowed-hosts` entry: `name` (default ports 80 and 443 only),
/// `name:port` (exactly), or `*.name` (any subdomain, default ports).
pub(crate) fn host_allowed(
    allowed: &[String],
    host: &str,
    port: Option<u16>,
    scheme: &str,
) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    // An IP address only matches an entry naming it exactly.
    let is_ip = host
        .trim_matches(['[', ']'])
        .parse::<std::net::IpAddr>()
        .is_ok();
    let default_port = if scheme == "https" { 443 } else { 80 };
    let port = port.unwrap_or(default_port);
    allowed.iter().any(|entry| {
        let (name, entry_port) = match entry.rsplit_once(':') {
            Some((name, p)) => (name, p.parse::<u16>().ok()),
            None => (entry.as_str(), None),
        };
        let port_ok = match entry_port {
            Some(p) => p == port,
            None => port == 80 || port == 443,
        };
        let name_ok = match name.strip_prefix("*.") {
            Some(base) => !is_ip && host.ends_with(&format!(".{base}")),
            None => host == name,
        };
        port_ok && name_ok
    })
}

type SendFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> SendFuture {
        drop(fut);
        let uri = request.uri();
        let scheme = uri.scheme().unwrap_or(&Scheme::HTTPS).as_str().to_owned();
        let host = uri.host().unwrap_or_default().to_owned();
        let port = uri.port_u16();
        let userinfo = uri.authority().is_some_and(|a| a.as_str().contains('@'));
        if userinfo || !host_allowed(&self.allowed_hosts, &host, port, &scheme) {
            let target = match port {
                Some(port) => format!("{host}:{port}"),
                None => host,
            };
            let fix = match self.role {
                Role::Http => format!("add \"{target}\" to [http].allowed-hosts in lodge.toml"),
                role => format!(
                    "{role} parts make no outbound requests; an http part may, to the hosts it lists in [http].allowed-hosts"
                ),
            };
            self.logs.lodge(
                &self.app,
                self.room.as_deref(),
                "warn",
                format!("outbound request to {target} denied: {fix}"),
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let (logs, app, allow_private) = (self.logs.clone(), self.app.clone(), self.allow_private);
        Box::new(async move {
            match crate::http::connect::send(request, options, allow_private).await {
                Ok(sent) => Ok(sent),
                Err(crate::http::connect::SendError::Http(e)) => Err(e),
                Err(crate::http::connect::SendError::NotPublic {
                    host,
                    address,
                    kind,
                }) => {
                    logs.lodge(
                        &app,
                        None,
                        "warn",
                        format!(
                            "outbound request to {host} denied: it resolves to {address}, a {kind} address; this server reaches such addresses only when started with --http-allow-private-outbound"
                        ),
                    );
                    Err(Error::DestinationIpProhibited)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::host_allowed;

    #[test]
    fn allowed_hosts_match_names_ports_and_wildcards() {
        let allowed: Vec<String> = ["api.example.com", "*.cdn.net", "127.0.0.1:8080"]
            .map(String::from)
            .to_vec();
        assert!(host_allowed(&allowed, "api.example.com", None, "https"));
        assert!(host_allowed(
            &allowed,
            "API.example.com",
            Some(443),
            "https"
        ));
        assert!(!host_allowed(
            &allowed,
            "api.example.com",
            Some(8443),
            "https"
        ));
        assert!(!host_allowed(&allowed, "example.com", None, "https"));
        assert!(!host_allowed(
            &allowed,
            "evil-api.example.com",
            None,
            "https"
        ));
        assert!(host_allowed(&allowed, "a.cdn.net", None, "http"));
        assert!(!host_allowed(&allowed, "cdn.net", None, "http"));
        assert!(host_allowed(&allowed, "127.0.0.1", Some(8080), "http"));
        assert!(!host_allowed(&allowed, "127.0.0.1", Some(8081), "http"));
        assert!(!host_allowed(&allowed, "127.0.0.1", None, "http"));
        assert!(!host_allowed(&[], "api.example.com", None, "https"));
        let wildcard = vec!["*.0.0.1".to_owned()];
        assert!(!host_allowed(&wildcard, "127.0.0.1", None, "http"));
    }
}

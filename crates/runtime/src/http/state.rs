//! The store data of one http request's instance, and the outbound-request
//! policy: only hosts the manifest lists in `allowed-hosts` are reachable,
//! and only on public addresses unless the operator allows others
//! (`connect`).

use crate::app_host::AppHost;
use crate::epoch::{Guest, GuestCore};
use http::uri::Scheme;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{
    Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

pub(crate) struct HttpState {
    pub host: AppHost,
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub outbound: Outbound,
    pub table: ResourceTable,
    /// CPU budget, memory limits and turns.
    pub core: GuestCore,
}

impl Guest for HttpState {
    fn core(&mut self) -> &mut GuestCore {
        &mut self.core
    }
}

impl WasiView for HttpState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HttpState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// Outbound requests: allowed hosts only, reported in the app's log when denied.
pub(crate) struct Outbound {
    pub allowed_hosts: Arc<Vec<String>>,
    pub app: String,
    pub logs: crate::logs::AppLogs,
    /// `lodge serve --http-allow-private-outbound`: loopback, private and
    /// other non-public addresses may be reached.
    pub allow_private: bool,
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
            self.logs.lodge(
                &self.app,
                None,
                "warn",
                format!(
                    "outbound request to {target} denied: add \"{target}\" to [http].allowed-hosts in lodge.toml"
                ),
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let (logs, app, allow_private) = (self.logs.clone(), self.app.clone(), self.allow_private);
        Box::new(async move {
            match super::connect::send(request, options, allow_private).await {
                Ok(sent) => Ok(sent),
                Err(super::connect::SendError::Http(e)) => Err(e),
                Err(super::connect::SendError::NotPublic {
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

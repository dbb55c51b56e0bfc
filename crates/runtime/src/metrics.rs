//! Prometheus metrics for what runs: rooms, members, messages, guest calls,
//! traps and the compiled-component cache.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::{Arc, Mutex};

/// Labels for traps: why the guest was stopped.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TrapLabels {
    pub reason: &'static str,
}

/// Labels for refusals: which limit was reached (`rooms_max`, …, as in docs/limits.md).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    pub limit: &'static str,
}

/// Every metric Lodge exports, registered once.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    pub rooms_live: Gauge,
    pub members: Gauge,
    pub messages_in: Counter,
    pub messages_out: Counter,
    pub guest_calls: Counter,
    pub traps: Family<TrapLabels, Counter>,
    pub cache_hits: Counter,
    pub cache_misses: Counter,
    pub members_disconnected_slow: Counter,
    pub http_requests: Family<HttpLabels, Counter>,
    pub limits_reached: Family<LimitLabels, Counter>,
}

/// How an http request through an app's http part ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// `ok`, `busy`, `too_large`, `timeout`, `cpu_deadline`, `trap`, `no_response`, `error`.
    pub outcome: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("lodge");
        let m = Metrics {
            registry: Arc::new(Mutex::new(Registry::default())),
            rooms_live: Gauge::default(),
            members: Gauge::default(),
            messages_in: Counter::default(),
            messages_out: Counter::default(),
            guest_calls: Counter::default(),
            traps: Family::default(),
            cache_hits: Counter::default(),
            cache_misses: Counter::default(),
            members_disconnected_slow: Counter::default(),
            http_requests: Family::default(),
            limits_reached: Family::default(),
        };
        registry.register("rooms_live", "Rooms running now", m.rooms_live.clone());
        registry.register(
            "room_members",
            "Members connected to rooms now",
            m.members.clone(),
        );
        registry.register(
            "room_messages_in",
            "Messages received from members",
            m.messages_in.clone(),
        );
        registry.register(
            "room_messages_out",
            "Messages queued for members",
            m.messages_out.clone(),
        );
        registry.register(
            "guest_calls",
            "Calls into guest code",
            m.guest_calls.clone(),
        );
        registry.register(
            "guest_traps",
            "Guest calls that ended their room, by reason",
            m.traps.clone(),
        );
        registry.register(
            "compiled_cache_hits",
            "Components found compiled in memory",
            m.cache_hits.clone(),
        );
        registry.register(
            "compiled_cache_misses",
            "Components loaded from disk or compiled",
            m.cache_misses.clone(),
        );
        registry.register(
            "members_disconnected_slow",
            "Members disconnected for not reading their messages",
            m.members_disconnected_slow.clone(),
        );
        registry.register(
            "http_requests",
            "Requests answered by apps' http parts, by outcome",
            m.http_requests.clone(),
        );
        registry.register(
            "limits_reached",
            "Things refused or ended because a limit was reached, by limit",
            m.limits_reached.clone(),
        );
        *m.registry.lock().expect("metrics lock") = registry;
        m
    }
}

impl Metrics {
    /// Names this server in every scrape (`lodge_node_info{node="…"} 1`),
    /// so a cluster's servers scraped side by side tell themselves apart.
    pub fn identify(&self, node: &str) {
        let info =
            prometheus_client::metrics::info::Info::new(vec![("node".to_owned(), node.to_owned())]);
        self.registry.lock().expect("metrics lock").register(
            "node",
            "This server's name in its cluster (--node-id)",
            info,
        );
    }

    /// Counts one refusal because `limit` was reached.
    pub fn limit_reached(&self, limit: &'static str) {
        self.limits_reached
            .get_or_create(&LimitLabels { limit })
            .inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().expect("metrics lock");
        prometheus_client::encoding::text::encode(&mut out, &registry)
            .expect("writing to a String");
        out
    }
}
